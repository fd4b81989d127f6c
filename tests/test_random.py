"""fd.random against jax.random (bit-for-bit where the arithmetic allows), under vmap and grad, and statistically."""
import math
import os

import jax
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
import fn_dl.random as fr


@pytest.fixture(autouse=True)
def _jax_default_mode():
    # the oracle is JAX's default 32-bit mode; other test modules switch x64 on globally
    with jax.enable_x64(False):
        yield

SEED = 42
K = fr.key(SEED)
JK = jax.random.PRNGKey(SEED)


def test_threefry_partitionable_is_jax_default():
    # the numbers below are JAX's under this (default) setting
    assert jax.config.jax_threefry_partitionable


# --- keys, split, fold_in, bits, uniform, normal: live against JAX --------------------------------------

@pytest.mark.parametrize('seed', [0, 1, 42, -1, -2 ** 31, 2 ** 31 - 1, 3 * 10 ** 9, 2 ** 32 - 1])
def test_key_matches_prngkey(seed):
    np.testing.assert_array_equal(fr.key(seed), jax.random.PRNGKey(seed))
    assert fr.key(seed).dtype == np.uint32 and fr.PRNGKey is fr.key
    # the same key from an int64 Array seed, so a traced seed agrees with a Python one
    np.testing.assert_array_equal(fr.key(fnp.asarray(np.int64(seed))), fr.key(seed))


def test_key_large_seeds_keep_high_word():
    with jax.enable_x64(True):
        ref = [np.asarray(jax.random.PRNGKey(s)) for s in (2 ** 40 + 3, -2 ** 40)]
    for s, r in zip((2 ** 40 + 3, -2 ** 40), ref):
        np.testing.assert_array_equal(fr.key(s), r)
        np.testing.assert_array_equal(fr.key(fnp.asarray(np.int64(s))), r)
    np.testing.assert_array_equal(fr.key(fnp.asarray(np.uint64(2 ** 40 + 3))), ref[0])


def _core(r, k):
    """The draws every sampler builds on; JAX compiles all of them as one program (compiling is slow)."""
    return {'split': r.split(k, (2, 3)), 'fold_in_7': r.fold_in(k, 7), 'fold_in_2**31': r.fold_in(k, 2 ** 31),
            'bits': r.bits(k, (3, 4)), 'bits_uint8': r.bits(k, (5,), np.uint8),
            'uniform': r.uniform(k, (1000,)), 'uniform_bfloat16': r.uniform(k, (7, 3), fnp.bfloat16),
            'normal': r.normal(k, (1000,))}


def test_core_draws_match_jax():
    ours, ref = _core(fr, K), jax.jit(lambda k: _core(jax.random, k))(JK)
    for name in ref:
        assert ours[name].dtype == ref[name].dtype and ours[name].shape == ref[name].shape, name
        if name == 'normal':
            # XLA's erf_inv is a polynomial, NumPy's (SciPy's) exact: a few ulps apart
            np.testing.assert_allclose(ours[name], ref[name], rtol=2e-6, atol=2e-6)
        else:
            np.testing.assert_array_equal(ours[name], ref[name], err_msg=name)


def test_split_and_fold_in():
    np.testing.assert_array_equal(fr.split(K), fr.split(K, 2))
    assert fr.split(K, 0).shape == (0, 2)
    # fold_in(key, i) is split(key, n)[i], as in JAX
    np.testing.assert_array_equal(fr.fold_in(K, 7), fr.split(K, 10)[7])
    np.testing.assert_array_equal(fr.fold_in(K, -1), fr.fold_in(K, 2 ** 32 - 1))
    np.testing.assert_array_equal(fr.fold_in(K, fnp.asarray(5)), fr.fold_in(K, 5))
    np.testing.assert_array_equal(fr.key_data(fr.split(K, 3)), fr.split(K, 3))


@pytest.mark.parametrize('shape, dtype', [((), np.uint32), ((0, 2), np.uint8), ((3,), np.uint16)])
def test_bits_shapes_and_dtypes(shape, dtype):
    out = fr.bits(K, shape, dtype)
    assert out.shape == shape and out.dtype == dtype
    # narrow bits are the low bits of the 32-bit ones
    np.testing.assert_array_equal(out, np.asarray(fr.bits(K, shape)).astype(dtype))


# --- every sampler against JAX's outputs ----------------------------------------------------------------

# Each case: the call, written once for either module (r is fd.random or jax.random), whether JAX needs
# 64-bit mode, and JAX 0.10.2's output for key 42. The outputs are stored because compiling some thirty
# JAX programs takes longer than this whole file may; FN_DL_TEST_JAX_LIVE=1 recomputes them with JAX.
LO = np.array([3, -5, -2 ** 31, 5, 9], np.int32)[:, None]  # ordinary, wide, full-width, empty, reversed
HI = np.array([17, 2 ** 31 - 1, 2 ** 31 - 1, 5, 2], np.int32)[:, None]
P = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
X = np.arange(24, dtype=np.float32).reshape(4, 6)
LOGITS = np.array([[0.5, -1., 2., 0.], [1., 1., -3., 0.5]], np.float32)
BOUNDS = np.array([-1., 0., 1.], np.float32)
MINVAL = np.array([-2., 0., 1.], np.float32)
MEAN = np.array([[1., -1.], [0., 3.]], np.float32)
COV = np.array([[2., .5], [.5, 1.]], np.float32)
JAX_CASES = {
    'randint': (lambda r, k: r.randint(k, (5, 6), LO, HI), False,
        np.array([[11, 15, 14, 14, 8, 6], [1364461948, 453421346, 1846147073, 2063258877, 1461371427, 1490040813],
                  [1740225945, 366502363, 685907916, -489281774, -1429236149, 744674178], [5, 5, 5, 5, 5, 5],
                  [9, 9, 9, 9, 9, 9]], np.int32)),
    'randint_scalar': (lambda r, k: r.randint(k, (), -5, 2 ** 31 - 1), False,
        np.array(977810619, np.int32)),
    'randint_uint8': (lambda r, k: r.randint(k, (8,), 0, 256, np.uint8), False,
        np.array([196, 18, 183, 193, 141, 107, 129, 39], np.uint8)),
    'randint_int8': (lambda r, k: r.randint(k, (2, 4), -3, 100, np.int8), False,
        np.array([[21, 25, 89, 97], [42, 30, 59, 3]], np.int8)),
    'bernoulli': (lambda r, k: r.bernoulli(k, np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)), False,
        np.array([[False, False, False, False], [False, False, True, False], [True, False, True, True]], bool)),
    'bernoulli_high': (lambda r, k: r.bernoulli(k, 0.3, (12,), mode='high'), False,
        np.array([False, False, False, False, False, False, True, False, False, False, False, False], bool)),
    'rademacher': (lambda r, k: r.rademacher(k, (12,)), False,
        np.array([1, -1, -1, -1, 1, -1, 1, -1, -1, -1, 1, -1], np.int32)),
    'categorical': (lambda r, k: r.categorical(k, LOGITS), False,
        np.array([2, 3], np.int32)),
    'categorical_axis0': (lambda r, k: r.categorical(k, LOGITS, axis=0, shape=(3, 4)), False,
        np.array([[1, 1, 0, 1], [1, 1, 0, 1], [0, 1, 0, 0]], np.int32)),
    'permutation': (lambda r, k: r.permutation(k, 10), False,
        np.array([7, 4, 2, 5, 3, 6, 8, 9, 0, 1], np.int32)),
    'permutation_axis1': (lambda r, k: r.permutation(k, X, axis=1), False,
        np.array([[4.0, 2.0, 5.0, 3.0, 0.0, 1.0], [10.0, 8.0, 11.0, 9.0, 6.0, 7.0],
                  [16.0, 14.0, 17.0, 15.0, 12.0, 13.0], [22.0, 20.0, 23.0, 21.0, 18.0, 19.0]], np.float32)),
    'permutation_independent': (lambda r, k: r.permutation(k, X, axis=1, independent=True), False,
        np.array([[4.0, 2.0, 5.0, 3.0, 0.0, 1.0], [7.0, 6.0, 10.0, 11.0, 8.0, 9.0],
                  [16.0, 15.0, 13.0, 14.0, 17.0, 12.0], [19.0, 22.0, 18.0, 20.0, 23.0, 21.0]], np.float32)),
    'choice': (lambda r, k: r.choice(k, 10, (4,)), False,
        np.array([4, 4, 1, 9], np.int32)),
    'choice_p': (lambda r, k: r.choice(k, 4, (2, 3), p=P), False,
        np.array([[2, 2, 2], [2, 2, 2]], np.int32)),
    'choice_p_noreplace': (lambda r, k: r.choice(k, 4, (3,), replace=False, p=P), False,
        np.array([3, 2, 1], np.int32)),
    'choice_array': (lambda r, k: r.choice(k, X, (2,), replace=False, axis=1), False,
        np.array([[4.0, 2.0], [10.0, 8.0], [16.0, 14.0], [22.0, 20.0]], np.float32)),
    'choice_array_replace': (lambda r, k: r.choice(k, X, (2, 2), axis=1), False,
        np.array([[[0.0, 0.0], [3.0, 1.0]], [[6.0, 6.0], [9.0, 7.0]], [[12.0, 12.0], [15.0, 13.0]],
                  [[18.0, 18.0], [21.0, 19.0]]], np.float32)),
    'choice_array_p': (lambda r, k: r.choice(k, X, (2,), p=P), False,
        np.array([[12.0, 13.0, 14.0, 15.0, 16.0, 17.0], [12.0, 13.0, 14.0, 15.0, 16.0, 17.0]], np.float32)),
    'normal': (lambda r, k: r.normal(k, (6,)), False,
        np.array([-0.02830461598932743, 0.4671318531036377, 0.2957029640674591, 0.15354591608047485,
                  -0.12403281778097153, 0.21692314743995667], np.float32)),
    'gumbel': (lambda r, k: r.gumbel(k, (6,)), False,
        np.array([0.3340933918952942, 0.952019453048706, 0.7255305647850037, 0.5481715202331543, 0.2268049567937851,
                  0.6261159181594849], np.float32)),
    'exponential': (lambda r, k: r.exponential(k, (6,)), False,
        np.array([0.670817494392395, 1.1388006210327148, 0.9578199982643127, 0.8232924938201904, 0.5990096926689148,
                  0.8815653324127197], np.float32)),
    'laplace': (lambda r, k: r.laplace(k, (6,)), False,
        np.array([0.022839652374386787, -0.4456535577774048, -0.2646729052066803, -0.1301453858613968,
                  0.10392900556325912, -0.1884182244539261], np.float32)),
    'logistic': (lambda r, k: r.logistic(k, (6,)), False,
        np.array([-0.0451694130897522, 0.7528398036956787, 0.47375231981277466, 0.245286762714386,
                  -0.19806653261184692, 0.3469008803367615], np.float32)),
    'cauchy': (lambda r, k: r.cauchy(k, (6,)), False,
        np.array([-0.03548463061451912, 0.6337261199951172, 0.38244056701660156, 0.1940706968307495,
                  -0.15630900859832764, 0.27649515867233276], np.float32)),
    'normal_complex': (lambda r, k: r.normal(k, (3,), np.complex64), False,
        np.array([0.05368746 + 0.42833984j, -0.34389618 + 0.5650095j, 0.91239446 - 0.6427085j], np.complex64)),
    'gumbel_high': (lambda r, k: r.gumbel(k, (6,), mode='high'), False,
        np.array([0.39925816655158997, -0.12997561693191528, 0.043095413595438004, 0.1944437325000763,
                  0.5124775171279907, 0.12605616450309753], np.float32)),
    'truncated_normal': (lambda r, k: r.truncated_normal(k, BOUNDS, 2., (2, 3)), False,
        np.array([[0.14770005643367767, 0.9323922991752625, 1.440232753753662],
                  [0.29997000098228455, 0.5682580471038818, 1.411605715751648]], np.float32)),
    'multivariate_normal': (lambda r, k: r.multivariate_normal(k, MEAN, COV, (3, 2)), False,
        np.array([[[0.9599712491035461, -0.5730453729629517], [0.41818714141845703, 3.248175859451294]],
                  [[0.8245911002159119, -0.8409391641616821], [-2.037710666656494, 3.1976146697998047]],
                  [[1.737384557723999, 0.03573262691497803], [-0.5437602996826172, 3.930267095565796]]], np.float32)),
    'orthogonal': (lambda r, k: r.orthogonal(k, 3, m=4), False,
        np.array([[-0.01653873920440674, 0.0897190272808075, -0.8419257998466492, 0.5318253040313721],
                  [0.9798700213432312, -0.10146704316139221, 0.06932298839092255, 0.157333642244339],
                  [-0.14570099115371704, 0.20810864865779877, 0.5343053936958313, 0.8062130808830261]], np.float32)),
    'uniform_bounds': (lambda r, k: r.uniform(k, (2, 3), minval=MINVAL, maxval=5.), False,
        np.array([[1.4209669828414917, 3.3989858627319336, 3.465085983276367],
                  [1.9271125793457031, 2.253222942352295, 3.34346342086792]], np.float32)),
    'bits_uint64': (lambda r, k: r.bits(k, (4,), np.uint64), True,
        np.array([7871734211187709741, 276886910877598708, 10591095138341673235, 13462782411356743825], np.uint64)),
    'uniform_float64': (lambda r, k: r.uniform(k, (4,), np.float64), True,
        np.array([0.4267275666499091, 0.015010069515314584, 0.5741444178995352, 0.7298188969046309], np.float64)),
    'randint_int64': (lambda r, k: r.randint(k, (4,), -2 ** 40, 2 ** 40, np.int64), True,
        np.array([-64295291339, -359608887618, -961504916329, -77019434961], np.int64)),
}


@pytest.mark.parametrize('name', sorted(JAX_CASES))
def test_sampler_matches_jax(name):
    f, _, expected = JAX_CASES[name]
    out = f(fr, K)
    assert out.dtype == expected.dtype and out.shape == expected.shape
    if np.issubdtype(expected.dtype, np.inexact):
        # floats: XLA fuses multiply-adds and approximates erf_inv, NumPy rounds each op: ulps apart
        np.testing.assert_allclose(out, expected, rtol=2e-6, atol=2e-6)
    else:
        np.testing.assert_array_equal(out, expected)


@pytest.mark.skipif(not os.environ.get('FN_DL_TEST_JAX_LIVE'), reason="set FN_DL_TEST_JAX_LIVE=1 (compiles ~30 "
                    "JAX programs)")
@pytest.mark.parametrize('name', sorted(JAX_CASES))
def test_stored_outputs_are_jax(name):
    f, x64, expected = JAX_CASES[name]
    with jax.enable_x64(x64):
        np.testing.assert_array_equal(np.asarray(f(jax.random, JK)), expected)


def test_long_permutation_matches_jax():
    # 70000 elements take two rounds of sorting; JAX's permutation(key 42, 70000), digested
    perm = np.asarray(fr.permutation(K, 70000)).astype(np.int64)
    assert perm[:6].tolist() == [15724, 54494, 67845, 43498, 17508, 47980]
    assert int((perm * np.arange(70000)).sum()) == 85652806074946
    assert fr.permutation(K, 0).tolist() == [] and fr.permutation(K, fnp.asarray(1)).tolist() == [0]


def test_shapes_of_parameterised_samplers():
    assert fr.truncated_normal(K, BOUNDS, 2.).shape == (3,)
    assert fr.choice(K, X, (0,)).shape == (0, 6)
    assert fr.choice(K, X, (2, 3), replace=False, axis=1).shape == (4, 2, 3)
    assert fr.orthogonal(K, 5, m=3).shape == (5, 3) and fr.orthogonal(K, 2, (4,)).shape == (4, 2, 2)
    assert fr.multivariate_normal(K, MEAN, COV).shape == (2, 2)
    with pytest.raises(ValueError, match="does not broadcast"):
        fr.uniform(K, (3,), minval=fnp.zeros((2, 3)))


# --- transforms ---------------------------------------------------------------------------------------------

_PER_KEY = {
    'split': lambda k: fr.split(k, 3),
    'fold_in': lambda k: fr.fold_in(k, 5),
    'bits64': lambda k: fr.bits(k, (2,), fnp.uint64),
    'uniform': lambda k: fr.uniform(k),
    'normal': lambda k: fr.normal(k, (3,)),
    'complex_normal': lambda k: fr.normal(k, (2,), fnp.complex64),
    'truncated_normal': lambda k: fr.truncated_normal(k, -1., 1., (3,)),
    'randint': lambda k: fr.randint(k, (2,), 0, 10),
    'bernoulli_high': lambda k: fr.bernoulli(k, 0.5, (3,), mode='high'),
    'categorical': lambda k: fr.categorical(k, fnp.zeros((2, 6))),
    'permutation': lambda k: fr.permutation(k, fnp.arange(12.).reshape(3, 4), axis=1),
    'choice': lambda k: fr.choice(k, 5, (3,), replace=False),
    'choice_array': lambda k: fr.choice(k, fnp.arange(12.).reshape(3, 4), (2,), axis=1),
    'multivariate_normal': lambda k: fr.multivariate_normal(k, fnp.zeros(2), fnp.eye(2), (3,)),
}


@pytest.mark.parametrize('name', sorted(_PER_KEY))
def test_vmap_over_keys_gives_each_keys_stream(name):
    f = _PER_KEY[name]
    keys = fr.split(K, 4)
    expected = fnp.stack([f(keys[i]) for i in range(4)])
    np.testing.assert_array_equal(fd.vmap(f)(keys), expected)


def test_vmap_over_seeds_data_and_parameters():
    np.testing.assert_array_equal(fd.vmap(fr.key)(fnp.arange(3)), fnp.stack([fr.key(i) for i in range(3)]))
    np.testing.assert_array_equal(fd.vmap(lambda d: fr.fold_in(K, d))(fnp.arange(3)),
                                  fnp.stack([fr.fold_in(K, i) for i in range(3)]))
    out = fd.vmap(lambda lo: fr.uniform(K, (3,), minval=lo, maxval=lo + 1))(fnp.arange(3.))
    np.testing.assert_array_equal(out, fnp.stack([fr.uniform(K, (3,), minval=float(i), maxval=i + 1.)
                                                  for i in range(3)]))


def test_grad_through_samplers():
    # d/dlo sum(u (hi - lo) + lo) = sum(1 - u)
    u = fr.uniform(K, (5,))
    g = fd.grad(lambda lo: fr.uniform(K, (5,), minval=lo, maxval=3.).sum())(1.0)
    np.testing.assert_allclose(g, float((1 - u).sum()), rtol=1e-5)
    # reparameterised Gaussian: d/dsigma sum(mu + sigma z) = sum(z)
    z = fr.normal(K, (5,))
    g = fd.grad(lambda s: (2.0 + s * fr.normal(K, (5,))).sum())(0.7)
    np.testing.assert_allclose(g, float(z.sum()), rtol=1e-5)


# --- statistics --------------------------------------------------------------------------------------------

N = 200_000


@pytest.mark.parametrize('name, mean, var', [
    ('uniform', 0.5, 1 / 12), ('normal', 0., 1.), ('exponential', 1., 1.), ('laplace', 0., 2.),
    ('logistic', 0., math.pi ** 2 / 3), ('gumbel', np.euler_gamma, math.pi ** 2 / 6)])
def test_moments(name, mean, var):
    x = np.asarray(getattr(fr, name)(fr.key(7), (N,)), np.float64)
    se = math.sqrt(var / N)
    assert abs(x.mean() - mean) < 5 * se
    assert abs(x.var() / var - 1) < 0.03


def test_discrete_frequencies():
    b = np.asarray(fr.bernoulli(fr.key(1), 0.3, (N,)))
    assert abs(b.mean() - 0.3) < 5 * math.sqrt(0.21 / N)
    counts = np.bincount(np.asarray(fr.randint(fr.key(2), (N,), -3, 4)) + 3, minlength=7)
    assert np.all(np.abs(counts / N - 1 / 7) < 0.01)
    p = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    c = np.bincount(np.asarray(fr.categorical(fr.key(3), fnp.log(fnp.asarray(p)), shape=(N,))), minlength=4)
    np.testing.assert_allclose(c / N, p, atol=0.01)
    c = np.bincount(np.asarray(fr.choice(fr.key(4), 4, (N,), p=fnp.asarray(p))), minlength=4)
    np.testing.assert_allclose(c / N, p, atol=0.01)
    r = np.asarray(fr.rademacher(fr.key(5), (N,)))
    assert set(np.unique(r)) == {-1, 1} and abs(r.mean()) < 0.01


def test_truncated_normal_and_multivariate_moments():
    x = np.asarray(fr.truncated_normal(fr.key(8), 0., 1e9, (N,)), np.float64)  # the half-normal
    assert x.min() > 0 and abs(x.mean() - math.sqrt(2 / math.pi)) < 0.01
    cov = np.array([[2., .8], [.8, 1.]], np.float32)
    for method in ['cholesky', 'svd', 'eigh']:
        s = fr.multivariate_normal(fr.key(9), fnp.asarray([1., -1.]), fnp.asarray(cov), (N,), method=method)
        s = np.asarray(s, np.float64)
        np.testing.assert_allclose(s.mean(0), [1., -1.], atol=0.02)
        np.testing.assert_allclose(np.cov(s.T), cov, atol=0.03)


def test_permutations_are_uniform_and_orthogonal_is_orthogonal():
    keys = fr.split(fr.key(10), 3000)
    perms = np.asarray(fd.vmap(lambda k: fr.permutation(k, 3))(keys))
    _, counts = np.unique(perms, axis=0, return_counts=True)
    assert len(counts) == 6 and np.all(np.abs(counts / 3000 - 1 / 6) < 0.03)
    q = np.asarray(fr.orthogonal(fr.key(11), 6, (3,)), np.float64)
    np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(6), (3, 6, 6)), atol=1e-5)


def test_independent_streams():
    a, b = (np.asarray(fr.normal(k, (N,))) for k in fr.split(fr.key(12)))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01
    c = np.asarray(fr.normal(fr.fold_in(fr.key(12), 100), (N,)))
    assert abs(np.corrcoef(a, c)[0, 1]) < 0.01


# --- the global stream ---------------------------------------------------------------------------------------

def test_global_stream():
    fr.seed(3)
    a, b = fr.next_key(), fr.next_key()
    fr.seed(3)
    np.testing.assert_array_equal(fr.next_key(), a)
    np.testing.assert_array_equal(fr.next_key(), b)
    assert not np.array_equal(a, b)
    with pytest.raises(RuntimeError, match="cannot be used inside a transform"):
        fd.vmap(lambda x: x + fr.uniform(fr.next_key()))(fnp.ones(3))


# --- errors --------------------------------------------------------------------------------------------------

def test_errors():
    with pytest.raises(TypeError, match="expected a key.*float32"):
        fr.normal(fnp.asarray([0., 1.]), (3,))
    with pytest.raises(TypeError, match="expected a key"):
        fr.normal(0, (3,))
    with pytest.raises(ValueError, match="batch of keys.*fd.vmap"):
        fr.normal(fr.split(K, 3), (2,))
    with pytest.raises(TypeError, match=r"shape must be a tuple of ints.*\(3,\)"):
        fr.normal(K, 3)
    with pytest.raises(ValueError, match="negative"):
        fr.uniform(K, (2, -1))
    with pytest.raises(TypeError, match="floating"):
        fr.uniform(K, (2,), fnp.int32)
    with pytest.raises(TypeError, match="unsigned"):
        fr.bits(K, (2,), fnp.int32)
    with pytest.raises(TypeError, match="integer dtype"):
        fr.randint(K, (2,), 0, 5, fnp.float32)
    with pytest.raises(TypeError, match="probability p must be floating"):
        fr.bernoulli(K, fnp.asarray(1))
    with pytest.raises(TypeError, match="seed must be an integer"):
        fr.key(1.5)
    with pytest.raises(TypeError, match="integer scalar"):
        fr.key(fnp.arange(3))
    with pytest.raises(OverflowError):
        fr.key(2 ** 64)
    with pytest.raises(TypeError, match="fold_in.*integer scalar"):
        fr.fold_in(K, fnp.arange(2))
    with pytest.raises(ValueError, match="without replacement"):
        fr.choice(K, 3, (4,), replace=False)
    with pytest.raises(ValueError, match="p must have shape"):
        fr.choice(K, 3, (2,), p=fnp.ones(4) / 4)
    with pytest.raises(ValueError, match="method"):
        fr.multivariate_normal(K, fnp.zeros(2), fnp.eye(2), method='qr')

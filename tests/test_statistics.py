"""Statistics: the cumulative primitives (values, JVP incl. zeros and ties, vmap) and fnp's cumulative sums,
differences, NaN reductions, quantiles, cov/corrcoef, histograms, closeness, interp, digitize, trapezoid."""
import warnings

import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.core.trace import ConcretizationError
from fn_dl.ops import cumulative as cu
from fn_dl.testing import check_grads

rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape)


def a64(x):
    return fnp.asarray(np.asarray(x, dtype=np.float64))


def close(got, ref, **kw):
    np.testing.assert_allclose(np.asarray(got), ref, **kw)


def loop(f, x, axis=0):
    return np.stack([np.asarray(f(fnp.asarray(np.take(x, i, axis)))) for i in range(x.shape[axis])])


# --- cumulative primitives ----------------------------------------------------------------------------

ACCUMULATE = {'cumsum': np.cumsum, 'cumprod': np.cumprod, 'cummax': np.maximum.accumulate,
              'cummin': np.minimum.accumulate, 'cumlogsumexp': np.logaddexp.accumulate}


@pytest.mark.parametrize('name,dtype', [(n, d) for n in ACCUMULATE for d in (np.float32, np.float64, np.int32)
                                        if not (n == 'cumlogsumexp' and d == np.int32)])
def test_cumulative_primitives_match_numpy(name, dtype):
    for shape, axis in (((6,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 0), 1), ((0, 3), 0), ((1,), 0)):
        for reverse in (False, True):
            x = (rng.integers(-3, 4, shape) if dtype == np.int32 else r(*shape)).astype(dtype)
            out = getattr(cu, name)(fnp.asarray(x), axis, reverse)
            acc = ACCUMULATE[name]
            ref = np.flip(acc(np.flip(x, axis), axis=axis), axis) if reverse else acc(x, axis=axis)
            assert out.dtype == dtype
            close(out, ref.astype(dtype), rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize('name', list(ACCUMULATE))
@pytest.mark.parametrize('reverse', [False, True])
def test_cumulative_gradients(name, reverse):
    x = a64(r(3, 7))
    check_grads(lambda v: getattr(cu, name)(v, 1, reverse), (x,), order=2)


def test_cumprod_gradient_with_zeros():
    x = a64([[2.0, 0.0, 3.0, 0.0, 1.5], [0.0, 1.0, -2.0, 4.0, 0.5]])
    check_grads(lambda v: cu.cumprod(v, 1), (x,), order=2)
    g = fd.grad(lambda v: fnp.sum(cu.cumprod(v, 0)))(a64([2.0, 0.0, 3.0]))
    close(g, [1.0, 2.0 + 6.0, 0.0])  # d/dx1 of x0 + x0*x1 + x0*x1*x2 at x1 = 0


def test_cummax_ties_match_jax():
    # a tie splits its tangent evenly (as max does), through the scan tree; expected values from jax.grad of
    # (jax.lax.cummax(x, 0, reverse) * arange(8)).sum() and the same with cummin
    x = a64([1.0, 3.0, 3.0, 2.0, 3.0, 0.5, 4.0, 4.0])
    expected = {(cu.cummax, False): [0.0, 5.75, 4.75, 0.0, 4.5, 0.0, 9.5, 3.5],
                (cu.cummax, True): [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 10.5, 17.5],
                (cu.cummin, False): [10.0, 0.0, 0.0, 0.0, 0.0, 18.0, 0.0, 0.0],
                (cu.cummin, True): [0.0, 0.0, 0.0, 0.0, 0.0, 15.0, 3.0, 10.0]}
    for (f, reverse), ref in expected.items():
        g = fd.grad(lambda v: fnp.sum(f(v, 0, reverse) * fnp.arange(8.0, dtype='float64')))(x)
        close(g, ref, rtol=1e-12)


def test_cumulative_jit_matches_eager():
    x = fnp.asarray(r(3, 7))
    f = lambda v: [getattr(cu, name)(v, 1, reverse) for name in ACCUMULATE for reverse in (False, True)]  # noqa
    for j, e in zip(fd.jit(f)(x), f(x)):
        close(j, np.asarray(e), rtol=1e-12)
    g = fd.grad(lambda v: fnp.sum(cu.cumprod(v, 0) ** 2 + cu.cummax(v, 0)))
    close(fd.jit(g)(a64([2.0, 0.0, 3.0])), np.asarray(g(a64([2.0, 0.0, 3.0]))), rtol=1e-12)


def test_cumlogsumexp_infinities():
    x = np.array([-np.inf, -np.inf, 0.0, np.inf, 1.0])
    with np.errstate(invalid='ignore'):
        close(cu.cumlogsumexp(a64(x)), np.logaddexp.accumulate(x))


def test_cumulative_vmap_and_errors():
    x = r(4, 3, 5)
    for name in ACCUMULATE:
        f = lambda v: getattr(cu, name)(v, 1, True)  # noqa: E731
        close(fd.vmap(f, in_axes=1)(fnp.asarray(x)), loop(f, x, 1), rtol=1e-12)
    with pytest.raises(ValueError, match='cumsum: needs an array of rank >= 1'):
        cu.cumsum(fnp.asarray(1.0))
    with pytest.raises(TypeError, match='cumlogsumexp: does not accept'):
        cu.cumlogsumexp(fnp.asarray([1, 2]))


# --- fnp cumulative sums and differences --------------------------------------------------------------

@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int8, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize('shape,axis', [((5,), None), ((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((), None),
                                        ((0, 2), 1)])
def test_cumsum_cumprod(dtype, shape, axis):
    x = (rng.integers(0, 3, shape) if dtype != np.float32 and dtype != np.float64 else r(*shape)).astype(dtype)
    for f in ('cumsum', 'cumprod', 'nancumsum', 'nancumprod'):
        out = getattr(fnp, f)(x, axis=axis)
        close(out, getattr(np, f)(x, axis=axis), rtol=1e-5)
        if np.issubdtype(dtype, np.integer) or dtype == np.bool_:
            assert out.dtype.kind == 'i' or dtype == np.uint8  # small ints accumulate in the default int


def test_cumsum_float16_accumulates_in_float32():
    x = np.full(3000, 0.1, np.float16)
    out = fnp.cumsum(x)
    assert out.dtype == np.float16
    close(out, np.cumsum(x.astype(np.float32)).astype(np.float16))


def test_cumulative_sum_array_api():
    x = rng.integers(-3, 4, (3, 4))
    for f in ('cumulative_sum', 'cumulative_prod'):
        for axis in (0, 1):
            for initial in (False, True):
                close(getattr(fnp, f)(x, axis=axis, include_initial=initial),
                      getattr(np, f)(x, axis=axis, include_initial=initial))
        close(getattr(fnp, f)(x[0], include_initial=True), getattr(np, f)(x[0], include_initial=True))
        with pytest.raises(ValueError, match='axis is required'):
            getattr(fnp, f)(x)
    check_grads(lambda v: fnp.cumulative_prod(v, axis=1, include_initial=True), (a64(r(2, 4)),), order=2)


def test_cumsum_grad_and_vmap():
    x = r(3, 5)
    check_grads(lambda v: fnp.cumsum(v, axis=1), (a64(x),), order=2)
    check_grads(lambda v: fnp.nancumprod(v), (a64(x),), order=2)
    close(fd.vmap(fnp.cumsum)(fnp.asarray(x)), np.cumsum(x, axis=1), rtol=1e-12)


def test_diff_and_ediff1d():
    x = rng.integers(-5, 5, (3, 6))
    for n in (0, 1, 2, 7):
        for axis in (0, 1, -1):
            close(fnp.diff(x, n=n, axis=axis), np.diff(x, n=n, axis=axis))
    close(fnp.diff(x, axis=1, prepend=0, append=x[:, :2]), np.diff(x, axis=1, prepend=0, append=x[:, :2]))
    b = np.array([True, False, False, True])
    np.testing.assert_array_equal(np.asarray(fnp.diff(b)), np.diff(b))
    close(fnp.ediff1d(x), np.ediff1d(x))
    close(fnp.ediff1d(x, to_begin=[7, 8], to_end=-1), np.ediff1d(x, to_begin=[7, 8], to_end=-1))
    close(fnp.ediff1d(np.zeros(0)), np.ediff1d(np.zeros(0)))
    check_grads(lambda v: fnp.diff(v, n=2), (a64(r(2, 5)),), order=2)
    close(fd.vmap(lambda v: fnp.diff(v))(fnp.asarray(x)), np.diff(x))
    with pytest.raises(ValueError, match='diff: order'):
        fnp.diff(x, n=-1)


# --- NaN reductions ----------------------------------------------------------------------------------------

NAN_FUNCS = ['nansum', 'nanprod', 'nanmean', 'nanvar', 'nanstd', 'nanmax', 'nanmin']


@pytest.mark.parametrize('name', NAN_FUNCS)
@pytest.mark.parametrize('axis,keepdims', [(None, False), (0, False), (1, True), ((0, 1), False)])
def test_nan_reductions(name, axis, keepdims):
    x = r(4, 5)
    x[0, 1] = x[2, 2] = x[3, :] = np.nan if name not in ('nanmax', 'nanmin') or axis != 1 else 1.0
    x[1, 3] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        ref = getattr(np, name)(x, axis=axis, keepdims=keepdims)
        close(getattr(fnp, name)(x, axis=axis, keepdims=keepdims), ref, rtol=1e-12)
        close(getattr(fnp, name)(x.astype(np.float32), axis=axis, keepdims=keepdims), ref, rtol=1e-5)
        xi = rng.integers(0, 4, (4, 5))
        close(getattr(fnp, name)(xi, axis=axis, keepdims=keepdims), getattr(np, name)(xi, axis=axis,
                                                                                      keepdims=keepdims), rtol=1e-6)


def test_nanvar_ddof_and_all_nan_slices():
    x = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [2.0, np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        for ddof in (0, 1, 2):
            close(fnp.nanvar(x, axis=1, ddof=ddof), np.nanvar(x, axis=1, ddof=ddof))
            close(fnp.nanstd(x, axis=0, ddof=ddof), np.nanstd(x, axis=0, ddof=ddof))
        close(fnp.nanmean(x, axis=1), np.nanmean(x, axis=1))


@pytest.mark.parametrize('name', ['nanargmax', 'nanargmin'])
def test_nanarg(name):
    x = r(4, 5)
    x[0, 1] = x[2, 3] = np.nan
    for axis in (None, 0, 1):
        np.testing.assert_array_equal(np.asarray(getattr(fnp, name)(x, axis=axis)), getattr(np, name)(x, axis=axis))
    np.testing.assert_array_equal(np.asarray(getattr(fnp, name)(x, axis=None, keepdims=True)),
                                  getattr(np, name)(x, axis=None, keepdims=True))
    x[1, :] = np.nan
    assert int(getattr(fnp, name)(x, axis=1)[1]) == -1  # NumPy raises; like JAX, a traceable -1


def test_nan_reduction_grads_and_vmap():
    x = r(3, 4)
    x[1, 2] = np.nan
    for name in NAN_FUNCS:
        f = lambda v: getattr(fnp, name)(v, axis=1)  # noqa: E731
        check_grads(f, (a64(x),), order=2)
        close(fd.vmap(lambda v: getattr(fnp, name)(v))(fnp.asarray(x)), loop(lambda v: getattr(fnp, name)(v), x),
              rtol=1e-12)
    g = fd.grad(lambda v: fnp.nansum(v))(a64(x))
    close(g, np.where(np.isnan(x), 0.0, 1.0))


# --- quantiles ------------------------------------------------------------------------------------------------

METHODS = ['linear', 'lower', 'higher', 'midpoint', 'nearest', 'inverted_cdf', 'averaged_inverted_cdf',
           'closest_observation', 'interpolated_inverted_cdf', 'hazen', 'weibull', 'median_unbiased',
           'normal_unbiased']


@pytest.mark.parametrize('method', METHODS)
def test_quantile_methods(method):
    x = rng.integers(0, 20, (3, 7)).astype(np.float64)
    q = np.array([0.0, 0.1, 0.25, 0.5, 0.6, 0.77, 1.0])
    close(fnp.quantile(x, q, axis=1, method=method), np.quantile(x, q, axis=1, method=method), rtol=1e-12)
    close(fnp.nanquantile(x, 0.3, axis=0, method=method), np.nanquantile(x, 0.3, axis=0, method=method), rtol=1e-12)
    close(fnp.percentile(x, [15, 85], method=method), np.percentile(x, [15, 85], method=method), rtol=1e-12)


@pytest.mark.parametrize('axis,keepdims', [(None, False), (0, True), (1, False), ((0, 2), True), (-1, True)])
def test_quantile_shapes_and_median(axis, keepdims):
    x = r(3, 4, 5)
    q = np.array([[0.2, 0.5], [0.9, 1.0]])
    close(fnp.quantile(x, q, axis=axis, keepdims=keepdims), np.quantile(x, q, axis=axis, keepdims=keepdims),
          rtol=1e-12)
    close(fnp.median(x, axis=axis, keepdims=keepdims), np.median(x, axis=axis, keepdims=keepdims), rtol=1e-12)
    close(fnp.median(x.astype(np.float32), axis=axis), np.median(x.astype(np.float32), axis=axis), rtol=1e-6)
    xi = rng.integers(0, 9, (3, 4, 5))
    close(fnp.median(xi, axis=axis, keepdims=keepdims), np.median(xi, axis=axis, keepdims=keepdims), rtol=1e-6)


def test_nan_quantiles():
    x = r(4, 6)
    x[0, 1] = x[2, :] = x[3, 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)
        for axis in (None, 0, 1):
            close(fnp.quantile(x, 0.4, axis=axis), np.quantile(x, 0.4, axis=axis), rtol=1e-12)
            close(fnp.nanquantile(x, [0.1, 0.7], axis=axis), np.nanquantile(x, [0.1, 0.7], axis=axis), rtol=1e-12)
            close(fnp.nanmedian(x, axis=axis), np.nanmedian(x, axis=axis), rtol=1e-12)
            close(fnp.nanpercentile(x, 35, axis=axis), np.nanpercentile(x, 35, axis=axis), rtol=1e-12)


def test_quantile_grads_vmap_and_errors():
    x = fnp.asarray(rng.permutation(15).reshape(3, 5) + 0.25)
    check_grads(lambda v: fnp.quantile(v, np.array([0.3, 0.5]), axis=1), (x,), order=2)
    check_grads(lambda v: fnp.nanmedian(v, axis=0), (x,), order=2)
    check_grads(lambda q: fnp.quantile(x, q, axis=1), (a64([0.3, 0.45]),), order=2)
    qs = np.array([0.1, 0.5, 0.95])
    close(fd.vmap(lambda q: fnp.quantile(x, q, axis=1))(a64(qs)), np.quantile(np.asarray(x), qs, axis=1),
          rtol=1e-12)
    close(fd.vmap(lambda v: fnp.median(v))(x), np.median(np.asarray(x), axis=1), rtol=1e-12)
    with pytest.raises(ValueError, match=r'q must be in the range \[0, 1\]'):
        fnp.quantile(x, 1.5)
    with pytest.raises(ValueError, match=r'q must be in the range \[0, 100\]'):
        fnp.percentile(x, -1)
    with pytest.raises(ValueError, match='unknown method'):
        fnp.quantile(x, 0.5, method='cubic')
    with pytest.raises(ValueError, match='empty axis'):
        fnp.median(fnp.zeros((0, 3)), axis=0)


# --- cov / corrcoef -----------------------------------------------------------------------------------------

def test_cov_options():
    m, y = r(3, 6), r(2, 6)
    close(fnp.cov(m), np.cov(m), rtol=1e-12)
    close(fnp.cov(m.T, rowvar=False), np.cov(m.T, rowvar=False), rtol=1e-12)
    close(fnp.cov(m, y), np.cov(m, y), rtol=1e-12)
    close(fnp.cov(m[0]), np.cov(m[0]), rtol=1e-12)
    close(fnp.cov(m, bias=True), np.cov(m, bias=True), rtol=1e-12)
    close(fnp.cov(m, ddof=2), np.cov(m, ddof=2), rtol=1e-12)
    fw, aw = rng.integers(1, 4, 6), rng.random(6)
    close(fnp.cov(m, fweights=fw), np.cov(m, fweights=fw), rtol=1e-12)
    close(fnp.cov(m, aweights=aw), np.cov(m, aweights=aw), rtol=1e-12)
    close(fnp.cov(m, fweights=fw, aweights=aw, ddof=2), np.cov(m, fweights=fw, aweights=aw, ddof=2), rtol=1e-12)
    c = r(2, 5) + 1j * r(2, 5)
    close(fnp.cov(c), np.cov(c), rtol=1e-12)
    mi = rng.integers(0, 5, (2, 5))
    close(fnp.cov(mi), np.cov(mi), rtol=1e-6)
    with pytest.raises(ValueError, match='fweights'):
        fnp.cov(m, fweights=np.ones(3))


def test_corrcoef_and_grads():
    m, y = r(3, 6), r(3, 6)
    close(fnp.corrcoef(m), np.corrcoef(m), rtol=1e-12)
    close(fnp.corrcoef(m[0], y[0]), np.corrcoef(m[0], y[0]), rtol=1e-12)
    close(fnp.corrcoef(m.T, rowvar=False), np.corrcoef(m.T, rowvar=False), rtol=1e-12)
    c = r(2, 5) + 1j * r(2, 5)
    close(fnp.corrcoef(c), np.corrcoef(c), rtol=1e-12)
    check_grads(lambda v: fnp.cov(v), (a64(m),), order=2)
    check_grads(lambda v: fnp.corrcoef(v), (a64(m),), order=2)
    xs = r(4, 2, 5)
    close(fd.vmap(fnp.corrcoef)(fnp.asarray(xs)), np.stack([np.corrcoef(v) for v in xs]), rtol=1e-12)


# --- histograms -----------------------------------------------------------------------------------------------

def test_bincount():
    x = rng.integers(0, 6, 20)
    w = r(20)
    np.testing.assert_array_equal(np.asarray(fnp.bincount(x)), np.bincount(x))
    close(fnp.bincount(x, weights=w), np.bincount(x, weights=w), rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(fnp.bincount(x, minlength=9)), np.bincount(x, minlength=9))
    np.testing.assert_array_equal(np.asarray(fnp.bincount(np.zeros(0, np.int32))), np.bincount(np.zeros(0, np.int64)))
    np.testing.assert_array_equal(np.asarray(fnp.bincount(x, length=3)), np.bincount(x)[:3])  # larger values drop
    xs = rng.integers(0, 4, (3, 8))
    np.testing.assert_array_equal(np.asarray(fd.vmap(lambda v: fnp.bincount(v, length=5))(fnp.asarray(xs))),
                                  np.stack([np.bincount(v, minlength=5) for v in xs]))
    check_grads(lambda wt: fnp.bincount(fnp.asarray(x), weights=wt), (a64(w),), order=2)
    with pytest.raises(ConcretizationError, match='length='):
        fd.vmap(fnp.bincount)(fnp.asarray(xs))
    with pytest.raises(ValueError, match='non-negative'):
        fnp.bincount(np.array([1, -1]))
    with pytest.raises(TypeError, match='1-d integer'):
        fnp.bincount(np.array([1.0]))


@pytest.mark.parametrize('kwargs', [dict(), dict(bins=4), dict(bins=3, range=(-1.0, 1.0)), dict(density=True),
                                    dict(bins=[-2.0, -0.5, 0.0, 0.3, 2.0]), dict(bins=5, weights=True),
                                    dict(bins=[-1.0, 0.0, 1.0], weights=True, density=True)])
def test_histogram(kwargs):
    a = r(40)
    if kwargs.get('weights') is True:
        kwargs = dict(kwargs, weights=r(40))
    h, e = fnp.histogram(a, **kwargs)
    rh, re = np.histogram(a, **kwargs)
    close(h, rh, rtol=1e-12)
    close(e, re, rtol=1e-12)
    close(fnp.histogram_bin_edges(a, bins=kwargs.get('bins', 10)), np.histogram_bin_edges(a, kwargs.get('bins', 10)),
          rtol=1e-12)


def test_histogram_edge_cases_and_transforms():
    h, e = fnp.histogram(np.array([2.0, 2.0, 2.0]), bins=2)
    rh, re = np.histogram(np.array([2.0, 2.0, 2.0]), bins=2)
    close(h, rh)
    close(e, re)
    h, _ = fnp.histogram(np.array([0.0, 1.0, 5.0, np.nan]), bins=2, range=(0.0, 1.0))
    close(h, [1, 1])
    with pytest.raises(ValueError, match='not finite'):
        fnp.histogram(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match='estimators'):
        fnp.histogram(np.ones(3), bins='auto')
    xs = r(3, 10)
    out = fd.vmap(lambda v: fnp.histogram(v, bins=4, range=(-2.0, 2.0))[0])(fnp.asarray(xs))
    np.testing.assert_array_equal(np.asarray(out), np.stack([np.histogram(v, 4, (-2.0, 2.0))[0] for v in xs]))
    a = r(10)
    check_grads(lambda w: fnp.histogram(fnp.asarray(a), bins=3, weights=w, density=True)[0], (a64(r(10)),), order=2)


# --- comparisons -------------------------------------------------------------------------------------------------

def test_isclose_allclose():
    a = np.array([1.0, 1.0 + 1e-9, np.inf, -np.inf, np.nan, 1e10, 0.0])
    b = np.array([1.0, 1.0, np.inf, np.inf, np.nan, 1.00001e10, 1e-9])
    for kw in (dict(), dict(equal_nan=True), dict(rtol=0.0, atol=1e-12), dict(atol=0.0)):
        with np.errstate(invalid='ignore'):  # inf - inf in the eager backend, as inside np.isclose
            np.testing.assert_array_equal(np.asarray(fnp.isclose(a, b, **kw)), np.isclose(a, b, **kw))
        assert bool(fnp.allclose(a[:2], b[:2], **kw)) == np.allclose(a[:2], b[:2], **kw)
    np.testing.assert_array_equal(np.asarray(fnp.isclose([1, 2], [[1], [3]])), np.isclose([1, 2], [[1], [3]]))
    ai, bi = np.array([0, 127, -128], np.int8), np.array([1, 127, 127], np.int8)
    np.testing.assert_array_equal(np.asarray(fnp.isclose(ai, bi)), np.isclose(ai, bi))
    c = np.array([1 + 1j, 1 + 2j])
    np.testing.assert_array_equal(np.asarray(fnp.isclose(c, c + 1e-9)), np.isclose(c, c + 1e-9))
    with np.errstate(invalid='ignore'):
        out = fd.vmap(lambda u, v: fnp.allclose(u, v))(fnp.asarray(a[None]), fnp.asarray(b[None]))
    np.testing.assert_array_equal(np.asarray(out), [False])


def test_array_equal_equiv():
    x = np.array([1.0, np.nan, 2.0])
    for a, b in ((x, x), (x, x[:2]), ([1, 2], [1, 2]), ([1, 2], [[1, 2]]), (x, x.copy())):
        for equal_nan in (False, True):
            assert bool(fnp.array_equal(a, b, equal_nan=equal_nan)) == np.array_equal(a, b, equal_nan=equal_nan)
        assert bool(fnp.array_equiv(a, b)) == np.array_equiv(a, b)
    assert bool(fnp.array_equiv([1, 2], [[1, 2], [1, 2]])) and not bool(fnp.array_equiv([1, 2], [[1, 2, 3]]))


# --- interp / digitize / trapezoid ---------------------------------------------------------------------------

def test_interp():
    xp = np.sort(r(8))
    fp = r(8)
    x = np.concatenate([r(12) * 2, xp[:3], [xp[-1]]])
    close(fnp.interp(x, xp, fp), np.interp(x, xp, fp), rtol=1e-12)
    close(fnp.interp(x, xp, fp, left=-9.0, right=9.0), np.interp(x, xp, fp, left=-9.0, right=9.0), rtol=1e-12)
    close(fnp.interp(x, xp, fp + 1j * fp), np.interp(x, xp, fp + 1j * fp), rtol=1e-12)
    xpp, fpp = np.array([190.0, -350.0, 10.0, 170.0]), np.array([5.0, 10.0, 3.0, 4.0])
    xx = np.array([-180.0, -30.0, 0.0, 175.0, 400.0])
    close(fnp.interp(xx, xpp, fpp, period=360), np.interp(xx, xpp, fpp, period=360), rtol=1e-12)
    close(fnp.interp(x, xp[:1], fp[:1]), np.interp(x, xp[:1], fp[:1]))
    jumps = np.array([0.0, 1.0, 1.0, 2.0])
    close(fnp.interp([0.5, 1.0, 1.5], jumps, [0.0, 1.0, 5.0, 6.0]), np.interp([0.5, 1.0, 1.5], jumps,
                                                                              [0.0, 1.0, 5.0, 6.0]))
    check_grads(lambda u, f: fnp.interp(u, fnp.asarray(xp), f), (a64(r(5) * 0.5), a64(fp)), order=2)
    close(fd.vmap(lambda u: fnp.interp(u, fnp.asarray(xp), fnp.asarray(fp)))(fnp.asarray(x[:, None])),
          np.interp(x, xp, fp)[:, None], rtol=1e-12)
    with pytest.raises(ValueError, match='interp: xp and fp'):
        fnp.interp(x, xp, fp[:3])
    with pytest.raises(ValueError, match='period'):
        fnp.interp(x, xp, fp, period=0)


def test_digitize():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.5, 3.0, 9.0])
    for bins in (np.array([0.0, 1.0, 2.5, 3.0]), np.array([3.0, 2.5, 1.0, 0.0]), np.array([1.0])):
        for right in (False, True):
            np.testing.assert_array_equal(np.asarray(fnp.digitize(x, bins, right=right)),
                                          np.digitize(x, bins, right=right))
    np.testing.assert_array_equal(np.asarray(fnp.digitize(x, np.zeros(0))), np.digitize(x, np.zeros(0)))
    bs = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    out = fd.vmap(lambda b: fnp.digitize(fnp.asarray(x), b))(fnp.asarray(bs))
    np.testing.assert_array_equal(np.asarray(out), np.stack([np.digitize(x, b) for b in bs]))
    with pytest.raises(ValueError, match='monotonically'):
        fnp.digitize(x, np.array([0.0, 2.0, 1.0]))


def test_trapezoid():
    y = r(3, 6)
    close(fnp.trapezoid(y), np.trapezoid(y), rtol=1e-12)
    close(fnp.trapezoid(y, dx=0.3, axis=0), np.trapezoid(y, dx=0.3, axis=0), rtol=1e-12)
    xs = np.sort(r(6))
    close(fnp.trapezoid(y, x=xs), np.trapezoid(y, x=xs), rtol=1e-12)
    x2 = np.sort(r(3, 6), axis=1)
    close(fnp.trapezoid(y, x=x2, axis=1), np.trapezoid(y, x=x2, axis=1), rtol=1e-12)
    yi = rng.integers(0, 5, 4)
    close(fnp.trapezoid(yi), np.trapezoid(yi))
    close(fnp.trapezoid(np.zeros((2, 0))), np.trapezoid(np.zeros((2, 0))))
    check_grads(lambda u, v: fnp.trapezoid(u, x=v), (a64(y), a64(xs)), order=2)
    close(fd.vmap(fnp.trapezoid)(fnp.asarray(y)), np.trapezoid(y, axis=1), rtol=1e-12)

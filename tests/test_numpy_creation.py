"""fn_dl.numpy's array creation against NumPy: asarray's dtype rules, zeros/ones/full/empty(_like),
arange, linspace, logspace, eye, identity, tri, tril, triu, meshgrid, from_dlpack, frombuffer."""
import ml_dtypes
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.core import dtypes

from _fnp_checks import ALL, assert_close, check_vmap, sample

rng = np.random.default_rng(3)


def same(got, want):
    want = np.asarray(want)
    assert isinstance(got, fnp.ndarray)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize('value,dtype', [
    ([1, 2], 'int32'), ([1.5, 2], 'float32'), ([1 + 2j], 'complex64'), ([True, False], 'bool'), (3, 'int32'),
    (3.0, 'float32'), (True, 'bool'), (1j, 'complex64'), ([[1, 2], [3, 4]], 'int32'), ([], 'float32'),
    ((1, 2.5), 'float32'), (range(3), 'int32'), ([2 ** 40], 'int64'), (2 ** 40, 'int64'), (2 ** 63, 'uint64'),
    ([True, 2], 'int32'), ([np.float64(1)], 'float32'),
])
def test_asarray_python_data_takes_32_bit_defaults(value, dtype):
    x = fnp.asarray(value)
    assert x.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(x), np.asarray(value).astype(dtype))


@pytest.mark.parametrize('dtype', ALL, ids=str)
def test_asarray_keeps_the_dtype_of_arrays_and_scalars(dtype):
    a = sample(rng, dtype, (2, 3))
    same(fnp.asarray(a), a)
    same(fnp.asarray(a[0, 0]), a[0, 0])  # a NumPy scalar
    x = fnp.asarray(a)
    assert fnp.asarray(x) is x and fnp.array(x) is x
    same(fnp.asarray(memoryview(np.ascontiguousarray(a))) if dtype != dtypes.bfloat16 else x, a)


@pytest.mark.parametrize('src', ALL, ids=str)
def test_asarray_with_dtype(src):
    a = sample(rng, src, (4,))
    for dst in (np.dtype('int16'), np.dtype('float32'), np.dtype(ml_dtypes.bfloat16), np.dtype('complex64')):
        with np.errstate(all='ignore'):
            want = (a.real if np.iscomplexobj(a) and dst.kind != 'c' else a).astype(dst)
        same(fnp.asarray(a, dtype=dst), want)
        same(fnp.asarray(fnp.asarray(a), dtype=dst), want)
        same(fnp.asarray(a.tolist(), dtype=dst) if src != dtypes.bfloat16 else fnp.asarray(a, dtype=dst), want)


def test_asarray_errors_and_copy():
    with pytest.raises(TypeError, match='dtype object'):
        fnp.asarray([1, 'a', None])
    with pytest.raises(ValueError):
        fnp.asarray([[1, 2], [3]])
    with pytest.raises(OverflowError, match='does not fit in any fn_dl integer dtype'):
        fnp.asarray(2 ** 64)
    with pytest.raises(TypeError, match='not supported by fn_dl'):
        fnp.asarray(np.array(['a']))
    with pytest.raises(ValueError, match='copy=False'):
        fnp.asarray(np.ones(2), dtype=fnp.float32, copy=False)
    a = np.ones(2, np.float32)
    x = fnp.asarray(a, copy=False)  # shares memory: the caller promised not to change a
    assert x.tolist() == [1.0, 1.0]


def test_asarray_of_a_list_of_arrays_promotes_as_stack():
    assert fnp.asarray([fnp.asarray(np.float64(1.0)), 2.0]).dtype == np.float64
    assert fnp.asarray([[fnp.asarray(1, dtype=fnp.int8), 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]


def test_asarray_of_a_list_of_traced_arrays():
    out = fd.vmap(lambda v: fnp.asarray([v[0], 2 * v[1]]))(fnp.asarray([[1.0, 2.0], [3.0, 4.0]]))
    assert out.tolist() == [[1.0, 4.0], [3.0, 8.0]]


@pytest.mark.parametrize('name', ['zeros', 'ones', 'empty'])
def test_zeros_ones_empty(name):
    f = getattr(fnp, name)
    for shape in [(), 0, 3, (2, 0), (2, 3), np.int64(2), [1, 2]]:
        out = f(shape)
        assert out.dtype == np.float32 and out.shape == np.zeros(shape).shape
        if name != 'empty':
            same(out, getattr(np, name)(shape, np.float32))
    for dtype in ALL:
        assert f((2,), dtype=dtype).dtype == dtype
    assert f(2, dtype=float).dtype == np.float64 and f(2, 'int8').dtype == np.int8
    with pytest.raises(ValueError, match='negative dimensions'):
        f((2, -1))


@pytest.mark.parametrize('name', ['zeros_like', 'ones_like', 'empty_like', 'full_like'])
def test_like(name):
    f = getattr(fnp, name)
    extra = (2.7,) if name == 'full_like' else ()
    for dtype in ALL:
        a = sample(rng, dtype, (2, 3))
        out = f(fnp.asarray(a), *extra)
        assert out.dtype == dtype and out.shape == (2, 3)
        if name != 'empty_like':
            same(out, getattr(np, name)(a, *extra))
        assert f(fnp.asarray(a), *extra, dtype=fnp.float16).dtype == np.float16


def test_full():
    same(fnp.full((2,), 7), np.full((2,), 7, np.int32))
    same(fnp.full((2,), 1.5), np.full((2,), 1.5, np.float32))
    same(fnp.full((2,), True), np.full((2,), True))
    same(fnp.full((), 1j), np.full((), 1j, np.complex64))
    same(fnp.full(3, 2.7, dtype=fnp.int8), np.full(3, 2.7, np.int8))
    same(fnp.full((2, 2), fnp.asarray(3.0, dtype=fnp.float64)), np.full((2, 2), 3.0))
    same(fnp.full((2,), 2 ** 40), np.full((2,), 2 ** 40, np.int64))
    with pytest.raises(ValueError, match='fill_value must be a scalar'):
        fnp.full((2,), fnp.ones(2))
    out = fd.vmap(lambda v: fnp.full((3,), v))(fnp.asarray([1.0, 2.0]))
    assert out.tolist() == [[1.0] * 3, [2.0] * 3]


@pytest.mark.parametrize('args,kwargs', [
    ((5,), {}), ((2, 7), {}), ((10, 0, -3), {}), ((0.5, 3), {}), ((0, 1, 0.1), {}), ((1, 0), {}),
    ((-3.5, 2.25, 0.75), {}), ((5,), {'dtype': 'float16'}), ((3,), {'dtype': 'uint8'}),
    ((0, 10, 2), {'dtype': 'int64'}), ((1.0, 10.0, 1.5), {'dtype': 'float64'}), ((np.int64(4),), {}),
])
def test_arange(args, kwargs):
    out = fnp.arange(*args, **kwargs)
    python_ints = all(isinstance(v, (int, np.integer)) for v in args)
    want = np.arange(*args, dtype=kwargs.get('dtype', 'int32' if python_ints else 'float64'))
    dtype = np.dtype(kwargs.get('dtype', 'int32' if python_ints else 'float32'))
    assert out.dtype == dtype
    assert_close(out, want.astype(dtype), scale=10)


def test_arange_of_arrays_and_errors():
    assert fnp.arange(fnp.asarray(3)).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match='step must not be zero'):
        fnp.arange(0, 3, 0)


@pytest.mark.parametrize('num', [0, 1, 2, 7, 50])
@pytest.mark.parametrize('endpoint', [True, False])
@pytest.mark.parametrize('dtype', [None, 'float64', 'float16', 'int32', 'complex64'])
def test_linspace(num, endpoint, dtype):
    start, stop = (-2.5, 7.25) if dtype != 'complex64' else (-1 + 2j, 3 - 1j)
    out = fnp.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    want = np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype or 'float32')
    assert out.dtype == want.dtype
    assert_close(out, want, scale=10)
    if endpoint and num > 1 and dtype != 'int32':
        assert out[-1].item() == want[-1]  # the last sample is stop, exactly


def test_linspace_arrays_axis_and_dtypes():
    lo, hi = np.array([0.0, 1.0, -4.0]), np.array([[1.0], [5.0]])
    for axis in (0, 1, -1):
        assert_close(fnp.linspace(fnp.asarray(lo), fnp.asarray(hi), 4, axis=axis), np.linspace(lo, hi, 4, axis=axis),
                     scale=10)
    assert fnp.linspace(0, 1j, 3).dtype == np.complex64
    assert fnp.linspace(fnp.asarray(np.float64(0)), 1, 3).dtype == np.float64
    # computed in float64, not via a float32 rounding of the Python endpoints
    out = fnp.linspace(-4.924221142100693e16, 4.5860098989617354e-11, 5, dtype=fnp.float64, endpoint=False)
    assert out[0].item() == -4.924221142100693e16
    same(fnp.linspace(-5, 10, 4, dtype=fnp.int32), np.linspace(-5, 10, 4, dtype=np.int32))  # rounds toward -inf
    with pytest.raises(ValueError, match='num must be non-negative'):
        fnp.linspace(0, 1, -1)
    out = fd.vmap(lambda a: fnp.linspace(a[0], a[1], 3))(fnp.asarray([[0.0, 1.0], [2.0, 4.0]]))
    assert out.tolist() == [[0.0, 0.5, 1.0], [2.0, 3.0, 4.0]]


@pytest.mark.parametrize('args', [(1, 1000, 4), (2.0, 0.5, 3, False), (-1, -16, 5), (1, 2, 1), (1, 2, 0),
                                  (3, 7, 2), (1e-3, 1e3, 13)])
def test_geomspace(args):
    out = fnp.geomspace(*args)
    assert out.dtype == np.float32
    same(out, np.geomspace(*args).astype(np.float32))
    assert_close(fnp.geomspace(*args, dtype=fnp.float64), np.geomspace(*args), scale=1)


def test_asarray_aliases():
    assert fnp.asanyarray is fnp.asarray and fnp.ascontiguousarray is fnp.asarray


def test_logspace():
    assert_close(fnp.logspace(0, 3, 4), np.logspace(0, 3, 4).astype(np.float32))
    assert_close(fnp.logspace(0, 3, 4, endpoint=False, base=2.0), np.logspace(0, 3, 4, endpoint=False, base=2.0)
                 .astype(np.float32))


@pytest.mark.parametrize('n,m', [(3, None), (3, 5), (5, 2), (0, 3), (1, 1)])
@pytest.mark.parametrize('k', [-6, -1, 0, 2, 10 ** 12])
def test_eye_tri(n, m, k):
    same(fnp.eye(n, m, k=k), np.eye(n, m, k=k, dtype=np.float32))
    same(fnp.eye(n, m, k, fnp.int8), np.eye(n, m, k, np.int8))
    same(fnp.tri(n, m, k), np.tri(n, m, k, dtype=np.float32))
    same(fnp.tri(n, m, k=k, dtype=fnp.bool), np.tri(n, m, k=k, dtype=bool))


def test_identity():
    same(fnp.identity(3), np.identity(3, np.float32))
    same(fnp.identity(2, dtype=fnp.complex64), np.identity(2, np.complex64))


@pytest.mark.parametrize('name', ['tril', 'triu'])
def test_tril_triu(name):
    f, ref = getattr(fnp, name), getattr(np, name)
    for dtype in ALL:
        a = sample(rng, dtype, (2, 3, 4))
        for k in (-5, -1, 0, 1, 3, 2 ** 40):
            same(f(fnp.asarray(a), k=k), ref(a, k=k))
    same(f(fnp.asarray(a[0]), 1), ref(a[0], 1))
    check_vmap(f, fnp.asarray(sample(rng, 'float32', (2, 3, 3))))
    with pytest.raises(ValueError, match='at least 2 dimensions'):
        f(fnp.ones(3))


@pytest.mark.parametrize('indexing', ['xy', 'ij'])
def test_meshgrid(indexing):
    arrs = [sample(rng, d, (n,)) for d, n in (('float32', 2), ('int8', 3), ('bool', 4))]
    for k in range(len(arrs) + 1):
        got = fnp.meshgrid(*map(fnp.asarray, arrs[:k]), indexing=indexing)
        want = np.meshgrid(*arrs[:k], indexing=indexing)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w)
    with pytest.raises(ValueError, match="indexing must be 'xy' or 'ij'"):
        fnp.meshgrid(fnp.ones(2), indexing='yx')
    with pytest.raises(ValueError, match='1-d'):
        fnp.meshgrid(fnp.ones((2, 2)))


def test_from_dlpack_and_frombuffer():
    a = np.arange(6, dtype=np.int16).reshape(2, 3)
    same(fnp.from_dlpack(a), a)
    same(fnp.from_dlpack(fnp.asarray(a)), a)
    same(fnp.frombuffer(b'\x01\x02\x03\x04', dtype=np.uint8), np.array([1, 2, 3, 4], np.uint8))
    same(fnp.frombuffer(np.arange(3.0).tobytes(), dtype=np.float64, count=2, offset=8), np.array([1.0, 2.0]))


@settings(max_examples=25, derandomize=True, deadline=None)
@given(start=st.floats(-1e6, 1e6), length=st.floats(0, 1e4), num=st.integers(0, 40), endpoint=st.booleans())
def test_property_linspace_matches_numpy(start, length, num, endpoint):
    stop = start + length
    got = fnp.linspace(start, stop, num, endpoint=endpoint, dtype=fnp.float64)
    want = np.linspace(start, stop, num, endpoint=endpoint)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-13, atol=1e-9 * max(abs(start), abs(stop), 1))


@settings(max_examples=25, derandomize=True, deadline=None)
@given(start=st.integers(-50, 50), stop=st.integers(-50, 50), step=st.integers(-7, 7).filter(bool))
def test_property_arange_integers(start, stop, step):
    same(fnp.arange(start, stop, step), np.arange(start, stop, step, dtype=np.int32))

"""The Array type: immutability, conversions, printing, DLPack, and the Python operators against NumPy."""
import copy
import operator
import pickle

import ml_dtypes
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.core import array as array_module
from fn_dl.core import dtypes

rng = np.random.default_rng(0)
DLPACK_DTYPES = [d for d in dtypes.ALL if d != dtypes.bfloat16]  # NumPy's DLPack has no bfloat16


def sample(dtype, shape=(2, 3)):
    if dtypes.is_bool(dtype):
        return rng.random(shape) > 0.5
    if dtypes.is_integer(dtype):
        return rng.integers(1, 5, shape).astype(dtype)
    x = rng.uniform(0.5, 4, shape)
    if dtypes.is_complex(dtype):
        x = x + 1j * rng.uniform(0.5, 4, shape)
    return x.astype(dtype)


def test_setitem_raises_and_points_to_at():
    x = fnp.zeros(3)
    with pytest.raises(TypeError, match=r'immutable.*x\.at\[idx\]\.set'):
        x[0] = 1.0
    assert x.at[0].set(1.0).tolist() == [1.0, 0.0, 0.0]
    assert x.tolist() == [0.0, 0.0, 0.0]


def test_asarray_does_not_alias_the_callers_array():
    a = np.zeros(3, np.float32)
    x = fnp.asarray(a)
    a[0] = 5
    assert x.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize('value,text', [
    (np.array([1.0, 2.5], np.float32), 'Array([1. , 2.5], dtype=float32)'),
    (np.array([[1, 2], [3, 4]], np.int8), 'Array([[1, 2],\n       [3, 4]], dtype=int8)'),
    (np.array(True), 'Array(True, dtype=bool)'),
    (np.array([1, 2], ml_dtypes.bfloat16), 'Array([1, 2], dtype=bfloat16)'),
    (np.array(1 + 2j, np.complex64), 'Array(1.+2.j, dtype=complex64)'),
    (np.zeros((0,), np.float32), 'Array([], dtype=float32)'),
    (np.zeros((2, 0), np.int32), 'Array([], shape=(2, 0), dtype=int32)'),
])
def test_repr_names_the_dtype(value, text):
    assert repr(fnp.asarray(value)) == text


def test_str_and_format():
    assert str(fnp.asarray([1, 2])) == '[1 2]'
    assert f'{fnp.asarray(2.5):.2f}' == '2.50'


@pytest.mark.parametrize('dtype', dtypes.ALL, ids=str)
def test_item_tolist_and_builtin_conversions(dtype):
    a = sample(dtype)
    x = fnp.asarray(a)
    assert x.tolist() == a.tolist()
    assert x[1, 2].item() == a[1, 2].item()
    assert type(x[0, 0].item()) is type(a[0, 0].item())
    s = fnp.asarray(a[0, 0])
    if not dtypes.is_complex(dtype):
        assert float(s) == float(a[0, 0]) and int(s) == int(a[0, 0]) and bool(s) == bool(a[0, 0])
    assert complex(s) == complex(a[0, 0])


def test_bool_of_a_many_element_array_is_ambiguous():
    with pytest.raises(ValueError, match='ambiguous'):
        bool(fnp.ones(2))


def test_index():
    assert [10, 20, 30][fnp.asarray(1)] == 20
    assert operator.index(fnp.asarray(np.uint8(2))) == 2
    for bad in (fnp.asarray(1.0), fnp.asarray([1]), fnp.asarray(True)):
        with pytest.raises(TypeError, match='only 0-d integer arrays'):
            operator.index(bad)


def test_len_and_iteration():
    x = fnp.asarray(np.arange(6).reshape(3, 2))
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and all(isinstance(r, fnp.ndarray) for r in rows)
    assert [r.tolist() for r in rows] == [[0, 1], [2, 3], [4, 5]]
    assert list(fnp.zeros((0, 2))) == []
    with pytest.raises(TypeError, match='0-d'):
        len(fnp.asarray(1.0))
    with pytest.raises(TypeError, match='0-d'):
        iter(fnp.asarray(1.0))


def test_properties():
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    x = fnp.asarray(a)
    assert (x.shape, x.ndim, x.size, x.dtype) == ((2, 3, 4), 3, 24, np.float32)
    np.testing.assert_array_equal(np.asarray(x.T), a.T)
    np.testing.assert_array_equal(np.asarray(x.mT), np.swapaxes(a, -1, -2))
    z = fnp.asarray(np.array([1 + 2j, 3 - 4j], np.complex64))
    assert z.real.tolist() == [1.0, 3.0] and z.imag.tolist() == [2.0, -4.0] and z.real.dtype == np.float32
    assert x.real is x
    assert x.imag.tolist() == np.zeros_like(a).tolist()
    with pytest.raises(ValueError, match='at least 2 dimensions'):
        fnp.zeros(3).mT


def test_every_listed_method_is_installed():
    for name in array_module._METHODS:
        assert callable(getattr(fnp.ndarray, name, None)), name


def test_methods_take_numpy_style_positional_arguments():
    a = np.arange(12.0).reshape(3, 4)
    x = fnp.asarray(a)
    for call in ['sum(0)', 'sum(1, keepdims=True)', 'prod(1)', 'mean(-1)', 'std(0)', 'var(1)', 'max(0)', 'min(1)',
                 'argmax(1)', 'argmin(0)', 'all(0)', 'any(1)', 'cumsum(0)', 'reshape(4, 3)', 'reshape((2, 6))',
                 'reshape(-1)', 'transpose()', 'transpose(1, 0)', 'transpose((1, 0))', 'swapaxes(0, 1)', 'flatten()',
                 'ravel()', 'squeeze()', 'repeat(2, 0)', 'clip(2, 5)', 'round(1)', 'diagonal(1)', 'trace()',
                 'astype("int8")', 'conj()', 'dot(a.T)']:
        got, want = eval(f'x.{call}', {'x': x, 'a': x}), eval(f'a.{call}', {'a': a})
        np.testing.assert_allclose(np.asarray(got), want, err_msg=call)


def test_array_protocol():
    a = sample(np.float32)
    x = fnp.asarray(a)
    np.testing.assert_array_equal(np.asarray(x), a)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    c = np.array(x, copy=True)
    c[0, 0] = -1  # a copy is ours to change
    assert x[0, 0].item() == a[0, 0]
    with pytest.raises(ValueError, match='copy'):
        x.__array__(dtype=np.float64, copy=False)
    # NumPy's functions call our methods with out=None
    assert np.sum(x) == pytest.approx(float(a.sum()))
    for f in (np.mean, np.max, np.argmax, np.all, np.std, np.round, np.cumsum, np.prod, np.trace):
        np.testing.assert_allclose(np.asarray(f(x)), f(a), rtol=1e-6, err_msg=f.__name__)
    np.testing.assert_array_equal(np.asarray(np.clip(x, 1, 2)), np.clip(a, 1, 2))
    with pytest.raises(TypeError, match='out= is not supported'):
        x.sum(out=np.zeros(()))


@pytest.mark.parametrize('dtype', DLPACK_DTYPES, ids=str)
@pytest.mark.parametrize('shape', [(), (0,), (2, 3)], ids=str)
def test_dlpack_round_trip(dtype, shape):
    a = sample(dtype, shape)
    x = fnp.asarray(a)
    np.testing.assert_array_equal(np.from_dlpack(x), a)
    assert x.__dlpack_device__() == (1, 0)  # kDLCPU, device 0
    back = fnp.from_dlpack(np.from_dlpack(x))
    assert back.dtype == dtype and back.shape == shape
    np.testing.assert_array_equal(np.asarray(back), a)


def test_dlpack_of_a_broadcast_value():
    # fnp.zeros is a read-only broadcast view: exported as a copy for consumers of DLPack < 1.0
    x = fnp.zeros((2, 3))
    capsule = x.__dlpack__()
    assert type(capsule).__name__ == 'PyCapsule'
    np.testing.assert_array_equal(np.from_dlpack(x), np.zeros((2, 3)))
    x.__dlpack__(max_version=(1, 0), copy=True)


def test_bfloat16_has_no_numpy_dlpack():
    with pytest.raises(BufferError):
        np.from_dlpack(fnp.ones(2, dtype=fnp.bfloat16))


def test_namespace_device_pickle_copy():
    x = fnp.asarray([1.0, 2.0])
    assert x.__array_namespace__() is fnp
    assert x.device == fd.devices()[0] and x.to_device(x.device).tolist() == [1.0, 2.0]
    y = pickle.loads(pickle.dumps(x))
    assert y.dtype == x.dtype and y.tolist() == x.tolist()
    assert copy.copy(x) is x and copy.deepcopy(x) is x  # immutable: copies are the array itself
    with pytest.raises(TypeError, match='unhashable'):
        hash(x)


BINARY_OPS = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
              operator.pow]
NUMERIC = [d for d in dtypes.ALL if not dtypes.is_bool(d) and d != dtypes.bfloat16]


def _expected_dtype(op, x_dtype, other):
    dt = fnp.result_type(fnp.zeros((), dtype=x_dtype), other)
    return fnp.float32 if op is operator.truediv and not dtypes.is_inexact(dt) else dt


@pytest.mark.parametrize('op', BINARY_OPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize('dtype', NUMERIC, ids=str)
@pytest.mark.parametrize('other', [2, 3.0, np.int8(3), np.float64(2.0)], ids=['int', 'float', 'np.int8', 'np.float64'])
def test_operators_with_scalars_match_numpy(op, dtype, other):
    if dtypes.is_complex(dtype) and op in (operator.floordiv, operator.mod):
        return  # not defined for complex, as in NumPy
    a = sample(dtype)
    x = fnp.asarray(a)
    for got, want in ((op(x, other), op(a, other)), (op(other, x), op(other, a))):
        if op is operator.pow and dtypes.is_integer(dtype) and type(other) is float:
            assert got.dtype == np.float32
        elif isinstance(other, (int, float)) and not isinstance(other, np.generic):
            assert got.dtype == _expected_dtype(op, dtype, other)  # weak: x's dtype where the kind fits
        rtol = 2e-3 if dtype == np.float16 else 1e-5
        np.testing.assert_allclose(np.asarray(got).astype(np.complex128), np.asarray(want).astype(np.complex128),
                                   rtol=rtol)


@pytest.mark.parametrize('op', BINARY_OPS + [operator.matmul], ids=lambda f: f.__name__)
def test_operators_with_numpy_arrays_on_either_side(op):
    a, b = sample(np.float32, (3, 3)), sample(np.float64, (3, 3))
    for got, want in ((op(fnp.asarray(a), b), op(a, b)), (op(b, fnp.asarray(a)), op(b, a))):
        assert isinstance(got, fnp.ndarray) and got.dtype == np.float64
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)


@pytest.mark.parametrize('op', [operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift])
@pytest.mark.parametrize('dtype', dtypes.INTEGER, ids=str)
def test_bitwise_operators(op, dtype):
    a = sample(dtype)
    x = fnp.asarray(a)
    np.testing.assert_array_equal(np.asarray(op(x, 2)), op(a, dtype.type(2)))
    np.testing.assert_array_equal(np.asarray(op(3, x)), op(dtype.type(3), a))
    np.testing.assert_array_equal(np.asarray(~x), ~a)


@pytest.mark.parametrize('op', [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne])
@pytest.mark.parametrize('dtype', [np.dtype(d) for d in (np.bool_, np.int8, np.uint32, np.float32, np.float64)],
                         ids=str)
def test_comparisons(op, dtype):
    a, b = sample(dtype), sample(dtype)
    got = op(fnp.asarray(a), fnp.asarray(b))
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(np.asarray(got), op(a, b))
    np.testing.assert_array_equal(np.asarray(op(fnp.asarray(a), 2)), op(a, 2))
    np.testing.assert_array_equal(np.asarray(op(2, fnp.asarray(a))), op(2, a))


def test_unary_operators():
    a = sample(np.float32) - 2
    x = fnp.asarray(a)
    np.testing.assert_array_equal(np.asarray(-x), -a)
    np.testing.assert_array_equal(np.asarray(+x), a)
    np.testing.assert_array_equal(np.asarray(abs(x)), abs(a))
    np.testing.assert_array_equal(np.asarray(round(x)), np.round(a))
    np.testing.assert_array_equal(np.asarray(round(x, 1)), np.round(a, 1))
    np.testing.assert_array_equal(np.asarray(~fnp.asarray([True, False])), [False, True])


def test_divmod():
    a, b = np.array([7.0, -7.0, 7.5, -0.5], np.float32), np.array([2.0, 2.0, -2.0, 3.0], np.float32)
    q, r = divmod(fnp.asarray(a), fnp.asarray(b))
    np.testing.assert_array_equal(np.asarray(q), a // b)
    np.testing.assert_array_equal(np.asarray(r), a % b)
    q, r = divmod(7, fnp.asarray([2, -3]))
    assert q.tolist() == [3, -3] and r.tolist() == [1, -2]
    q, r = divmod(fnp.asarray([7, -7]), 2)
    assert q.tolist() == [3, -4] and r.tolist() == [1, 1]


def test_matmul_operator_and_errors():
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    np.testing.assert_allclose(np.asarray(fnp.asarray(a) @ fnp.asarray(b)), a @ b)
    np.testing.assert_allclose(np.asarray(a @ fnp.asarray(b)), a @ b)
    with pytest.raises(ValueError, match=r'\(3, 4\) @ \(5, 6\).*4 and 5 differ'):
        fnp.ones((3, 4)) @ fnp.ones((5, 6))
    with pytest.raises(ValueError, match=r'\(2, 3, 4\) @ \(5,\)'):
        fnp.ones((2, 3, 4)) @ fnp.ones(5)
    with pytest.raises(ValueError, match='at least 1-d'):
        fnp.ones(3) @ 2


class Other:
    """A foreign type with reflected operators: Array must defer to it."""
    def __radd__(self, other):
        return 'radd'

    def __rmatmul__(self, other):
        return 'rmatmul'

    def __eq__(self, other):
        return 'eq'


def test_unknown_operands_defer_to_the_other_type():
    x = fnp.ones(2)
    assert x + Other() == 'radd' and x @ Other() == 'rmatmul'
    assert (x == Other()) == 'eq'
    assert (x == None) is False and (x != 'text') is True  # noqa: E711
    with pytest.raises(TypeError, match='unsupported operand'):
        x - [1, 2]


def test_in_place_operators_rebind():
    x = fnp.ones(2)
    y = x
    y += 1
    assert y.tolist() == [2.0, 2.0] and x.tolist() == [1.0, 1.0]

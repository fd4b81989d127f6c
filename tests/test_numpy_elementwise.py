"""fn_dl.numpy's elementwise functions against NumPy: every function, every dtype it takes, broadcasting,
0-d and empty arrays, special values, vmap; and hypothesis property tests."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.core import dtypes

from _fnp_checks import ALL, BOOL, COMPLEX, FLOATS, INTS, SHAPES, arrays, assert_close, check_vmap, sample, to64

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns on the NaNs we test
rng = np.random.default_rng(7)
REAL = BOOL + INTS + FLOATS
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, -2.5])


def float_result(dtype):
    """The dtype of a float function of `dtype` (integers and bools compute in the default float32)."""
    return dtype if dtypes.is_inexact(dtype) else dtypes.float32


def numpy_of(x, dtype):
    """x as NumPy sees it for the reference: float64/complex128 for inexact results, else x itself."""
    return to64(x) if dtypes.is_inexact(dtype) else x


# --- unary functions computed in floating point: name -> (numpy name, domain, takes complex) --------------

UNARY_FLOAT = {
    'exp': ('exp', (-3, 3), True), 'exp2': ('exp2', (-3, 3), True), 'expm1': ('expm1', (-3, 3), True),
    'log': ('log', (0.1, 5), True), 'log1p': ('log1p', (-0.9, 5), True), 'log2': ('log2', (0.1, 5), True),
    'log10': ('log10', (0.1, 5), True), 'sin': ('sin', (-3, 3), True), 'cos': ('cos', (-3, 3), True),
    'tan': ('tan', (-1.3, 1.3), True), 'asin': ('arcsin', (-0.95, 0.95), True),
    'arcsin': ('arcsin', (-0.95, 0.95), True), 'acos': ('arccos', (-0.95, 0.95), True),
    'arccos': ('arccos', (-0.95, 0.95), True), 'atan': ('arctan', (-3, 3), True),
    'arctan': ('arctan', (-3, 3), True), 'sinh': ('sinh', (-3, 3), True), 'cosh': ('cosh', (-3, 3), True),
    'tanh': ('tanh', (-3, 3), True), 'asinh': ('arcsinh', (-3, 3), True), 'arcsinh': ('arcsinh', (-3, 3), True),
    'acosh': ('arccosh', (1.1, 5), True), 'arccosh': ('arccosh', (1.1, 5), True),
    'atanh': ('arctanh', (-0.9, 0.9), True), 'arctanh': ('arctanh', (-0.9, 0.9), True),
    'sqrt': ('sqrt', (0, 5), True), 'cbrt': ('cbrt', (-5, 5), False), 'reciprocal': ('reciprocal', (0.3, 5), True),
    'deg2rad': ('deg2rad', (-360, 360), False), 'radians': ('radians', (-360, 360), False),
    'rad2deg': ('rad2deg', (-3, 3), False), 'degrees': ('degrees', (-3, 3), False),
    'sinc': ('sinc', (-3, 3), True),
}


@pytest.mark.parametrize('dtype', ALL, ids=str)
@pytest.mark.parametrize('name', sorted(UNARY_FLOAT))
def test_unary_float_functions(name, dtype):
    np_name, (lo, hi), takes_complex = UNARY_FLOAT[name]
    f, ref = getattr(fnp, name), getattr(np, np_name)
    if dtypes.is_complex(dtype) and not takes_complex:
        with pytest.raises(TypeError):
            f(fnp.ones(2, dtype=dtype))
        return
    out_dt = float_result(dtype)
    for shape in SHAPES:
        a = sample(rng, dtype, shape, lo, hi)
        if name == 'reciprocal' and not dtypes.is_inexact(dtype):
            a = np.where(a == 0, np.ones((), a.dtype), a)  # integer samples of [0.3, 5] may be 0
        with np.errstate(all='ignore'):
            want = ref(numpy_of(a, out_dt).astype(out_dt).astype(np.complex128 if dtypes.is_complex(dtype) else
                                                                   np.float64))
        assert_close(f(fnp.asarray(a)), want, out_dt, err_msg=f'{name}{shape}')
    check_vmap(f, fnp.asarray(sample(rng, dtype, (3, 2), lo, hi)))


@pytest.mark.parametrize('dtype', FLOATS, ids=str)
@pytest.mark.parametrize('name', sorted(UNARY_FLOAT))
def test_unary_float_functions_on_special_values(name, dtype):
    np_name = UNARY_FLOAT[name][0]
    a = SPECIAL.astype(dtype)
    with np.errstate(all='ignore'):
        want = getattr(np, np_name)(a.astype(np.float64))
    assert_close(getattr(fnp, name)(fnp.asarray(a)), want, dtype, err_msg=name)


def test_log2_log10_are_exact_on_powers():
    assert fnp.log2(fnp.asarray([1.0, 2.0, 8.0, 1024.0])).tolist() == [0.0, 1.0, 3.0, 10.0]
    assert fnp.log10(fnp.asarray([1.0, 10.0, 1000.0], dtype=fnp.float64)).tolist() == [0.0, 1.0, 3.0]


# --- unary functions that keep the dtype (or give bool) --------------------------------------------------

UNARY_SAME = {  # name -> (numpy reference, dtypes it takes)
    'abs': (np.abs, ALL), 'absolute': (np.abs, ALL), 'fabs': (np.abs, REAL), 'negative': (np.negative, INTS + FLOATS
                                                                                         + COMPLEX),
    'positive': (np.positive, INTS + FLOATS + COMPLEX), 'square': (np.square, INTS + FLOATS + COMPLEX),
    'sign': (np.sign, INTS + FLOATS + COMPLEX), 'conj': (np.conj, ALL), 'conjugate': (np.conj, ALL),
    'real': (np.real, ALL), 'imag': (np.imag, ALL), 'floor': (np.floor, REAL), 'ceil': (np.ceil, REAL),
    'trunc': (np.trunc, REAL), 'fix': (np.trunc, REAL), 'rint': (np.rint, REAL + COMPLEX),
    'round': (np.round, REAL + COMPLEX), 'around': (np.round, REAL + COMPLEX),
    'bitwise_invert': (np.invert, BOOL + INTS), 'bitwise_not': (np.invert, BOOL + INTS),
    'invert': (np.invert, BOOL + INTS), 'bitwise_count': (np.bitwise_count, INTS),
    'isfinite': (np.isfinite, ALL), 'isnan': (np.isnan, ALL), 'isinf': (np.isinf, ALL),
    'signbit': (np.signbit, REAL), 'logical_not': (np.logical_not, ALL),
}


def _same_dtype(name, dtype):
    if name in ('isfinite', 'isnan', 'isinf', 'signbit', 'logical_not'):
        return dtypes.bool_
    if name == 'bitwise_count':
        return dtypes.uint8
    if name in ('abs', 'absolute', 'real', 'imag') and dtypes.is_complex(dtype):
        return dtypes.to_real(dtype)
    return dtype


@pytest.mark.parametrize('dtype', ALL, ids=str)
@pytest.mark.parametrize('name', sorted(UNARY_SAME))
def test_unary_dtype_preserving_functions(name, dtype):
    ref, accepted = UNARY_SAME[name]
    f = getattr(fnp, name)
    if dtype not in accepted:
        with pytest.raises(TypeError):
            f(fnp.ones(2, dtype=dtype))
        return
    out_dt = _same_dtype(name, dtype)
    for shape in SHAPES:
        a = sample(rng, dtype, shape, -4.5, 4.5)
        if dtypes.is_floating(dtype) and a.ndim:
            a = np.concatenate([a.ravel(), SPECIAL.astype(dtype)])
        want = ref(to64(a) if dtypes.is_floating(dtype) and name not in ('bitwise_count',) else a)
        assert_close(f(fnp.asarray(a)), want, out_dt, err_msg=f'{name}{shape}')
    check_vmap(f, fnp.asarray(sample(rng, dtype, (3, 2))))


def test_sign_and_abs_of_complex():
    z = np.array([3 + 4j, 0j, -2j, complex(np.inf, 1)], np.complex64)
    assert_close(fnp.abs(fnp.asarray(z)), np.abs(z), np.float32)
    assert_close(fnp.sign(fnp.asarray(z[:3])), np.sign(z[:3]), np.complex64)


def test_angle():
    z = sample(rng, np.complex64, (6,))
    assert_close(fnp.angle(fnp.asarray(z)), np.angle(z.astype(np.complex128)), np.float32)
    assert_close(fnp.angle(fnp.asarray(z), deg=True), np.angle(z.astype(np.complex128), deg=True), np.float32,
                 scale=180)
    assert_close(fnp.angle(fnp.asarray([-2, 0, 3])), np.angle([-2.0, 0.0, 3.0]), np.float32)


@pytest.mark.parametrize('decimals', [-2, -1, 1, 2, 3])
@pytest.mark.parametrize('dtype', [np.dtype(t) for t in (np.int16, np.int64, np.float32, np.float64)], ids=str)
def test_round_decimals(dtype, decimals):
    a = (sample(rng, np.float64, (50,), -500, 500) if dtypes.is_floating(dtype) else
         sample(rng, dtype, (50,), -500, 500)).astype(dtype)
    np.testing.assert_array_equal(np.asarray(fnp.round(fnp.asarray(a), decimals)), np.round(a, decimals))


# --- binary functions ------------------------------------------------------------------------------------

NUMBERS = INTS + FLOATS + COMPLEX
BINARY = {  # name -> (numpy reference, dtypes it takes, computed in floating point, domain of x2)
    'add': (np.add, ALL, False, None),
    'subtract': (np.subtract, NUMBERS, False, None),
    'multiply': (np.multiply, ALL, False, None),
    'divide': (np.divide, ALL, True, 'nonzero'),
    'true_divide': (np.divide, ALL, True, 'nonzero'),
    'floor_divide': (np.floor_divide, INTS + FLOATS, False, 'nonzero'),
    'remainder': (np.remainder, INTS + FLOATS, False, 'nonzero'),
    'mod': (np.remainder, INTS + FLOATS, False, 'nonzero'),
    'fmod': (np.fmod, INTS + FLOATS, False, 'nonzero'),
    'power': (np.power, NUMBERS, False, 'power'),
    'pow': (np.power, NUMBERS, False, 'power'),
    'float_power': (np.float_power, ALL, False, 'power'),
    'maximum': (np.maximum, REAL, False, None),
    'minimum': (np.minimum, REAL, False, None),
    'fmax': (np.fmax, REAL, False, None),
    'fmin': (np.fmin, REAL, False, None),
    'equal': (np.equal, ALL, False, None),
    'not_equal': (np.not_equal, ALL, False, None),
    'less': (np.less, REAL, False, None),
    'less_equal': (np.less_equal, REAL, False, None),
    'greater': (np.greater, REAL, False, None),
    'greater_equal': (np.greater_equal, REAL, False, None),
    'bitwise_and': (np.bitwise_and, BOOL + INTS, False, None),
    'bitwise_or': (np.bitwise_or, BOOL + INTS, False, None),
    'bitwise_xor': (np.bitwise_xor, BOOL + INTS, False, None),
    'bitwise_left_shift': (np.left_shift, INTS, False, 'shift'),
    'left_shift': (np.left_shift, INTS, False, 'shift'),
    'bitwise_right_shift': (np.right_shift, INTS, False, 'shift'),
    'right_shift': (np.right_shift, INTS, False, 'shift'),
    'logical_and': (np.logical_and, ALL, False, None),
    'logical_or': (np.logical_or, ALL, False, None),
    'logical_xor': (np.logical_xor, ALL, False, None),
    'atan2': (np.arctan2, REAL, True, None),
    'arctan2': (np.arctan2, REAL, True, None),
    'hypot': (np.hypot, REAL, True, None),
    'logaddexp': (np.logaddexp, REAL, True, None),
    'logaddexp2': (np.logaddexp2, REAL, True, None),
    'copysign': (np.copysign, REAL, True, None),
    'heaviside': (np.heaviside, REAL, True, None),
    'nextafter': (np.nextafter, REAL, True, None),
}
BOOL_RESULT = {'equal', 'not_equal', 'less', 'less_equal', 'greater', 'greater_equal', 'logical_and', 'logical_or',
               'logical_xor'}


def _operands(name, dtype, shape1, shape2):
    domain = BINARY[name][3]
    a = sample(rng, dtype, shape1, -6, 6)
    if domain == 'shift':
        b = sample(rng, dtype, shape2, 0, dtype.itemsize * 8 - 1)
    elif domain == 'power':  # integers to negative powers are an error, as in NumPy
        a = sample(rng, dtype, shape1, 0.5, 3)
        b = sample(rng, dtype, shape2, 0 if dtypes.is_integer(dtype) else -3, 3)
    else:
        b = sample(rng, dtype, shape2, -6, 6)
    if domain == 'nonzero':
        b = np.where(b == 0, np.ones((), b.dtype), b)
    return a, b


@pytest.mark.parametrize('dtype', ALL, ids=str)
@pytest.mark.parametrize('name', sorted(BINARY))
def test_binary_functions(name, dtype):
    ref, accepted, in_float, _ = BINARY[name]
    f = getattr(fnp, name)
    if dtype not in accepted:
        with pytest.raises(TypeError):
            f(fnp.ones(2, dtype=dtype), fnp.ones(2, dtype=dtype))
        return
    out_dt = (dtypes.bool_ if name in BOOL_RESULT else float_result(dtype) if in_float else
              dtypes.complex128 if name == 'float_power' and dtypes.is_complex(dtype) else
              dtypes.float64 if name == 'float_power' else dtype)
    for s1, s2 in [((), ()), ((4,), (4,)), ((0,), (1,)), ((3, 1, 4), (2, 1)), ((2, 3), ()), ((1, 0), (3, 1))]:
        a, b = _operands(name, dtype, s1, s2)
        with np.errstate(all='ignore'):
            operand_dt = float_result(dtype) if in_float else dtype
            if name == 'nextafter':  # exact: one ulp of the result's own dtype
                want = ref(a.astype(out_dt), b.astype(out_dt))
            elif dtypes.is_inexact(operand_dt):
                ct = np.complex128 if dtypes.is_complex(dtype) else np.float64
                want = ref(a.astype(operand_dt).astype(ct), b.astype(operand_dt).astype(ct))
            else:
                want = ref(a, b)
        assert_close(f(fnp.asarray(a), fnp.asarray(b)), want, out_dt, err_msg=f'{name}{s1}{s2}')
    a, b = _operands(name, dtype, (3, 2), (3, 2))
    check_vmap(f, *arrays(a, b))


@pytest.mark.parametrize('dtype', FLOATS, ids=str)
@pytest.mark.parametrize('name', ['add', 'subtract', 'multiply', 'divide', 'maximum', 'minimum', 'fmax', 'fmin',
                                  'atan2', 'hypot', 'logaddexp', 'logaddexp2', 'copysign', 'heaviside', 'less',
                                  'equal', 'fmod', 'power'])
def test_binary_functions_on_special_values(name, dtype):
    a, b = (v.ravel().astype(dtype) for v in np.meshgrid(SPECIAL, SPECIAL))
    ref = BINARY[name][0]
    with np.errstate(all='ignore'):
        want = ref(a.astype(np.float64), b.astype(np.float64))
    out_dt = dtypes.bool_ if name in BOOL_RESULT else dtype
    assert_close(getattr(fnp, name)(fnp.asarray(a), fnp.asarray(b)), want, out_dt, err_msg=name)


@pytest.mark.parametrize('dtype', [np.dtype(np.float32), np.dtype(np.float64)], ids=str)
def test_floor_divide_and_remainder_special_values(dtype):
    a, b = (v.ravel().astype(dtype) for v in np.meshgrid(SPECIAL, SPECIAL))
    with np.errstate(all='ignore'):
        q_np, r_np = np.floor_divide(a, b), np.remainder(a, b)
    q, r = np.asarray(fnp.floor_divide(*arrays(a, b))), np.asarray(fnp.remainder(*arrays(a, b)))
    # NumPy gives NaN for inf // finite and -1 for -1 // inf; the Array API (and IEEE floor(x / y)) give
    # +-inf and -0: those entries follow the standard, all others match NumPy bit for bit
    spec = np.isinf(a) & np.isfinite(b) | np.isfinite(a) & np.isinf(b)
    with np.errstate(all='ignore'):
        np.testing.assert_array_equal(q[spec], np.floor(a / b)[spec])
    np.testing.assert_array_equal(q[~spec], q_np[~spec])
    np.testing.assert_array_equal(np.signbit(q[~spec]), np.signbit(q_np[~spec]))
    np.testing.assert_array_equal(r, r_np)
    np.testing.assert_array_equal(np.signbit(r), np.signbit(r_np))


def test_floor_divide_is_exact_where_division_rounds():
    # (x - fmod(x, y)) / y is the whole quotient; plain floor(x / y) would be off by one here
    a, b = np.array([1.0, -1.0, 0.7, 5e15 + 1]), np.array([0.1, 0.1, 0.1, 3.0])
    np.testing.assert_array_equal(np.asarray(fnp.floor_divide(*arrays(a, b))), np.floor_divide(a, b))


def test_power_with_integer_exponents():
    x = fnp.asarray([0.5, -2.0, 3.0])
    for k in range(-4, 5):
        assert_close(fnp.power(x, k), np.power(np.asarray(x, np.float64), k), np.float32)
    i = fnp.asarray([2, -3, 0], dtype=fnp.int8)
    assert fnp.power(i, 3).dtype == np.int8 and fnp.power(i, 3).tolist() == [8, -27, 0]
    assert fnp.power(2, fnp.asarray([3, 4])).tolist() == [8, 16]
    assert fnp.power(fnp.asarray([2, 3]), 0.5).dtype == np.float32
    assert fnp.power(fnp.asarray([True, False]), 2).tolist() == [1, 0]  # a weak int makes it int32, as NumPy
    with pytest.raises(TypeError, match='bool'):
        fnp.power(fnp.asarray([True]), fnp.asarray([True]))


def test_ldexp():
    a, b = sample(rng, np.float32, (5,), 0.5, 2), sample(rng, np.int32, (5,), -3, 3)
    assert_close(fnp.ldexp(*arrays(a, b)), np.ldexp(a, b), np.float32)


def test_binary_errors_name_the_function():
    with pytest.raises(TypeError, match=r'^bitwise_and: not defined for float32'):
        fnp.bitwise_and(fnp.ones(2), fnp.ones(2))
    with pytest.raises(TypeError, match=r'^maximum:.*complex64'):
        fnp.maximum(fnp.ones(2), 1j)
    with pytest.raises(ValueError, match=r'^add: shapes \(2,\), \(3,\) cannot be broadcast'):
        fnp.add(fnp.ones(2), fnp.ones(3))
    with pytest.raises(TypeError, match='floor_divide'):
        fnp.floor_divide(fnp.ones(2, dtype=fnp.complex64), 1)
    with pytest.raises(TypeError, match='negative'):
        fnp.negative(fnp.asarray([True]))
    with pytest.raises(TypeError, match=r'^add: expected an array or a Python number, got list'):
        fnp.add(fnp.ones(2), [1, 2])
    assert fnp.add.operator(fnp.ones(2), [1, 2]) is NotImplemented  # the operator form defers instead


@pytest.mark.parametrize('dtype', FLOATS, ids=str)
def test_decompositions(dtype):
    """divmod, modf, frexp and spacing: NumPy's answers bit for bit, special values and signed zeros included."""
    a = np.concatenate([sample(rng, dtype, (20,), -50, 50), SPECIAL.astype(dtype)]).astype(dtype)
    b = np.where(a == 0, np.ones((), dtype), a)[::-1]
    with np.errstate(all='ignore'):
        # NumPy's float16 spacing of a negative number is the gap toward zero, and ml_dtypes' bfloat16 one of -0
        # is negative, unlike NumPy's float32 and float64: for those two, the float32/float64 rule
        spacing = np.spacing(a) if dtype.itemsize > 2 else np.where(a < 0, -1, 1) * np.spacing(np.abs(a))
        wants = {'modf': np.modf(a), 'frexp': np.frexp(a), 'spacing': (spacing.astype(dtype),)}
        finite = np.isfinite(a) & np.isfinite(b)
        wants['divmod'] = np.divmod(a[finite], b[finite])
    gots = {'modf': fnp.modf(fnp.asarray(a)), 'frexp': fnp.frexp(fnp.asarray(a)),
            'spacing': (fnp.spacing(fnp.asarray(a)),), 'divmod': fnp.divmod(*arrays(a[finite], b[finite]))}
    for name in wants:
        for got, want in zip(gots[name], wants[name]):
            assert got.dtype == want.dtype, name
            got, want = to64(got), to64(want)
            np.testing.assert_array_equal(got, want, err_msg=name)
            np.testing.assert_array_equal(np.signbit(got[~np.isnan(got)]), np.signbit(want[~np.isnan(want)]),
                                          err_msg=name)


@pytest.mark.parametrize('dtype', INTS, ids=str)
def test_gcd_lcm(dtype):
    info = np.iinfo(dtype)
    a = rng.integers(info.min, info.max, 64, dtype=dtype, endpoint=True)
    b = rng.integers(info.min, info.max, 64, dtype=dtype, endpoint=True)
    a[:4], b[:4] = [info.min, 0, info.max, 0], [6 if info.min else 3, 0, info.max - 1, 5]
    small_a, small_b = sample(rng, dtype, (3, 4), 0, 60), sample(rng, dtype, (4,), 0, 60)
    with np.errstate(all='ignore'):
        for f in ('gcd', 'lcm'):
            same_dtype = getattr(fnp, f)(*arrays(a, b))
            assert same_dtype.dtype == dtype
            np.testing.assert_array_equal(np.asarray(same_dtype), getattr(np, f)(a, b), err_msg=f)
            np.testing.assert_array_equal(np.asarray(getattr(fnp, f)(*arrays(small_a, small_b))),
                                          getattr(np, f)(small_a, small_b), err_msg=f)
    with pytest.raises(TypeError, match='gcd: needs integer arrays'):
        fnp.gcd(fnp.ones(2), fnp.ones(2))


@pytest.mark.parametrize('dtype', ALL, ids=str)
def test_nan_to_num_and_classification(dtype):
    a = sample(rng, dtype, (6,))
    if dtypes.is_floating(dtype):
        a = np.concatenate([a, SPECIAL.astype(dtype)])
    if dtypes.is_complex(dtype):
        a = np.concatenate([a, np.array([complex(np.nan, np.inf), complex(-np.inf, 1), 2j], dtype)])
    x = fnp.asarray(a)
    for kwargs in ({}, {'nan': 7.0, 'posinf': 1.0, 'neginf': -2.0}):
        if dtypes.is_bool(dtype) and kwargs:
            continue
        want = np.nan_to_num(a.astype(np.float32 if dtype == dtypes.bfloat16 else dtype), **kwargs)
        if dtype == dtypes.bfloat16:
            info = fnp.finfo(dtype)
            want = np.where(np.isposinf(a), kwargs.get('posinf', info.max), np.where(np.isneginf(a), kwargs.get(
                'neginf', info.min), np.where(np.isnan(a), kwargs.get('nan', 0.0), a.astype(np.float32))))
        assert_close(fnp.nan_to_num(x, **kwargs), np.asarray(want).astype(dtype), dtype)
    if not dtypes.is_complex(dtype):
        assert_close(fnp.isposinf(x), np.isposinf(to64(a)), dtypes.bool_)
        assert_close(fnp.isneginf(x), np.isneginf(to64(a)), dtypes.bool_)
    assert_close(fnp.iscomplex(x), np.iscomplex(a), dtypes.bool_)
    assert_close(fnp.isreal(x), np.isreal(a), dtypes.bool_)


# --- where and clip -------------------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', ALL, ids=str)
def test_where(dtype):
    for sc, sx, sy in [((), (), ()), ((3, 1), (4,), (3, 4)), ((0,), (1,), ()), ((2, 3), (2, 3), (2, 3))]:
        c = sample(rng, np.bool_, sc)
        x, y = sample(rng, dtype, sx), sample(rng, dtype, sy)
        assert_close(fnp.where(*arrays(c, x, y)), np.where(c, x, y), dtype)
    c = fnp.asarray(sample(rng, np.bool_, (3, 2)))
    check_vmap(fnp.where, c, *arrays(sample(rng, dtype, (3, 2)), sample(rng, dtype, (3, 2))))


@pytest.mark.parametrize('dtype', ALL, ids=str)
def test_where_large_is_bit_exact(dtype):
    # large selections take the NumPy backend's branch-free path: every bit must match np.where's,
    # NaN payloads, infinities and signed zeros included, for contiguous and transposed operands
    c = sample(rng, np.bool_, (96, 64))
    x, y = sample(rng, dtype, (96, 64)), sample(rng, dtype, (64, 96)).T
    if np.dtype(dtype).kind in 'fc':
        x.flat[:4] = [np.nan, np.inf, -0.0, -np.inf]
    got = np.asarray(fnp.where(fnp.asarray(c), fnp.asarray(x), fnp.asarray(y.T).T))  # y: a transposed view
    assert got.dtype == np.where(c, x, y).dtype
    assert got.tobytes() == np.where(c, x, y).tobytes()


def test_where_promotes_and_takes_scalars():
    c = fnp.asarray([True, False])
    assert fnp.where(c, fnp.asarray([1, 2], dtype=fnp.int8), 2.5).dtype == np.float32
    assert fnp.where(c, 1.0, 0.0).tolist() == [1.0, 0.0]
    assert fnp.where(fnp.asarray([0, 3]), 1, 2).tolist() == [2, 1]  # a numeric condition means != 0
    with pytest.raises(TypeError, match='both x and y'):
        fnp.where(c, 1.0)


@pytest.mark.parametrize('dtype', REAL, ids=str)
def test_clip(dtype):
    a = sample(rng, dtype, (4, 3), -5, 5)
    lo, hi = sample(rng, dtype, (3,), -3, 0), sample(rng, dtype, (4, 1), 0, 3)
    x = fnp.asarray(a)
    assert_close(fnp.clip(x, *arrays(lo, hi)), np.clip(a, lo, hi), dtype)
    assert_close(fnp.clip(x, 1), np.clip(a, dtype.type(1), None), dtype)
    assert_close(fnp.clip(x, None, 1), np.clip(a, None, dtype.type(1)), dtype)
    assert_close(fnp.clip(x), a, dtype)


# --- hypothesis properties --------------------------------------------------------------------------------

PROPERTY = settings(max_examples=15, derandomize=True, deadline=None)
float_dtypes = st.sampled_from([np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)])


@st.composite
def broadcast_pair(draw, dtype_strategy, elements=None):
    dtype = draw(dtype_strategy)
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4))
    a = draw(hnp.arrays(dtype, shapes.input_shapes[0], elements=elements))
    b = draw(hnp.arrays(dtype, shapes.input_shapes[1], elements=elements))
    return a, b


EXACT_BINARY = ['add', 'subtract', 'multiply', 'maximum', 'minimum', 'fmax', 'fmin', 'equal', 'less_equal',
                'greater', 'floor_divide', 'remainder', 'fmod', 'copysign', 'nextafter']


@PROPERTY
@given(pair=broadcast_pair(float_dtypes), name=st.sampled_from(EXACT_BINARY))
def test_property_exact_binary_floats(pair, name):
    """Correctly rounded operations give NumPy's bits on any floats, inf, nan and -0 included."""
    a, b = pair
    with np.errstate(all='ignore'):
        want = getattr(np, name)(a, b)
        got = np.asarray(getattr(fnp, name)(*arrays(a, b)))
    if name == 'floor_divide':  # the Array API's answer where NumPy's differs (see the special-value test)
        with np.errstate(all='ignore'):
            spec = np.isinf(a) & np.isfinite(b) | np.isfinite(a) & np.isinf(b)
            want = np.where(spec, np.floor(np.divide(a, b, dtype=want.dtype)), want)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    if got.dtype.kind == 'f':
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


int_dtypes = st.sampled_from([np.dtype(d) for d in dtypes.INTEGER])


@PROPERTY
@given(pair=broadcast_pair(int_dtypes), name=st.sampled_from(['add', 'subtract', 'multiply', 'maximum',
                                                              'bitwise_xor', 'bitwise_or', 'equal', 'less']))
def test_property_integer_binary(pair, name):
    a, b = pair
    with np.errstate(all='ignore'):
        want = getattr(np, name)(a, b)
    got = np.asarray(getattr(fnp, name)(*arrays(a, b)))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@PROPERTY
@given(pair=broadcast_pair(int_dtypes), name=st.sampled_from(['floor_divide', 'remainder', 'fmod']))
def test_property_integer_division(pair, name):
    a, b = pair
    b = np.where(b == 0, np.ones((), b.dtype), b)
    if np.dtype(a.dtype).kind == 'i':  # INT_MIN // -1 overflows (undefined in C and XLA)
        b = np.where(b == -1, np.ones((), b.dtype), b)
    np.testing.assert_array_equal(np.asarray(getattr(fnp, name)(*arrays(a, b))), getattr(np, name)(a, b))


UNARY_PROPERTY = ['exp', 'log', 'sin', 'cos', 'tanh', 'sqrt', 'expm1', 'log1p', 'arctan', 'floor', 'ceil', 'trunc',
                  'rint', 'abs', 'negative', 'sign', 'isnan', 'isinf', 'isfinite', 'signbit', 'square']


@PROPERTY
@given(x=float_dtypes.flatmap(lambda d: hnp.arrays(d, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))),
       name=st.sampled_from(UNARY_PROPERTY))
def test_property_unary_floats(x, name):
    with np.errstate(all='ignore'):
        want = getattr(np, name)(x)
    got = getattr(fnp, name)(fnp.asarray(x))
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_allclose(to64(got), to64(want), rtol=4 * np.finfo(x.dtype).eps, atol=0, equal_nan=True)


@PROPERTY
@given(pair=broadcast_pair(st.just(np.dtype(np.float64)), st.floats(-1e3, 1e3)),
       name=st.sampled_from(['hypot', 'logaddexp', 'arctan2', 'logaddexp2', 'heaviside']))
def test_property_composite_binary(pair, name):
    """Functions we build from several primitives stay within a few ulps of NumPy."""
    a, b = pair
    want = getattr(np, name)(a, b)
    np.testing.assert_allclose(np.asarray(getattr(fnp, name)(*arrays(a, b))), want, rtol=1e-14, atol=1e-300)


@PROPERTY
@given(pair=broadcast_pair(st.sampled_from([np.dtype(np.float32), np.dtype(np.int16)]), st.integers(-50, 50)))
def test_property_broadcasting_under_vmap(pair):
    """vmap over a leading axis of both operands agrees with the eager broadcast."""
    a, b = pair
    out = fd.vmap(fnp.add)(fnp.asarray(np.stack([a, a + 1])), fnp.asarray(np.stack([b, b])))
    np.testing.assert_array_equal(np.asarray(out), np.stack([a + b, (a + 1) + b]))


@pytest.mark.parametrize('name,dtype', [
    (n, d) for n in ('add', 'subtract', 'multiply', 'divide', 'maximum', 'minimum', 'power')
    for d in ('float16', 'bfloat16', 'float32', 'float64', 'complex64')
    if not (n in ('maximum', 'minimum') and d == 'complex64')])  # ordered comparisons: real numbers only
@pytest.mark.parametrize('scalar', [3, -0.5])
def test_array_with_python_scalar_in_every_mode(name, dtype, scalar):
    """An array with a weak Python scalar, in either order (eager's fast path, tracers', jit's, vmap's): the
    array's dtype and NumPy's values."""
    f = getattr(fnp, name)
    x = fnp.asarray(np.asarray([[0.5, 1.5, 2.0], [3.0, 0.25, 4.0]]).astype(dtypes.canonicalize(dtype)))
    xn = np.asarray(x).astype(np.complex128 if dtype == 'complex64' else np.float64)
    for args, ref in (((x, scalar), getattr(np, name)(xn, scalar)), ((scalar, x), getattr(np, name)(scalar, xn))):
        k = 0 if args[0] is x else 1
        g = lambda v: f(*(v if i == k else a for i, a in enumerate(args)))  # noqa: E731
        for mode, out in (('eager', g(x)), ('jit', fd.jit(g)(x)), ('vmap', fd.vmap(g)(x))):
            assert_close(out, ref, dtype=x.dtype, scale=4.0, err_msg=f'{name}{args} {mode}')

"""Elementwise functions of the Array API / NumPy, as compositions of primitives."""
from __future__ import annotations

import builtins
import math

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.array import Array
from fn_dl.core.trace import state
from fn_dl.numpy._util import asarray, promote_broadcast, to_dtype
from fn_dl.ops import elementwise as ew
from fn_dl.ops.shape import full
from fn_dl.ops._rules import ALL, INT_OR_BOOL, NUMERIC, REAL
from fn_dl.core.primitive import _NAMESPACES


_ORDERED = REAL | {dtypes.bool_}  # False < True, as in NumPy
_KINDS = {NUMERIC: 'numeric', NUMERIC | {dtypes.bool_}: 'numeric or boolean', _ORDERED: 'boolean, integer or real',
          INT_OR_BOOL: 'integer or boolean', ALL: 'any'}


def _binary(prim, name, doc=None, allowed=NUMERIC):
    """A NumPy-style binary function: promote, broadcast, bind.

    The eager fast path: two eager arrays of one dtype and shape, no transform
    active, go straight to the backend (one context read, one dict lookup,
    the NumPy call, the wrapper)."""
    impl = prim.impl

    def fn(x1, x2, /):
        if type(x1) is Array and type(x2) is Array and state.trace is None:
            v1, v2 = x1._value, x2._value
            if v1.dtype == v2.dtype and v1.shape == v2.shape and v1.dtype in allowed:
                xp = _NAMESPACES.get(type(v1))
                if xp is not None:
                    return Array(impl(xp, v1, v2))
        x1, x2 = promote_broadcast(name, x1, x2)
        if x1.dtype not in allowed:
            raise TypeError(f"{name}: not defined for {x1.dtype} (the operands' promoted dtype); "
                            f"it takes {_KINDS[allowed]} arrays")
        return prim.bind(x1, x2)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"Elementwise {name} with NumPy broadcasting and type promotion."
    return fn


add = _binary(ew.add_p, 'add', """Elementwise x1 + x2.

    >>> import fn_dl.numpy as fnp
    >>> fnp.add(fnp.asarray([1.0, 2.0]), 1).tolist()
    [2.0, 3.0]
    """)
subtract = _binary(ew.sub_p, 'subtract')
multiply = _binary(ew.mul_p, 'multiply', allowed=NUMERIC | {dtypes.bool_})
maximum = _binary(ew.max_p, 'maximum', allowed=_ORDERED)
minimum = _binary(ew.min_p, 'minimum', allowed=_ORDERED)
equal = _binary(ew.eq_p, 'equal', allowed=ALL)
not_equal = _binary(ew.ne_p, 'not_equal', allowed=ALL)
less = _binary(ew.lt_p, 'less', allowed=_ORDERED)
less_equal = _binary(ew.le_p, 'less_equal', allowed=_ORDERED)
greater = _binary(ew.gt_p, 'greater', allowed=_ORDERED)
greater_equal = _binary(ew.ge_p, 'greater_equal', allowed=_ORDERED)
bitwise_and = _binary(ew.and_p, 'bitwise_and', allowed=INT_OR_BOOL)
bitwise_or = _binary(ew.or_p, 'bitwise_or', allowed=INT_OR_BOOL)
bitwise_xor = _binary(ew.xor_p, 'bitwise_xor', allowed=INT_OR_BOOL)


def atan2(x1, x2, /):
    return ew.atan2(*_inexact('atan2', x1, x2))


arctan2 = atan2


def nextafter(x1, x2, /):
    return ew.nextafter(*_inexact('nextafter', x1, x2))


def _inexact(name, *xs):
    """Promote, then move integer/bool results to the default float (as `x / y` and `exp(x)` need)."""
    xs = promote_broadcast(name, *xs)
    dt = xs[0].dtype
    if not dtypes.is_inexact(dt):
        xs = [to_dtype(name, x, dtypes.default_float) for x in xs]
    return xs


def divide(x1, x2, /):
    """True division; integers divide as floats.

    >>> import fn_dl.numpy as fnp
    >>> fnp.divide(fnp.asarray([1, 3]), 2).tolist()
    [0.5, 1.5]
    """
    return ew.div_p.bind(*_inexact('divide', x1, x2))


true_divide = divide


def floor_divide(x1, x2, /):
    """Division rounded toward -inf (Python's //).

    >>> import fn_dl.numpy as fnp
    >>> fnp.floor_divide(fnp.asarray([7, -7]), 2).tolist()
    [3, -4]
    """
    x1, x2 = promote_broadcast('floor_divide', x1, x2)
    if dtypes.is_bool(x1.dtype) or dtypes.is_complex(x1.dtype):
        raise TypeError(f"floor_divide: not defined for {x1.dtype} arrays")
    if dtypes.is_integer(x1.dtype):
        q = ew.div(x1, x2)  # rounds toward zero
        fix = ew.bitwise_and(ew.ne(ew.rem(x1, x2), _zero(x1)), ew.ne(ew.lt(x1, _zero(x1)), ew.lt(x2, _zero(x2))))
        return ew.select_n(fix, q, ew.sub(q, _one(q)))
    q, _ = _float_divmod(x1, x2)
    # infinities and division by zero: floor(x1 / x2), as the Array API specifies (NumPy gives NaN for inf // 2)
    regular = ew.bitwise_and(ew.bitwise_and(isfinite(x1), isfinite(x2)), ew.ne(x2, _zero(x2)))
    return ew.select_n(regular, ew.floor_p.bind(ew.div(x1, x2)), q)


def _float_divmod(x1, x2):
    """NumPy's npy_divmod for floats: (x1 // x2, x1 % x2) for finite x1 and nonzero finite x2.

    fmod is exact, so the quotient (x1 - mod) / x2 is a whole number up to one rounding; it is
    snapped to that number, and zero results take the sign Python gives them.
    """
    mod = ew.rem(x1, x2)
    div = ew.div(ew.sub(x1, mod), x2)
    fix = ew.bitwise_and(ew.ne(mod, _zero(mod)), ew.ne(ew.lt(x2, _zero(x2)), ew.lt(mod, _zero(mod))))
    mod = ew.select_n(fix, mod, ew.add(mod, x2))
    mod = ew.select_n(ew.eq(mod, _zero(mod)), mod, copysign(_zero(mod), x2))
    div = ew.select_n(fix, div, ew.sub(div, _one(div)))
    q = ew.floor_p.bind(div)
    q = ew.select_n(ew.gt(ew.sub(div, q), full(q.shape, 0.5, q.dtype)), q, ew.add(q, _one(q)))
    q = ew.select_n(ew.eq(div, _zero(div)), q, copysign(_zero(q), ew.div(x1, x2)))
    return q, mod


def remainder(x1, x2, /):
    """Remainder with the sign of the divisor (Python's %).

    >>> import fn_dl.numpy as fnp
    >>> fnp.remainder(fnp.asarray([7, -7]), 3).tolist()
    [1, 2]
    """
    x1, x2 = promote_broadcast('remainder', x1, x2)
    if dtypes.is_bool(x1.dtype) or dtypes.is_complex(x1.dtype):
        raise TypeError(f"remainder: not defined for {x1.dtype} arrays")
    if dtypes.is_floating(x1.dtype):
        return _float_divmod(x1, x2)[1]
    r = ew.rem(x1, x2)
    fix = ew.bitwise_and(ew.ne(r, _zero(r)), ew.ne(ew.lt(r, _zero(r)), ew.lt(x2, _zero(x2))))
    return ew.select_n(fix, r, ew.add(r, x2))


mod = remainder


def fmod(x1, x2, /):
    return ew.rem(*promote_broadcast('fmod', x1, x2))


def power(x1, x2, /):
    """x1 ** x2; a Python int exponent uses exact repeated multiplication.

    >>> import fn_dl.numpy as fnp
    >>> fnp.power(fnp.asarray([2.0, 3.0]), 2).tolist()
    [4.0, 9.0]
    """
    if isinstance(x2, int) and not isinstance(x2, bool) and isinstance(x1, Array) and \
            dtypes.is_inexact(x1.dtype) and builtins.abs(x2) <= 64:
        return ew.integer_pow(x1, x2)
    x1, x2 = promote_broadcast('power', x1, x2)
    if dtypes.is_bool(x1.dtype):
        raise TypeError("power: not defined for bool arrays")
    return ew.pow(x1, x2)


pow = power  # noqa: A001


def _zero(x):
    return full(x.shape, 0, x.dtype)


def _one(x):
    return full(x.shape, 1, x.dtype)


def _unary_float(prim, name):
    def fn(x, /):
        (x,) = _inexact(name, x)
        return prim.bind(x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}; integer inputs are computed in the default float dtype."
    return fn


exp = _unary_float(ew.exp_p, 'exp')
exp2 = _unary_float(ew.exp2_p, 'exp2')
expm1 = _unary_float(ew.expm1_p, 'expm1')
log = _unary_float(ew.log_p, 'log')
log1p = _unary_float(ew.log1p_p, 'log1p')
sin = _unary_float(ew.sin_p, 'sin')
cos = _unary_float(ew.cos_p, 'cos')
tan = _unary_float(ew.tan_p, 'tan')
asin = arcsin = _unary_float(ew.asin_p, 'asin')
acos = arccos = _unary_float(ew.acos_p, 'acos')
atan = arctan = _unary_float(ew.atan_p, 'atan')
sinh = _unary_float(ew.sinh_p, 'sinh')
cosh = _unary_float(ew.cosh_p, 'cosh')
tanh = _unary_float(ew.tanh_p, 'tanh')
asinh = arcsinh = _unary_float(ew.asinh_p, 'asinh')
acosh = arccosh = _unary_float(ew.acosh_p, 'acosh')
atanh = arctanh = _unary_float(ew.atanh_p, 'atanh')
sqrt = _unary_float(ew.sqrt_p, 'sqrt')
cbrt = _unary_float(ew.cbrt_p, 'cbrt')


def log2(x, /):
    x = log(x)
    return ew.div(x, full(x.shape, math.log(2), x.dtype))


def log10(x, /):
    x = log(x)
    return ew.div(x, full(x.shape, math.log(10), x.dtype))


def logaddexp(x1, x2, /):
    """log(exp(x1) + exp(x2)) without overflow."""
    x1, x2 = _inexact('logaddexp', x1, x2)
    amax = ew.max(x1, x2)
    delta = ew.sub(x1, x2)
    out = ew.add(amax, ew.log1p_p.bind(ew.exp(ew.neg(ew.abs(delta)))))
    return ew.select_n(ew.ne(delta, delta), out, ew.add(x1, x2))  # inf - inf: both infinite, same answer


def logaddexp2(x1, x2, /):
    x1, x2 = _inexact('logaddexp2', x1, x2)
    ln2 = full(x1.shape, math.log(2), x1.dtype)
    return ew.div(logaddexp(ew.mul(x1, ln2), ew.mul(x2, ln2)), ln2)


def hypot(x1, x2, /):
    x1, x2 = _inexact('hypot', x1, x2)
    a, b = ew.abs(x1), ew.abs(x2)
    hi, lo = ew.max(a, b), ew.min(a, b)
    safe = ew.select_n(ew.eq(hi, _zero(hi)), hi, _one(hi))
    r = ew.div(lo, safe)
    out = ew.select_n(ew.eq(hi, _zero(hi)), ew.mul(hi, ew.sqrt_p.bind(ew.add(_one(r), ew.mul(r, r)))), hi)
    # an infinite leg gives +inf even when the other is NaN (IEEE 754, NumPy and the Array API)
    return ew.select_n(ew.bitwise_or(isinf(x1), isinf(x2)), out, full(out.shape, np.inf, out.dtype))


def negative(x, /):
    x = asarray(x)
    if dtypes.is_bool(x.dtype):
        raise TypeError("negative: not defined for bool arrays; use fnp.logical_not")
    return ew.neg(x)


def positive(x, /):
    return asarray(x)


def abs(x, /):  # noqa: A001
    """|x| (for complex x, the modulus, as a real array)."""
    x = asarray(x)
    if dtypes.is_bool(x.dtype) or dtypes.is_unsigned(x.dtype):
        return x
    if dtypes.is_complex(x.dtype):
        return hypot(ew.real(x), ew.imag(x))
    return ew.abs_p.bind(x)


absolute = fabs = abs


def sign(x, /):
    x = asarray(x)
    if dtypes.is_bool(x.dtype):
        return x
    if dtypes.is_unsigned(x.dtype):
        return ew.convert_element_type(ew.ne(x, _zero(x)), x.dtype)
    if dtypes.is_complex(x.dtype):
        m = abs(x)
        safe = ew.select_n(ew.eq(m, _zero(m)), m, _one(m))
        c = ew.complex(safe, _zero(safe))
        return ew.select_n(ew.eq(m, _zero(m)), ew.div(x, c), _zero(x))
    return ew.sign(x)


def square(x, /):
    x = asarray(x)
    if dtypes.is_bool(x.dtype):
        raise TypeError("square: not defined for bool arrays")
    return ew.mul(x, x)


def reciprocal(x, /):
    (x,) = _inexact('reciprocal', x)
    return ew.div(_one(x), x)


def _rounding(prim, name, complex_ok=False):
    def fn(x, /):
        x = asarray(x)
        if dtypes.is_complex(x.dtype):
            if not complex_ok:
                raise TypeError(f"{name}: not defined for complex arrays; round the .real and .imag parts")
            return ew.complex(prim.bind(ew.real(x)), prim.bind(ew.imag(x)))
        if not dtypes.is_floating(x.dtype):
            return x  # integers are already whole
        return prim.bind(x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"""Elementwise {name}; integer arrays are returned unchanged.

    >>> import fn_dl.numpy as fnp
    >>> fnp.{name}(fnp.asarray([-1.5, 0.5, 2.5])).tolist()
    {getattr(np, name)(np.array([-1.5, 0.5, 2.5])).tolist()}
    """
    return fn


floor = _rounding(ew.floor_p, 'floor')
ceil = _rounding(ew.ceil_p, 'ceil')
trunc = fix = _rounding(ew.round_toward_zero_p, 'trunc')
rint = _rounding(ew.round_p, 'rint', complex_ok=True)


def round(x, /, decimals=0):  # noqa: A001
    """Round half to even, to `decimals` places (negative: to tens, hundreds, ...), as NumPy.

    >>> import fn_dl.numpy as fnp
    >>> fnp.round(fnp.asarray([0.5, 1.5, 2.675]), 2).tolist()
    [0.5, 1.5, 2.67]
    >>> fnp.round(fnp.asarray([15, 25, 140]), -1).tolist()
    [20, 20, 140]
    """
    x = asarray(x)
    decimals = int(decimals)
    if dtypes.is_complex(x.dtype):
        return ew.complex(round(ew.real(x), decimals), round(ew.imag(x), decimals))
    if dtypes.is_bool(x.dtype) or (not dtypes.is_floating(x.dtype) and decimals >= 0):
        return x
    if dtypes.is_integer(x.dtype):  # to tens, hundreds, ...: in float64, exact for the sizes that matter
        return ew.convert_element_type(round(ew.convert_element_type(x, dtypes.float64), decimals), x.dtype)
    if decimals == 0:
        return ew.round_p.bind(x)
    # NumPy's recipe: multiply by 10**decimals, or divide by 10**-decimals (0.1 is inexact), round, undo
    scale = full(x.shape, 10.0 ** builtins.abs(decimals), x.dtype)
    scaled, unscale = (ew.mul, ew.div) if decimals > 0 else (ew.div, ew.mul)
    return unscale(ew.round_p.bind(scaled(x, scale)), scale)


around = round


def isfinite(x, /):
    x = asarray(x)
    if dtypes.is_complex(x.dtype):
        return ew.bitwise_and(isfinite(ew.real(x)), isfinite(ew.imag(x)))
    if not dtypes.is_floating(x.dtype):
        return full(x.shape, True, dtypes.bool_)
    return ew.is_finite_p.bind(x)


def isnan(x, /):
    x = asarray(x)
    if dtypes.is_complex(x.dtype):
        return ew.bitwise_or(isnan(ew.real(x)), isnan(ew.imag(x)))
    if not dtypes.is_floating(x.dtype):
        return full(x.shape, False, dtypes.bool_)
    return ew.ne(x, x)


def isinf(x, /):
    x = asarray(x)
    if dtypes.is_complex(x.dtype):
        return ew.bitwise_or(isinf(ew.real(x)), isinf(ew.imag(x)))
    if not dtypes.is_floating(x.dtype):
        return full(x.shape, False, dtypes.bool_)
    return ew.eq(ew.abs_p.bind(x), full(x.shape, np.inf, x.dtype))


def signbit(x, /):
    """True where the sign bit is set (including -0.0 and -nan)."""
    x = asarray(x)
    if not dtypes.is_floating(x.dtype):
        return ew.lt(x, _zero(x)) if not dtypes.is_unsigned(x.dtype) and not dtypes.is_bool(x.dtype) \
            else full(x.shape, False, dtypes.bool_)
    ibits = np.dtype(f'i{x.dtype.itemsize}')
    return ew.lt(ew.bitcast_convert_type(x, ibits), full(x.shape, 0, ibits))


def copysign(x1, x2, /):
    x1, x2 = _inexact('copysign', x1, x2)
    return ew.select_n(ew.ne(signbit(x1), signbit(x2)), x1, ew.neg(x1))


def fmax(x1, x2, /):
    """Maximum that ignores NaN (unless both are NaN)."""
    x1, x2 = promote_broadcast('fmax', x1, x2)
    return ew.select_n(isnan(x1), ew.select_n(isnan(x2), ew.max(x1, x2), x1), x2)


def fmin(x1, x2, /):
    x1, x2 = promote_broadcast('fmin', x1, x2)
    return ew.select_n(isnan(x1), ew.select_n(isnan(x2), ew.min(x1, x2), x1), x2)


def logical_not(x, /):
    return ew.bitwise_not(to_dtype('logical_not', asarray(x), dtypes.bool_))


def _logical(prim, name):
    def fn(x1, x2, /):
        x1, x2 = promote_broadcast(name, x1, x2)
        return prim.bind(to_dtype(name, x1, dtypes.bool_), to_dtype(name, x2, dtypes.bool_))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name} of truth values."
    return fn


logical_and = _logical(ew.and_p, 'logical_and')
logical_or = _logical(ew.or_p, 'logical_or')
logical_xor = _logical(ew.xor_p, 'logical_xor')


def bitwise_invert(x, /):
    return ew.bitwise_not(asarray(x))


bitwise_not = invert = bitwise_invert


def _shift(prim, name):
    def fn(x1, x2, /):
        x1, x2 = promote_broadcast(name, x1, x2)
        if not dtypes.is_integer(x1.dtype):
            raise TypeError(f"{name}: operands must be integers, got {x1.dtype}")
        return prim.bind(x1, x2)
    fn.__name__ = fn.__qualname__ = name
    return fn


bitwise_left_shift = left_shift = _shift(ew.shift_left_p, 'bitwise_left_shift')


def bitwise_right_shift(x1, x2, /):
    """Arithmetic shift for signed integers, logical for unsigned (as NumPy)."""
    x1, x2 = promote_broadcast('bitwise_right_shift', x1, x2)
    if not dtypes.is_integer(x1.dtype):
        raise TypeError(f"bitwise_right_shift: operands must be integers, got {x1.dtype}")
    if dtypes.is_unsigned(x1.dtype):
        return ew.shift_right_logical(x1, x2)
    return ew.shift_right_arithmetic(x1, x2)


right_shift = bitwise_right_shift


def bitwise_count(x, /):
    """The number of 1 bits in |x|, as uint8 (NumPy's definition).

    >>> import fn_dl.numpy as fnp
    >>> fnp.bitwise_count(fnp.asarray([7, -1, 0])).tolist()
    [3, 1, 0]
    """
    x = asarray(x)
    if not dtypes.is_integer(x.dtype):
        raise TypeError(f"bitwise_count: needs an integer array, got {x.dtype}")
    if not dtypes.is_unsigned(x.dtype):
        # |x| as the unsigned type of the same width, so that abs(-128) counts as 128 and not -128
        x = ew.convert_element_type(ew.abs_p.bind(x), np.dtype(f'u{x.dtype.itemsize}'))
    return ew.convert_element_type(ew.population_count(x), dtypes.uint8)


def real(x, /):
    x = asarray(x)
    return ew.real(x) if dtypes.is_complex(x.dtype) else x


def imag(x, /):
    x = asarray(x)
    return ew.imag(x) if dtypes.is_complex(x.dtype) else _zero(x)


def conj(x, /):
    x = asarray(x)
    return ew.conj(x) if dtypes.is_complex(x.dtype) else x


conjugate = conj


def angle(z, deg=False):
    z = asarray(z)
    if dtypes.is_complex(z.dtype):
        out = ew.atan2(ew.imag(z), ew.real(z))
    else:
        (z,) = _inexact('angle', z)
        out = ew.atan2(_zero(z), z)
    return rad2deg(out) if deg else out


def deg2rad(x, /):
    (x,) = _inexact('deg2rad', x)
    return ew.mul(x, full(x.shape, math.pi / 180, x.dtype))


def rad2deg(x, /):
    (x,) = _inexact('rad2deg', x)
    return ew.mul(x, full(x.shape, 180 / math.pi, x.dtype))


radians, degrees = deg2rad, rad2deg


def sinc(x, /):
    (x,) = _inexact('sinc', x)
    px = ew.mul(x, full(x.shape, math.pi, x.dtype))
    is0 = ew.eq(x, _zero(x))
    safe = ew.select_n(is0, px, _one(px))
    return ew.select_n(is0, ew.div(ew.sin(safe), safe), _one(px))


def heaviside(x1, x2, /):
    """0 where x1 < 0, x2 where x1 == 0, 1 where x1 > 0 (NaN where x1 is NaN).

    >>> import fn_dl.numpy as fnp
    >>> fnp.heaviside(fnp.asarray([-1.0, 0.0, 2.0]), 0.5).tolist()
    [0.0, 0.5, 1.0]
    """
    x1, x2 = _inexact('heaviside', x1, x2)
    out = ew.select_n(ew.gt(x1, _zero(x1)), ew.select_n(ew.lt(x1, _zero(x1)), x2, _zero(x1)), _one(x1))
    return ew.select_n(isnan(x1), out, x1)


def where(condition, x=None, y=None, /):
    """x where condition else y, broadcast together. (The one-argument form is fnp.nonzero.)"""
    if x is None or y is None:
        if x is None and y is None:
            from fn_dl.numpy import nonzero
            return nonzero(condition)
        raise TypeError("where: give both x and y, or neither")
    x, y = promote_broadcast('where', x, y)
    c = to_dtype('where', asarray(condition), dtypes.bool_)
    from fn_dl.numpy._util import broadcast_shapes, broadcast_to_shape
    shape = broadcast_shapes('where', c.shape, x.shape)
    return ew.select_n(broadcast_to_shape(c, shape), broadcast_to_shape(y, shape), broadcast_to_shape(x, shape))


def clip(x, /, min=None, max=None):  # noqa: A002
    """Limit values to [min, max] (either may be None). Keeps x's dtype."""
    x = asarray(x)
    out = x
    if min is not None:
        out = maximum(out, min)
    if max is not None:
        out = minimum(out, max)
    return out.astype(x.dtype) if out.dtype != x.dtype else out


def float_power(x1, x2, /):
    x1, x2 = promote_broadcast('float_power', x1, x2)
    dt = dtypes.float64 if not dtypes.is_complex(x1.dtype) else dtypes.complex128
    return ew.pow(to_dtype('float_power', x1, dt), to_dtype('float_power', x2, dt))


def ldexp(x1, x2, /):
    (x1,) = _inexact('ldexp', x1)
    return ew.mul(x1, exp2(asarray(x2).astype(x1.dtype)))


__all__ = [n for n in dir() if not n.startswith('_') and n not in (
    'annotations', 'math', 'np', 'dtypes', 'Array', 'state', 'asarray', 'promote_broadcast', 'to_dtype', 'ew', 'full',
    'ALL', 'INT_OR_BOOL', 'NUMERIC', 'REAL')]

"""Elementwise functions of the Array API / NumPy, as compositions of primitives."""
from __future__ import annotations

import builtins
import math

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.array import OPERANDS, Array
from fn_dl.core.trace import state
from fn_dl.numpy._util import asarray, broadcast_shapes, broadcast_to_shape, promote_broadcast, to_dtype
from fn_dl.ops import elementwise as ew
from fn_dl.ops.shape import full
from fn_dl.ops._rules import ALL, INT_OR_BOOL, NUMERIC, REAL
from fn_dl.core.primitive import _NAMESPACES


_WEAK_SCALARS = (float, int)  # not bool (a bool scalar is not weak) nor complex (it may promote the array)
_ORDERED = REAL | {dtypes.bool_}  # False < True, as in NumPy
_KINDS = {NUMERIC: 'numeric', NUMERIC | {dtypes.bool_}: 'numeric or boolean', _ORDERED: 'boolean, integer or real',
          INT_OR_BOOL: 'integer or boolean', ALL: 'any'}


def _binary(prim, name, summary, example, allowed=NUMERIC, bool_prim=None):
    """A NumPy-style binary function: promote, broadcast, bind. `example` is (arguments, result) for the
    docstring.

    Fast paths, before the general promote-and-broadcast: two eager arrays of
    one dtype and shape, no transform active, go straight to the backend (one
    context read, one dict lookup, the NumPy call, the wrapper); two arrays
    of one dtype and shape under a transform (tracers) go straight to bind;
    a floating array with a Python int or float (weak: it takes the array's
    dtype) skips promotion and, eagerly, the broadcast. The function's `.operator` is the same
    function as Array's operator (`a + b`): it returns NotImplemented for an
    operand of a foreign type, so Python asks that type, at no cost to the fast path. `bool_prim` computes
    it for booleans (add is or, as in NumPy and JAX)."""
    impl = prim.impl

    def make(operator):
        def fn(x1, x2, /):
            if type(x1) is Array and type(x2) is Array and state.trace is None:
                v1, v2 = x1._value, x2._value
                if v1.dtype == v2.dtype and v1.shape == v2.shape and v1.dtype in allowed:
                    xp = _NAMESPACES.get(type(v1))
                    if xp is not None:
                        return Array(impl(xp, v1, v2))
            a1, a2 = isinstance(x1, Array), isinstance(x2, Array)
            if a1 and a2:  # under transforms: tracers, usually of one dtype and shape
                d1 = x1.dtype
                if d1 == x2.dtype and x1.shape == x2.shape and d1 in allowed and (bool_prim is None or d1 != dtypes.bool_):
                    return prim.bind(x1, x2)
            elif a1 or a2:  # a floating array and a Python float or int (`x * 2.0`, `1 - p`): the scalar is weak
                x, c = (x1, x2) if a1 else (x2, x1)
                if type(c) in _WEAK_SCALARS and x.dtype in dtypes._INEXACT and x.dtype in allowed:
                    if type(x) is Array and state.trace is None:
                        v = x._value
                        xp = _NAMESPACES.get(type(v))
                        if xp is not None:  # NumPy broadcasts a scalar of the array's dtype for free
                            c = v.dtype.type(c)
                            return Array(impl(xp, v, c) if a1 else impl(xp, c, v))
                    c = full(x.shape, c, x.dtype)
                    return prim.bind(x, c) if a1 else prim.bind(c, x)
            if operator and not a2 and not isinstance(x2, OPERANDS):
                return NotImplemented
            x1, x2 = promote_broadcast(name, x1, x2)
            if bool_prim is not None and x1.dtype == dtypes.bool_:
                return bool_prim.bind(x1, x2)
            if x1.dtype not in allowed:
                raise TypeError(f"{name}: not defined for {x1.dtype} (the operands' promoted dtype); "
                                f"it takes {_KINDS[allowed]} arrays")
            return prim.bind(x1, x2)
        fn.__name__ = fn.__qualname__ = name
        return fn

    fn = make(operator=False)
    fn.operator = make(operator=True)
    fn.__doc__ = f"""{summary}, with NumPy broadcasting and type promotion.

    >>> import fn_dl.numpy as fnp
    >>> fnp.{name}({example[0]}).tolist()
    {example[1]}
    """
    return fn


_X12 = 'fnp.asarray([1.0, 5.0]), fnp.asarray([3.0, 2.0])'
_X123 = 'fnp.asarray([1, 2, 3]), 2'
_BITS = 'fnp.asarray([12, 10]), 6'
add = _binary(ew.add_p, 'add', 'x1 + x2 (or for booleans)', ('fnp.asarray([1.0, 2.0]), 1', '[2.0, 3.0]'),
              bool_prim=ew.or_p)
subtract = _binary(ew.sub_p, 'subtract', 'x1 - x2', ('fnp.asarray([5, 7]), fnp.asarray([1, 10])', '[4, -3]'))
multiply = _binary(ew.mul_p, 'multiply', 'x1 * x2', ('fnp.asarray([1.5, 2.0]), 2', '[3.0, 4.0]'),
                   allowed=NUMERIC | {dtypes.bool_})
maximum = _binary(ew.max_p, 'maximum', 'The larger of x1 and x2 (NaN if either is NaN)', (_X12, '[3.0, 5.0]'),
                  allowed=_ORDERED)
minimum = _binary(ew.min_p, 'minimum', 'The smaller of x1 and x2 (NaN if either is NaN)', (_X12, '[1.0, 2.0]'),
                  allowed=_ORDERED)
equal = _binary(ew.eq_p, 'equal', 'x1 == x2', (_X123, '[False, True, False]'), allowed=ALL)
not_equal = _binary(ew.ne_p, 'not_equal', 'x1 != x2', (_X123, '[True, False, True]'), allowed=ALL)
less = _binary(ew.lt_p, 'less', 'x1 < x2', (_X123, '[True, False, False]'), allowed=_ORDERED)
less_equal = _binary(ew.le_p, 'less_equal', 'x1 <= x2', (_X123, '[True, True, False]'), allowed=_ORDERED)
greater = _binary(ew.gt_p, 'greater', 'x1 > x2', (_X123, '[False, False, True]'), allowed=_ORDERED)
greater_equal = _binary(ew.ge_p, 'greater_equal', 'x1 >= x2', (_X123, '[False, True, True]'), allowed=_ORDERED)
bitwise_and = _binary(ew.and_p, 'bitwise_and', 'x1 & x2', (_BITS, '[4, 2]'), allowed=INT_OR_BOOL)
bitwise_or = _binary(ew.or_p, 'bitwise_or', 'x1 | x2', (_BITS, '[14, 14]'), allowed=INT_OR_BOOL)
bitwise_xor = _binary(ew.xor_p, 'bitwise_xor', 'x1 ^ x2', (_BITS, '[10, 12]'), allowed=INT_OR_BOOL)


def atan2(x1, x2, /):
    """The angle of the point (x2, x1) from the x axis, in (-pi, pi].

    >>> import fn_dl.numpy as fnp
    >>> fnp.atan2(fnp.asarray([1.0, -1.0]), fnp.asarray([0.0, 0.0])).tolist()
    [1.5707963705062866, -1.5707963705062866]
    """
    return ew.atan2(*_inexact('atan2', x1, x2))


arctan2 = atan2


def nextafter(x1, x2, /):
    """The next representable number after x1 in the direction of x2.

    >>> import fn_dl.numpy as fnp
    >>> fnp.nextafter(fnp.asarray([1.0]), 2.0).tolist()
    [1.0000001192092896]
    """
    return ew.nextafter(*_inexact('nextafter', x1, x2))


def _inexact(name, *xs):
    """Promote, then move integer/bool results to the default float (as `x / y` and `exp(x)` need)."""
    if len(xs) == 1 and isinstance(xs[0], Array) and xs[0].dtype in dtypes._INEXACT:
        return xs  # the common case: one floating array, nothing to do
    xs = promote_broadcast(name, *xs)
    dt = xs[0].dtype
    if not dtypes.is_inexact(dt):
        xs = [to_dtype(name, x, dtypes.default_float) for x in xs]
    return xs


def _real_inexact(name, *xs):
    """`_inexact`, for functions of real numbers only."""
    xs = _inexact(name, *xs)
    if dtypes.is_complex(xs[0].dtype):
        raise TypeError(f"{name}: not defined for complex arrays (got {xs[0].dtype})")
    return xs


def _real(name, *xs, bool_ok=True):
    """Promote and broadcast, for functions of real numbers."""
    xs = promote_broadcast(name, *xs)
    if dtypes.is_complex(xs[0].dtype) or (dtypes.is_bool(xs[0].dtype) and not bool_ok):
        raise TypeError(f"{name}: not defined for {xs[0].dtype} arrays")
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
    x1, x2 = _real('floor_divide', x1, x2, bool_ok=False)
    if dtypes.is_integer(x1.dtype):
        q = ew.div(x1, x2)  # rounds toward zero
        fix = ew.bitwise_and(ew.ne(ew.rem(x1, x2), _zero(x1)), ew.ne(ew.lt(x1, _zero(x1)), ew.lt(x2, _zero(x2))))
        return ew.select_n(fix, q, ew.sub(q, _one(q)))
    return _float_divmod(x1, x2)[0]


def _float_divmod(x1, x2):
    """(x1 // x2, x1 % x2) for floats: NumPy's npy_divmod, with the Array API's quotients where it differs.

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
    # infinities and division by zero: floor(x1 / x2), as the Array API specifies (NumPy gives NaN for inf // 2)
    regular = ew.bitwise_and(ew.bitwise_and(isfinite(x1), isfinite(x2)), ew.ne(x2, _zero(x2)))
    return ew.select_n(regular, ew.floor_p.bind(ew.div(x1, x2)), q), mod


def remainder(x1, x2, /):
    """Remainder with the sign of the divisor (Python's %).

    >>> import fn_dl.numpy as fnp
    >>> fnp.remainder(fnp.asarray([7, -7]), 3).tolist()
    [1, 2]
    """
    x1, x2 = _real('remainder', x1, x2, bool_ok=False)
    if dtypes.is_floating(x1.dtype):
        return _float_divmod(x1, x2)[1]
    r = ew.rem(x1, x2)
    fix = ew.bitwise_and(ew.ne(r, _zero(r)), ew.ne(ew.lt(r, _zero(r)), ew.lt(x2, _zero(x2))))
    return ew.select_n(fix, r, ew.add(r, x2))


mod = remainder


def fmod(x1, x2, /):
    """The C remainder: x1 - trunc(x1 / x2) * x2, with the sign of x1 (compare fnp.remainder).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fmod(fnp.asarray([7, -7]), 3).tolist()
    [1, -1]
    """
    return ew.rem(*_real('fmod', x1, x2, bool_ok=False))


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


def _unary_float(prim, name, summary, example):
    """An elementwise function computed in floating point; `example` is (input, output) for the docstring."""
    def fn(x, /):
        (x,) = _inexact(name, x)
        return prim.bind(x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"""{summary}, elementwise; integer and bool inputs are computed in float32.

    >>> import fn_dl.numpy as fnp
    >>> fnp.{name}(fnp.asarray({example[0]}))
    {example[1]}
    """
    return fn


exp = _unary_float(ew.exp_p, 'exp', 'e**x', ('[0.0, 1.0]', 'Array([1.      , 2.718282], dtype=float32)'))
exp2 = _unary_float(ew.exp2_p, 'exp2', '2**x', ('[3.0, -1.0]', 'Array([8. , 0.5], dtype=float32)'))
log = _unary_float(ew.log_p, 'log', 'The natural logarithm', ('[1.0, 2.718281828]', 'Array([0., 1.], dtype=float32)'))
log1p = _unary_float(ew.log1p_p, 'log1p', 'log(1 + x), accurate near 0',
                     ('[0.0, 1.0]', 'Array([0.       , 0.6931472], dtype=float32)'))
sin = _unary_float(ew.sin_p, 'sin', 'The sine (radians)', ('[0.0, 1.5707964]', 'Array([0., 1.], dtype=float32)'))
cos = _unary_float(ew.cos_p, 'cos', 'The cosine (radians)', ('[0.0, 3.1415927]', 'Array([ 1., -1.], dtype=float32)'))
tan = _unary_float(ew.tan_p, 'tan', 'The tangent (radians)', ('[0.0, 0.7853982]', 'Array([0., 1.], dtype=float32)'))
asin = arcsin = _unary_float(ew.asin_p, 'asin', 'The inverse sine',
                             ('[0.0, 1.0]', 'Array([0.       , 1.5707964], dtype=float32)'))
acos = arccos = _unary_float(ew.acos_p, 'acos', 'The inverse cosine',
                             ('[1.0, 0.0]', 'Array([0.       , 1.5707964], dtype=float32)'))
atan = arctan = _unary_float(ew.atan_p, 'atan', 'The inverse tangent',
                             ('[0.0, 1.0]', 'Array([0.       , 0.7853982], dtype=float32)'))
sinh = _unary_float(ew.sinh_p, 'sinh', 'The hyperbolic sine',
                    ('[0.0, 1.0]', 'Array([0.       , 1.1752012], dtype=float32)'))
cosh = _unary_float(ew.cosh_p, 'cosh', 'The hyperbolic cosine',
                    ('[0.0, 1.0]', 'Array([1.       , 1.5430807], dtype=float32)'))
asinh = arcsinh = _unary_float(ew.asinh_p, 'asinh', 'The inverse hyperbolic sine',
                               ('[0.0, 1.0]', 'Array([0.       , 0.8813736], dtype=float32)'))
acosh = arccosh = _unary_float(ew.acosh_p, 'acosh', 'The inverse hyperbolic cosine',
                               ('[1.0, 2.0]', 'Array([0.      , 1.316958], dtype=float32)'))
atanh = arctanh = _unary_float(ew.atanh_p, 'atanh', 'The inverse hyperbolic tangent',
                               ('[0.0, 0.5]', 'Array([0.        , 0.54930615], dtype=float32)'))
sqrt = _unary_float(ew.sqrt_p, 'sqrt', 'The square root',
                    ('[4.0, 2.0]', 'Array([2.       , 1.4142135], dtype=float32)'))
cbrt = _unary_float(ew.cbrt_p, 'cbrt', 'The cube root', ('[-8.0, 0.125]', 'Array([-2. ,  0.5], dtype=float32)'))


def expm1(x, /):
    """e**x - 1, accurate near 0; integer and bool inputs are computed in float32.

    >>> import fn_dl.numpy as fnp
    >>> fnp.expm1(fnp.asarray([0.0, 1e-10, 1.0]))
    Array([0.0000000e+00, 1.0000000e-10, 1.7182819e+00], dtype=float32)
    """
    (x,) = _inexact('expm1', x)
    if not dtypes.is_complex(x.dtype):
        return ew.expm1_p.bind(x)
    # e**(a+bi) - 1 = (expm1(a) cos b - 2 sin(b/2)**2) + i e**a sin b: no cancellation near 0, and the
    # infinities of the Array API's special cases come out right with the selects below
    a, b = ew.real(x), ew.imag(x)
    half_sin = ew.sin(ew.mul(b, full(b.shape, 0.5, b.dtype)))
    re = ew.sub(ew.mul(ew.expm1_p.bind(a), ew.cos(b)), ew.mul(full(a.shape, 2, a.dtype), ew.mul(half_sin, half_sin)))
    re = ew.add(re, _zero(re))  # e**(-0 + 0i) - 1 is +0 (the Array API): -0 + 0 rounds to +0
    im = ew.select_n(ew.eq(b, _zero(b)), ew.mul(ew.exp(a), ew.sin(b)), b)  # keeps a zero b's sign, even at a = inf
    minus_inf, plus_inf = ew.eq(a, full(a.shape, -np.inf, a.dtype)), ew.eq(a, full(a.shape, np.inf, a.dtype))
    finite_b = isfinite(b)
    re = ew.select_n(minus_inf, re, full(a.shape, -1, a.dtype))  # e**-inf - 1 = -1, whatever b is
    im = ew.select_n(ew.bitwise_and(minus_inf, ew.bitwise_not(finite_b)), im, _zero(b))
    re = ew.select_n(ew.bitwise_and(plus_inf, ew.bitwise_not(finite_b)), re, a)  # inf, with an undefined angle
    return ew.complex(re, im)


def tanh(x, /):
    """The hyperbolic tangent, elementwise; integer and bool inputs are computed in float32.

    >>> import fn_dl.numpy as fnp
    >>> fnp.tanh(fnp.asarray([0.0, 20.0]))
    Array([0., 1.], dtype=float32)
    """
    (x,) = _inexact('tanh', x)
    out = ew.tanh_p.bind(x)
    if not dtypes.is_complex(x.dtype):
        return out
    # tanh(+-inf + iy) = +-1 + 0j with the zero signed as y (the Array API; C99 signs it as sin(2y))
    a, b = ew.real(x), ew.imag(x)
    limit = ew.complex(ew.sign(a), copysign(_zero(b), b))
    return ew.select_n(ew.bitwise_and(isinf(a), isfinite(b)), out, limit)


def log2(x, /):
    """Base-2 logarithm, exact at powers of 2.

    >>> import fn_dl.numpy as fnp
    >>> fnp.log2(fnp.asarray([8.0, 0.5, 10.0])).tolist()
    [3.0, -1.0, 3.321928024291992]
    """
    return _log_base('log2', x, 2)


def log10(x, /):
    """Base-10 logarithm, exact at powers of 10.

    >>> import fn_dl.numpy as fnp
    >>> fnp.log10(fnp.asarray([1000.0, 0.01])).tolist()
    [3.0, -2.0]
    """
    return _log_base('log10', x, 10)


def _log_base(name, x, base):
    (x,) = _inexact(name, x)
    out = ew.div(ew.log_p.bind(x), full(x.shape, math.log(base), x.dtype))
    if dtypes.is_complex(x.dtype):
        return out
    # log(x) / log(base) can miss a whole answer by an ulp (log2(8) = 2.9999998): snap to k where base**k == x;
    # the snap is a constant under differentiation, so the derivative stays 1 / (x log(base))
    k = ew.round_p.bind(out)
    exact = ew.bitwise_and(ew.eq(ew.pow(full(x.shape, base, x.dtype), k), x), isfinite(k))
    return ew.add(out, ew.stop_gradient_p.bind(ew.select_n(exact, _zero(out), ew.sub(k, out))))


def logaddexp(x1, x2, /):
    """log(exp(x1) + exp(x2)) without overflow.

    >>> import fn_dl.numpy as fnp
    >>> fnp.logaddexp(fnp.asarray([0.0, 1000.0]), fnp.asarray([0.0, 1000.0])).tolist()
    [0.6931471824645996, 1000.6931762695312]
    """
    x1, x2 = _real_inexact('logaddexp', x1, x2)
    amax = ew.max(x1, x2)
    delta = ew.sub(x1, x2)
    out = ew.add(amax, ew.log1p_p.bind(ew.exp(ew.neg(ew.abs(delta)))))
    return ew.select_n(ew.ne(delta, delta), out, ew.add(x1, x2))  # inf - inf: both infinite, same answer


def logaddexp2(x1, x2, /):
    """log2(2**x1 + 2**x2) without overflow.

    >>> import fn_dl.numpy as fnp
    >>> fnp.logaddexp2(fnp.asarray([1.0, 1000.0]), fnp.asarray([1.0, 1000.0])).tolist()
    [2.0, 1001.0]
    """
    x1, x2 = _real_inexact('logaddexp2', x1, x2)
    # in base 2 throughout: scaling the inputs by ln 2 would round them first
    amax = ew.max(x1, x2)
    delta = ew.sub(x1, x2)
    tail = ew.div(ew.log1p_p.bind(ew.exp2_p.bind(ew.neg(ew.abs_p.bind(delta)))), full(x1.shape, math.log(2), x1.dtype))
    return ew.select_n(ew.ne(delta, delta), ew.add(amax, tail), ew.add(x1, x2))


def hypot(x1, x2, /):
    """sqrt(x1**2 + x2**2) without overflow or underflow in the squares.

    >>> import fn_dl.numpy as fnp
    >>> fnp.hypot(fnp.asarray([3.0, 3e30]), fnp.asarray([4.0, 4e30]))
    Array([5.e+00, 5.e+30], dtype=float32)
    """
    x1, x2 = _real_inexact('hypot', x1, x2)
    a, b = ew.abs(x1), ew.abs(x2)
    hi, lo = ew.max(a, b), ew.min(a, b)
    safe = ew.select_n(ew.eq(hi, _zero(hi)), hi, _one(hi))
    r = ew.div(lo, safe)
    out = ew.select_n(ew.eq(hi, _zero(hi)), ew.mul(hi, ew.sqrt_p.bind(ew.add(_one(r), ew.mul(r, r)))), hi)
    # an infinite leg gives +inf even when the other is NaN (IEEE 754, NumPy and the Array API)
    return ew.select_n(ew.bitwise_or(isinf(x1), isinf(x2)), out, full(out.shape, np.inf, out.dtype))


def negative(x, /):
    """-x.

    >>> import fn_dl.numpy as fnp
    >>> fnp.negative(fnp.asarray([1, -2])).tolist()
    [-1, 2]
    """
    x = asarray(x)
    if dtypes.is_bool(x.dtype):
        raise TypeError("negative: not defined for bool arrays; use fnp.logical_not")
    return ew.neg(x)


def positive(x, /):
    """+x (a numeric array unchanged).

    >>> import fn_dl.numpy as fnp
    >>> fnp.positive(fnp.asarray([-1, 2])).tolist()
    [-1, 2]
    """
    x = asarray(x)
    if dtypes.is_bool(x.dtype):
        raise TypeError("positive: not defined for bool arrays")
    return x


def abs(x, /):  # noqa: A001
    """|x|; for complex x the modulus, as a real array.

    >>> import fn_dl.numpy as fnp
    >>> fnp.abs(fnp.asarray([-1.5, 2.0])).tolist(), fnp.abs(fnp.asarray([3 + 4j])).tolist()
    ([1.5, 2.0], [5.0])
    """
    x = asarray(x)
    if dtypes.is_bool(x.dtype) or dtypes.is_unsigned(x.dtype):
        return x
    if dtypes.is_complex(x.dtype):
        return hypot(ew.real(x), ew.imag(x))
    return ew.abs_p.bind(x)


absolute = abs


def fabs(x, /):
    """|x| of real numbers (NumPy's fabs; fnp.abs also takes complex).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fabs(fnp.asarray([-1.5, 2.0])).tolist()
    [1.5, 2.0]
    """
    (x,) = _real('fabs', x)
    return abs(x)


def sign(x, /):
    """-1, 0 or 1 by the sign of x (NaN for NaN); x / |x| for complex x (0 at 0).

    >>> import fn_dl.numpy as fnp
    >>> fnp.sign(fnp.asarray([-2.0, 0.0, 3.0])).tolist()
    [-1.0, 0.0, 1.0]
    """
    x = asarray(x)
    if dtypes.is_bool(x.dtype):
        raise TypeError("sign: not defined for bool arrays")
    if dtypes.is_unsigned(x.dtype):
        return ew.convert_element_type(ew.ne(x, _zero(x)), x.dtype)
    if dtypes.is_complex(x.dtype):
        m = abs(x)
        safe = ew.select_n(ew.eq(m, _zero(m)), m, _one(m))
        c = ew.complex(safe, _zero(safe))
        return ew.select_n(ew.eq(m, _zero(m)), ew.div(x, c), _zero(x))
    return ew.sign(x)


def square(x, /):
    """x * x.

    >>> import fn_dl.numpy as fnp
    >>> fnp.square(fnp.asarray([-3, 2])).tolist()
    [9, 4]
    """
    x = asarray(x)
    if dtypes.is_bool(x.dtype):
        raise TypeError("square: not defined for bool arrays")
    return ew.mul(x, x)


def reciprocal(x, /):
    """1 / x (integers give floats).

    >>> import fn_dl.numpy as fnp
    >>> fnp.reciprocal(fnp.asarray([2, 4])).tolist()
    [0.5, 0.25]
    """
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
    >>> fnp.round(fnp.asarray([0.5, 1.5, 2.5])).tolist()
    [0.0, 2.0, 2.0]
    >>> fnp.round(fnp.asarray([1.2345, -0.5678], dtype=fnp.float64), 2).tolist()
    [1.23, -0.57]
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
    """True where x is neither infinite nor NaN.

    >>> import fn_dl.numpy as fnp
    >>> fnp.isfinite(fnp.asarray([1.0, fnp.inf, fnp.nan])).tolist()
    [True, False, False]
    """
    x = asarray(x)
    if dtypes.is_complex(x.dtype):
        return ew.bitwise_and(isfinite(ew.real(x)), isfinite(ew.imag(x)))
    if not dtypes.is_floating(x.dtype):
        return full(x.shape, True, dtypes.bool_)
    return ew.is_finite_p.bind(x)


def isnan(x, /):
    """True where x is NaN.

    >>> import fn_dl.numpy as fnp
    >>> fnp.isnan(fnp.asarray([1.0, fnp.nan])).tolist()
    [False, True]
    """
    x = asarray(x)
    if dtypes.is_complex(x.dtype):
        return ew.bitwise_or(isnan(ew.real(x)), isnan(ew.imag(x)))
    if not dtypes.is_floating(x.dtype):
        return full(x.shape, False, dtypes.bool_)
    return ew.ne(x, x)


def isinf(x, /):
    """True where x is +inf or -inf.

    >>> import fn_dl.numpy as fnp
    >>> fnp.isinf(fnp.asarray([1.0, -fnp.inf, fnp.nan])).tolist()
    [False, True, False]
    """
    x = asarray(x)
    if dtypes.is_complex(x.dtype):
        return ew.bitwise_or(isinf(ew.real(x)), isinf(ew.imag(x)))
    if not dtypes.is_floating(x.dtype):
        return full(x.shape, False, dtypes.bool_)
    return ew.eq(ew.abs_p.bind(x), full(x.shape, np.inf, x.dtype))


def signbit(x, /):
    """True where the sign bit is set (including -0.0 and -nan).

    >>> import fn_dl.numpy as fnp
    >>> fnp.signbit(fnp.asarray([-0.0, 0.0, -1.0])).tolist()
    [True, False, True]
    """
    x = asarray(x)
    if dtypes.is_complex(x.dtype):
        raise TypeError("signbit: not defined for complex arrays")
    if not dtypes.is_floating(x.dtype):
        return ew.lt(x, _zero(x)) if not dtypes.is_unsigned(x.dtype) and not dtypes.is_bool(x.dtype) \
            else full(x.shape, False, dtypes.bool_)
    ibits = np.dtype(f'i{x.dtype.itemsize}')
    return ew.lt(ew.bitcast_convert_type(x, ibits), full(x.shape, 0, ibits))


def copysign(x1, x2, /):
    """The magnitude of x1 with the sign (bit) of x2.

    >>> import fn_dl.numpy as fnp
    >>> fnp.copysign(fnp.asarray([1.0, 2.0]), fnp.asarray([-0.0, 3.0])).tolist()
    [-1.0, 2.0]
    """
    x1, x2 = _real_inexact('copysign', x1, x2)
    return ew.select_n(ew.ne(signbit(x1), signbit(x2)), x1, ew.neg(x1))


def fmax(x1, x2, /):
    """The larger of x1 and x2, ignoring a NaN (NaN only where both are NaN).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fmax(fnp.asarray([1.0, fnp.nan]), fnp.asarray([fnp.nan, 2.0])).tolist()
    [1.0, 2.0]
    """
    x1, x2 = _real('fmax', x1, x2)
    return ew.select_n(isnan(x1), ew.select_n(isnan(x2), ew.max(x1, x2), x1), x2)


def fmin(x1, x2, /):
    """The smaller of x1 and x2, ignoring a NaN (NaN only where both are NaN).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fmin(fnp.asarray([1.0, fnp.nan]), fnp.asarray([fnp.nan, 2.0])).tolist()
    [1.0, 2.0]
    """
    x1, x2 = _real('fmin', x1, x2)
    return ew.select_n(isnan(x1), ew.select_n(isnan(x2), ew.min(x1, x2), x1), x2)


def logical_not(x, /):
    """not x, for truth values (nonzero is True).

    >>> import fn_dl.numpy as fnp
    >>> fnp.logical_not(fnp.asarray([0, 2])).tolist()
    [True, False]
    """
    return ew.bitwise_not(to_dtype('logical_not', asarray(x), dtypes.bool_))


def _logical(prim, name, example):
    def fn(x1, x2, /):
        x1, x2 = promote_broadcast(name, x1, x2)
        return prim.bind(to_dtype(name, x1, dtypes.bool_), to_dtype(name, x2, dtypes.bool_))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"""Elementwise {name[8:]} of truth values (nonzero is True), broadcast together.

    >>> import fn_dl.numpy as fnp
    >>> fnp.{name}(fnp.asarray([True, True, False]), fnp.asarray([0, 1, 0])).tolist()
    {example}
    """
    return fn


logical_and = _logical(ew.and_p, 'logical_and', [False, True, False])
logical_or = _logical(ew.or_p, 'logical_or', [True, True, False])
logical_xor = _logical(ew.xor_p, 'logical_xor', [True, False, False])


def bitwise_invert(x, /):
    """~x: every bit flipped (logical not for bools).

    >>> import fn_dl.numpy as fnp
    >>> fnp.bitwise_invert(fnp.asarray([0, 5], dtype=fnp.uint8)).tolist()
    [255, 250]
    """
    x = asarray(x)
    if x.dtype not in INT_OR_BOOL:
        raise TypeError(f"bitwise_invert: needs integer or bool arrays, got {x.dtype}")
    return ew.bitwise_not(x)


bitwise_not = invert = bitwise_invert


def _shift(prim, name):
    def fn(x1, x2, /):
        x1, x2 = promote_broadcast(name, x1, x2)
        if not dtypes.is_integer(x1.dtype):
            raise TypeError(f"{name}: operands must be integers, got {x1.dtype}")
        return prim.bind(x1, x2)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"""x1 << x2: the bits of x1 moved x2 places left (0 when x2 >= the bit width).

    >>> import fn_dl.numpy as fnp
    >>> fnp.{name}(fnp.asarray([1, 3]), 2).tolist()
    [4, 12]
    """
    return fn


bitwise_left_shift = left_shift = _shift(ew.shift_left_p, 'bitwise_left_shift')


def bitwise_right_shift(x1, x2, /):
    """x1 >> x2: arithmetic for signed integers, logical for unsigned (as NumPy).

    >>> import fn_dl.numpy as fnp
    >>> fnp.bitwise_right_shift(fnp.asarray([-8, 12]), 2).tolist()
    [-2, 3]
    """
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
    """The real part (x itself for real arrays).

    >>> import fn_dl.numpy as fnp
    >>> fnp.real(fnp.asarray([1 + 2j])).tolist()
    [1.0]
    """
    x = asarray(x)
    return ew.real(x) if dtypes.is_complex(x.dtype) else x


def imag(x, /):
    """The imaginary part (zeros for real arrays).

    >>> import fn_dl.numpy as fnp
    >>> fnp.imag(fnp.asarray([1 + 2j])).tolist()
    [2.0]
    """
    x = asarray(x)
    return ew.imag(x) if dtypes.is_complex(x.dtype) else _zero(x)


def conj(x, /):
    """The complex conjugate (x itself for real arrays).

    >>> import fn_dl.numpy as fnp
    >>> fnp.conj(fnp.asarray([1 + 2j])).tolist()
    [(1-2j)]
    """
    x = asarray(x)
    return ew.conj(x) if dtypes.is_complex(x.dtype) else x


conjugate = conj


def angle(z, deg=False):
    """The argument of complex z in (-pi, pi] (degrees if deg).

    >>> import fn_dl.numpy as fnp
    >>> fnp.angle(fnp.asarray([1j, -1.0]), deg=True).tolist()
    [90.0, 180.0]
    """
    z = asarray(z)
    if dtypes.is_complex(z.dtype):
        out = ew.atan2(ew.imag(z), ew.real(z))
    else:
        (z,) = _inexact('angle', z)
        out = ew.atan2(_zero(z), z)
    return rad2deg(out) if deg else out


def deg2rad(x, /):
    """Degrees to radians.

    >>> import fn_dl.numpy as fnp
    >>> fnp.deg2rad(fnp.asarray([180.0])).tolist()
    [3.1415927410125732]
    """
    return _scale_angle('deg2rad', x, math.pi / 180)


def rad2deg(x, /):
    """Radians to degrees.

    >>> import fn_dl.numpy as fnp
    >>> fnp.rad2deg(fnp.asarray([fnp.pi / 2])).tolist()
    [90.0]
    """
    return _scale_angle('rad2deg', x, 180 / math.pi)


def _scale_angle(name, x, factor):
    (x,) = _inexact(name, x)
    if dtypes.is_complex(x.dtype):
        raise TypeError(f"{name}: angles are real; got a {x.dtype} array")
    return ew.mul(x, full(x.shape, factor, x.dtype))


radians, degrees = deg2rad, rad2deg


def sinc(x, /):
    """sin(pi x) / (pi x), 1 at 0.

    >>> import fn_dl.numpy as fnp
    >>> fnp.sinc(fnp.asarray([0.0, 1.0, 0.5])).tolist()
    [1.0, -2.7827534054836178e-08, 0.6366197466850281]
    """
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
    x1, x2 = _real_inexact('heaviside', x1, x2)
    out = ew.select_n(ew.gt(x1, _zero(x1)), ew.select_n(ew.lt(x1, _zero(x1)), x2, _zero(x1)), _one(x1))
    return ew.select_n(isnan(x1), out, x1)


def where(condition, x=None, y=None, /):
    """x where condition else y, broadcast together and promoted. (The one-argument form is fnp.nonzero.)

    >>> import fn_dl.numpy as fnp
    >>> fnp.where(fnp.asarray([True, False]), fnp.asarray([1.0, 2.0]), 0).tolist()
    [1.0, 0.0]
    """
    if x is None or y is None:
        if x is None and y is None:
            from fn_dl.numpy import nonzero
            return nonzero(condition)
        raise TypeError("where: give both x and y, or neither")
    x, y = promote_broadcast('where', x, y)
    c = to_dtype('where', asarray(condition), dtypes.bool_)
    shape = broadcast_shapes('where', c.shape, x.shape)
    return ew.select_n(broadcast_to_shape(c, shape), broadcast_to_shape(y, shape), broadcast_to_shape(x, shape))


def clip(x, /, min=None, max=None):  # noqa: A002
    """Limit values to [min, max] (either may be None, or an array broadcast with x); keeps x's dtype.

    >>> import fn_dl.numpy as fnp
    >>> fnp.clip(fnp.asarray([-2, 0, 7]), 0, 5).tolist()
    [0, 0, 5]
    """
    x = asarray(x)
    out = x
    if min is not None:
        out = maximum(out, min)
    if max is not None:
        out = minimum(out, max)
    return out.astype(x.dtype) if out.dtype != x.dtype else out


def float_power(x1, x2, /):
    """x1 ** x2 computed in float64 (complex128 for complex inputs), as NumPy.

    >>> import fn_dl.numpy as fnp
    >>> fnp.float_power(fnp.asarray([2, 4]), -1).tolist()
    [0.5, 0.25]
    """
    x1, x2 = promote_broadcast('float_power', x1, x2)
    dt = dtypes.float64 if not dtypes.is_complex(x1.dtype) else dtypes.complex128
    return ew.pow(to_dtype('float_power', x1, dt), to_dtype('float_power', x2, dt))


def ldexp(x1, x2, /):
    """x1 * 2**x2 for integer exponents x2, broadcast together.

    >>> import fn_dl.numpy as fnp
    >>> fnp.ldexp(fnp.asarray([1.5, 3.0]), fnp.asarray([2, -1])).tolist()
    [6.0, 1.5]
    """
    (x1,) = _real_inexact('ldexp', x1)
    x2 = asarray(x2)
    if not dtypes.is_integer(x2.dtype):
        raise TypeError(f"ldexp: exponents must be integers, got {x2.dtype}")
    shape = broadcast_shapes('ldexp', x1.shape, x2.shape)
    x1, x2 = broadcast_to_shape(x1, shape), broadcast_to_shape(x2, shape)  # each keeps its dtype
    # 2**x2 in two halves, so 1e-300 * 2**1100 does not overflow on the way to a finite answer
    half = ew.convert_element_type(ew.div(x2, full(shape, 2, x2.dtype)), x1.dtype)
    rest = ew.sub(ew.convert_element_type(x2, x1.dtype), half)
    return ew.mul(ew.mul(x1, ew.exp2_p.bind(half)), ew.exp2_p.bind(rest))


def divmod(x1, x2, /):  # noqa: A001
    """(x1 // x2, x1 % x2), as Python's divmod (one computation for floats).

    >>> import fn_dl.numpy as fnp
    >>> [r.tolist() for r in fnp.divmod(fnp.asarray([7, -7]), 2)]
    [[3, -4], [1, 1]]
    """
    x1, x2 = _real('divmod', x1, x2, bool_ok=False)
    if dtypes.is_floating(x1.dtype):
        return _float_divmod(x1, x2)
    return floor_divide(x1, x2), remainder(x1, x2)


def modf(x, /):
    """(fractional part, integral part) of x, both with the sign of x.

    >>> import fn_dl.numpy as fnp
    >>> [r.tolist() for r in fnp.modf(fnp.asarray([2.5, -1.25]))]
    [[0.5, -0.25], [2.0, -1.0]]
    """
    (x,) = _real_inexact('modf', x)
    whole = ew.round_toward_zero_p.bind(x)
    # inf - inf would be NaN: an infinite x has no fraction; copysign keeps -0.0 for negative whole numbers
    frac = ew.select_n(isinf(x), ew.sub(x, whole), _zero(x))
    return copysign(frac, x), whole


def frexp(x, /):
    """(mantissa, exponent) with x = mantissa * 2**exponent, 0.5 <= |mantissa| < 1, exponent int32.

    >>> import fn_dl.numpy as fnp
    >>> [r.tolist() for r in fnp.frexp(fnp.asarray([8.0, -0.375, 0.0]))]
    [[0.5, -0.75, 0.0], [4, -1, 0]]
    """
    (x,) = _real_inexact('frexp', x)
    special = ew.bitwise_or(ew.eq(x, _zero(x)), ew.bitwise_not(isfinite(x)))
    safe = ew.select_n(special, ew.abs_p.bind(x), _one(x))
    e = ew.convert_element_type(ew.floor_p.bind(log2(safe)), dtypes.int32)
    e = ew.add(e, full(e.shape, 1, dtypes.int32))
    m = ldexp(x, ew.neg(e))
    # log2 rounds: move by one where the mantissa left [0.5, 1)
    m_abs = ew.abs_p.bind(m)
    low, high = ew.lt(m_abs, full(m.shape, 0.5, m.dtype)), ew.ge(m_abs, _one(m))
    half, two = full(m.shape, 0.5, m.dtype), full(m.shape, 2, m.dtype)
    m = ew.select_n(low, ew.select_n(high, m, ew.mul(m, half)), ew.mul(m, two))
    one = full(e.shape, 1, dtypes.int32)
    e = ew.select_n(low, ew.select_n(high, e, ew.add(e, one)), ew.sub(e, one))
    return ew.select_n(special, m, x), ew.select_n(special, e, full(e.shape, 0, dtypes.int32))


def spacing(x, /):
    """The distance from x to the next representable number away from zero, negative for negative x (as NumPy
    for float32 and float64; its float16 version measures toward zero).

    >>> import fn_dl.numpy as fnp
    >>> fnp.spacing(fnp.asarray([1.0, -1.0], dtype=fnp.float64)).tolist()
    [2.220446049250313e-16, -2.220446049250313e-16]
    """
    (x,) = _real_inexact('spacing', x)
    a = ew.abs_p.bind(x)
    gap = ew.sub(ew.nextafter(a, full(a.shape, np.inf, a.dtype)), a)
    return ew.select_n(ew.lt(x, _zero(x)), gap, ew.neg(gap))  # -0.0 gets the positive gap, as NumPy


def _euclid(name, x1, x2):
    """|gcd| of integer arrays by Euclid's algorithm, run for the worst case of the dtype's width (Fibonacci
    inputs: 1.44 steps per bit), so it is a fixed composition of primitives under any transform."""
    x1, x2 = _real(name, x1, x2, bool_ok=False)
    if not dtypes.is_integer(x1.dtype):
        raise TypeError(f"{name}: needs integer arrays, got {x1.dtype}")
    # |x| in the unsigned type of the same width, where |INT_MIN| fits
    unsigned = np.dtype(f'u{x1.dtype.itemsize}')
    a, b = (ew.convert_element_type(abs(v), unsigned) for v in (x1, x2))
    for _ in range(math.ceil(1.45 * 8 * x1.dtype.itemsize) + 2):
        nonzero = ew.ne(b, _zero(b))
        a, b = ew.select_n(nonzero, a, b), ew.select_n(nonzero, b, ew.rem(a, ew.select_n(nonzero, _one(b), b)))
    return x1, x2, ew.convert_element_type(a, x1.dtype)


def gcd(x1, x2, /):
    """The greatest common divisor of |x1| and |x2| (0 when both are 0).

    >>> import fn_dl.numpy as fnp
    >>> fnp.gcd(fnp.asarray([12, -18, 0]), fnp.asarray([8, 12, 5])).tolist()
    [4, 6, 5]
    """
    return _euclid('gcd', x1, x2)[2]


def lcm(x1, x2, /):
    """The least common multiple of |x1| and |x2| (0 when either is 0).

    >>> import fn_dl.numpy as fnp
    >>> fnp.lcm(fnp.asarray([4, -6, 0]), fnp.asarray([6, 4, 5])).tolist()
    [12, 12, 0]
    """
    x1, x2, g = _euclid('lcm', x1, x2)
    safe = ew.select_n(ew.eq(g, _zero(g)), g, _one(g))
    return ew.mul(ew.div(abs(x1), safe), abs(x2))  # wraps where the product overflows, as NumPy


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """x with NaN replaced by `nan` and infinities by `posinf`/`neginf` (default: the largest finite numbers).

    >>> import fn_dl.numpy as fnp
    >>> fnp.nan_to_num(fnp.asarray([fnp.nan, fnp.inf, -fnp.inf, 1.0]), posinf=9.0).tolist()
    [0.0, 9.0, -3.4028234663852886e+38, 1.0]
    """
    x = asarray(x)
    if dtypes.is_complex(x.dtype):
        parts = (nan_to_num(ew.real(x), nan=nan, posinf=posinf, neginf=neginf),
                 nan_to_num(ew.imag(x), nan=nan, posinf=posinf, neginf=neginf))
        return ew.complex(*parts)
    if not dtypes.is_floating(x.dtype):
        return x
    info = dtypes.finfo(x.dtype)
    big = float(info.max) if posinf is None else posinf
    small = float(info.min) if neginf is None else neginf
    out = ew.select_n(isnan(x), x, full(x.shape, nan, x.dtype))
    out = ew.select_n(ew.eq(x, full(x.shape, np.inf, x.dtype)), out, full(x.shape, big, x.dtype))
    return ew.select_n(ew.eq(x, full(x.shape, -np.inf, x.dtype)), out, full(x.shape, small, x.dtype))


def isposinf(x, /):
    """True where x is +inf.

    >>> import fn_dl.numpy as fnp
    >>> fnp.isposinf(fnp.asarray([fnp.inf, -fnp.inf, 1.0])).tolist()
    [True, False, False]
    """
    return ew.bitwise_and(isinf(x), ew.bitwise_not(signbit(x)))


def isneginf(x, /):
    """True where x is -inf.

    >>> import fn_dl.numpy as fnp
    >>> fnp.isneginf(fnp.asarray([fnp.inf, -fnp.inf, 1.0])).tolist()
    [False, True, False]
    """
    return ew.bitwise_and(isinf(x), signbit(x))


def iscomplex(x, /):
    """True where x has a nonzero imaginary part.

    >>> import fn_dl.numpy as fnp
    >>> fnp.iscomplex(fnp.asarray([1 + 1j, 2 + 0j])).tolist()
    [True, False]
    """
    im = imag(x)
    return ew.ne(im, _zero(im))


def isreal(x, /):
    """True where x has no imaginary part (everywhere for real arrays).

    >>> import fn_dl.numpy as fnp
    >>> fnp.isreal(fnp.asarray([1 + 1j, 2 + 0j])).tolist()
    [False, True]
    """
    return ew.bitwise_not(iscomplex(x))


# the functions defined here (aliases included), not the names imported above
__all__ = [n for n, v in globals().items() if not n.startswith('_') and getattr(v, '__module__', None) == __name__]

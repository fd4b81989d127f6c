"""Elementwise primitives: arithmetic, math functions, comparisons, bit operations, select, casts.

Operands have equal shapes and dtypes (fn_dl.numpy broadcasts and promotes
before binding). Each primitive is its definition plus its rules, JAX style:
the JVP of `sin` is `g * cos(x)` right under `sin_p`.
"""
from __future__ import annotations

import math

import numpy as np

from fn_dl.core import dtypes
from fn_dl.ops._rules import (ALL, FLOAT, INEXACT, INT, INT_OR_BOOL, NUMERIC, REAL, Primitive,
                              ShapedArray, Zero, add_tangents, broadcast_batcher, deflinear, defjvp,
                              defjvp2, elementwise, instantiate, is_undefined, UndefinedPrimal)

_bool = lambda d: dtypes.bool_  # noqa: E731  (out_dtype of predicates)


def _unary(name, impl, jvp=None, *, jvp_uses_ans=False, allowed=INEXACT, hlo=None, differentiable=True):
    prim = elementwise(name, impl, allowed=allowed, hlo=hlo, differentiable=differentiable)
    if jvp is not None:
        (defjvp2 if jvp_uses_ans else defjvp)(prim, jvp)
    return prim


def _full_like(x, v):
    return _shape.full(x.shape, v, x.dtype)


# --- arithmetic ---------------------------------------------------------------------

add_p = elementwise('add', 'add', hlo='stablehlo.add')
sub_p = elementwise('sub', 'subtract', hlo='stablehlo.subtract')
mul_p = elementwise('mul', 'multiply', allowed=NUMERIC | {dtypes.bool_}, hlo='stablehlo.multiply')
neg_p = elementwise('neg', 'negative', hlo='stablehlo.negate')


def _div_impl(xp, x, y):
    if x.dtype.kind in 'iu':  # C semantics, as XLA: round toward zero
        q = xp.floor_divide(x, y)
        return q + ((xp.remainder(x, y) != 0) & ((x < 0) != (y < 0))).astype(x.dtype)
    return x / y


div_p = elementwise('div', _div_impl, hlo='stablehlo.divide')
rem_p = elementwise('rem', 'fmod', allowed=REAL, hlo='stablehlo.remainder')
pow_p = elementwise('pow', 'power', hlo='stablehlo.power')
max_p = elementwise('max', 'maximum', allowed=ALL, hlo='stablehlo.maximum')
min_p = elementwise('min', 'minimum', allowed=ALL, hlo='stablehlo.minimum')
atan2_p = elementwise('atan2', 'arctan2', allowed=FLOAT, hlo='stablehlo.atan2')
nextafter_p = elementwise('nextafter', 'nextafter', allowed=FLOAT,
                          hlo='chlo.next_after', differentiable=False)


def add(x, y): return add_p.bind(x, y)
def sub(x, y): return sub_p.bind(x, y)
def mul(x, y): return mul_p.bind(x, y)
def div(x, y): return div_p.bind(x, y)
def neg(x): return neg_p.bind(x)
def rem(x, y): return rem_p.bind(x, y)
def pow(x, y): return pow_p.bind(x, y)  # noqa: A001
def max(x, y): return max_p.bind(x, y)  # noqa: A001
def min(x, y): return min_p.bind(x, y)  # noqa: A001
def atan2(x, y): return atan2_p.bind(x, y)
def nextafter(x, y): return nextafter_p.bind(x, y)


def _add_transpose(ct, x, y):
    return [ct, ct]


def _sub_transpose(ct, x, y):
    return [ct if is_undefined(x) else None, neg(ct) if is_undefined(y) else None]


def _mul_transpose(ct, x, y):
    x_linear = type(x) is UndefinedPrimal  # is_undefined, inlined: mul is in every backward pass
    if x_linear and type(y) is UndefinedPrimal:
        raise TypeError("mul: transpose of a product of two linear values (the function is not linear)")
    return [mul_p.bind(ct, y), None] if x_linear else [None, mul_p.bind(x, ct)]


def _div_transpose(ct, x, y):
    if is_undefined(y):
        raise TypeError("div: transpose with respect to the divisor (the function is not linear)")
    return [div(ct, y), None]


deflinear(add_p, _add_transpose)
deflinear(sub_p, _sub_transpose)


# add and sub keep a zero tangent symbolic rather than adding an array of zeros (deflinear instantiates
# them): `x + c` or `1 - x` with a constant operand then costs no tangent op for it
@add_p.def_jvp
def _add_jvp(primals, tangents):
    tx, ty = tangents
    out = add_p.bind(*primals)
    return out, (Zero(out.aval) if type(tx) is Zero and type(ty) is Zero else add_tangents(tx, ty))


@sub_p.def_jvp
def _sub_jvp(primals, tangents):
    tx, ty = tangents
    out = sub_p.bind(*primals)
    if type(ty) is Zero:
        return out, (Zero(out.aval) if type(tx) is Zero else tx)
    return out, (neg(ty) if type(tx) is Zero else sub(tx, ty))

deflinear(neg_p, lambda ct, x: [neg(ct)])


@mul_p.def_jvp
def _mul_jvp(primals, tangents):  # the product rule, written out: mul is the commonest primitive under grad
    (x, y), (tx, ty) = primals, tangents
    out = mul_p.bind(x, y)
    if type(tx) is Zero:
        return out, (Zero(out.aval) if type(ty) is Zero else mul_p.bind(x, ty))
    return out, (mul_p.bind(tx, y) if type(ty) is Zero else add_p.bind(mul_p.bind(tx, y), mul_p.bind(x, ty)))


mul_p.def_transpose(_mul_transpose)
defjvp2(div_p, lambda g, ans, x, y: div(g, y), lambda g, ans, x, y: neg(mul(g, div(ans, y))))
div_p.def_transpose(_div_transpose)
defjvp(rem_p, lambda g, x, y: g, lambda g, x, y: neg(mul(g, round_toward_zero(div(x, y)))))


def _pow_jvp_x(g, ans, x, y):
    # y * x**(y-1), written to stay finite at x == 0 for y >= 1
    return mul(g, mul(y, pow(x, sub(y, _full_like(y, 1)))))


def _pow_jvp_y(g, ans, x, y):
    safe_x = select_n(eq(x, _full_like(x, 0)), x, _full_like(x, 1))
    return mul(g, mul(ans, log(safe_x)))


defjvp2(pow_p, _pow_jvp_x, _pow_jvp_y)


def _max_weight_impl(xp, x, y):
    big = x if x.nbytes >= y.nbytes else y
    above = xp.greater(x, y)
    out = xp.output_buffer(big.shape, big.dtype)  # None when small (or the pool is full)
    if out is None:
        out = xp.array(above, dtype=big.dtype)  # an array even for 0-d operands (whose comparison is a scalar)
    else:
        xp.copyto(out, above)
    ties = xp.equal(x, y)
    if ties.any():  # rare: scanning the boolean mask costs less than arithmetic over the result
        out[ties] = 0.5
    return out


# d max(x, y) / dx, in one primitive so that an eager ReLU's derivative costs one dispatch, not six
max_weight_p = elementwise('max_weight', _max_weight_impl, allowed=FLOAT, hlo='max_weight', differentiable=False)


def max_weight(x, y):
    """1 where x > y, 1/2 where x == y, 0 where x < y or either is NaN: the derivative of max(x, y) in x.
    Ties split the tangent evenly, as in JAX, so the derivative is symmetric."""
    return max_weight_p.bind(x, y)


defjvp2(max_p, lambda g, ans, x, y: mul(g, max_weight(x, y)), lambda g, ans, x, y: mul(g, max_weight(y, x)))
defjvp2(min_p, lambda g, ans, x, y: mul(g, max_weight(y, x)), lambda g, ans, x, y: mul(g, max_weight(x, y)))
defjvp(atan2_p,
       lambda g, x, y: mul(g, div(y, add(mul(x, x), mul(y, y)))),
       lambda g, x, y: mul(g, neg(div(x, add(mul(x, x), mul(y, y))))))

integer_pow_p = Primitive('integer_pow')


@integer_pow_p.def_impl
def _integer_pow_impl(xp, x, *, y):
    if y == 2:  # a square is a product: into a reused buffer when large
        return xp.multiply(x, x, out=xp.output_buffer(x.shape, x.dtype))
    return (x ** y).astype(x.dtype, copy=False)


@integer_pow_p.def_abstract_eval
def _integer_pow_abstract(x, *, y):
    if x.dtype not in NUMERIC:
        raise TypeError(f"integer_pow: operand must be numeric, got {x.dtype}")
    if y < 0 and x.dtype in INT:
        raise TypeError(f"integer_pow: negative exponent {y} of an integer array")
    return x


integer_pow_p.batch = broadcast_batcher(integer_pow_p)
integer_pow_p.lower = 'integer_pow'


def integer_pow(x, y: int):
    return integer_pow_p.bind(x, y=int(y))


@integer_pow_p.def_jvp
def _integer_pow_jvp(primals, tangents, *, y):
    (x,), (g,) = primals, tangents
    out = integer_pow(x, y)
    if type(g) is Zero:
        return out, Zero(out.aval)
    if y == 0:
        return out, Zero(out.aval)
    if y == 1:  # the identity: under nested derivatives every op saved here is saved again per level
        return out, g
    return out, mul(g, mul(_full_like(x, y), x if y == 2 else integer_pow(x, y - 1)))


# --- math functions ------------------------------------------------------------------

exp_p = _unary('exp', 'exp', lambda g, ans, x: mul(g, ans), jvp_uses_ans=True,
               hlo='stablehlo.exponential')
exp2_p = _unary('exp2', 'exp2', lambda g, ans, x: mul(g, mul(ans, _full_like(ans, math.log(2)))),
                jvp_uses_ans=True, hlo='exp2')
expm1_p = _unary('expm1', 'expm1', lambda g, ans, x: mul(g, add(ans, _full_like(ans, 1))),
                 jvp_uses_ans=True, hlo='stablehlo.exponential_minus_one')
log_p = _unary('log', 'log', lambda g, x: div(g, x), hlo='stablehlo.log')
log1p_p = _unary('log1p', 'log1p', lambda g, x: div(g, add(x, _full_like(x, 1))),
                 hlo='stablehlo.log_plus_one')
sin_p = _unary('sin', 'sin', lambda g, x: mul(g, cos(x)), hlo='sin')
cos_p = _unary('cos', 'cos', lambda g, x: neg(mul(g, sin(x))), hlo='cos')
tan_p = _unary('tan', 'tan',
               lambda g, ans, x: mul(g, add(_full_like(ans, 1), mul(ans, ans))), jvp_uses_ans=True,
               hlo='tan')
asin_p = _unary('asin', 'arcsin',
                lambda g, x: mul(g, rsqrt(sub(_full_like(x, 1), mul(x, x)))), hlo='chlo.asin')
acos_p = _unary('acos', 'arccos',
                lambda g, x: neg(mul(g, rsqrt(sub(_full_like(x, 1), mul(x, x))))), hlo='chlo.acos')
atan_p = _unary('atan', 'arctan',
                lambda g, x: div(g, add(_full_like(x, 1), mul(x, x))), hlo='chlo.atan')
sinh_p = _unary('sinh', 'sinh', lambda g, x: mul(g, cosh(x)), hlo='chlo.sinh')
cosh_p = _unary('cosh', 'cosh', lambda g, x: mul(g, sinh(x)), hlo='chlo.cosh')
tanh_p = _unary('tanh', 'tanh',
                # ans ** 2, not ans * ans: its own derivative (in a Hessian) is one product, not two and a sum
                lambda g, ans, x: mul(g, sub(_full_like(ans, 1), integer_pow(ans, 2))), jvp_uses_ans=True,
                hlo='stablehlo.tanh')
asinh_p = _unary('asinh', 'arcsinh',
                 lambda g, x: mul(g, rsqrt(add(mul(x, x), _full_like(x, 1)))), hlo='chlo.asinh')
acosh_p = _unary('acosh', 'arccosh',
                 lambda g, x: mul(g, rsqrt(mul(sub(x, _full_like(x, 1)), add(x, _full_like(x, 1))))),
                 hlo='chlo.acosh')
atanh_p = _unary('atanh', 'arctanh',
                 lambda g, x: div(g, sub(_full_like(x, 1), mul(x, x))), hlo='chlo.atanh')
sqrt_p = _unary('sqrt', 'sqrt',
                lambda g, ans, x: div(g, mul(ans, _full_like(ans, 2))), jvp_uses_ans=True, hlo='stablehlo.sqrt')
rsqrt_p = _unary('rsqrt', lambda xp, x: (1 / xp.sqrt(x)).astype(x.dtype, copy=False),
                 lambda g, ans, x: mul(g, mul(_full_like(x, -0.5), div(ans, x))), jvp_uses_ans=True,
                 hlo='stablehlo.rsqrt')
cbrt_p = _unary('cbrt', 'cbrt',
                lambda g, ans, x: mul(g, div(_full_like(ans, 1 / 3), mul(ans, ans))), jvp_uses_ans=True,
                allowed=FLOAT, hlo='stablehlo.cbrt')
logistic_p = _unary('logistic', lambda xp, x: xp.expit(x),
                    lambda g, ans, x: mul(g, mul(ans, sub(_full_like(ans, 1), ans))), jvp_uses_ans=True,
                    allowed=FLOAT, hlo='stablehlo.logistic')
erf_p = _unary('erf', lambda xp, x: xp.erf(x),
               lambda g, x: mul(g, mul(_full_like(x, 2 / math.sqrt(math.pi)), exp(neg(mul(x, x))))),
               allowed=FLOAT, hlo='chlo.erf')
erfc_p = _unary('erfc', lambda xp, x: xp.erfc(x),
                lambda g, x: mul(g, mul(_full_like(x, -2 / math.sqrt(math.pi)), exp(neg(mul(x, x))))),
                allowed=FLOAT, hlo='chlo.erfc')
erf_inv_p = _unary('erf_inv', lambda xp, x: xp.erfinv(x),
                   lambda g, ans, x: mul(g, mul(_full_like(x, math.sqrt(math.pi) / 2), exp(mul(ans, ans)))),
                   jvp_uses_ans=True, allowed=FLOAT, hlo='chlo.erf_inv')
lgamma_p = _unary('lgamma', lambda xp, x: xp.gammaln(x), lambda g, x: mul(g, polygamma(0, x)), allowed=FLOAT,
                  hlo='chlo.lgamma')

polygamma_p = elementwise('polygamma', lambda xp, x, *, n: xp.polygamma(n, x).astype(x.dtype, copy=False),
                          allowed=FLOAT, hlo='polygamma')
defjvp(polygamma_p, lambda g, x, *, n: mul(g, polygamma(n + 1, x)))


def polygamma(n: int, x):
    """The n-th derivative of digamma; polygamma(0, x) is digamma."""
    return polygamma_p.bind(x, n=int(n))


def abs_impl(xp, x):
    return xp.abs(x)


abs_p = elementwise('abs', abs_impl, allowed=NUMERIC, hlo='stablehlo.abs')
defjvp(abs_p, lambda g, x: mul(g, sign(x)))
sign_p = _unary('sign', 'sign', allowed=NUMERIC, hlo='stablehlo.sign', differentiable=False)
floor_p = _unary('floor', 'floor', allowed=FLOAT, hlo='stablehlo.floor', differentiable=False)
ceil_p = _unary('ceil', 'ceil', allowed=FLOAT, hlo='stablehlo.ceil', differentiable=False)
round_p = _unary('round', 'rint', allowed=FLOAT, hlo='stablehlo.round_nearest_even',
                 differentiable=False)
round_toward_zero_p = _unary('round_toward_zero', 'trunc', allowed=FLOAT, hlo='trunc',
                             differentiable=False)
is_finite_p = elementwise('is_finite', 'isfinite', allowed=FLOAT, out_dtype=_bool,
                          hlo='stablehlo.is_finite', differentiable=False)

def exp(x): return exp_p.bind(x)
def log(x): return log_p.bind(x)
def sin(x): return sin_p.bind(x)
def cos(x): return cos_p.bind(x)
def sinh(x): return sinh_p.bind(x)
def cosh(x): return cosh_p.bind(x)
def rsqrt(x): return rsqrt_p.bind(x)
def sign(x): return sign_p.bind(x)
def round_toward_zero(x): return round_toward_zero_p.bind(x)
def abs(x): return abs_p.bind(x)  # noqa: A001
def round(x): return round_p.bind(x)  # noqa: A001


# --- complex parts ------------------------------------------------------------------------

real_p = elementwise('real', lambda xp, x: xp.real(x), allowed=frozenset(dtypes.COMPLEX),
                     out_dtype=dtypes.to_real, hlo='stablehlo.real')
imag_p = elementwise('imag', lambda xp, x: xp.imag(x), allowed=frozenset(dtypes.COMPLEX),
                     out_dtype=dtypes.to_real, hlo='stablehlo.imag')
conj_p = elementwise('conj', 'conj', allowed=frozenset(dtypes.COMPLEX), hlo='conj')
complex_p = elementwise('complex', lambda xp, x, y: _complex_impl(xp, x, y),
                        allowed=frozenset((dtypes.float32, dtypes.float64)), out_dtype=dtypes.to_complex,
                        hlo='stablehlo.complex')


def _complex_impl(xp, x, y):
    # assemble the parts directly: x + 1j * y would turn infinities into NaN and lose the sign of zero
    out = xp.empty(x.shape, dtypes.to_complex(x.dtype))
    out.real, out.imag = x, y
    return out


def real(x): return real_p.bind(x)
def imag(x): return imag_p.bind(x)
def conj(x): return conj_p.bind(x)
def complex(x, y): return complex_p.bind(x, y)  # noqa: A001


def _zeros(x_aval):
    return _shape.full(x_aval.shape, 0, x_aval.dtype)


deflinear(real_p, lambda ct, x: [complex(ct, _zeros(ct.aval))])
deflinear(imag_p, lambda ct, x: [complex(_zeros(ct.aval), neg(ct))])
deflinear(conj_p, lambda ct, x: [conj(ct)])
deflinear(complex_p, lambda ct, x, y: [real(ct), neg(imag(ct))])


# --- comparisons, logic and bits --------------------------------------------------------------

eq_p = elementwise('eq', 'equal', allowed=ALL, out_dtype=_bool, hlo='EQ',
                   differentiable=False)
ne_p = elementwise('ne', 'not_equal', allowed=ALL, out_dtype=_bool, hlo='NE',
                   differentiable=False)
lt_p = elementwise('lt', 'less', allowed=REAL | {dtypes.bool_}, out_dtype=_bool, hlo='LT',
                   differentiable=False)
le_p = elementwise('le', 'less_equal', allowed=REAL | {dtypes.bool_}, out_dtype=_bool,
                   hlo='LE', differentiable=False)
gt_p = elementwise('gt', 'greater', allowed=REAL | {dtypes.bool_}, out_dtype=_bool,
                   hlo='GT', differentiable=False)
ge_p = elementwise('ge', 'greater_equal', allowed=REAL | {dtypes.bool_}, out_dtype=_bool,
                   hlo='GE', differentiable=False)


def eq(x, y): return eq_p.bind(x, y)
def ne(x, y): return ne_p.bind(x, y)
def lt(x, y): return lt_p.bind(x, y)
def le(x, y): return le_p.bind(x, y)
def gt(x, y): return gt_p.bind(x, y)
def ge(x, y): return ge_p.bind(x, y)


and_p = elementwise('and', 'bitwise_and', allowed=INT_OR_BOOL, hlo='stablehlo.and', differentiable=False)
or_p = elementwise('or', 'bitwise_or', allowed=INT_OR_BOOL, hlo='stablehlo.or', differentiable=False)
xor_p = elementwise('xor', 'bitwise_xor', allowed=INT_OR_BOOL, hlo='stablehlo.xor', differentiable=False)
not_p = elementwise('not', 'invert', allowed=INT_OR_BOOL, hlo='stablehlo.not', differentiable=False)
# XLA counts the bits of the two's-complement pattern: count them on the unsigned view
population_count_p = elementwise('population_count',
                                 lambda xp, x: xp.bitwise_count(_bits(xp, x, False)).astype(x.dtype),
                                 allowed=INT, hlo='stablehlo.popcnt', differentiable=False)


def _bits(xp, x, signed):
    """Reinterpret integers as (un)signed of the same width, for shifts with XLA's semantics."""
    target = np.dtype(('i' if signed else 'u') + str(x.dtype.itemsize))
    return x if x.dtype == target else xp.asarray(x).view(target)


def _shift_impl(op, signed):
    # NumPy already gives XLA's results for shift amounts >= the bit width (0, or the sign fill);
    # the amount is read as unsigned, as XLA does, and the value as signed only for arithmetic shifts
    def impl(xp, x, y):
        out = op(_bits(xp, x, signed), _bits(xp, y, False).astype(_bits(xp, x, signed).dtype, copy=False))
        return xp.asarray(out).view(x.dtype)
    return impl


shift_left_p = elementwise('shift_left', _shift_impl(np.left_shift, False), allowed=INT,
                           hlo='stablehlo.shift_left', differentiable=False)
shift_right_logical_p = elementwise('shift_right_logical', _shift_impl(np.right_shift, False), allowed=INT,
                                    hlo='stablehlo.shift_right_logical', differentiable=False)
shift_right_arithmetic_p = elementwise('shift_right_arithmetic', _shift_impl(np.right_shift, True), allowed=INT,
                                       hlo='stablehlo.shift_right_arithmetic', differentiable=False)


def bitwise_and(x, y): return and_p.bind(x, y)
def bitwise_or(x, y): return or_p.bind(x, y)
def bitwise_xor(x, y): return xor_p.bind(x, y)
def bitwise_not(x): return not_p.bind(x)
def shift_left(x, y): return shift_left_p.bind(x, y)
def shift_right_logical(x, y): return shift_right_logical_p.bind(x, y)
def shift_right_arithmetic(x, y): return shift_right_arithmetic_p.bind(x, y)
def population_count(x): return population_count_p.bind(x)


# --- select -----------------------------------------------------------------------------

select_n_p = Primitive('select_n')


@select_n_p.def_impl
def _select_n_impl(xp, which, *cases):
    if len(cases) == 1:
        return cases[0]
    if which.dtype == np.bool_:
        return xp.where(which, cases[1], cases[0])
    return xp.choose(which, cases)


@select_n_p.def_abstract_eval
def _select_n_abstract(which, *cases):
    from fn_dl.core.aval import describe
    if not cases:
        raise ValueError("select_n: needs at least one case")
    if which.dtype != dtypes.bool_ and which.dtype not in INT:
        raise TypeError(f"select_n: the selector must be bool or integer, got {which.dtype}")
    if which.dtype == dtypes.bool_ and len(cases) > 2:
        raise TypeError("select_n: a bool selector picks between exactly two cases")
    c0 = cases[0]
    if any(c.shape != c0.shape or c.dtype != c0.dtype for c in cases):
        raise TypeError(f"select_n: cases must have equal shapes and dtypes, got {describe(cases)}")
    if which.shape not in ((), c0.shape):
        raise ValueError(f"select_n: selector shape {which.shape} must be () or the cases' shape {c0.shape}")
    return ShapedArray(c0.shape, c0.dtype, all(c.weak_type for c in cases))


def select_n(which, *cases):
    """cases[which] elementwise (which: bool picks cases[1] where True)."""
    return select_n_p.bind(which, *cases)


@select_n_p.def_jvp
def _select_n_jvp(primals, tangents):
    which, *cases = primals
    out = select_n(which, *cases)
    ts = tangents[1:]
    if all(type(t) is Zero for t in ts):
        return out, Zero(out.aval)
    return out, select_n(which, *[instantiate(t) for t in ts])


@select_n_p.def_transpose
def _select_n_transpose(ct, which, *cases):
    if is_undefined(which):
        raise TypeError("select_n: the selector cannot be a linear input")
    zeros = _zeros(ct.aval)
    outs = [None]
    for i, c in enumerate(cases):
        if not is_undefined(c):
            outs.append(None)
        else:
            picks = [zeros] * len(cases)
            picks[i] = ct
            outs.append(select_n(which, *picks))
    return outs


@select_n_p.def_batch
def _select_n_batch(args, dims):
    from fn_dl.ops._rules import move_bdim
    from fn_dl.ops.shape import broadcast_in_dim
    which, *cases = args
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    # the batch axis goes where the first batched case has it, so that agreeing cases are not transposed
    c, cd = next(((c, d) for c, d in zip(cases, dims[1:]) if d is not None), (cases[0], None))
    case_shape = tuple(s for i, s in enumerate(c.shape) if i != cd)
    cd = 0 if cd is None else cd
    cases = [move_bdim(c, d, size, cd) for c, d in zip(cases, dims[1:])]
    if which.ndim - (dims[0] is not None) == 0 and case_shape:
        if dims[0] is None:  # one scalar selector for every example
            return select_n(which, *cases), cd
        which = broadcast_in_dim(which, cases[0].shape, (cd,))
    else:
        which = move_bdim(which, dims[0], size, cd)
    return select_n(which, *cases), cd


select_n_p.lower = 'select_n'


# --- casts ------------------------------------------------------------------------------------

convert_element_type_p = Primitive('convert_element_type')


@convert_element_type_p.def_impl
def _convert_impl(xp, x, *, new_dtype, weak_type=False):
    if x.dtype.kind == 'c' and new_dtype.kind != 'c':
        x = x.real  # complex to real drops the imaginary part, as XLA
    out = None if x.dtype == new_dtype else xp.output_buffer(x.shape, new_dtype)  # None when small
    if out is None:
        return x.astype(new_dtype, copy=False)
    xp.copyto(out, x, casting='unsafe')  # what astype does, into a reused buffer
    return out


@convert_element_type_p.def_abstract_eval
def _convert_abstract(x, *, new_dtype, weak_type=False):
    return ShapedArray(x.shape, new_dtype, weak_type)


def convert_element_type(x, new_dtype, weak_type=False):
    new_dtype = dtypes.canonicalize(new_dtype)
    if x.dtype == new_dtype and getattr(x, 'weak_type', False) == weak_type:
        return x
    return convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=weak_type)


@convert_element_type_p.def_jvp
def _convert_jvp(primals, tangents, *, new_dtype, weak_type=False):
    (x,), (t,) = primals, tangents
    out = convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=weak_type)
    if type(t) is Zero or not dtypes.is_inexact(new_dtype) or not dtypes.is_inexact(x.dtype):
        return out, Zero(out.aval)
    return out, convert_element_type_p.bind(t, new_dtype=new_dtype, weak_type=weak_type)


@convert_element_type_p.def_transpose
def _convert_transpose(ct, x, *, new_dtype, weak_type=False):
    return [convert_element_type_p.bind(ct, new_dtype=x.aval.dtype, weak_type=x.aval.weak_type)]


convert_element_type_p.batch = lambda args, dims, **p: (convert_element_type_p.bind(*args, **p), dims[0])
convert_element_type_p.lower = 'convert'

bitcast_convert_type_p = Primitive('bitcast_convert_type', differentiable=False)


@bitcast_convert_type_p.def_impl
def _bitcast_impl(xp, x, *, new_dtype):
    return xp.asarray(x).view(new_dtype)


@bitcast_convert_type_p.def_abstract_eval
def _bitcast_abstract(x, *, new_dtype):
    if np.dtype(new_dtype).itemsize != np.dtype(x.dtype).itemsize:
        raise TypeError(f"bitcast_convert_type: {x.dtype} and {new_dtype} differ in width")
    return ShapedArray(x.shape, new_dtype)


def bitcast_convert_type(x, new_dtype):
    return bitcast_convert_type_p.bind(x, new_dtype=dtypes.canonicalize(new_dtype))


bitcast_convert_type_p.jvp = lambda primals, tangents, **p: (
    (out := bitcast_convert_type_p.bind(*primals, **p)), Zero(out.aval))
bitcast_convert_type_p.batch = lambda args, dims, **p: (bitcast_convert_type_p.bind(*args, **p), dims[0])
bitcast_convert_type_p.lower = 'stablehlo.bitcast_convert'


# --- stop_gradient ---------------------------------------------------------------------------

# the identity, with a zero derivative: its JVP rule says the tangent is Zero
stop_gradient_p = elementwise('stop_gradient', lambda xp, x: x, allowed=ALL, hlo='identity', differentiable=False)


# last: fn_dl.ops.shape builds on this module's primitives (JVP rules here call its `full` at run time,
# through the module, rather than importing it per call)
from fn_dl.ops import shape as _shape  # noqa: E402

"""Cumulative reductions along one axis: cumsum, cumprod, cummax, cummin, cumlogsumexp.

cumsum is linear (its transpose is the cumsum running the other way). The
others differentiate through `associative_scan`, a parallel prefix scan built
from slices, pads and the elementwise combiner, as JAX does: its derivative is
the combiner's, so zeros (cumprod) and ties (cummax, which splits a tie's
tangent evenly like `max`) come out right, to any order.
"""
from __future__ import annotations

from fn_dl.core import dtypes
from fn_dl.core.aval import describe
from fn_dl.core.staging import stage
from fn_dl.ops import elementwise as ew
from fn_dl.ops._rules import FLOAT, NUMERIC, REAL, Primitive, ShapedArray, Zero, deflinear, moveaxis
from fn_dl.ops.shape import concatenate, full, pad, rev, slice


def _slice_axis(x, axis, start, stop, stride=1):
    lo, hi, st = [0] * x.ndim, list(x.shape), [1] * x.ndim
    lo[axis], hi[axis], st[axis] = start, stop, stride
    return slice(x, lo, hi, st)


def _interleave(a, b, axis):
    """a[0], b[0], a[1], b[1], ... along `axis` (a has as many elements as b, or one more)."""
    extra = a.shape[axis] - b.shape[axis]
    a_cfg, b_cfg = [(0, 0, 0)] * a.ndim, [(0, 0, 0)] * b.ndim
    a_cfg[axis], b_cfg[axis] = (0, 1 - extra, 1), (1, extra, 1)
    zero = full((), 0, a.dtype)
    op = ew.bitwise_or if a.dtype == dtypes.bool_ else ew.add  # the padding zeros leave values unchanged
    return op(pad(a, zero, a_cfg), pad(b, zero, b_cfg))


def associative_scan(combine, x, axis, reverse=False):
    """Inclusive scan of `x` along `axis` with an associative elementwise `combine(a, b)`.

    O(n) work in O(log n) steps of slicing (Blelloch's odd/even recursion);
    differentiable whenever `combine` is.
    """
    def scan(x):
        n = x.shape[axis]
        if n < 2:
            return x
        # combine neighbouring pairs, scan the half-length result: that gives the odd positions
        odd = scan(combine(_slice_axis(x, axis, 0, n - 1, 2), _slice_axis(x, axis, 1, n, 2)))
        # each even position (after the first) is the preceding odd prefix combined with itself
        prev = _slice_axis(odd, axis, 0, odd.shape[axis] - 1) if n % 2 == 0 else odd
        even = combine(prev, _slice_axis(x, axis, 2, n, 2))
        even = concatenate([_slice_axis(x, axis, 0, 1), even], axis)
        return _interleave(even, odd, axis)

    if reverse:
        return rev(scan(rev(x, (axis,))), (axis,))
    return scan(x)


def _logaddexp(a, b):
    """log(exp(a) + exp(b)) as hi + log1p(exp(lo - hi)).

    hi and lo are *selected* from a and b rather than computed with max/min, so
    each branch is the same analytic function of (a, b): derivatives of every
    order are exact, ties included (max's kink would zero the second derivative).
    """
    swap = ew.lt(a, b)
    hi, lo = ew.select_n(swap, a, b), ew.select_n(swap, b, a)
    delta = ew.sub(lo, hi)
    out = ew.add(hi, ew.log1p_p.bind(ew.exp(delta)))
    # lo - hi is NaN for infinities of one sign, or a NaN operand: a + b is then the answer
    return ew.select_n(ew.ne(delta, delta), out, ew.add(a, b))


def _cumulative(name, accumulate, *, allowed, combine, linear=False):
    prim = Primitive(name)

    def impl(xp, x, *, axis, reverse):
        if reverse:
            return xp.flip(accumulate(xp, xp.flip(x, axis), axis), axis)
        return accumulate(xp, x, axis)

    def abstract_eval(x, *, axis, reverse):
        if not 0 <= axis < x.ndim:
            raise ValueError(f"{name}: axis {axis} is out of range for {describe([x])}")
        if x.dtype not in allowed:
            raise TypeError(f"{name}: does not accept {describe([x])}")
        return ShapedArray(x.shape, x.dtype, x.weak_type)

    def batch(args, dims, *, axis, reverse):
        x = moveaxis(args[0], dims[0], 0)
        return prim.bind(x, axis=axis + 1, reverse=reverse), 0

    def lower(ctx, x, *, axis, reverse):
        # the parallel prefix scan, as JAX lowers cumulative reductions for CPU and GPU
        program = stage(lambda v: [associative_scan(combine, v, axis, reverse)], ctx.avals_in)
        return ctx.lower_program(program, [x])[0]

    prim.impl, prim.abstract_eval, prim.batch, prim.lower = impl, abstract_eval, batch, lower
    if not linear:
        def jvp(primals, tangents, *, axis, reverse):
            from fn_dl.transforms.ad import jvp as _jvp
            (x,), (t,) = primals, tangents
            if type(t) is Zero:
                out = prim.bind(x, axis=axis, reverse=reverse)
                return out, Zero(out.aval)
            return _jvp(lambda v: associative_scan(combine, v, axis, reverse), (x,), (t,))
        prim.jvp = jvp
    return prim


cumsum_p = _cumulative('cumsum', lambda xp, x, axis: xp.cumsum(x, axis=axis, dtype=x.dtype),
                       allowed=NUMERIC, combine=ew.add, linear=True)
cumprod_p = _cumulative('cumprod', lambda xp, x, axis: xp.cumprod(x, axis=axis, dtype=x.dtype),
                        allowed=NUMERIC, combine=ew.mul)
cummax_p = _cumulative('cummax', lambda xp, x, axis: xp.maximum.accumulate(x, axis=axis),
                       allowed=REAL, combine=ew.max)
cummin_p = _cumulative('cummin', lambda xp, x, axis: xp.minimum.accumulate(x, axis=axis),
                       allowed=REAL, combine=ew.min)
cumlogsumexp_p = _cumulative('cumlogsumexp', lambda xp, x, axis: xp.logaddexp.accumulate(x, axis=axis),
                             allowed=FLOAT, combine=_logaddexp)

deflinear(cumsum_p, lambda ct, x, *, axis, reverse: [cumsum_p.bind(ct, axis=axis, reverse=not reverse)])


def _bind(prim, x, axis, reverse):
    if x.ndim == 0:
        raise ValueError(f"{prim.name}: needs an array of rank >= 1, got a scalar")
    params = dict(axis=int(axis) % x.ndim, reverse=bool(reverse))
    prim.abstract_eval(x.aval, **params)  # the eager impl would accept (and change) some dtypes it must not
    return prim.bind(x, **params)


def cumsum(x, axis=0, reverse=False):
    """Inclusive running sum along `axis` (from the end when `reverse`).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.cumulative import cumsum
    >>> cumsum(fnp.asarray([1, 2, 3])).tolist(), cumsum(fnp.asarray([1, 2, 3]), reverse=True).tolist()
    ([1, 3, 6], [6, 5, 3])
    """
    return _bind(cumsum_p, x, axis, reverse)


def cumprod(x, axis=0, reverse=False):
    """Inclusive running product along `axis`.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.cumulative import cumprod
    >>> cumprod(fnp.asarray([1.0, 2.0, 3.0])).tolist()
    [1.0, 2.0, 6.0]
    """
    return _bind(cumprod_p, x, axis, reverse)


def cummax(x, axis=0, reverse=False):
    """Running maximum along `axis`.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.cumulative import cummax
    >>> cummax(fnp.asarray([1, 3, 2, 5])).tolist()
    [1, 3, 3, 5]
    """
    return _bind(cummax_p, x, axis, reverse)


def cummin(x, axis=0, reverse=False):
    """Running minimum along `axis`.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.cumulative import cummin
    >>> cummin(fnp.asarray([3, 1, 2, 0])).tolist()
    [3, 1, 1, 0]
    """
    return _bind(cummin_p, x, axis, reverse)


def cumlogsumexp(x, axis=0, reverse=False):
    """Running log(sum(exp(x))) along `axis`, computed stably.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.cumulative import cumlogsumexp
    >>> [round(v, 4) for v in cumlogsumexp(fnp.asarray([0.0, 0.0])).tolist()]
    [0.0, 0.6931]
    """
    return _bind(cumlogsumexp_p, x, axis, reverse)


__all__ = ['cumsum', 'cumprod', 'cummax', 'cummin', 'cumlogsumexp', 'associative_scan']

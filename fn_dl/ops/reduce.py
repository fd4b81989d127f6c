"""Reductions over axes: sum, prod, max, min, and, or, argmax, argmin."""
from __future__ import annotations

import numpy as np

from fn_dl.core import dtypes
from fn_dl.backends.xla.lowering import compare, i64_array, i64_attr, select
from fn_dl.core.aval import describe
from fn_dl.ops._rules import (ALL, INT_OR_BOOL, NUMERIC, REAL, Primitive, ShapedArray, Zero, deflinear, skip_bdim)
from fn_dl.ops.elementwise import convert_element_type, div, eq, mul
from fn_dl.ops.shape import broadcast_in_dim, concatenate, full, reshape, slice, transpose


def _check_axes(name, x, axes):
    if len(set(axes)) != len(axes) or any(not 0 <= a < x.ndim for a in axes):
        raise ValueError(f"{name}: axes {axes} are invalid for {describe([x])}")


def _reduction(name, impl, *, allowed, hlo, differentiable=True, keep_dtype=True):
    prim = Primitive(name, differentiable=differentiable)

    def abstract_eval(x, *, axes):
        _check_axes(name, x, axes)
        if x.dtype not in allowed:
            raise TypeError(f"{name}: does not accept {describe([x])}")
        shape = tuple(s for i, s in enumerate(x.shape) if i not in axes)
        return ShapedArray(shape, x.dtype, x.weak_type)

    def batch(args, dims, *, axes):
        (x,), (d,) = args, dims
        # reduce around the batch axis where it is: no transpose
        return prim.bind(x, axes=skip_bdim(axes, d)), d - sum(a < d for a in axes)

    def lower(ctx, x, *, axes):
        aval, out = ctx.avals_in[0], ctx.avals_out[0]
        scalar = ShapedArray((), aval.dtype)
        init = ctx.splat(_init_value(hlo, aval.dtype), scalar)
        body = ctx.region([scalar, scalar], [scalar], lambda sub, ab: [sub.op1(
            f'stablehlo.{hlo}', ab, [scalar, scalar], scalar)])
        return ctx.op1('stablehlo.reduce', [x, init], [aval, scalar], out, {'dimensions': i64_array(axes)}, [body])

    prim.impl = impl
    prim.abstract_eval = abstract_eval
    prim.batch = batch
    prim.lower = lower
    return prim


def _init_value(op, dtype):
    """The identity of a reduction's combiner."""
    if op == 'add' or op == 'or':
        return 0
    if op == 'multiply' or op == 'and':
        return 1
    big = np.inf if dtypes.is_inexact(dtype) else (True if dtypes.is_bool(dtype) else np.iinfo(dtype).max)
    small = -np.inf if dtypes.is_inexact(dtype) else (False if dtypes.is_bool(dtype) else np.iinfo(dtype).min)
    return small if op == 'maximum' else big


def _axes(x, axes):
    ndim = x.ndim
    key = (axes, ndim)
    try:
        return _AXES[key]
    except (KeyError, TypeError):  # new, or unhashable (a list)
        out = tuple(sorted(int(a) % max(ndim, 1) for a in axes))
        if type(axes) is tuple and len(_AXES) < 4096:
            _AXES[key] = out
        return out


_AXES: dict = {}  # (axes, ndim) -> sorted non-negative axes: reductions ask for the same few


reduce_sum_p = _reduction('reduce_sum', lambda xp, x, *, axes: xp.asarray(x.sum(axes, x.dtype)),
                          allowed=NUMERIC, hlo='add')
reduce_prod_p = _reduction('reduce_prod', lambda xp, x, *, axes: xp.asarray(x.prod(axes, x.dtype)),
                           allowed=NUMERIC, hlo='multiply')
reduce_max_p = _reduction('reduce_max', lambda xp, x, *, axes: xp.asarray(x.max(axes)),
                          allowed=ALL, hlo='maximum')
reduce_min_p = _reduction('reduce_min', lambda xp, x, *, axes: xp.asarray(x.min(axes)),
                          allowed=ALL, hlo='minimum')
reduce_and_p = _reduction('reduce_and', lambda xp, x, *, axes: xp.asarray(x.all(axes)),
                          allowed=INT_OR_BOOL, hlo='and', differentiable=False)
reduce_or_p = _reduction('reduce_or', lambda xp, x, *, axes: xp.asarray(x.any(axes)),
                         allowed=INT_OR_BOOL, hlo='or', differentiable=False)
for _p in (reduce_and_p, reduce_or_p):
    _p.jvp = (lambda p: lambda primals, tangents, **kw: ((o := p.bind(*primals, **kw)), Zero(o.aval)))(_p)


def reduce_sum(x, axes):
    axes = _axes(x, axes)
    return x if not axes else reduce_sum_p.bind(x, axes=axes)


def reduce_prod(x, axes):
    axes = _axes(x, axes)
    return x if not axes else reduce_prod_p.bind(x, axes=axes)


def reduce_max(x, axes):
    axes = _axes(x, axes)
    return x if not axes else reduce_max_p.bind(x, axes=axes)


def reduce_min(x, axes):
    axes = _axes(x, axes)
    return x if not axes else reduce_min_p.bind(x, axes=axes)


def reduce_and(x, axes):
    return reduce_and_p.bind(x, axes=_axes(x, axes))


def reduce_or(x, axes):
    return reduce_or_p.bind(x, axes=_axes(x, axes))


def _kept(x_shape, axes):
    return tuple(i for i in range(len(x_shape)) if i not in axes)


deflinear(reduce_sum_p, lambda ct, x, *, axes: [broadcast_in_dim(ct, x.aval.shape, _kept(x.aval.shape, axes))])


def _minmax_jvp(prim):
    # the tangent at the extremum, averaged over ties (as JAX), so it is symmetric
    def jvp(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        ans = prim.bind(x, axes=axes)
        if type(t) is Zero:
            return ans, Zero(ans.aval)
        kept = _kept(x.shape, axes)
        at_ext = eq(x, broadcast_in_dim(ans, x.shape, kept))
        mask = convert_element_type(at_ext, x.dtype)  # not select: np.where is slow on unpredictable masks
        count = reduce_sum_p.bind(mask, axes=axes)
        return ans, div(reduce_sum_p.bind(mul(t, mask), axes=axes), count)
    prim.jvp = jvp


_minmax_jvp(reduce_max_p)
_minmax_jvp(reduce_min_p)


def _prod_tree(x, axes):
    """reduce_prod as a tree of pairwise products: differentiable everywhere, zeros included."""
    kept = _kept(x.shape, axes)
    x = transpose(x, kept + tuple(axes))
    n = int(np.prod([x.shape[i] for i in range(len(kept), x.ndim)], dtype=np.int64))
    lead = x.shape[:len(kept)]
    x = reshape(x, lead + (n,))
    while x.shape[-1] > 1:
        m = x.shape[-1]
        if m % 2:
            x = concatenate([x, full(lead + (1,), 1, x.dtype)], len(lead))
            m += 1
        x = reshape(x, lead + (m // 2, 2))
        a = slice(x, (0,) * (len(lead) + 1) + (0,), lead + (m // 2, 1))
        b = slice(x, (0,) * (len(lead) + 1) + (1,), lead + (m // 2, 2))
        x = reshape(mul(a, b), lead + (m // 2,))
    return reshape(x, lead) if n else full(lead, 1, x.dtype)


@reduce_prod_p.def_jvp
def _reduce_prod_jvp(primals, tangents, *, axes):
    from fn_dl.transforms.ad import jvp
    (x,), (t,) = primals, tangents
    if type(t) is Zero:
        ans = reduce_prod_p.bind(x, axes=axes)
        return ans, Zero(ans.aval)
    return jvp(lambda v: _prod_tree(v, axes), (x,), (t,))


# --- argmax / argmin ------------------------------------------------------------------------

def _arg_reduction(name, impl):
    prim = Primitive(name, differentiable=False)

    @prim.def_impl
    def _impl(xp, x, *, axis, index_dtype):
        return xp.asarray(impl(xp, x, axis)).astype(index_dtype, copy=False)

    @prim.def_abstract_eval
    def _abstract(x, *, axis, index_dtype):
        _check_axes(name, x, (axis,))
        if x.dtype not in REAL | {dtypes.bool_}:
            raise TypeError(f"{name}: does not accept {describe([x])}")
        if x.shape[axis] == 0:
            raise ValueError(f"{name}: axis {axis} of {describe([x])} is empty")
        return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i != axis), index_dtype)

    @prim.def_batch
    def _batch(args, dims, *, axis, index_dtype):
        (x,), (d,) = args, dims
        return prim.bind(x, axis=axis + (axis >= d), index_dtype=index_dtype), d - (axis < d)

    prim.jvp = lambda primals, tangents, **kw: ((o := prim.bind(*primals, **kw)), Zero(o.aval))
    prim.lower = lambda ctx, x, *, axis, index_dtype: _argminmax_lower(ctx, x, axis, index_dtype, name)
    return prim


def _argminmax_lower(ctx, x, axis, index_dtype, name):
    """A two-operand reduce over (value, index); NaN wins and ties go to the first index, as NumPy."""
    aval, out = ctx.avals_in[0], ctx.avals_out[0]
    idx_aval = aval.update(dtype=index_dtype)
    idx = ctx.op1('stablehlo.iota', [], [], idx_aval, {'iota_dimension': i64_attr(axis)})
    sv, si = ShapedArray((), aval.dtype), ShapedArray((), index_dtype)
    sb = ShapedArray((), dtypes.bool_)
    direction = 'GT' if name == 'argmax' else 'LT'

    def body(sub, a):
        av, ai, bv, bi = a
        better = compare(sub, direction, av, bv, sv)
        if dtypes.is_inexact(aval.dtype):
            better = sub.op1('stablehlo.or', [better, compare(sub, 'NE', av, av, sv)], [sb, sb], sb)
        tie = sub.op1('stablehlo.and', [compare(sub, 'EQ', av, bv, sv), compare(sub, 'LT', ai, bi, si)], [sb, sb], sb)
        pick_i = sub.op1('stablehlo.or', [better, tie], [sb, sb], sb)
        return [select(sub, better, av, bv, sv, sb), select(sub, pick_i, ai, bi, si, sb)]

    region = ctx.region([sv, si, sv, si], [sv, si], body)
    init_v = ctx.splat(_init_value('maximum' if name == 'argmax' else 'minimum', aval.dtype), sv)
    init_i = ctx.splat(0, si)
    outs = ctx.op('stablehlo.reduce', [x, idx, init_v, init_i], [aval, idx_aval, sv, si],
                  [out.update(dtype=aval.dtype), out], {'dimensions': i64_array([axis])}, [region])
    return outs[1]


argmax_p = _arg_reduction('argmax', lambda xp, x, axis: xp.argmax(x, axis=axis))
argmin_p = _arg_reduction('argmin', lambda xp, x, axis: xp.argmin(x, axis=axis))


def argmax(x, axis, index_dtype=dtypes.int32):
    return argmax_p.bind(x, axis=int(axis) % x.ndim, index_dtype=dtypes.canonicalize(index_dtype))


def argmin(x, axis, index_dtype=dtypes.int32):
    return argmin_p.bind(x, axis=int(axis) % x.ndim, index_dtype=dtypes.canonicalize(index_dtype))

"""Shape primitives: broadcast_in_dim, reshape, transpose, concatenate, pad, slice, rev, iota.

All but iota are linear, so each carries a transpose rule; squeeze,
expand_dims and full are compositions of these.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.array import Array
from fn_dl.core.primitive import default_namespace
from fn_dl.core.trace import state
from fn_dl.backends.xla.lowering import i64_array, i64_attr
from fn_dl.core.aval import describe, shape_str
from fn_dl.ops.elementwise import select_n, sub
from fn_dl.ops._rules import (Primitive, ShapedArray, Zero, bdim_at_front, deflinear, instantiate, is_undefined,
                              move_bdim, moveaxis, skip_bdim)

# --- broadcast_in_dim ----------------------------------------------------------------

broadcast_in_dim_p = Primitive('broadcast_in_dim')
_FILL_MAX = 1 << 14  # elements: below this, filling an array is cheaper than building a broadcast view


@broadcast_in_dim_p.def_impl
def _broadcast_in_dim_impl(xp, x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for src, dst in enumerate(broadcast_dimensions):
        expanded[dst] = x.shape[src]
    x = x.reshape(expanded)  # array methods: xp.reshape and friends are Python wrappers around them
    if math.prod(shape) <= _FILL_MAX:  # as in `full`: copying a small result beats building a view
        out = xp.empty(shape, x.dtype)
        out[...] = x
        return out
    return xp.broadcast_to(x, shape)


@broadcast_in_dim_p.def_abstract_eval
def _broadcast_in_dim_abstract(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim or any(
            not (0 <= d < len(shape)) or x.shape[i] not in (1, shape[d]) for i, d in enumerate(broadcast_dimensions)) \
            or list(broadcast_dimensions) != sorted(set(broadcast_dimensions)):
        raise ValueError(f"broadcast_in_dim: cannot broadcast {describe([x])} to {shape_str(shape)} "
                         f"along dimensions {tuple(broadcast_dimensions)}")
    return ShapedArray(shape, x.dtype, x.weak_type)


def broadcast_in_dim(x, shape, broadcast_dimensions):
    shape, broadcast_dimensions = tuple(map(int, shape)), tuple(broadcast_dimensions)
    if x.shape == shape and broadcast_dimensions == tuple(range(len(shape))):
        return x
    return broadcast_in_dim_p.bind(x, shape=shape, broadcast_dimensions=broadcast_dimensions)


def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions):
    from fn_dl.ops.reduce import reduce_sum
    in_shape = x.aval.shape
    summed = tuple(i for i in range(len(shape)) if i not in broadcast_dimensions)
    expanded = tuple(d for i, d in enumerate(broadcast_dimensions) if in_shape[i] == 1 and shape[d] != 1)
    out = reduce_sum(ct, summed + expanded)
    return [reshape(out, in_shape)]


deflinear(broadcast_in_dim_p, _broadcast_in_dim_transpose)


@broadcast_in_dim_p.def_batch
def _broadcast_in_dim_batch(args, dims, *, shape, broadcast_dimensions):
    (x,), (d,) = args, dims
    # the batch axis lands right after the output axis of the operand axis before it: x is not transposed
    p = broadcast_dimensions[d - 1] + 1 if d else 0
    out_shape = tuple(shape[:p]) + (x.shape[d],) + tuple(shape[p:])
    return broadcast_in_dim(x, out_shape, tuple(broadcast_dimensions[:d]) + (p,) + tuple(
        b + 1 for b in broadcast_dimensions[d:])), p


@broadcast_in_dim_p.def_lower
def _broadcast_in_dim_lower(ctx, x, *, shape, broadcast_dimensions):
    return ctx.op1('stablehlo.broadcast_in_dim', [x], ctx.avals_in, ctx.avals_out[0],
                   {'broadcast_dimensions': i64_array(broadcast_dimensions)})


def full(shape, fill_value, dtype):
    """An array of `shape` filled with `fill_value`, as a broadcast scalar (free in eager and jit)."""
    scalar = np.asarray(fill_value, dtype=dtype)
    trace = state.trace
    if trace is None or not trace.staging:
        # a constant has no derivative and no batch axis: no trace needs to see it. Small ones are
        # filled (np.full is ~4x cheaper than np.broadcast_to); large ones are a free broadcast view.
        xp, shape = default_namespace(), tuple(shape)
        if math.prod(shape) <= _FILL_MAX:
            out = xp.empty(shape, scalar.dtype)  # xp.full is a Python wrapper around these two calls
            out.fill(scalar)
            return Array(out)
        return Array(xp.broadcast_to(scalar, shape))
    return broadcast_in_dim(Array(scalar), tuple(shape), ())


# --- reshape ------------------------------------------------------------------------------

reshape_p = Primitive('reshape')


@reshape_p.def_impl
def _reshape_impl(xp, x, *, new_sizes):
    return x.reshape(new_sizes)


@reshape_p.def_abstract_eval
def _reshape_abstract(x, *, new_sizes):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise ValueError(f"reshape: cannot reshape {describe([x])} ({x.size} elements) to {shape_str(new_sizes)}")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


def reshape(x, new_sizes):
    new_sizes = tuple(int(d) for d in new_sizes)
    if x.shape == new_sizes:
        return x
    return reshape_p.bind(x, new_sizes=new_sizes)


deflinear(reshape_p, lambda ct, x, *, new_sizes: [reshape(ct, x.aval.shape)])


@reshape_p.def_batch
def _reshape_batch(args, dims, *, new_sizes):
    x = moveaxis(args[0], dims[0], 0)
    return reshape(x, (x.shape[0],) + tuple(new_sizes)), 0


reshape_p.lower = lambda ctx, x, *, new_sizes: ctx.op1('stablehlo.reshape', [x], ctx.avals_in, ctx.avals_out[0])


def squeeze(x, dimensions):
    dims = {d % x.ndim for d in dimensions}
    for d in dims:
        if x.shape[d] != 1:
            raise ValueError(f"squeeze: dimension {d} of {describe([x.aval])} has size {x.shape[d]}, not 1")
    return reshape(x, [s for i, s in enumerate(x.shape) if i not in dims])


def expand_dims(x, dimensions):
    ndim = x.ndim + len(dimensions)
    dims = sorted(d % ndim for d in dimensions)
    shape = list(x.shape)
    for d in dims:
        shape.insert(d, 1)
    return reshape(x, shape)


# --- transpose ----------------------------------------------------------------------------------

transpose_p = Primitive('transpose')


@transpose_p.def_impl
def _transpose_impl(xp, x, *, permutation):
    return x.transpose(permutation)


@transpose_p.def_abstract_eval
def _transpose_abstract(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise ValueError(f"transpose: {tuple(permutation)} is not a permutation of the axes of {describe([x])}")
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


def transpose(x, permutation):
    permutation = tuple(int(p) for p in permutation)
    if permutation == tuple(range(x.ndim)):
        return x
    return transpose_p.bind(x, permutation=permutation)


deflinear(transpose_p, lambda ct, x, *, permutation: [transpose(ct, tuple(np.argsort(permutation)))])


@transpose_p.def_batch
def _transpose_batch(args, dims, *, permutation):
    (x,), (d,) = args, dims
    # one transpose that also brings the batch axis to the front
    return transpose(x, (d,) + skip_bdim(permutation, d)), 0


transpose_p.lower = lambda ctx, x, *, permutation: ctx.transpose(x, permutation, ctx.avals_in[0], ctx.avals_out[0])


# --- concatenate ---------------------------------------------------------------------------------

concatenate_p = Primitive('concatenate')


@concatenate_p.def_impl
def _concatenate_impl(xp, *xs, dimension):
    shape = list(xs[0].shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    # into a reused buffer when large (see ufunc_impl)
    return xp.concatenate(xs, axis=dimension, out=xp.output_buffer(tuple(shape), xs[0].dtype))


@concatenate_p.def_abstract_eval
def _concatenate_abstract(*xs, dimension):
    x0 = xs[0]
    if not 0 <= dimension < x0.ndim:
        raise ValueError(f"concatenate: dimension {dimension} out of range for {describe(xs)}")
    for x in xs:
        if x.ndim != x0.ndim or any(a != b for i, (a, b) in enumerate(zip(x.shape, x0.shape)) if i != dimension):
            raise ValueError(f"concatenate: shapes must agree except along dimension {dimension}, got {describe(xs)}")
        if x.dtype != x0.dtype:
            raise TypeError(f"concatenate: dtypes must agree, got {describe(xs)}")
    shape = list(x0.shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return ShapedArray(shape, x0.dtype, all(x.weak_type for x in xs))


def concatenate(xs, dimension):
    xs = list(xs)
    if len(xs) == 1:
        return xs[0]
    return concatenate_p.bind(*xs, dimension=int(dimension))


def _concatenate_transpose(ct, *xs, dimension):
    outs, start = [], 0
    for x in xs:
        size = x.aval.shape[dimension]
        if is_undefined(x):
            lo = [0] * ct.ndim
            hi = list(ct.shape)
            lo[dimension], hi[dimension] = start, start + size
            outs.append(slice(ct, lo, hi))
        else:
            outs.append(None)
        start += size
    return outs


deflinear(concatenate_p, _concatenate_transpose)


@concatenate_p.def_batch
def _concatenate_batch(args, dims, *, dimension):
    # every operand gets its batch axis where the first batched one has it (no transpose when they agree)
    d0 = next(d for d in dims if d is not None)
    size = args[dims.index(d0)].shape[d0]
    return concatenate([move_bdim(a, d, size, d0) for a, d in zip(args, dims)], dimension + (dimension >= d0)), d0


concatenate_p.lower = lambda ctx, *xs, dimension: ctx.op1(
    'stablehlo.concatenate', list(xs), ctx.avals_in, ctx.avals_out[0], {'dimension': i64_attr(dimension)})


# --- pad ---------------------------------------------------------------------------------------

pad_p = Primitive('pad')


@pad_p.def_impl
def _pad_impl(xp, x, padding_value, *, padding_config):
    shape = tuple(_padded_size(n, lo, hi, interior) for n, (lo, hi, interior) in zip(x.shape, padding_config))
    out = xp.full(shape, padding_value, dtype=x.dtype)
    # place x into a grid with interior gaps, then crop for negative edge padding
    grid_shape = tuple(n + max(n - 1, 0) * it for n, (_, _, it) in zip(x.shape, padding_config))
    grid = xp.full(grid_shape, padding_value, dtype=x.dtype)
    grid[tuple(builtins.slice(None, None, it + 1) for (_, _, it) in padding_config)] = x
    src, dst = [], []
    for g, n_out, (lo, hi, _) in zip(grid_shape, shape, padding_config):
        s0 = max(-lo, 0)
        d0 = max(lo, 0)
        length = n_out - d0 - max(hi, 0)
        src.append(builtins.slice(s0, s0 + max(length, 0)))
        dst.append(builtins.slice(d0, d0 + max(length, 0)))
    out[tuple(dst)] = grid[tuple(src)]
    return out


def _padded_size(n, lo, hi, interior):
    return lo + hi + n + max(n - 1, 0) * interior


@pad_p.def_abstract_eval
def _pad_abstract(x, padding_value, *, padding_config):
    if len(padding_config) != x.ndim:
        raise ValueError(f"pad: padding_config has {len(padding_config)} entries for {describe([x])}")
    if padding_value.shape != () or padding_value.dtype != x.dtype:
        raise TypeError(f"pad: the padding value must be a scalar of dtype {x.dtype}, got {describe([padding_value])}")
    shape = tuple(_padded_size(n, lo, hi, it) for n, (lo, hi, it) in zip(x.shape, padding_config))
    if any(it < 0 for _, _, it in padding_config) or any(s < 0 for s in shape):
        raise ValueError(f"pad: padding {padding_config} of {describe([x])} gives a negative size")
    return ShapedArray(shape, x.dtype, x.weak_type)


def pad(x, padding_value, padding_config):
    config = tuple((int(lo), int(hi), int(it)) for lo, hi, it in padding_config)
    return pad_p.bind(x, padding_value, padding_config=config)


def _pad_transpose(ct, x, padding_value, *, padding_config):
    from fn_dl.ops.reduce import reduce_sum
    outs = [None, None]
    # undo negative edge padding, then drop the edges and the interior gaps
    unneg = pad(ct, full((), 0, ct.dtype), [(max(-lo, 0), max(-hi, 0), 0) for lo, hi, _ in padding_config])
    lo = [max(lo, 0) for lo, _, _ in padding_config]
    hi = [s - max(h, 0) for s, (_, h, _) in zip(unneg.shape, padding_config)]
    t_x = slice(unneg, lo, hi, [it + 1 for _, _, it in padding_config])
    if is_undefined(x):
        outs[0] = t_x
    if is_undefined(padding_value):
        outs[1] = sub(reduce_sum(ct, tuple(range(ct.ndim))), reduce_sum(t_x, tuple(range(t_x.ndim))))
    return outs


deflinear(pad_p, _pad_transpose)


@pad_p.def_batch
def _pad_batch(args, dims, *, padding_config):
    (x, v), (dx, dv) = args, dims
    if dv is None:  # the batch axis is not padded, where it is
        return pad(x, v, tuple(padding_config[:dx]) + ((0, 0, 0),) + tuple(padding_config[dx:])), dx
    # a batched padding value: pad with zeros, then select the value where the mask says "padding"
    size = v.shape[dv]
    x = bdim_at_front(x, dx, size)
    v = moveaxis(v, dv, 0)
    config = ((0, 0, 0),) + tuple(padding_config)
    padded = pad(x, full((), 0, x.dtype), config)
    mask = pad(full(x.shape, True, np.bool_), full((), False, np.bool_), config)
    return select_n(mask, broadcast_in_dim(v, padded.shape, (0,)), padded), 0


@pad_p.def_lower
def _pad_lower(ctx, x, v, *, padding_config):
    lo, hi, it = zip(*padding_config) if padding_config else ((), (), ())
    return ctx.op1('stablehlo.pad', [x, v], ctx.avals_in, ctx.avals_out[0],
                   {'edge_padding_low': i64_array(lo), 'edge_padding_high': i64_array(hi),
                    'interior_padding': i64_array(it)})


# --- slice -------------------------------------------------------------------------------------

slice_p = Primitive('slice')


@slice_p.def_impl
def _slice_impl(xp, x, *, start_indices, limit_indices, strides):
    return x[tuple(builtins.slice(s, e, st) for s, e, st in zip(start_indices, limit_indices, strides))]


@slice_p.def_abstract_eval
def _slice_abstract(x, *, start_indices, limit_indices, strides):
    if not (len(start_indices) == len(limit_indices) == len(strides) == x.ndim) or any(
            not (0 <= s <= e <= n) or st < 1 for s, e, st, n in zip(start_indices, limit_indices, strides, x.shape)):
        raise ValueError(f"slice: start {start_indices}, limit {limit_indices}, strides {strides} "
                         f"do not fit {describe([x])}")
    shape = tuple(-(-(e - s) // st) for s, e, st in zip(start_indices, limit_indices, strides))
    return ShapedArray(shape, x.dtype, x.weak_type)


def slice(x, start_indices, limit_indices, strides=None):  # noqa: A001
    start, limit = tuple(map(int, start_indices)), tuple(map(int, limit_indices))
    strides = (1,) * x.ndim if strides is None else tuple(map(int, strides))
    if start == (0,) * x.ndim and limit == tuple(x.shape) and strides == (1,) * x.ndim:
        return x
    return slice_p.bind(x, start_indices=start, limit_indices=limit, strides=strides)


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    shape = x.aval.shape
    config = []
    for n, s, e, st, m in zip(shape, start_indices, limit_indices, strides, ct.shape):
        real_end = s + (m - 1) * st + 1 if m else s
        config.append((s, n - real_end, st - 1))
    return [pad(ct, full((), 0, ct.dtype), config)]


deflinear(slice_p, _slice_transpose)


@slice_p.def_batch
def _slice_batch(args, dims, *, start_indices, limit_indices, strides):
    (x,), (d,) = args, dims
    whole = lambda t, v: tuple(t[:d]) + (v,) + tuple(t[d:])  # noqa: E731  (all of the batch axis)
    return slice(x, whole(start_indices, 0), whole(limit_indices, x.shape[d]), whole(strides, 1)), d


slice_p.lower = lambda ctx, x, *, start_indices, limit_indices, strides: ctx.op1(
    'stablehlo.slice', [x], ctx.avals_in, ctx.avals_out[0],
    {'start_indices': i64_array(start_indices), 'limit_indices': i64_array(limit_indices),
     'strides': i64_array(strides)})


# --- rev -----------------------------------------------------------------------------------------

rev_p = Primitive('rev')


@rev_p.def_impl
def _rev_impl(xp, x, *, dimensions):
    return xp.flip(x, axis=dimensions) if dimensions else x


@rev_p.def_abstract_eval
def _rev_abstract(x, *, dimensions):
    if any(not 0 <= d < x.ndim for d in dimensions):
        raise ValueError(f"rev: dimensions {dimensions} out of range for {describe([x])}")
    return x


def rev(x, dimensions):
    return rev_p.bind(x, dimensions=tuple(sorted(int(d) for d in dimensions)))


deflinear(rev_p, lambda ct, x, *, dimensions: [rev(ct, dimensions)])


@rev_p.def_batch
def _rev_batch(args, dims, *, dimensions):
    (x,), (d,) = args, dims
    return rev(x, skip_bdim(dimensions, d)), d


rev_p.lower = lambda ctx, x, *, dimensions: ctx.op1(
    'stablehlo.reverse', [x], ctx.avals_in, ctx.avals_out[0], {'dimensions': i64_array(dimensions)})


# --- iota ------------------------------------------------------------------------------------------

iota_p = Primitive('iota', differentiable=False)


@iota_p.def_impl
def _iota_impl(xp, *, dtype, shape, dimension):
    expanded = [1] * len(shape)
    expanded[dimension] = shape[dimension]
    return xp.broadcast_to(xp.arange(shape[dimension], dtype=dtype).reshape(expanded), shape)


@iota_p.def_abstract_eval
def _iota_abstract(*, dtype, shape, dimension):
    if not 0 <= dimension < len(shape):
        raise ValueError(f"iota: dimension {dimension} out of range for shape {shape_str(shape)}")
    return ShapedArray(shape, dtype)


def iota(dtype, shape, dimension=0):
    return iota_p.bind(dtype=dtypes.canonicalize(dtype), shape=tuple(int(s) for s in shape), dimension=int(dimension))


iota_p.jvp = lambda primals, tangents, **p: ((out := iota_p.bind(**p)), Zero(out.aval))
iota_p.lower = lambda ctx, *, dtype, shape, dimension: ctx.op1(
    'stablehlo.iota', [], [], ctx.avals_out[0], {'iota_dimension': i64_attr(dimension)})

__all__ = ['broadcast_in_dim', 'full', 'reshape', 'squeeze', 'expand_dims', 'transpose', 'concatenate', 'pad',
           'slice', 'rev', 'iota', 'instantiate']

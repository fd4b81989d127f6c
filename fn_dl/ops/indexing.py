"""Indexing primitives: gather, the scatter family, dynamic_slice, dynamic_update_slice.

gather and scatter follow StableHLO's semantics and dimension numbers exactly
(including `index_vector_dim` and the batching dimensions), so jit lowers
each to one `stablehlo.gather` / `stablehlo.scatter` with the same
attributes. The vmap rules lean on the batching dimensions: a batch axis
shared by the operand and the indices becomes an `operand_batching_dims` /
`start_indices_batching_dims` pair instead of an explicit iota in the indices.

Out-of-bounds behaviour:
- gather, mode='clip' (XLA's semantics): each start index is clamped so the
  whole slice lies in the operand. mode='fill': a slice whose start is out
  of bounds reads `fill_value` (lowered as a clamped gather and a select).
- scatter, mode='drop' (XLA's semantics): an update window that does not lie
  wholly in the operand is skipped. mode='clip': start indices are clamped
  first (the transpose of a clipping gather).
- dynamic_slice / dynamic_update_slice clamp their start indices, as XLA does.

The scatter family shares one shape rule, impl and vmap rule and differs in
how an update combines with the operand: 'scatter' (set), 'scatter_add',
'scatter_mul', 'scatter_min', 'scatter_max'. Every member lowers to
`stablehlo.scatter` with the matching combiner region.
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from fn_dl.backends.xla.lowering import compare, i64_array, select
from fn_dl.core import dtypes
from fn_dl.core.array import Array
from fn_dl.core.aval import describe, shape_str
from fn_dl.ops import elementwise as ew
from fn_dl.ops._rules import (ALL, INT, REAL, Primitive, ShapedArray, Zero, add_tangents, bdim_at_front,
                              instantiate, is_undefined, moveaxis)
from fn_dl.ops.shape import broadcast_in_dim, concatenate, full, iota, reshape


class GatherDimensionNumbers(NamedTuple):
    """StableHLO gather dimension numbers (see the module docstring for the semantics).

    index_vector_dim=None in a call to `gather` means the last axis of the indices.
    """
    offset_dims: tuple
    collapsed_slice_dims: tuple
    start_index_map: tuple
    operand_batching_dims: tuple = ()
    start_indices_batching_dims: tuple = ()
    index_vector_dim: int | None = None


class ScatterDimensionNumbers(NamedTuple):
    """StableHLO scatter dimension numbers; index_vector_dim=None means the last axis of the indices."""
    update_window_dims: tuple
    inserted_window_dims: tuple
    scatter_dims_to_operand_dims: tuple
    input_batching_dims: tuple = ()
    scatter_indices_batching_dims: tuple = ()
    index_vector_dim: int | None = None


_GATHER_MODES = ('clip', 'fill')
_SCATTER_MODES = ('clip', 'drop')
# the gather that reads back what a scatter wrote, and the scatter that transposes a gather
_GATHER_OF_SCATTER = {'clip': 'clip', 'drop': 'fill'}
_SCATTER_OF_GATHER = {'clip': 'clip', 'fill': 'drop'}


def _ints(dims):
    return tuple(int(d) for d in dims)


def index_dtype(*sizes):
    """int32 unless a size (or an index bound) needs int64."""
    return dtypes.int32 if max(sizes, default=0) < 2 ** 31 - 1 else dtypes.int64


def _check_dims(op, name, dims, rank, *, sorted_=False):
    if len(set(dims)) != len(dims) or any(not 0 <= d < rank for d in dims):
        raise ValueError(f"{op}: {name}={dims} must be distinct axes in [0, {rank})")
    if sorted_ and list(dims) != sorted(dims):
        raise ValueError(f"{op}: {name}={dims} must be sorted")


def _batch_shape(indices_shape, ivd):
    """The indices' shape without the index vector dimension (absent when ivd == rank)."""
    return tuple(s for i, s in enumerate(indices_shape) if i != ivd)


def _index_vector_size(indices_shape, ivd):
    return 1 if ivd == len(indices_shape) else indices_shape[ivd]


def _check_indices(op, indices, ivd, index_map, batching_dims, what_map):
    if indices.dtype not in INT:
        raise TypeError(f"{op}: indices must be integers, got {describe([indices])}")
    if not 0 <= ivd <= indices.ndim:
        raise ValueError(f"{op}: index_vector_dim={ivd} must be in [0, {indices.ndim}] for indices "
                         f"{describe([indices])}")
    if len(index_map) != _index_vector_size(indices.shape, ivd):
        raise ValueError(f"{op}: {what_map} has {len(index_map)} entries but indices {describe([indices])} have "
                         f"{_index_vector_size(indices.shape, ivd)} along index_vector_dim={ivd}; they must match")
    _check_dims(op, 'indices batching dims', batching_dims, indices.ndim)
    if ivd in batching_dims:
        raise ValueError(f"{op}: index_vector_dim={ivd} cannot also be a batching dimension of the indices")


# --- eager addressing shared by gather and scatter ------------------------------------------------

def _canonical_indices(xp, indices, ivd):
    """Indices with the index vector as the last axis: shape (*batch, K)."""
    if ivd == indices.ndim:
        return indices[..., None]
    return indices if ivd == indices.ndim - 1 else xp.moveaxis(indices, ivd, -1)


def _clamp(xp, s, hi):
    """Start indices clamped to [0, hi] (in a dtype wide enough for hi; uint64 stays in range)."""
    if s.dtype == np.uint64:
        return xp.minimum(s, np.uint64(hi)).astype(np.int64)
    if hi > np.iinfo(s.dtype).max:
        s = s.astype(np.int64)
    return xp.minimum(xp.maximum(s, 0), hi)


def _in_range(s, hi):
    # past-int64 uint64 values wrap negative in the cast, so they count as out of range
    s = s.astype(np.int64)
    return (s >= 0) & (s <= hi)


class _Access:
    """Where each element of a gather's output (or a scatter's updates) lives in the operand.

    `view(operand)` permutes the operand so that "free" axes (windows covering a
    whole axis with no start index) come last, where plain indexing keeps them
    without index arithmetic; `index` holds one integer array per remaining axis,
    broadcastable to the (*batch, *window) shape `full_shape` (NumPy's advanced
    indexing broadcasts them). `labels` names the axes of `view(operand)[index]`:
    ('b', i) for batch axis i, ('w', d) for operand axis d's window. `valid`
    (shape batch; None when every start is in range) says which starts were in
    range; it is computed only when `check` asks.
    """

    def __init__(self, xp, shape, idx, start_index_map, batch_pairs, window_dims, sizes, check):
        batch = idx.shape[:-1]
        nb = len(batch)
        starts, valid = {}, None
        for k, d in enumerate(start_index_map):
            s, hi = idx[..., k], shape[d] - sizes[d]
            starts[d] = _clamp(xp, s, hi)
            if check:
                ok = _in_range(s, hi)
                valid = ok if valid is None else valid & ok
        self.valid = None if valid is None or valid.all() else valid
        batch_of = dict(batch_pairs)
        free = [d for d in window_dims if d not in starts and sizes[d] == shape[d]]
        adv = [d for d in range(len(shape)) if d not in free]
        adv_windows = [d for d in window_dims if d not in free]
        rank = nb + len(adv_windows)
        self.full_shape = tuple(batch) + tuple(sizes[d] for d in adv_windows)
        index = []
        for d in adv:
            parts = []
            if d in starts:
                parts.append(starts[d].reshape(tuple(batch) + (1,) * len(adv_windows)))
            if d in batch_of:
                p = batch_of[d]
                parts.append(xp.arange(batch[p]).reshape(tuple(batch[p] if i == p else 1 for i in range(rank))))
            if d in adv_windows:
                j = nb + adv_windows.index(d)
                parts.append(xp.arange(sizes[d]).reshape(tuple(sizes[d] if i == j else 1 for i in range(rank))))
            index.append(sum(parts[1:], parts[0]) if parts else xp.zeros((1,) * rank, np.intp))
        # no indexed axis (a 0-d operand, or only whole-axis windows): index a leading dummy axis
        self.dummy = not adv
        if self.dummy:
            index.append(xp.zeros((1,) * rank, np.intp))
        if not starts and index[0].shape != self.full_shape:
            # no start indices: nothing else spans the batch axes that are not batching axes
            index[0] = xp.broadcast_to(index[0], self.full_shape)
        self.index = tuple(index)
        self.perm = tuple(adv + free)
        self.labels = [('b', i) for i in range(nb)] + [('w', d) for d in adv_windows + free]

    def view(self, xp, operand):
        v = operand if self.perm == tuple(range(operand.ndim)) else xp.transpose(operand, self.perm)
        return v[None] if self.dummy else v


def _permute(xp, x, perm):
    return x if perm == list(range(x.ndim)) else xp.transpose(x, perm)


def _layout(rank, window_positions, window_dims):
    """Labels of an output / updates array: window_positions[j] holds operand axis window_dims[j]'s window."""
    pos = dict(zip(window_positions, window_dims))
    labels, b = [], 0
    for i in range(rank):
        if i in pos:
            labels.append(('w', pos[i]))
        else:
            labels.append(('b', b))
            b += 1
    return labels


def _window_dims(rank, *excluded):
    drop = set().union(*map(set, excluded))
    return [d for d in range(rank) if d not in drop]


# --- StableHLO lowering helpers -------------------------------------------------------------------------

_GATHER_FIELDS = ('offset_dims', 'collapsed_slice_dims', 'operand_batching_dims', 'start_indices_batching_dims',
                  'start_index_map')
_SCATTER_FIELDS = ('update_window_dims', 'inserted_window_dims', 'input_batching_dims',
                   'scatter_indices_batching_dims', 'scatter_dims_to_operand_dims')


def _dnums_attr(kind, dn, fields):
    """A `#stablehlo.gather<...>` / `#stablehlo.scatter<...>` attribute, fields in the parser's order."""
    body = ', '.join(f"{f} = [{', '.join(map(str, getattr(dn, f)))}]" for f in fields)
    return f"#stablehlo.{kind}<{body}, index_vector_dim = {dn.index_vector_dim}>"


def _index_bounds(ctx, aval, ivd, his):
    """his[k], the largest in-bounds start of index component k, laid out like the indices (`aval`).

    A bound past the index dtype's range is capped at its maximum: no index of that dtype exceeds it,
    and the constant must be representable.
    """
    cap = int(np.iinfo(aval.dtype).max)
    his = [min(int(h), cap) for h in his]
    if ivd == aval.ndim:
        return ctx.splat(his[0], aval)
    vec = ShapedArray((len(his),), aval.dtype)
    return ctx.op1('stablehlo.broadcast_in_dim', [ctx.constant(np.asarray(his, aval.dtype), vec)], [vec], aval,
                   {'broadcast_dimensions': i64_array([ivd])})


def _clamp_indices(ctx, indices, aval, ivd, his):
    """Indices clamped component-wise to [0, his[k]] in their own dtype."""
    return ctx.op1('stablehlo.clamp', [ctx.splat(0, aval), indices, _index_bounds(ctx, aval, ivd, his)],
                   [aval] * 3, aval)


def _in_bounds(ctx, indices, aval, ivd, his):
    """Which index vectors have every component in [0, his[k]]: a bool array of the indices' batch shape."""
    pred = aval.update(dtype=dtypes.bool_, weak_type=False)
    ok = ctx.op1('stablehlo.and', [compare(ctx, 'GE', indices, ctx.splat(0, aval), aval),
                                   compare(ctx, 'LE', indices, _index_bounds(ctx, aval, ivd, his), aval)],
                 [pred, pred], pred)
    if ivd == aval.ndim:
        return ok
    scalar = ShapedArray((), dtypes.bool_)
    body = ctx.region([scalar, scalar], [scalar], lambda sub, ab: [sub.op1('stablehlo.and', ab, [scalar] * 2, scalar)])
    return ctx.op1('stablehlo.reduce', [ok, ctx.constant(np.True_, scalar)], [pred, scalar],
                   pred.update(shape=_batch_shape(aval.shape, ivd)), {'dimensions': i64_array([ivd])}, [body])


# --- gather -------------------------------------------------------------------------------------------

gather_p = Primitive('gather')


def _default_fill(dtype):
    """What mode='fill' reads out of bounds when no fill_value is given (JAX's choice)."""
    if dtypes.is_inexact(dtype):
        return float('nan')
    if dtype == dtypes.bool_:
        return True
    info = np.iinfo(dtype)
    return int(info.max) if dtypes.is_unsigned(dtype) else int(info.min)


@gather_p.def_impl
def _gather_impl(xp, operand, indices, *, dimension_numbers, slice_sizes, mode, fill_value):
    dn = dimension_numbers
    ivd = dn.index_vector_dim
    idx = _canonical_indices(xp, indices, ivd)
    batch_pairs = [(od, d if d < ivd else d - 1) for od, d in zip(dn.operand_batching_dims,
                                                                 dn.start_indices_batching_dims)]
    windows = _window_dims(operand.ndim, dn.collapsed_slice_dims, dn.operand_batching_dims)
    acc = _Access(xp, operand.shape, idx, dn.start_index_map, batch_pairs, windows, slice_sizes, mode == 'fill')
    out = acc.view(xp, operand)[acc.index]
    out_labels = _layout(len(dn.offset_dims) + idx.ndim - 1, dn.offset_dims, windows)
    out = _permute(xp, out, [acc.labels.index(lab) for lab in out_labels])
    if acc.valid is not None:
        mask_shape = tuple(1 if lab[0] == 'w' else s for lab, s in zip(out_labels, out.shape))
        fill = _default_fill(operand.dtype) if fill_value is None else fill_value
        out = xp.where(acc.valid.reshape(mask_shape), out, xp.asarray(fill, dtype=operand.dtype))
    return out


@gather_p.def_abstract_eval
def _gather_abstract(operand, indices, *, dimension_numbers, slice_sizes, mode, fill_value):
    dn = dimension_numbers
    ivd = dn.index_vector_dim
    op = 'gather'
    if mode not in _GATHER_MODES:
        raise ValueError(f"gather: mode must be one of {_GATHER_MODES}, got {mode!r}")
    _check_indices(op, indices, ivd, dn.start_index_map, dn.start_indices_batching_dims, 'start_index_map')
    batch = _batch_shape(indices.shape, ivd)
    out_rank = len(batch) + len(dn.offset_dims)
    _check_dims(op, 'offset_dims', dn.offset_dims, out_rank, sorted_=True)
    _check_dims(op, 'collapsed_slice_dims', dn.collapsed_slice_dims, operand.ndim, sorted_=True)
    _check_dims(op, 'operand_batching_dims', dn.operand_batching_dims, operand.ndim, sorted_=True)
    _check_dims(op, 'start_index_map', dn.start_index_map, operand.ndim)
    if set(dn.collapsed_slice_dims) & set(dn.operand_batching_dims) or \
            set(dn.start_index_map) & set(dn.operand_batching_dims):
        raise ValueError(f"gather: operand_batching_dims={dn.operand_batching_dims} must be disjoint from "
                         f"collapsed_slice_dims={dn.collapsed_slice_dims} and start_index_map={dn.start_index_map}")
    if len(dn.operand_batching_dims) != len(dn.start_indices_batching_dims) or any(
            operand.shape[a] != indices.shape[b] for a, b in zip(dn.operand_batching_dims,
                                                                 dn.start_indices_batching_dims)):
        raise ValueError(f"gather: operand_batching_dims={dn.operand_batching_dims} and "
                         f"start_indices_batching_dims={dn.start_indices_batching_dims} must pair up axes of equal "
                         f"size of {describe([operand, indices])}")
    if len(slice_sizes) != operand.ndim or any(not 0 <= s <= n for s, n in zip(slice_sizes, operand.shape)):
        raise ValueError(f"gather: slice_sizes={slice_sizes} must give one size in [0, dim] per axis of "
                         f"{describe([operand])}")
    if any(slice_sizes[d] != 1 for d in dn.collapsed_slice_dims) or \
            any(slice_sizes[d] > 1 for d in dn.operand_batching_dims):
        raise ValueError(f"gather: collapsed_slice_dims={dn.collapsed_slice_dims} need slice size 1 and "
                         f"operand_batching_dims={dn.operand_batching_dims} size <= 1, got slice_sizes={slice_sizes}")
    windows = _window_dims(operand.ndim, dn.collapsed_slice_dims, dn.operand_batching_dims)
    if len(windows) != len(dn.offset_dims):
        raise ValueError(f"gather: {len(dn.offset_dims)} offset_dims for {len(windows)} uncollapsed, unbatched "
                         f"operand axes {windows} of {describe([operand])}")
    it_batch, it_window = iter(batch), iter(slice_sizes[d] for d in windows)
    shape = tuple(next(it_window) if i in dn.offset_dims else next(it_batch) for i in range(out_rank))
    return ShapedArray(shape, operand.dtype, operand.weak_type)


def _normalize_gather_dnums(dn, indices_ndim):
    ivd = indices_ndim - 1 if dn.index_vector_dim is None else int(dn.index_vector_dim)
    return GatherDimensionNumbers(_ints(dn.offset_dims), _ints(dn.collapsed_slice_dims), _ints(dn.start_index_map),
                                  _ints(dn.operand_batching_dims), _ints(dn.start_indices_batching_dims), ivd)


def gather(operand, indices, dimension_numbers, slice_sizes, *, mode='clip', fill_value=None):
    """StableHLO gather: slices of `operand` at the start positions in `indices`.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.indexing import gather, GatherDimensionNumbers
    >>> x = fnp.arange(12).reshape(3, 4)
    >>> dn = GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))
    >>> gather(x, fnp.asarray([[2], [0]]), dn, (1, 4)).tolist()
    [[8, 9, 10, 11], [0, 1, 2, 3]]
    """
    params = dict(dimension_numbers=_normalize_gather_dnums(dimension_numbers, indices.ndim),
                  slice_sizes=_ints(slice_sizes), mode=mode,
                  fill_value=None if mode != 'fill' or fill_value is None else _scalar(fill_value))
    return _checked_bind(gather_p, (operand, indices), params)


def _checked_bind(prim, args, params):
    """Bind after running the shape rule: eager impls trust their parameters, so bad ones get their error here."""
    _check_signature(prim, tuple(a.aval for a in args), tuple(params.items()))
    return prim.bind(*args, **params)


@functools.lru_cache(maxsize=4096)
def _check_signature(prim, avals, params):
    # cached: a training loop indexes with the same shapes and parameters every step
    prim.abstract_eval(*avals, **dict(params))


def _scalar(v):
    """A fill value as a hashable Python scalar (it is a static parameter)."""
    v = np.asarray(v)
    if v.shape != ():
        raise ValueError(f"fill_value must be a scalar, got shape {v.shape}")
    return v.item()


def _scatter_dnums_of(dn: GatherDimensionNumbers) -> ScatterDimensionNumbers:
    return ScatterDimensionNumbers(dn.offset_dims, dn.collapsed_slice_dims, dn.start_index_map,
                                   dn.operand_batching_dims, dn.start_indices_batching_dims, dn.index_vector_dim)


def _gather_dnums_of(dn: ScatterDimensionNumbers) -> GatherDimensionNumbers:
    return GatherDimensionNumbers(dn.update_window_dims, dn.inserted_window_dims, dn.scatter_dims_to_operand_dims,
                                  dn.input_batching_dims, dn.scatter_indices_batching_dims, dn.index_vector_dim)


@gather_p.def_jvp
def _gather_jvp(primals, tangents, **params):
    operand, indices = primals
    out = gather_p.bind(operand, indices, **params)
    t = tangents[0]
    if type(t) is Zero:
        return out, Zero(out.aval)
    fill = 0 if params['mode'] == 'fill' else None  # out-of-bounds reads are constants
    return out, gather_p.bind(t, indices, **dict(params, fill_value=fill))


@gather_p.def_transpose
def _gather_transpose(ct, operand, indices, *, dimension_numbers, slice_sizes, mode, fill_value):
    if is_undefined(indices):
        raise TypeError("gather: the indices cannot be a linear input")
    zeros = full(operand.aval.shape, 0, ct.dtype)
    return [scatter_add_p.bind(zeros, indices, ct, dimension_numbers=_scatter_dnums_of(dimension_numbers),
                               unique_indices=False, mode=_SCATTER_OF_GATHER[mode]), None]


def _shift(dims):
    return tuple(d + 1 for d in dims)


@gather_p.def_batch
def _gather_batch(args, dims, *, dimension_numbers, slice_sizes, mode, fill_value):
    (operand, indices), (od, idim) = args, dims
    dn = dimension_numbers
    if idim is None:
        # the batch axis of the operand is one more window, taken whole, at the front of the output
        operand = moveaxis(operand, od, 0)
        new = GatherDimensionNumbers((0,) + _shift(dn.offset_dims), _shift(dn.collapsed_slice_dims),
                                     _shift(dn.start_index_map), _shift(dn.operand_batching_dims),
                                     dn.start_indices_batching_dims, dn.index_vector_dim)
        sizes = (operand.shape[0],) + tuple(slice_sizes)
    else:
        # the batch axis of the indices becomes the first batch axis of the output
        indices = moveaxis(indices, idim, 0)
        if od is None:
            new = GatherDimensionNumbers(_shift(dn.offset_dims), dn.collapsed_slice_dims, dn.start_index_map,
                                         dn.operand_batching_dims, _shift(dn.start_indices_batching_dims),
                                         dn.index_vector_dim + 1)
            sizes = tuple(slice_sizes)
        else:
            # both batched: pair the two batch axes as batching dimensions
            operand = moveaxis(operand, od, 0)
            new = GatherDimensionNumbers(_shift(dn.offset_dims), _shift(dn.collapsed_slice_dims),
                                         _shift(dn.start_index_map), (0,) + _shift(dn.operand_batching_dims),
                                         (0,) + _shift(dn.start_indices_batching_dims), dn.index_vector_dim + 1)
            sizes = (min(operand.shape[0], 1),) + tuple(slice_sizes)
    return gather_p.bind(operand, indices, dimension_numbers=new, slice_sizes=sizes, mode=mode,
                         fill_value=fill_value), 0


@gather_p.def_lower
def _gather_lower(ctx, operand, indices, *, dimension_numbers, slice_sizes, mode, fill_value):
    dn = dimension_numbers
    x_aval, i_aval = ctx.avals_in
    out_aval = ctx.avals_out[0]
    # XLA's gather clamps each start so that its window fits: mode='clip' as is
    out = ctx.op1('stablehlo.gather', [operand, indices], ctx.avals_in, out_aval,
                  {'dimension_numbers': _dnums_attr('gather', dn, _GATHER_FIELDS),
                   'slice_sizes': i64_array(slice_sizes), 'indices_are_sorted': 'false'})
    if mode == 'clip' or not dn.start_index_map:
        return out
    # mode='fill' (JAX's lowering): the clamped gather where the window was in bounds, else the fill value
    ok = _in_bounds(ctx, indices, i_aval, dn.index_vector_dim,
                    [x_aval.shape[d] - slice_sizes[d] for d in dn.start_index_map])
    pred = out_aval.update(dtype=dtypes.bool_, weak_type=False)
    ok_aval = pred.update(shape=_batch_shape(i_aval.shape, dn.index_vector_dim))
    batch_axes = [i for i in range(out_aval.ndim) if i not in dn.offset_dims]
    mask = ctx.op1('stablehlo.broadcast_in_dim', [ok], [ok_aval], pred, {'broadcast_dimensions': i64_array(batch_axes)})
    fill = ctx.splat(_default_fill(x_aval.dtype) if fill_value is None else fill_value, out_aval)
    return select(ctx, mask, out, fill, out_aval, pred)


# --- scatter family ---------------------------------------------------------------------------------

def _update_window_sizes(operand_ndim, dn, updates_shape):
    """Per operand axis, the extent of one update window (1 on inserted and batching axes)."""
    windows = _window_dims(operand_ndim, dn.inserted_window_dims, dn.input_batching_dims)
    sizes = [1] * operand_ndim
    for d, u in zip(windows, dn.update_window_dims):
        sizes[d] = updates_shape[u]
    return windows, sizes


def _scatter_impl(combine):
    def impl(xp, operand, indices, updates, *, dimension_numbers, unique_indices, mode):
        dn = dimension_numbers
        ivd = dn.index_vector_dim
        idx = _canonical_indices(xp, indices, ivd)
        batch_pairs = [(od, d if d < ivd else d - 1) for od, d in zip(dn.input_batching_dims,
                                                                     dn.scatter_indices_batching_dims)]
        windows, sizes = _update_window_sizes(operand.ndim, dn, updates.shape)
        acc = _Access(xp, operand.shape, idx, dn.scatter_dims_to_operand_dims, batch_pairs, windows, sizes,
                      mode == 'drop')
        upd_labels = _layout(updates.ndim, dn.update_window_dims, windows)
        upd = _permute(xp, updates, [upd_labels.index(lab) for lab in acc.labels])
        index = acc.index
        if acc.valid is not None:  # drop the windows that do not fit
            index = tuple(xp.broadcast_to(a, acc.full_shape)[acc.valid] for a in index)
            upd = upd[acc.valid]
        out = operand.copy()
        if combine == 'set':
            acc.view(xp, out)[index] = upd  # a view: writing into it writes into `out`
        else:
            # ufunc.at is fast on a 1-d array with 1-d offsets, slow with rows: address elements of `out` by offset
            strides = [st // out.itemsize for st in out.strides]
            n_adv = len(index) - acc.dummy
            offsets = sum((a.astype(np.intp) * strides[d] for a, d in zip(index, acc.perm[:n_adv])),
                          xp.zeros((), np.intp))
            for d in acc.perm[n_adv:]:
                offsets = offsets[..., None] + xp.arange(out.shape[d]) * strides[d]
            getattr(xp, combine).at(out.reshape(-1), xp.broadcast_to(offsets, upd.shape).reshape(-1), upd.reshape(-1))
        return out
    return impl


def _scatter_abstract(name):
    def abstract_eval(operand, indices, updates, *, dimension_numbers, unique_indices, mode):
        dn = dimension_numbers
        ivd = dn.index_vector_dim
        if mode not in _SCATTER_MODES:
            raise ValueError(f"{name}: mode must be one of {_SCATTER_MODES}, got {mode!r}")
        if updates.dtype != operand.dtype:
            raise TypeError(f"{name}: updates must have the operand's dtype, got {describe([operand, updates])}; "
                            f"cast them first (x.at[...] does)")
        _check_indices(name, indices, ivd, dn.scatter_dims_to_operand_dims, dn.scatter_indices_batching_dims,
                       'scatter_dims_to_operand_dims')
        batch = _batch_shape(indices.shape, ivd)
        if updates.ndim != len(batch) + len(dn.update_window_dims):
            raise ValueError(f"{name}: updates {describe([updates])} must have rank {len(batch)} (scatter axes of "
                             f"the indices) + {len(dn.update_window_dims)} (update_window_dims)")
        _check_dims(name, 'update_window_dims', dn.update_window_dims, updates.ndim, sorted_=True)
        _check_dims(name, 'inserted_window_dims', dn.inserted_window_dims, operand.ndim, sorted_=True)
        _check_dims(name, 'input_batching_dims', dn.input_batching_dims, operand.ndim, sorted_=True)
        _check_dims(name, 'scatter_dims_to_operand_dims', dn.scatter_dims_to_operand_dims, operand.ndim)
        if set(dn.inserted_window_dims) & set(dn.input_batching_dims) or \
                set(dn.scatter_dims_to_operand_dims) & set(dn.input_batching_dims):
            raise ValueError(f"{name}: input_batching_dims={dn.input_batching_dims} must be disjoint from "
                             f"inserted_window_dims={dn.inserted_window_dims} and "
                             f"scatter_dims_to_operand_dims={dn.scatter_dims_to_operand_dims}")
        if len(dn.input_batching_dims) != len(dn.scatter_indices_batching_dims) or any(
                operand.shape[a] != indices.shape[b] for a, b in zip(dn.input_batching_dims,
                                                                     dn.scatter_indices_batching_dims)):
            raise ValueError(f"{name}: input_batching_dims={dn.input_batching_dims} and "
                             f"scatter_indices_batching_dims={dn.scatter_indices_batching_dims} must pair up axes "
                             f"of equal size of {describe([operand, indices])}")
        windows = _window_dims(operand.ndim, dn.inserted_window_dims, dn.input_batching_dims)
        if len(windows) != len(dn.update_window_dims):
            raise ValueError(f"{name}: {len(dn.update_window_dims)} update_window_dims for {len(windows)} "
                             f"operand axes {windows} that are neither inserted nor batching, in "
                             f"{describe([operand])}")
        for d, u in zip(windows, dn.update_window_dims):
            if updates.shape[u] > operand.shape[d]:
                raise ValueError(f"{name}: update window axis {u} of {describe([updates])} is larger than operand "
                                 f"axis {d} of {describe([operand])}")
        scatter_axes = [i for i in range(updates.ndim) if i not in dn.update_window_dims]
        if tuple(updates.shape[i] for i in scatter_axes) != batch:
            raise ValueError(f"{name}: the scatter axes of updates {describe([updates])} must match the indices' "
                             f"batch shape {shape_str(batch)} (indices {describe([indices])}, "
                             f"index_vector_dim={ivd})")
        return ShapedArray(operand.shape, operand.dtype, operand.weak_type)
    return abstract_eval


def _normalize_scatter_dnums(dn, indices_ndim):
    ivd = indices_ndim - 1 if dn.index_vector_dim is None else int(dn.index_vector_dim)
    return ScatterDimensionNumbers(_ints(dn.update_window_dims), _ints(dn.inserted_window_dims),
                                   _ints(dn.scatter_dims_to_operand_dims), _ints(dn.input_batching_dims),
                                   _ints(dn.scatter_indices_batching_dims), ivd)


def _scatter_lower(combine):
    """stablehlo.scatter whose combiner region is `combine`: 'set' returns the update, the others are the
    StableHLO ops of the same names as the NumPy ufuncs of the eager impl."""
    def lower(ctx, operand, indices, updates, *, dimension_numbers, unique_indices, mode):
        dn = dimension_numbers
        x_aval, i_aval, u_aval = ctx.avals_in
        # mode='drop' is XLA's own: an update window that does not fit is skipped
        if mode == 'clip' and dn.scatter_dims_to_operand_dims:
            _, sizes = _update_window_sizes(x_aval.ndim, dn, u_aval.shape)
            indices = _clamp_indices(ctx, indices, i_aval, dn.index_vector_dim,
                                     [x_aval.shape[d] - sizes[d] for d in dn.scatter_dims_to_operand_dims])
        scalar = ShapedArray((), x_aval.dtype)

        def combiner(sub, ab):
            return [ab[1] if combine == 'set' else sub.op1(f'stablehlo.{combine}', ab, [scalar] * 2, scalar)]

        attrs = {'scatter_dimension_numbers': _dnums_attr('scatter', dn, _SCATTER_FIELDS),
                 'indices_are_sorted': 'false', 'unique_indices': 'true' if unique_indices else 'false'}
        return ctx.op1('stablehlo.scatter', [operand, indices, updates], ctx.avals_in, ctx.avals_out[0], attrs,
                       [ctx.region([scalar, scalar], [scalar], combiner)])
    return lower


def _scatter_primitive(name, combine, allowed):
    prim = Primitive(name)
    prim.impl = _scatter_impl(combine)
    shape_rule = _scatter_abstract(name)

    def abstract_eval(operand, indices, updates, **params):
        if operand.dtype not in allowed:
            raise TypeError(f"{name}: combines real numbers or bools only, got {describe([operand])}")
        return shape_rule(operand, indices, updates, **params)

    prim.abstract_eval = abstract_eval
    prim.batch = lambda args, dims, **params: _scatter_batch(prim, args, dims, **params)
    prim.lower = _scatter_lower(combine)
    return prim


scatter_p = _scatter_primitive('scatter', 'set', ALL)
scatter_add_p = _scatter_primitive('scatter_add', 'add', ALL)
scatter_mul_p = _scatter_primitive('scatter_mul', 'multiply', ALL)
scatter_min_p = _scatter_primitive('scatter_min', 'minimum', REAL | {dtypes.bool_})
scatter_max_p = _scatter_primitive('scatter_max', 'maximum', REAL | {dtypes.bool_})


def _scatter_binder(prim, example):
    def bind(operand, indices, updates, dimension_numbers, *, unique_indices=False, mode='drop'):
        dn = _normalize_scatter_dnums(dimension_numbers, indices.ndim)
        return _checked_bind(prim, (operand, indices, updates), _params(dn, bool(unique_indices), mode))
    bind.__name__ = bind.__qualname__ = prim.name
    bind.__doc__ = f"""StableHLO scatter combining each update into the operand with {prim.name}.

    Out-of-bounds update windows are dropped (mode='drop') or clamped in (mode='clip').

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.indexing import {prim.name}, ScatterDimensionNumbers
    >>> dn = ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
    ...                              scatter_dims_to_operand_dims=(0,))
    >>> {prim.name}(fnp.asarray([1., 2., 3.]), fnp.asarray([[0], [2], [0]]), fnp.asarray([5., 6., 7.]), dn).tolist()
    {example}
    """
    return bind


scatter = _scatter_binder(scatter_p, '[7.0, 2.0, 6.0]')
scatter_add = _scatter_binder(scatter_add_p, '[13.0, 2.0, 9.0]')
scatter_mul = _scatter_binder(scatter_mul_p, '[35.0, 2.0, 18.0]')
scatter_min = _scatter_binder(scatter_min_p, '[1.0, 2.0, 3.0]')
scatter_max = _scatter_binder(scatter_max_p, '[7.0, 2.0, 6.0]')


def _gather_back(x, indices, dn, updates_shape, mode):
    """The gather reading, for each update element, the element of `x` it was scattered to (0 if dropped)."""
    _, sizes = _update_window_sizes(len(x.shape), dn, updates_shape)
    return gather_p.bind(x, indices, dimension_numbers=_gather_dnums_of(dn), slice_sizes=tuple(sizes),
                         mode=_GATHER_OF_SCATTER[mode], fill_value=0 if mode == 'drop' else None)


def _winners(operand_shape, indices, updates_shape, dn, mode):
    """Which update won where indices repeat (JAX's scheme; the order of a scatter is unspecified).

    Numbers the update windows 1, 2, ..., scatters the numbers with the same
    scatter, and reads them back: an update element won where its own number
    reads back, and an operand element survived where 0 (no number) did.
    Returns (won, survived) masks shaped like the updates and the operand.
    """
    ids_shape = tuple(1 if i in dn.update_window_dims else s for i, s in enumerate(updates_shape))
    n = math.prod(ids_shape)
    dt = index_dtype(n + 1)
    ids = ew.add(reshape(iota(dt, (n,)), ids_shape), full(ids_shape, 1, dt))
    ids = broadcast_in_dim(ids, tuple(updates_shape), tuple(range(len(updates_shape))))
    scattered = scatter_p.bind(full(operand_shape, 0, dt), indices, ids, dimension_numbers=dn,
                               unique_indices=False, mode=mode)
    won = ew.eq(ids, _gather_back(scattered, indices, dn, updates_shape, mode))
    survived = ew.eq(scattered, full(operand_shape, 0, dt))
    return won, survived


def _zeros_like(x):
    return full(x.shape, 0, x.dtype)


def _mask(keep, x):
    """x where `keep`, else 0: linear in x."""
    return ew.select_n(keep, _zeros_like(x), x)


def _params(dn, unique_indices, mode):
    return dict(dimension_numbers=dn, unique_indices=unique_indices, mode=mode)


@scatter_p.def_jvp
def _scatter_jvp(primals, tangents, *, dimension_numbers, unique_indices, mode):
    (operand, indices, updates), (t_op, _, t_up) = primals, tangents
    params = _params(dimension_numbers, unique_indices, mode)
    if type(t_op) is Zero and type(t_up) is Zero:
        out = scatter_p.bind(operand, indices, updates, **params)
        return out, Zero(out.aval)
    t_op, t_up = instantiate(t_op), instantiate(t_up)
    if unique_indices:
        return scatter_p.bind(operand, indices, updates, **params), scatter_p.bind(t_op, indices, t_up, **params)
    # with repeated indices the primal and the tangent must pick the same winner: mask the losers out and add
    won, survived = _winners(operand.shape, indices, updates.shape, dimension_numbers, mode)
    add = lambda x, u: scatter_add_p.bind(_mask(survived, x), indices, _mask(won, u), **params)  # noqa: E731
    return add(operand, updates), add(t_op, t_up)


@scatter_p.def_transpose
def _scatter_transpose(ct, operand, indices, updates, *, dimension_numbers, unique_indices, mode):
    if is_undefined(indices):
        raise TypeError("scatter: the indices cannot be a linear input")
    upd_shape = updates.aval.shape
    outs = [None, None, None]
    if is_undefined(operand):
        # the elements that were overwritten get no cotangent
        outs[0] = scatter_p.bind(ct, indices, full(upd_shape, 0, ct.dtype),
                                 **_params(dimension_numbers, unique_indices, mode))
    if is_undefined(updates):
        g = _gather_back(ct, indices, dimension_numbers, upd_shape, mode)
        if not unique_indices:  # only the update that won an element receives its cotangent
            g = _mask(_winners(ct.shape, indices, upd_shape, dimension_numbers, mode)[0], g)
        outs[2] = g
    return outs


@scatter_add_p.def_jvp
def _scatter_add_jvp(primals, tangents, **params):
    (operand, indices, updates), (t_op, _, t_up) = primals, tangents
    out = scatter_add_p.bind(operand, indices, updates, **params)
    if type(t_op) is Zero and type(t_up) is Zero:
        return out, Zero(out.aval)
    return out, scatter_add_p.bind(instantiate(t_op), indices, instantiate(t_up), **params)


@scatter_add_p.def_transpose
def _scatter_add_transpose(ct, operand, indices, updates, *, dimension_numbers, unique_indices, mode):
    if is_undefined(indices):
        raise TypeError("scatter_add: the indices cannot be a linear input")
    t_up = _gather_back(ct, indices, dimension_numbers, updates.aval.shape, mode) if is_undefined(updates) else None
    return [ct if is_undefined(operand) else None, None, t_up]


def _others_product(x_shape, indices, updates, params):
    """For each update, the product of the *other* updates to the same element, without dividing by zero.

    With P the product of the nonzero updates to an element and Z the product
    of its zero updates (0 if there are any, else 1, but still a function of
    them): P / y * Z for a nonzero y, which is exact to every order; for a zero
    y, P when it is the element's only zero update and 0 otherwise (exact to
    first order: derivatives of higher order through two or more zero updates
    to one element are not).
    """
    dn, mode = params['dimension_numbers'], params['mode']
    dt = updates.dtype
    is_zero = ew.eq(updates, _zeros_like(updates))
    one_u, zero_u = full(updates.shape, 1, dt), _zeros_like(updates)
    nonzero_part = ew.select_n(is_zero, updates, one_u)
    zero_part = ew.select_n(is_zero, one_u, updates)
    per_element = lambda u, prim, init: _gather_back(  # noqa: E731
        prim.bind(full(x_shape, init, dt), indices, u, **params), indices, dn, updates.shape, mode)
    p = per_element(nonzero_part, scatter_mul_p, 1)
    z = per_element(zero_part, scatter_mul_p, 1)
    n_zeros = per_element(ew.convert_element_type(is_zero, dt), scatter_add_p, 0)
    if_nonzero = ew.mul(ew.div(p, nonzero_part), z)
    if_zero = ew.select_n(ew.eq(n_zeros, one_u), zero_u, p)
    return ew.select_n(is_zero, if_nonzero, if_zero)


@scatter_mul_p.def_jvp
def _scatter_mul_jvp(primals, tangents, **params):
    (x, indices, y), (t_x, _, t_y) = primals, tangents
    out = scatter_mul_p.bind(x, indices, y, **params)
    t = None
    if type(t_x) is not Zero:
        t = scatter_mul_p.bind(t_x, indices, y, **params)
    if type(t_y) is not Zero:
        # d(x * prod y) = x * sum_k dy_k * prod_{j != k} y_j, summed per element by a scatter-add
        coef = t_y if params['unique_indices'] else ew.mul(t_y, _others_product(x.shape, indices, y, params))
        t = add_tangents(t, ew.mul(x, scatter_add_p.bind(_zeros_like(x), indices, coef, **params)))
    return out, (Zero(out.aval) if t is None else t)


@scatter_mul_p.def_transpose
def _scatter_mul_transpose(ct, operand, indices, updates, **params):
    if is_undefined(updates) or is_undefined(indices):
        raise TypeError("scatter_mul: transpose with respect to the updates (the function is not linear in them)")
    return [scatter_mul_p.bind(ct, indices, updates, **params), None, None]


def _extremal_jvp(prim):
    def jvp(primals, tangents, *, dimension_numbers, unique_indices, mode):
        """JAX's rule: where several values tie for the min/max of an element, its tangent is their average."""
        (operand, indices, updates), (t_op, _, t_up) = primals, tangents
        params = _params(dimension_numbers, unique_indices, mode)
        out = prim.bind(operand, indices, updates, **params)
        if type(t_op) is Zero and type(t_up) is Zero:
            return out, Zero(out.aval)
        t_op, t_up = instantiate(t_op), instantiate(t_up)
        back = lambda x: _gather_back(x, indices, dimension_numbers, updates.shape, mode)  # noqa: E731
        won = ew.eq(updates, back(out))             # this update is the element's value
        kept = ew.eq(back(operand), back(out))      # the element's old value is (still) its value
        one_u, zero_u = full(updates.shape, 1, updates.dtype), _zeros_like(updates)
        zeros_op = _zeros_like(operand)
        n_won = back(scatter_add_p.bind(zeros_op, indices, ew.select_n(won, zero_u, one_u), **params))
        n_refs = back(scatter_add_p.bind(zeros_op, indices, one_u, **params))
        # counts are 0 only for dropped windows, whose results the scatter-add below drops: keep them finite
        recip = lambda n: ew.div(one_u, ew.max(n, one_u))  # noqa: E731
        share_kept = recip(ew.add(n_won, one_u))
        upd_coef = ew.select_n(won, zero_u, ew.select_n(kept, recip(n_won), share_kept))
        op_coef = ew.mul(ew.sub(ew.select_n(kept, zero_u, share_kept), one_u), recip(n_refs))
        t_updates = ew.add(ew.mul(back(t_op), op_coef), ew.mul(t_up, upd_coef))
        return out, scatter_add_p.bind(t_op, indices, t_updates, **params)
    prim.jvp = jvp


_extremal_jvp(scatter_min_p)
_extremal_jvp(scatter_max_p)


def _scatter_batch(prim, args, dims, *, dimension_numbers, unique_indices, mode):
    (operand, indices, updates), (od, idim, ud) = args, dims
    dn = dimension_numbers
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    operand, updates = bdim_at_front(operand, od, size), bdim_at_front(updates, ud, size)
    if idim is None:
        # the batch axis is one more window axis, written whole
        new = ScatterDimensionNumbers((0,) + _shift(dn.update_window_dims), _shift(dn.inserted_window_dims),
                                      _shift(dn.scatter_dims_to_operand_dims), _shift(dn.input_batching_dims),
                                      dn.scatter_indices_batching_dims, dn.index_vector_dim)
    else:
        # batched indices: pair the batch axes of operand and indices as batching dimensions
        indices = moveaxis(indices, idim, 0)
        new = ScatterDimensionNumbers(_shift(dn.update_window_dims), _shift(dn.inserted_window_dims),
                                      _shift(dn.scatter_dims_to_operand_dims), (0,) + _shift(dn.input_batching_dims),
                                      (0,) + _shift(dn.scatter_indices_batching_dims), dn.index_vector_dim + 1)
    return prim.bind(operand, indices, updates, **_params(new, unique_indices, mode)), 0


# --- dynamic_slice / dynamic_update_slice ------------------------------------------------------------

def _clamped_slices(starts, sizes, shape):
    out = []
    for s, size, n in zip(starts, sizes, shape):
        s = min(max(int(s), 0), n - size)
        out.append(slice(s, s + size))
    return tuple(out)


def _uniform_starts(ctx, starts, avals, his):
    """The start indices in one dtype, as StableHLO requires, and their avals.

    Mixed dtypes are first clamped to [0, his[k]] in their own dtype, as XLA would clamp them, so that
    converting them to a common one is exact.
    """
    if len({a.dtype for a in avals}) <= 1:
        return list(starts), list(avals)
    common = ShapedArray((), index_dtype(*his))
    return [ctx.op1('stablehlo.convert', [_clamp_indices(ctx, s, a, 0, [hi])], [a], common)
            for s, a, hi in zip(starts, avals, his)], [common] * len(starts)


def _check_starts(op, operand, starts):
    if len(starts) != operand.ndim:
        raise ValueError(f"{op}: {len(starts)} start indices for {describe([operand])}; give one per axis")
    if any(s.shape != () or s.dtype not in INT for s in starts):
        raise TypeError(f"{op}: start indices must be integer scalars, got {describe(starts)}")


dynamic_slice_p = Primitive('dynamic_slice')


@dynamic_slice_p.def_impl
def _dynamic_slice_impl(xp, operand, *starts, slice_sizes):
    return operand[_clamped_slices(starts, slice_sizes, operand.shape)]


@dynamic_slice_p.def_abstract_eval
def _dynamic_slice_abstract(operand, *starts, slice_sizes):
    _check_starts('dynamic_slice', operand, starts)
    if len(slice_sizes) != operand.ndim or any(not 0 <= s <= n for s, n in zip(slice_sizes, operand.shape)):
        raise ValueError(f"dynamic_slice: slice_sizes={slice_sizes} must give one size in [0, dim] per axis of "
                         f"{describe([operand])}")
    return ShapedArray(slice_sizes, operand.dtype, operand.weak_type)


def _index_scalar(s):
    if isinstance(s, Array):
        return s
    s = int(s)
    return Array(np.asarray(s, dtype=index_dtype(abs(s))))


def dynamic_slice(operand, start_indices, slice_sizes):
    """operand[s0:s0+n0, s1:s1+n1, ...] with traced starts, clamped so the slice fits (XLA's semantics).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.indexing import dynamic_slice
    >>> dynamic_slice(fnp.arange(5), [fnp.asarray(4)], [2]).tolist()
    [3, 4]
    """
    return _checked_bind(dynamic_slice_p, (operand, *map(_index_scalar, start_indices)),
                         dict(slice_sizes=_ints(slice_sizes)))


@dynamic_slice_p.def_jvp
def _dynamic_slice_jvp(primals, tangents, *, slice_sizes):
    out = dynamic_slice_p.bind(*primals, slice_sizes=slice_sizes)
    t = tangents[0]
    if type(t) is Zero:
        return out, Zero(out.aval)
    return out, dynamic_slice_p.bind(t, *primals[1:], slice_sizes=slice_sizes)


@dynamic_slice_p.def_transpose
def _dynamic_slice_transpose(ct, operand, *starts, slice_sizes):
    if any(is_undefined(s) for s in starts):
        raise TypeError("dynamic_slice: the start indices cannot be linear inputs")
    zeros = full(operand.aval.shape, 0, ct.dtype)
    return [dynamic_update_slice_p.bind(zeros, ct, *starts)] + [None] * len(starts)


def _stack_starts(starts, dims, size):
    """Per-example start scalars as one (size, n) index array, for the gather/scatter that batches them."""
    dt = dtypes.int64 if any(s.dtype.itemsize == 8 or s.dtype == dtypes.uint32 for s in starts) else dtypes.int32
    cols = [reshape(bdim_at_front(ew.convert_element_type(s, dt), d, size), (size, 1)) for s, d in zip(starts, dims)]
    return concatenate(cols, 1)


@dynamic_slice_p.def_batch
def _dynamic_slice_batch(args, dims, *, slice_sizes):
    (operand, *starts), (od, *sd) = args, dims
    if all(d is None for d in sd):
        operand = moveaxis(operand, od, 0)
        zero = full((), 0, starts[0].dtype if starts else dtypes.int32)
        return dynamic_slice_p.bind(operand, zero, *starts, slice_sizes=(operand.shape[0],) + slice_sizes), 0
    # batched starts: a dynamic slice is a gather of one whole window per example
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    n = len(starts)
    dn = GatherDimensionNumbers(tuple(range(n)), (), tuple(range(n)), (), (), 0)
    return _gather_batch([operand, _stack_starts(starts, sd, size)], [od, 0], dimension_numbers=dn,
                         slice_sizes=slice_sizes, mode='clip', fill_value=None)


@dynamic_slice_p.def_lower
def _dynamic_slice_lower(ctx, operand, *starts, slice_sizes):
    x_aval = ctx.avals_in[0]
    starts, s_avals = _uniform_starts(ctx, starts, ctx.avals_in[1:],
                                      [n - k for n, k in zip(x_aval.shape, slice_sizes)])
    return ctx.op1('stablehlo.dynamic_slice', [operand, *starts], [x_aval, *s_avals], ctx.avals_out[0],
                   {'slice_sizes': i64_array(slice_sizes)})

dynamic_update_slice_p = Primitive('dynamic_update_slice')


@dynamic_update_slice_p.def_impl
def _dynamic_update_slice_impl(xp, operand, update, *starts):
    out = operand.copy()
    out[_clamped_slices(starts, update.shape, operand.shape)] = update
    return out


@dynamic_update_slice_p.def_abstract_eval
def _dynamic_update_slice_abstract(operand, update, *starts):
    _check_starts('dynamic_update_slice', operand, starts)
    if update.ndim != operand.ndim or any(u > n for u, n in zip(update.shape, operand.shape)):
        raise ValueError(f"dynamic_update_slice: the update must have the operand's rank and fit inside it, got "
                         f"{describe([operand, update])}")
    if update.dtype != operand.dtype:
        raise TypeError(f"dynamic_update_slice: the update must have the operand's dtype, got "
                        f"{describe([operand, update])}")
    return ShapedArray(operand.shape, operand.dtype, operand.weak_type)


def dynamic_update_slice(operand, update, start_indices):
    """operand with `update` written at the (traced) starts, clamped so it fits (XLA's semantics).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.indexing import dynamic_update_slice
    >>> dynamic_update_slice(fnp.zeros(4), fnp.ones(2), [fnp.asarray(3)]).tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    return _checked_bind(dynamic_update_slice_p, (operand, update, *map(_index_scalar, start_indices)), {})


@dynamic_update_slice_p.def_jvp
def _dynamic_update_slice_jvp(primals, tangents):
    out = dynamic_update_slice_p.bind(*primals)
    t_op, t_up = tangents[:2]
    if type(t_op) is Zero and type(t_up) is Zero:
        return out, Zero(out.aval)
    return out, dynamic_update_slice_p.bind(instantiate(t_op), instantiate(t_up), *primals[2:])


@dynamic_update_slice_p.def_transpose
def _dynamic_update_slice_transpose(ct, operand, update, *starts):
    if any(is_undefined(s) for s in starts):
        raise TypeError("dynamic_update_slice: the start indices cannot be linear inputs")
    shape = update.aval.shape
    t_op = dynamic_update_slice_p.bind(ct, full(shape, 0, ct.dtype), *starts) if is_undefined(operand) else None
    t_up = dynamic_slice_p.bind(ct, *starts, slice_sizes=tuple(shape)) if is_undefined(update) else None
    return [t_op, t_up] + [None] * len(starts)


@dynamic_update_slice_p.def_batch
def _dynamic_update_slice_batch(args, dims):
    (operand, update, *starts), (od, ud, *sd) = args, dims
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    if all(d is None for d in sd):
        operand, update = bdim_at_front(operand, od, size), bdim_at_front(update, ud, size)
        zero = full((), 0, starts[0].dtype if starts else dtypes.int32)
        return dynamic_update_slice_p.bind(operand, update, zero, *starts), 0
    # batched starts: one clamped window per example, a scatter
    n = len(starts)
    dn = ScatterDimensionNumbers(tuple(range(n)), (), tuple(range(n)), (), (), 0)
    return _scatter_batch(scatter_p, [operand, _stack_starts(starts, sd, size), update], [od, 0, ud],
                          dimension_numbers=dn, unique_indices=True, mode='clip')


@dynamic_update_slice_p.def_lower
def _dynamic_update_slice_lower(ctx, operand, update, *starts):
    x_aval, u_aval = ctx.avals_in[:2]
    starts, s_avals = _uniform_starts(ctx, starts, ctx.avals_in[2:],
                                      [n - k for n, k in zip(x_aval.shape, u_aval.shape)])
    return ctx.op1('stablehlo.dynamic_update_slice', [operand, update, *starts], [x_aval, u_aval, *s_avals],
                   ctx.avals_out[0])

__all__ = ['GatherDimensionNumbers', 'ScatterDimensionNumbers', 'gather', 'scatter', 'scatter_add', 'scatter_mul',
           'scatter_min', 'scatter_max', 'dynamic_slice', 'dynamic_update_slice', 'index_dtype']

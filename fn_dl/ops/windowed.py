"""Windowed reductions (pooling): reduce_window_sum, reduce_window_max, reduce_window_min.

Parameters are XLA's ReduceWindow's: `window_dimensions`, `window_strides`
and `padding` ((low, high) per axis, filled with the reduction's identity)
cover every axis of the operand (pooling over H, W of NCHW uses windows
(1, 1, kh, kw)); `base_dilation` spreads the operand's elements apart (holes
hold the identity) and `window_dilation` spreads the window's taps.

The derivatives of max/min pooling use two more primitives, as JAX does:
`select_and_gather_add(t, x)` picks, in each window, the tangent at the
position of x's max (or min), and `select_and_scatter_add(s, x)`, its
transpose, adds each window's value back at that position. Ties go to the
first position in the window (row-major), as in PyTorch.

Eager implementations loop over the offsets inside the window (at most a
few dozen for pooling), each step one vectorised operation on strided views
of the whole operand: an order of magnitude faster in NumPy than reducing
a sliding-window view.

Under jit, reduce_window_* lower to stablehlo.reduce_window,
select_and_gather_add to a reduce_window over (operand, tangent, marker)
triples, and select_and_scatter_add to stablehlo.select_and_scatter (the
offset loop above, in StableHLO, where that op cannot express the window
dilation); jit selects exactly the positions eager selects, ties included.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from fn_dl.backends.xla.lowering import compare, i64_array
from fn_dl.backends.xla.lowering import select as select_op
from fn_dl.core import dtypes
from fn_dl.core.aval import describe, shape_str
from fn_dl.ops._rules import NUMERIC, REAL, Primitive, ShapedArray, Zero, bdim_at_front, deflinear
from fn_dl.ops.conv import (dilate_dim, vjp_lhs_padding, pad_dilate, pad_dilate_slices, padding_attr,
                            padtype_to_pads)
from fn_dl.ops.shape import full, pad

__all__ = ['reduce_window_sum', 'reduce_window_max', 'reduce_window_min', 'select_and_gather_add',
           'select_and_scatter_add']


def _window_shape(name, x, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    """The output shape; raises a clear error for parameters that do not fit the operand."""
    n = x.ndim
    given = dict(window_dimensions=window_dimensions, window_strides=window_strides,
                 base_dilation=base_dilation, window_dilation=window_dilation)
    for what, vals in given.items():
        if len(vals) != n or any(v < 1 for v in vals):
            raise ValueError(f"{name}: {what} {tuple(vals)} must be {n} positive integers, one per axis of "
                             f"{describe([x])}")
    if len(padding) != n or any(len(p) != 2 for p in padding):
        raise ValueError(f"{name}: padding {tuple(padding)} must be {n} (low, high) pairs, one per axis of "
                         f"{describe([x])}")
    shape = []
    for d in range(n):
        size = dilate_dim(x.shape[d], base_dilation[d]) + padding[d][0] + padding[d][1]
        if size < 0:
            raise ValueError(f"{name}: negative padding {tuple(padding[d])} removes more than axis {d} of "
                             f"{describe([x])} holds")
        window = dilate_dim(window_dimensions[d], window_dilation[d])
        shape.append(max((size - window) // window_strides[d] + 1, 0))
    return tuple(shape)


def _window_slices(out_shape, window_dimensions, window_strides, window_dilation):
    """For each offset inside the window (row-major), the strided slices of the padded operand it reads."""
    for offsets in itertools.product(*[range(w) for w in window_dimensions]):
        yield tuple(slice(o * wd, o * wd + (m - 1) * s + 1, s)
                    for o, wd, m, s in zip(offsets, window_dilation, out_shape, window_strides))


def _padded(xp, x, padding, base_dilation, fill):
    return pad_dilate(xp, x, tuple((lo, hi, d - 1) for (lo, hi), d in zip(padding, base_dilation)), fill)


def _identity(kind, dtype):
    """The identity of the reduction: what padding and base-dilation holes hold."""
    if kind == 'sum':
        return np.zeros((), dtype)[()]
    if dtype == dtypes.bool_:
        return np.bool_(kind == 'min')
    if dtypes.is_integer(dtype):
        info = np.iinfo(dtype)
        return dtype.type(info.min if kind == 'max' else info.max)
    return np.asarray(-np.inf if kind == 'max' else np.inf, dtype)[()]


def _resolve(name, operand, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    """The primitive's parameters from the public arguments ('SAME'/'VALID' padding, None dilations)."""
    ndim = operand.ndim
    window_dimensions = tuple(int(w) for w in window_dimensions)
    window_strides = tuple(int(s) for s in window_strides)
    if isinstance(padding, str):
        padding = padtype_to_pads(operand.shape, window_dimensions, window_strides, padding, name)
    return dict(window_dimensions=window_dimensions, window_strides=window_strides,
                padding=tuple((int(lo), int(hi)) for lo, hi in padding),
                base_dilation=(1,) * ndim if base_dilation is None else tuple(int(d) for d in base_dilation),
                window_dilation=(1,) * ndim if window_dilation is None else tuple(int(d) for d in window_dilation))


def _with_unit_axis(params, at):
    """The window parameters for an operand with a new (vmapped) axis at `at`: a window of 1 there."""
    def ins(t, v):
        return t[:at] + (v,) + t[at:]
    return dict(params, window_dimensions=ins(params['window_dimensions'], 1),
                window_strides=ins(params['window_strides'], 1), padding=ins(params['padding'], (0, 0)),
                base_dilation=ins(params['base_dilation'], 1), window_dilation=ins(params['window_dilation'], 1))


def _window_attrs(window_dimensions, window_strides, padding, base_dilation, window_dilation):
    return {'window_dimensions': i64_array(window_dimensions), 'window_strides': i64_array(window_strides),
            'base_dilations': i64_array(base_dilation), 'window_dilations': i64_array(window_dilation),
            'padding': padding_attr(padding)}


def _scalar(dtype):
    return ShapedArray((), dtype)


def _grid(x_aval, padding, base_dilation):
    """The lax.pad config that pads and dilates an operand onto the grid its windows slide over, and that
    grid's aval. The selection primitives pad explicitly, because eager selects padding and holes (holding
    the identity) like elements: reduce_window would fill them with its initial accumulator, and
    select_and_scatter has no base dilation."""
    config = tuple((lo, hi, d - 1) for (lo, hi), d in zip(padding, base_dilation))
    return config, x_aval.update(shape=pad_dilate_slices(x_aval.shape, config)[0])


def _pad_op(ctx, x, fill, config, in_aval, out_aval):
    lo, hi, interior = zip(*config) if config else ((), (), ())
    scalar = _scalar(in_aval.dtype)
    return ctx.op1('stablehlo.pad', [x, ctx.splat(fill, scalar)], [in_aval, scalar], out_aval,
                   {'edge_padding_low': i64_array(lo), 'edge_padding_high': i64_array(hi),
                    'interior_padding': i64_array(interior)})


def _slice_op(ctx, x, slices, in_aval, out_aval):
    return ctx.op1('stablehlo.slice', [x], [in_aval], out_aval,
                   {'start_indices': i64_array([d.start for d in slices]),
                    'limit_indices': i64_array([d.stop for d in slices]),
                    'strides': i64_array([d.step for d in slices])})


# --- reduce_window_sum / max / min -----------------------------------------------------------

def _reduce_window(kind, allowed):
    name = f'reduce_window_{kind}'
    prim = Primitive(name)
    op_name = {'sum': 'add', 'max': 'maximum', 'min': 'minimum'}[kind]

    def check(x, params):
        if x.dtype not in allowed:
            raise TypeError(f"{name}: does not accept {describe([x])}")
        return _window_shape(name, x, **params)

    @prim.def_impl
    def _impl(xp, x, **params):
        out_shape = check(x, params)  # eager calls skip abstract_eval: check here too
        init = _identity(kind, x.dtype)
        if math.prod(out_shape) == 0:
            return xp.full(out_shape, init, dtype=x.dtype)
        base = _padded(xp, x, params['padding'], params['base_dilation'], init)
        slices = _window_slices(out_shape, params['window_dimensions'], params['window_strides'],
                                params['window_dilation'])
        out = base[next(slices)].copy()
        op = getattr(xp, op_name)
        for sl in slices:
            op(out, base[sl], out=out)
        return out

    @prim.def_abstract_eval
    def _abstract(x, **params):
        return ShapedArray(check(x, params), x.dtype, x.weak_type)

    @prim.def_batch
    def _batch(args, dims, **params):
        (x,), (d,) = args, dims
        return prim.bind(x, **_with_unit_axis(params, d)), d

    @prim.def_lower
    def _lower(ctx, x, **params):
        aval, scalar = ctx.avals_in[0], _scalar(ctx.avals_in[0].dtype)
        body = ctx.region([scalar, scalar], [scalar],
                          lambda sub, ab: [sub.op1(f'stablehlo.{op_name}', ab, [scalar, scalar], scalar)])
        init = ctx.splat(_identity(kind, aval.dtype), scalar)
        return ctx.op1('stablehlo.reduce_window', [x, init], [aval, scalar], ctx.avals_out[0], _window_attrs(**params),
                       [body])

    return prim


reduce_window_sum_p = _reduce_window('sum', NUMERIC)
reduce_window_max_p = _reduce_window('max', REAL | {dtypes.bool_})
reduce_window_min_p = _reduce_window('min', REAL | {dtypes.bool_})


def _sum_transpose(ct, x, *, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    # each input element feeds the windows that cover it: spread the cotangent back onto the strided grid,
    # then sum it over the same (symmetric) window, stepping over the base dilation
    shape = x.aval.shape
    pads = vjp_lhs_padding(shape, window_dimensions, window_strides, ct.shape, padding, base_dilation,
                            window_dilation)
    spread = pad(ct, full((), 0, ct.dtype), [(lo, hi, s - 1) for (lo, hi), s in zip(pads, window_strides)])
    ones = (1,) * len(shape)
    return [reduce_window_sum_p.bind(spread, window_dimensions=window_dimensions, window_strides=base_dilation,
                                     padding=((0, 0),) * len(shape), base_dilation=ones,
                                     window_dilation=window_dilation)]


deflinear(reduce_window_sum_p, _sum_transpose)


def _chooser_jvp(prim, select):
    def jvp(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, **params)
        if type(t) is Zero:
            return out, Zero(out.aval)
        return out, select_and_gather_add_p.bind(t, x, select=select, **params)
    prim.jvp = jvp


def reduce_window_sum(operand, window_dimensions, window_strides, padding, base_dilation=None,
                      window_dilation=None):
    """Sum over sliding windows (sum pooling; divide by the window size for average pooling).

    padding: 'SAME', 'VALID' or one (low, high) pair per axis.

    >>> import fn_dl.numpy as fnp
    >>> reduce_window_sum(fnp.arange(6.0), (2,), (2,), 'VALID').tolist()
    [1.0, 5.0, 9.0]
    """
    params = _resolve('reduce_window_sum', operand, window_dimensions, window_strides, padding,
                      base_dilation, window_dilation)
    return reduce_window_sum_p.bind(operand, **params)


def reduce_window_max(operand, window_dimensions, window_strides, padding, base_dilation=None,
                      window_dilation=None):
    """Max over sliding windows (max pooling); padding holds -inf (the identity of max).

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.asarray([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
    >>> reduce_window_max(x, (2, 2), (1, 1), 'VALID').tolist()
    [[5.0, 6.0]]
    """
    params = _resolve('reduce_window_max', operand, window_dimensions, window_strides, padding,
                      base_dilation, window_dilation)
    return reduce_window_max_p.bind(operand, **params)


def reduce_window_min(operand, window_dimensions, window_strides, padding, base_dilation=None,
                      window_dilation=None):
    """Min over sliding windows; padding holds +inf (the identity of min).

    >>> import fn_dl.numpy as fnp
    >>> reduce_window_min(fnp.asarray([3.0, 1.0, 2.0]), (2,), (1,), ((0, 1),)).tolist()
    [1.0, 1.0, 2.0]
    """
    params = _resolve('reduce_window_min', operand, window_dimensions, window_strides, padding,
                      base_dilation, window_dilation)
    return reduce_window_min_p.bind(operand, **params)


# --- select_and_gather_add / select_and_scatter_add ------------------------------------------------

_COMPARE = {'max': 'greater', 'min': 'less'}
_BETTER = {'max': 'GT', 'min': 'LT'}  # the same strict comparisons, as StableHLO directions


def _selection(xp, x, select, out_shape, params):
    """The padded operand, the window slices, and per window the index of the selected offset (first wins)."""
    base = _padded(xp, x, params['padding'], params['base_dilation'], _identity(select, x.dtype))
    slices = list(_window_slices(out_shape, params['window_dimensions'], params['window_strides'],
                                 params['window_dilation']))
    better = getattr(xp, _COMPARE[select])
    best = base[slices[0]]
    index = xp.zeros(out_shape, dtype=np.int32)
    for o, sl in enumerate(slices[1:], 1):
        v = base[sl]
        wins = better(v, best)
        best = xp.where(wins, v, best)
        index = xp.where(wins, np.int32(o), index)
    return base, slices, index


def _check_select(name, select, x):
    if select not in _COMPARE:
        raise ValueError(f"{name}: select must be 'max' or 'min', got {select!r}")
    if x.dtype not in REAL | {dtypes.bool_}:
        raise TypeError(f"{name}: the operand must be real, got {describe([x])}")


select_and_gather_add_p = Primitive('select_and_gather_add')


@select_and_gather_add_p.def_impl
def _gather_impl(xp, t, x, *, select, **params):
    _check_select('select_and_gather_add', select, x)
    out_shape = _window_shape('select_and_gather_add', x, **params)
    if math.prod(out_shape) == 0:
        return xp.zeros(out_shape, dtype=t.dtype)
    _, slices, index = _selection(xp, x, select, out_shape, params)
    tb = _padded(xp, t, params['padding'], params['base_dilation'], 0)
    out = xp.zeros(out_shape, dtype=t.dtype)
    for o, sl in enumerate(slices):
        out = xp.where(index == o, tb[sl], out)
    return out


@select_and_gather_add_p.def_abstract_eval
def _gather_abstract(t, x, *, select, **params):
    _check_select('select_and_gather_add', select, x)
    if t.shape != x.shape:
        raise ValueError(f"select_and_gather_add: tangents and operand must have equal shapes, got "
                         f"{describe([t, x])}")
    return ShapedArray(_window_shape('select_and_gather_add', x, **params), t.dtype, t.weak_type)


@select_and_gather_add_p.def_lower
def _gather_lower(ctx, t, x, *, select, window_dimensions, window_strides, padding, base_dilation,
                  window_dilation):
    """JAX's form, a reduce_window over (operand, tangent) pairs keeping the pair whose operand wins, plus a
    third operand that marks window elements. The accumulator starts as a non-element that the first element
    replaces whatever its value; JAX's starts as the identity and keeps ties with it, so an element equal to
    the identity (-inf, a bool) would lose its window where eager picks it."""
    t_aval, x_aval = ctx.avals_in
    out = ctx.avals_out[0]
    config, xgrid = _grid(x_aval, padding, base_dilation)
    tgrid, mgrid = xgrid.update(dtype=t_aval.dtype), xgrid.update(dtype=dtypes.bool_)
    operands = [_pad_op(ctx, x, _identity(select, x_aval.dtype), config, x_aval, xgrid),
                _pad_op(ctx, t, 0, config, t_aval, tgrid), ctx.splat(True, mgrid)]
    sx, st, sb = _scalar(x_aval.dtype), _scalar(t_aval.dtype), _scalar(dtypes.bool_)

    def body(sub, args):
        acc_x, acc_t, acc_m, x_, t_, m_ = args
        # as eager: the later element replaces the accumulator only when strictly better, so the first wins
        fresh = sub.op1('stablehlo.not', [acc_m], [sb], sb)
        take = sub.op1('stablehlo.or', [fresh, compare(sub, _BETTER[select], x_, acc_x, sx)], [sb, sb], sb)
        return [select_op(sub, take, x_, acc_x, sx, sb), select_op(sub, take, t_, acc_t, st, sb),
                sub.op1('stablehlo.or', [acc_m, m_], [sb, sb], sb)]
    region = ctx.region([sx, st, sb, sx, st, sb], [sx, st, sb], body)
    inits = [ctx.splat(_identity(select, x_aval.dtype), sx), ctx.splat(0, st), ctx.splat(False, sb)]
    ones = (1,) * x_aval.ndim
    attrs = _window_attrs(window_dimensions, window_strides, ((0, 0),) * x_aval.ndim, ones, window_dilation)
    return ctx.op('stablehlo.reduce_window', operands + inits, [xgrid, tgrid, mgrid, sx, st, sb],
                  [out.update(dtype=d) for d in (x_aval.dtype, t_aval.dtype, dtypes.bool_)], attrs, [region])[1]


def select_and_gather_add(tangents, operand, select, window_dimensions, window_strides, padding,
                          base_dilation=None, window_dilation=None):
    """In each window of `operand`, the entry of `tangents` at the position of the max (select='max') or min.

    >>> import fn_dl.numpy as fnp
    >>> x, t = fnp.asarray([1.0, 5.0, 2.0, 0.0]), fnp.asarray([10.0, 20.0, 30.0, 40.0])
    >>> select_and_gather_add(t, x, 'max', (2,), (2,), 'VALID').tolist()
    [20.0, 30.0]
    """
    params = _resolve('select_and_gather_add', operand, window_dimensions, window_strides, padding,
                      base_dilation, window_dilation)
    return select_and_gather_add_p.bind(tangents, operand, select=select, **params)


select_and_scatter_add_p = Primitive('select_and_scatter_add')


@select_and_scatter_add_p.def_impl
def _scatter_impl(xp, s, x, *, select, **params):
    _check_select('select_and_scatter_add', select, x)
    out_shape = _window_shape('select_and_scatter_add', x, **params)
    if math.prod(out_shape) == 0:
        return xp.zeros(x.shape, dtype=s.dtype)
    base, slices, index = _selection(xp, x, select, out_shape, params)
    acc = xp.zeros(base.shape, dtype=s.dtype)
    zero = xp.zeros((), dtype=s.dtype)
    for o, sl in enumerate(slices):
        acc[sl] += xp.where(index == o, s, zero)  # one offset's positions are distinct: no collisions
    # back from the padded, dilated grid to the operand's positions
    _, src, dst = pad_dilate_slices(x.shape, tuple((lo, hi, d - 1) for (lo, hi), d in
                                                   zip(params['padding'], params['base_dilation'])))
    out = xp.zeros(x.shape, dtype=s.dtype)
    out[src] = acc[dst]
    return out


@select_and_scatter_add_p.def_abstract_eval
def _scatter_abstract(s, x, *, select, **params):
    _check_select('select_and_scatter_add', select, x)
    expected = _window_shape('select_and_scatter_add', x, **params)
    if s.shape != expected:
        raise ValueError(f"select_and_scatter_add: the source must have the windows' shape {shape_str(expected)} "
                         f"for operand {describe([x])}, got {describe([s])}")
    return ShapedArray(x.shape, s.dtype, s.weak_type)


@select_and_scatter_add_p.def_lower
def _scatter_lower(ctx, s, x, *, select, window_dimensions, window_strides, padding, base_dilation,
                   window_dilation):
    s_aval, x_aval = ctx.avals_in
    out = ctx.avals_out[0]
    if out.size == 0 or s_aval.size == 0:  # no window, nothing to scatter (and no slices to take below)
        return ctx.splat(0, out)
    config, xgrid = _grid(x_aval, padding, base_dilation)
    sgrid = xgrid.update(dtype=s_aval.dtype)
    xpad = _pad_op(ctx, x, _identity(select, x_aval.dtype), config, x_aval, xgrid)
    if any(d > 1 for d in window_dilation) or s_aval.dtype != x_aval.dtype or x_aval.ndim == 0:
        # select_and_scatter has no window dilation, its source must have the operand's dtype, and XLA
        # aborts the process on a rank-0 one (jaxlib 0.10.2, JAX's lowering too)
        acc = _scatter_by_offsets(ctx, s, xpad, xgrid, select, window_dimensions, window_strides, window_dilation)
    else:
        sx, ss, sb = _scalar(x_aval.dtype), _scalar(s_aval.dtype), _scalar(dtypes.bool_)

        def keep(sub, args):  # the current selection stays unless the candidate is strictly better, as eager
            current, candidate = args
            return [sub.op1('stablehlo.not', [compare(sub, _BETTER[select], candidate, current, sx)], [sb], sb)]
        pick = ctx.region([sx, sx], [sb], keep)
        add = ctx.region([ss, ss], [ss], lambda sub, ab: [sub.op1('stablehlo.add', ab, [ss, ss], ss)])
        attrs = {'window_dimensions': i64_array(window_dimensions), 'window_strides': i64_array(window_strides),
                 'padding': padding_attr(((0, 0),) * x_aval.ndim)}
        acc = ctx.op1('stablehlo.select_and_scatter', [xpad, s, ctx.splat(0, ss)], [xgrid, s_aval, ss], sgrid,
                      attrs, [pick, add])
    # the transpose of that pad: undo the edges (cropped positions come back as zeros), then step over holes
    dilated = sgrid.update(shape=tuple(dilate_dim(n, it + 1) for n, (_, _, it) in zip(x_aval.shape, config)))
    acc = _pad_op(ctx, acc, 0, [(-lo, -hi, 0) for lo, hi, _ in config], sgrid, dilated)
    return _slice_op(ctx, acc, [slice(0, n, it + 1) for n, (_, _, it) in zip(dilated.shape, config)], dilated, out)


def _scatter_by_offsets(ctx, s, xpad, xgrid, select, window_dimensions, window_strides, window_dilation):
    """What the eager implementation does: per offset in the window (row-major), a strided slice of the
    padded operand; running strict compares find each window's first max (min); each offset's share of `s`
    goes back onto the grid by an interior pad."""
    s_aval = ctx.avals_in[0]
    win, idx, flags = (s_aval.update(dtype=d) for d in (xgrid.dtype, dtypes.int32, dtypes.bool_))
    sgrid = xgrid.update(dtype=s_aval.dtype)
    slices = list(_window_slices(s_aval.shape, window_dimensions, window_strides, window_dilation))
    best, index = _slice_op(ctx, xpad, slices[0], xgrid, win), ctx.splat(0, idx)
    for o, sl in enumerate(slices[1:], 1):
        v = _slice_op(ctx, xpad, sl, xgrid, win)
        wins = compare(ctx, _BETTER[select], v, best, win)
        best = select_op(ctx, wins, v, best, win, flags)
        index = select_op(ctx, wins, ctx.splat(o, idx), index, idx, flags)
    zeros, acc = ctx.splat(0, s_aval), None
    for o, sl in enumerate(slices):
        share = select_op(ctx, compare(ctx, 'EQ', index, ctx.splat(o, idx), idx), s, zeros, s_aval, flags)
        edges = [(d.start, n - d.stop, d.step - 1) for d, n in zip(sl, xgrid.shape)]
        spread = _pad_op(ctx, share, 0, edges, s_aval, sgrid)
        acc = spread if acc is None else ctx.op1('stablehlo.add', [acc, spread], [sgrid, sgrid], sgrid)
    return acc


def select_and_scatter_add(source, operand, select, window_dimensions, window_strides, padding,
                           base_dilation=None, window_dilation=None):
    """Add each window's `source` value at the position of the max (select='max') or min of `operand` there.

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.asarray([1.0, 5.0, 2.0, 0.0])
    >>> select_and_scatter_add(fnp.asarray([1.0, 1.0, 1.0]), x, 'max', (2,), (1,), 'VALID').tolist()
    [0.0, 2.0, 1.0, 0.0]
    """
    params = _resolve('select_and_scatter_add', operand, window_dimensions, window_strides, padding,
                      base_dilation, window_dilation)
    return select_and_scatter_add_p.bind(source, operand, select=select, **params)


def _selection_rules(prim, transpose_prim):
    """Both are linear in their first argument; the operand only says where, so its tangent contributes
    nothing; each one's transpose is the other."""
    def jvp(primals, tangents, **params):
        (v, x), (tv, _) = primals, tangents
        out = prim.bind(v, x, **params)
        return out, (Zero(out.aval) if type(tv) is Zero else prim.bind(tv, x, **params))

    def transpose(ct, v, x, **params):
        return [transpose_prim.bind(ct, x, **params), None]

    def batch(args, dims, **params):
        size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
        v, x = (bdim_at_front(a, d, size) for a, d in zip(args, dims))
        return prim.bind(v, x, **_with_unit_axis(params, 0)), 0

    prim.jvp = jvp
    prim.def_transpose(transpose)
    prim.batch = batch


_selection_rules(select_and_gather_add_p, select_and_scatter_add_p)
_selection_rules(select_and_scatter_add_p, select_and_gather_add_p)
_chooser_jvp(reduce_window_max_p, 'max')
_chooser_jvp(reduce_window_min_p, 'min')

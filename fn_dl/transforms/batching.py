"""vmap: vectorising a function over a batch axis with each primitive's batching rule.

A batched value is a `BatchTracer` holding the stacked value and the axis
its batch lives on (or it is a plain value when unbatched). No rule loops in
Python: a matmul of a batch becomes one batched dot_general.
"""
from __future__ import annotations

import functools

from fn_dl import tree as _tree
from fn_dl.core.array import Array, Tracer
from fn_dl.core.aval import ShapedArray
from fn_dl.core.trace import Trace, aval_of, leaked_tracer_error, set_trace, state


class BatchTracer(Tracer):
    __slots__ = ('val', 'bdim')

    def __init__(self, trace, val, bdim):
        self._trace, self.val, self.bdim = trace, val, bdim

    @property
    def aval(self):
        a = aval_of(self.val)
        shape = a.shape[:self.bdim] + a.shape[self.bdim + 1:]
        return ShapedArray(shape, a.dtype, a.weak_type)

    # read through to the batched value without building an aval (rules ask for shapes constantly)
    @property
    def shape(self):
        s = self.val.shape
        return s[:self.bdim] + s[self.bdim + 1:]

    dtype = property(lambda self: self.val.dtype)
    ndim = property(lambda self: self.val.ndim - 1)


class BatchTrace(Trace):
    def __init__(self, parent, axis_size):
        super().__init__(parent)
        self.axis_size = axis_size

    def __repr__(self):
        return f"vmap(axis_size={self.axis_size})"

    def concretization_error(self, tracer):
        from fn_dl.core.trace import ConcretizationError
        return ConcretizationError(
            f"a value batched by vmap ({tracer.aval.str_short()} per example) has a different value for each "
            f"example, so it cannot be used as a Python bool, int or index. Use fnp.where / fd.lax.select, or "
            f"fd.lax.cond (which vmap turns into a select).")

    def process(self, prim, args, params):
        vals, dims, active = [], [], False
        for a in args:  # this runs for every primitive: own-tracer and leak checks inlined
            if type(a) is BatchTracer and a._trace is self:
                vals.append(a.val)
                dims.append(a.bdim)
                active = True
            else:
                if isinstance(a, Tracer) and not a._trace.alive:
                    raise leaked_tracer_error(a)
                vals.append(a)
                dims.append(None)
        prev, state.trace = state.trace, self.parent
        try:
            if not active:
                return prim.bind(*vals, **params)
            if prim.batch is None:
                raise TypeError(f"vmap: {prim.name} has no batching rule")
            out, out_dim = prim.batch(vals, dims, **params)
        finally:
            state.trace = prev
        if prim.multiple_results:
            if not isinstance(out_dim, (list, tuple)):
                out_dim = [out_dim] * len(out)
            return [self.wrap(o, d) for o, d in zip(out, out_dim)]
        return out if out_dim is None else BatchTracer(self, out, out_dim)

    def wrap(self, val, bdim):
        return val if bdim is None else BatchTracer(self, val, bdim)


def _moveaxis(x, src, dst):
    from fn_dl.ops._rules import moveaxis
    return moveaxis(x, src, dst)


def _broadcast_axis(x, size, axis):
    from fn_dl.ops._rules import move_bdim
    return move_bdim(x, None, size, axis)


def _axis_sizes_error(args, in_axes_flat, leaves):
    lines = []
    for i, (leaf, ax) in enumerate(zip(leaves, in_axes_flat)):
        if ax is not None:
            lines.append(f"  input leaf {i}: shape {tuple(leaf.shape)}, axis {ax} -> size {leaf.shape[ax]}")
    return ValueError("vmap got inconsistent sizes for the mapped axis:\n" + '\n'.join(lines))


def vmap(fun, in_axes=0, out_axes=0, axis_size=None, chunk_size=None):
    """Vectorise `fun` over an axis of its inputs.

    in_axes / out_axes: an int, None (not mapped), or a tree prefix of the
    arguments / outputs made of those. `chunk_size` runs the batch in chunks
    of that many examples (less memory, same result).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> fd.vmap(lambda x, y: x @ y, in_axes=(0, None))(fnp.ones((5, 3)), fnp.ones(3)).shape
    (5,)
    """
    if not (in_axes is None or isinstance(in_axes, (int, tuple, list, dict))):
        raise TypeError(f"vmap: in_axes must be an int, None, or a tuple/list/dict of them; got {in_axes!r}")

    @functools.wraps(fun)
    def vmapped(*args, **kwargs):
        from fn_dl.ops.shape import concatenate
        if isinstance(in_axes, list) and len(args) == 1 and not isinstance(args[0], list):
            axes = tuple(in_axes)
        else:
            axes = in_axes
        if isinstance(axes, (tuple, list)) and len(axes) != len(args):
            raise ValueError(f"vmap: in_axes has {len(axes)} entries but the function was called with "
                             f"{len(args)} positional arguments; give one entry per argument (None = not mapped)")
        leaves, treedef = _tree.flatten(args)
        leaves = [_as_array(x) for x in leaves]
        try:
            axes_flat = _tree.broadcast_prefix(tuple(axes) if isinstance(axes, list) else
                                               (axes if isinstance(axes, tuple) else (axes,) * len(args)), args)
        except ValueError as e:
            raise ValueError(f"vmap: in_axes {in_axes!r} does not match the structure of the arguments: {e}") from None
        axes_flat = [None if a is None else _normalize_axis(a, x.ndim, 'in_axes') for a, x in zip(axes_flat, leaves)]
        sizes = {x.shape[a] for x, a in zip(leaves, axes_flat) if a is not None}
        if len(sizes) > 1 or (axis_size is not None and sizes and sizes != {axis_size}):
            raise _axis_sizes_error(args, axes_flat, leaves)
        if not sizes and axis_size is None:
            raise ValueError("vmap: no argument is mapped (all in_axes are None); pass axis_size= to say the size")
        size = sizes.pop() if sizes else axis_size
        if chunk_size is not None and size > chunk_size:
            chunks = []
            for start in range(0, size, chunk_size):
                stop = min(start + chunk_size, size)
                part = [x if a is None else _slice_axis(x, a, start, stop) for x, a in zip(leaves, axes_flat)]
                chunks.append(_run(fun, treedef, part, axes_flat, stop - start, kwargs))
            outs0, out_tree = chunks[0]
            o_axes = _out_axes(out_axes, out_tree)
            outs = [concatenate([c[0][i] for c in chunks], ax) if ax is not None else outs0[i]
                    for i, ax in enumerate(o_axes)]
            return _tree.unflatten(out_tree, outs)
        outs, out_tree = _run(fun, treedef, leaves, axes_flat, size, kwargs)
        return _tree.unflatten(out_tree, outs)

    def _run(fun, treedef, leaves, axes_flat, size, kwargs):
        trace = BatchTrace(state.trace, size)
        ins = [x if a is None else BatchTracer(trace, x, a) for x, a in zip(leaves, axes_flat)]
        with set_trace(trace):
            try:
                out = fun(*_tree.unflatten(treedef, ins), **kwargs)
            finally:
                trace.alive = False
        o_flat, o_tree = _tree.flatten(out)
        o_axes = _out_axes(out_axes, o_tree, out)
        results = []
        for o, ax in zip(o_flat, o_axes):
            o = _as_array(o)
            if trace.is_own(o):
                if ax is None:
                    raise ValueError("vmap: an output with out_axes=None varies across the batch; "
                                     "give it a mapped out_axes")
                results.append(_moveaxis(o.val, o.bdim, _normalize_axis(ax, o.val.ndim, 'out_axes')))
            else:
                results.append(o if ax is None else _broadcast_axis(o, size, _normalize_axis(ax, o.ndim + 1,
                                                                                           'out_axes')))
        return results, o_tree

    def _out_axes(out_axes, o_tree, out=None):
        if out is None:
            out = _tree.unflatten(o_tree, [0] * o_tree.num_leaves)
        try:
            return _tree.broadcast_prefix(out_axes, out)
        except ValueError as e:
            raise ValueError(f"vmap: out_axes {out_axes!r} does not match the structure of the outputs: {e}") from None

    return vmapped


def _normalize_axis(a, ndim, what):
    if not isinstance(a, int):
        raise TypeError(f"vmap: {what} entries must be ints or None, got {a!r}")
    if not -ndim <= a < max(ndim, 1) or ndim == 0:
        raise ValueError(f"vmap: {what} axis {a} is out of range for an argument of rank {ndim}")
    return a % ndim


def _slice_axis(x, axis, start, stop):
    from fn_dl.ops.shape import slice
    lo = [0] * x.ndim
    hi = list(x.shape)
    lo[axis], hi[axis] = start, stop
    return slice(x, lo, hi)


def _as_array(x):
    if isinstance(x, Array):
        return x
    from fn_dl.numpy import asarray
    return asarray(x)


def batch_program(program, in_dims, axis_size, force_out=None):
    """Program over batched operands (batch axis per `in_dims`, None = unbatched) -> (program, out_dims).

    Outputs come back batched at axis 0, or unbatched (None) where they do not
    depend on the batch; `force_out[i]` True batches output i regardless, so
    that e.g. the branches of a cond, or a loop carry, agree.
    """
    from fn_dl.core.ir import eval_program
    from fn_dl.core.staging import stage
    out_dims = []

    def f(*args):
        trace = BatchTrace(state.trace, axis_size)
        ins = [x if d is None else BatchTracer(trace, x, d) for x, d in zip(args, in_dims)]
        with set_trace(trace):
            try:
                outs = eval_program(program, ins)
            finally:
                trace.alive = False
        res = []
        out_dims.clear()
        for i, o in enumerate(outs):
            if trace.is_own(o):
                res.append(_moveaxis(o.val, o.bdim, 0))
                out_dims.append(0)
            elif force_out is not None and force_out[i]:
                res.append(_broadcast_axis(o, axis_size, 0))
                out_dims.append(0)
            else:
                res.append(o)
                out_dims.append(None)
        return res

    avals = []
    for a, d in zip(program.in_avals, in_dims):
        if d is None:
            avals.append(a)
        else:
            shape = list(a.shape)
            shape.insert(d, axis_size)
            avals.append(ShapedArray(shape, a.dtype, a.weak_type))
    prog = stage(f, avals, name='vmap')
    return prog, list(out_dims)

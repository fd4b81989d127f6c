"""NumPy-style indexing: `x[idx]`, the functional updates `x.at[idx].set(...)`, and the index functions.

`x[idx]` with only ints, slices, None and Ellipsis becomes slice/rev/reshape
(and dynamic_slice for traced integer scalars). Anything with an integer or
boolean array becomes ONE gather, and `x.at[idx].<op>(v)` ONE scatter with the
matching dimension numbers (JAX's `_index_to_gather` design): unit-stride
slices are windows of the gather, other slices and the advanced indices are
rows of its index array, so an update reaches exactly the elements `x[idx]`
reads, in NumPy's order.

Out of bounds: static indices raise IndexError as in NumPy; index values
that are fn_dl arrays are not read on the host, so (as in JAX) reads clamp
them and updates drop them.
"""
from __future__ import annotations

import operator

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.array import Array, Tracer
from fn_dl.core.aval import shape_str
from fn_dl.core.trace import ConcretizationError
from fn_dl.numpy._elementwise import floor_divide, remainder, where
from fn_dl.numpy._util import asarray, broadcast_shapes, broadcast_to_shape, normalize_axis, promote, to_dtype
from fn_dl.ops import elementwise as ew
from fn_dl.ops import indexing as ix
from fn_dl.ops import shape as sh
from fn_dl.ops.cumulative import cumsum
from fn_dl.ops.reduce import reduce_or, reduce_sum

_INDEX_KINDS = "integers, slices (`:`), ellipsis (`...`), None, and integer or boolean arrays"
_GAP = object()  # where an Ellipsis stood for no axes


# --- parsing an index into per-axis entries -------------------------------------------------------

class _Arr:
    """An integer index array: `host` (a NumPy array, already checked and wrapped into range) or `dev`."""
    __slots__ = ('host', 'dev')

    def __init__(self, host=None, dev=None):
        self.host, self.dev = host, dev

    @property
    def shape(self):
        return (self.host if self.host is not None else self.dev).shape


def _concrete_bool(mask, what):
    """A boolean mask's concrete value (an Array), or the error explaining why there is none."""
    if isinstance(mask, Tracer):
        try:
            return mask.to_concrete()
        except ConcretizationError:
            raise ConcretizationError(
                f"{what}: a boolean mask gives a result whose shape depends on the mask's values, and here the "
                f"mask ({mask.aval.str_short()}) is traced, so its values are unknown. Use "
                f"fnp.where(mask, x, other) to keep the shape, or fnp.nonzero(mask, size=N, fill_value=...) "
                f"for integer indices of a static size.") from None
    return mask


def _classify(i, what):
    """One raw index item as None, Ellipsis, slice, ('bool', b), ('mask', m), int, ('dyn', a) or _Arr."""
    if i is None or i is Ellipsis or isinstance(i, slice):
        return i
    if isinstance(i, (bool, np.bool_)):
        return ('bool', bool(i))
    if isinstance(i, (int, np.integer)):
        return int(i)
    if isinstance(i, (list, tuple)) and any(isinstance(e, Array) for e in _flat(i)):
        i = asarray(i)
    if isinstance(i, Array):
        if i.dtype == dtypes.bool_:
            i = _concrete_bool(i, what)
            return ('mask', i) if i.ndim else ('bool', bool(i))
        if not dtypes.is_integer(i.dtype):
            raise IndexError(f"arrays used as indices must be of integer or boolean type, got {i.dtype}")
        if i.ndim:
            return _Arr(dev=i)
        return ('dyn', i) if isinstance(i, Tracer) else int(i)
    if isinstance(i, (list, tuple, np.ndarray, np.generic)):
        a = np.asarray(i)
        if a.size == 0 and a.dtype.kind == 'f':  # x[[]] is an empty integer index, as in NumPy
            a = a.astype(np.intp)
        if a.dtype == np.bool_:
            return ('mask', a)
        if a.dtype.kind not in 'iu':
            raise IndexError(f"arrays used as indices must be of integer or boolean type, got {a.dtype}")
        return _Arr(host=a) if a.ndim else int(a)
    raise IndexError(f"only {_INDEX_KINDS} are valid indices; got {type(i).__name__}")


def _flat(seq):
    for e in seq:
        if isinstance(e, (list, tuple)):
            yield from _flat(e)
        else:
            yield e


def _slice_bounds(s, n):
    try:
        return s.indices(n)
    except ConcretizationError:
        raise IndexError("slice bounds must be static Python integers; for a traced start use x[i] with a traced "
                         "integer i, or fn_dl.ops.indexing.dynamic_slice") from None


def _index_dtype(n, *arrays):
    wide = any(a.dtype.itemsize == 8 or a.dtype == np.uint32 for a in arrays)
    return dtypes.int64 if wide else ix.index_dtype(n)


class _Parsed:
    """An index resolved against a shape.

    `entries` is one item per index position after Ellipsis expansion:
    ('none',), ('slice', dim, start, step, length), ('int', dim, k),
    ('dyn', dim, traced scalar in range), ('arr', dim, _Arr), and ('gap',) for
    an Ellipsis that stands for no axes. Boolean scalars
    add a size-1 axis to the array (`shape` is the shape with those axes).
    """

    def __init__(self, x_shape, idx, what):
        items = [_classify(i, what) for i in (idx if isinstance(idx, tuple) else (idx,))]
        if sum(i is Ellipsis for i in items) > 1:
            raise IndexError("an index can only have a single ellipsis ('...')")
        used = sum(map(_n_axes, items))
        if used > len(x_shape):
            raise IndexError(f"too many indices for array: array is {len(x_shape)}-dimensional, but {used} were "
                             f"indexed")
        if Ellipsis in items:
            # an Ellipsis standing for no axes still separates advanced indices, as in NumPy
            k = items.index(Ellipsis)
            items[k:k + 1] = [slice(None)] * (len(x_shape) - used) or [_GAP]
        else:
            items += [slice(None)] * (len(x_shape) - used)
        self.shape, self.entries, dim = [], [], 0
        for i in items:
            if i is None:
                self.entries.append(('none',))
            elif i is _GAP:
                self.entries.append(('gap',))
            elif isinstance(i, tuple) and i[0] == 'bool':
                # NumPy: a boolean scalar indexes a new axis of size 1 with the mask [b]
                self.shape.append(1)
                self.entries.append(('arr', len(self.shape) - 1, _Arr(host=np.zeros(int(i[1]), np.intp))))
            elif isinstance(i, tuple) and i[0] == 'mask':
                m = i[1]
                sizes = tuple(x_shape[dim:dim + m.ndim])
                if tuple(m.shape) != sizes:
                    raise IndexError(f"boolean index of shape {shape_str(m.shape)} does not match the indexed axes "
                                     f"{dim}..{dim + m.ndim - 1} of shape {shape_str(sizes)} (array shape "
                                     f"{shape_str(x_shape)})")
                for k in (np.nonzero(m) if isinstance(m, np.ndarray) else nonzero(m)):
                    self.shape.append(x_shape[dim])
                    self.entries.append(('arr', len(self.shape) - 1,
                                         _Arr(host=k) if isinstance(k, np.ndarray) else _Arr(dev=k)))
                    dim += 1
            else:
                n = x_shape[dim]
                self.shape.append(n)
                d = len(self.shape) - 1
                if isinstance(i, slice):
                    start, stop, step = _slice_bounds(i, n)
                    length = len(range(start, stop, step))
                    if length <= 1:
                        step = 1  # one element or none: any step reads the same
                    self.entries.append(('slice', d, start if length else 0, step, length))
                elif isinstance(i, int):
                    if not -n <= i < n:
                        raise IndexError(f"index {i} is out of bounds for axis {dim} with size {n}")
                    self.entries.append(('int', d, i % n))
                elif isinstance(i, tuple) and i[0] == 'dyn':
                    self.entries.append(('dyn', d, _wrap_negative(i[1], n)))
                else:
                    self.entries.append(('arr', d, _checked(i, n, dim)))
                dim += 1
        self.has_arrays = any(e[0] == 'arr' for e in self.entries)
        self.tokens = self._tokens()

    def final_shape(self):
        """The shape NumPy gives x[idx] (the gather's shape with the None axes)."""
        return tuple(1 if t == 'N' else s for t, s in self.tokens)

    def _tokens(self):
        """The result's axes in order: ('N', 1), ('O'/'R', length) per slice, ('G', size) per advanced axis."""
        adv = [k for k, e in enumerate(self.entries) if e[0] == 'arr' or (self.has_arrays and e[0] in ('int', 'dyn'))]
        group = broadcast_shapes('indexing', *[e[2].shape for e in self.entries if e[0] == 'arr']) \
            if self.has_arrays else ()
        together = adv == list(range(adv[0], adv[-1] + 1)) if adv else True
        toks = [] if together else [('G', s) for s in group]
        for k, e in enumerate(self.entries):
            if e[0] == 'none':
                toks.append(('N', 1))
            elif e[0] == 'slice':
                toks.append(('O' if e[3] == 1 else 'R', e[4]))
            elif together and adv and k == adv[0]:
                toks.extend(('G', s) for s in group)
        return toks


def _n_axes(item):
    """How many axes of the array a classified index item consumes."""
    if item is None or item is Ellipsis or (isinstance(item, tuple) and item[0] == 'bool'):
        return 0
    return item[1].ndim if isinstance(item, tuple) and item[0] == 'mask' else 1


def _wrap_negative(i, n):
    """A traced index, in a signed index dtype, with NumPy's negative indices mapped into [0, n)."""
    dt = _index_dtype(n, i)
    i = ew.convert_element_type(i, dt)
    return ew.select_n(ew.lt(i, sh.full(i.shape, 0, dt)), i, ew.add(i, sh.full(i.shape, n, dt)))


def _checked(a: _Arr, n, dim):
    if a.dev is not None:
        return _Arr(dev=_wrap_negative(a.dev, n))
    h = a.host
    if h.size and (h.min() < -n or h.max() >= n):
        bad = h[(h < -n) | (h >= n)].flat[0]
        raise IndexError(f"index {bad} is out of bounds for axis {dim} with size {n}")
    return _Arr(host=np.where(h < 0, h + n, h).astype(_index_dtype(n, h)))


# --- x[idx] -------------------------------------------------------------------------------------------

def getitem(x, idx):
    """x[idx] with NumPy semantics (basic, advanced and boolean indexing).

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.arange(6).reshape(2, 3)
    >>> x[1].tolist(), x[:, ::-1].tolist(), x[None, 0, 1:].shape
    ([3, 4, 5], [[2, 1, 0], [5, 4, 3]], (1, 2))
    >>> x[[1, 0], [2, 2]].tolist(), x[x > 3].tolist()
    ([5, 2], [4, 5])
    """
    p = _Parsed(x.shape, idx, 'indexing')
    if p.has_arrays:
        g = _Gather(p)
        out = ix.gather(sh.reshape(x, p.shape), g.indices, g.dnums, g.slice_sizes, mode='clip')
        return sh.reshape(out, p.final_shape())
    return _basic(x, p)


def _basic(x, p):
    """Ints, slices, None and traced scalars: slice/rev, then dynamic_slice, then reshape."""
    starts, limits, strides, flips = [], [], [], []
    dyn = {}
    for e in p.entries:
        if e[0] == 'slice':
            _, d, start, step, length = e
            if step < 0:
                flips.append(d)
                start, step = x.shape[d] - 1 - start, -step
            starts.append(start)
            limits.append(start + (length - 1) * step + 1 if length else start)
            strides.append(step)
        elif e[0] == 'int':
            starts.append(e[2])
            limits.append(e[2] + 1)
            strides.append(1)
        elif e[0] == 'dyn':
            starts.append(0)
            limits.append(x.shape[e[1]])
            strides.append(1)
            dyn[e[1]] = e[2]
    out = sh.rev(x, flips) if flips else x
    out = sh.slice(out, starts, limits, strides)
    if dyn:
        zero = sh.full((), 0, next(iter(dyn.values())).dtype)
        out = ix.dynamic_slice(out, [dyn.get(d, zero) for d in range(out.ndim)],
                               [1 if d in dyn else s for d, s in enumerate(out.shape)])
    return sh.reshape(out, p.final_shape())


class _Gather:
    """The one gather (or scatter) that reads (or writes) x[idx].

    Its index array has one row per element of the batch shape (the advanced
    indices' broadcast shape and one axis per non-unit-stride slice, in the
    result's order) and one column per axis with a start: advanced indices,
    ints, traced scalars, strided slices as aranges, unit-stride slices that
    start past 0. Unit-stride slices are windows (offset dims).
    """

    def __init__(self, p: _Parsed):
        toks = [t for t in p.tokens if t[0] != 'N']
        batch = tuple(s for t, s in toks if t != 'O')
        g_at = next((k for k, (t, _) in enumerate(t for t in toks if t[0] != 'O') if t == 'G'), 0)
        n_group = sum(t == 'G' for t, _ in toks)
        r_pos = iter(k for k, (t, _) in enumerate(t for t in toks if t[0] != 'O') if t == 'R')
        arrays = [e[2] for e in p.entries if e[0] == 'arr']
        dt = _index_dtype(max(p.shape, default=0), *[a.host if a.host is not None else a.dev for a in arrays],
                          *[e[2] for e in p.entries if e[0] == 'dyn'])
        cols, index_map, collapsed = [], [], []
        sizes = list(p.shape)
        for e in p.entries:
            if e[0] in ('none', 'gap'):
                continue
            kind, d = e[0], e[1]
            if kind == 'slice':
                _, _, start, step, length = e
                if step == 1:
                    sizes[d] = length
                    if start:
                        cols.append(sh.full(batch, start, dt))
                        index_map.append(d)
                    continue
                arange = asarray(np.arange(start, start + step * length, step), dt)
                cols.append(sh.broadcast_in_dim(arange, batch, (next(r_pos),)))
            elif kind == 'int':
                cols.append(sh.full(batch, e[2], dt))
            elif kind == 'dyn':
                cols.append(sh.broadcast_in_dim(ew.convert_element_type(e[2], dt), batch, ()))
            else:
                a = e[2]
                v = asarray(a.host, dt) if a.host is not None else ew.convert_element_type(a.dev, dt)
                lead = g_at + n_group - v.ndim
                cols.append(sh.broadcast_in_dim(v, batch, tuple(range(lead, lead + v.ndim))))
            index_map.append(d)
            collapsed.append(d)
            sizes[d] = 1
        self.indices = sh.concatenate([sh.reshape(c, batch + (1,)) for c in cols], len(batch)) if cols else \
            sh.full(batch + (0,), 0, dt)
        offset_dims = tuple(k for k, (t, _) in enumerate(toks) if t == 'O')
        self.dnums = ix.GatherDimensionNumbers(offset_dims, tuple(sorted(collapsed)), tuple(index_map))
        self.slice_sizes = tuple(sizes)
        self.shape = tuple(s for _, s in toks)
        self.arrays = arrays


def _unique_rows(arrays):
    """Whether the advanced indices never name one element twice (False when they are traced)."""
    hosts = []
    for a in arrays:
        if a.host is not None:
            hosts.append(a.host)
        elif isinstance(a.dev, Tracer):
            return False
        else:
            hosts.append(np.asarray(a.dev))
    if not hosts:
        return True
    rows = np.stack([b.ravel() for b in np.broadcast_arrays(*hosts)], 1)
    return len(np.unique(rows, axis=0)) == rows.shape[0]


# --- x.at[idx].set / add / mul / min / max ----------------------------------------------------------

_SCATTERS = {'set': ix.scatter, 'add': ix.scatter_add, 'mul': ix.scatter_mul, 'min': ix.scatter_min,
             'max': ix.scatter_max}
_COMBINE = {'add': ew.add, 'mul': ew.mul, 'min': ew.min, 'max': ew.max}


def _broadcast_values(values, shape, what):
    """values broadcast to the indexed shape, NumPy's setitem rule (leading size-1 axes may be dropped)."""
    while values.ndim > len(shape) and values.shape[0] == 1:
        values = sh.reshape(values, values.shape[1:])
    if values.ndim > len(shape) or any(v not in (1, s) for v, s in zip(values.shape[::-1], shape[::-1])):
        raise ValueError(f"{what}: cannot broadcast values of shape {shape_str(values.shape)} to the indexed "
                         f"shape {shape_str(shape)}")
    return broadcast_to_shape(values, tuple(shape))


def index_update(x, idx, values, mode):
    """x with x[idx] replaced by (mode='set') or combined with values (mode 'add', 'mul', 'min', 'max').

    Backs `x.at[idx].set(v)` and friends. Repeated indices accumulate for
    'add'/'mul'/'min'/'max'; for 'set' one of the repeated updates wins.
    Out-of-bounds traced indices are dropped.

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.zeros(4)
    >>> x.at[1:3].set(5.0).tolist(), x.at[fnp.asarray([0, 0, 3])].add(1.0).tolist()
    ([0.0, 5.0, 5.0, 0.0], [2.0, 0.0, 0.0, 1.0])
    """
    if mode not in _SCATTERS:
        raise ValueError(f"index update: mode must be one of {tuple(_SCATTERS)}, got {mode!r}")
    what = f"x.at[...].{mode}"
    p = _Parsed(x.shape, idx, what)
    values = to_dtype(what, values, x.dtype)
    values = _broadcast_values(values, p.final_shape(), what)
    static = all(e[0] in ('none', 'gap', 'int') or (e[0] == 'slice' and e[3] == 1) for e in p.entries)
    if static:
        return _update_window(x, p, values, mode)
    g = _Gather(p)
    out = _SCATTERS[mode](sh.reshape(x, p.shape), g.indices, sh.reshape(values, g.shape),
                          _scatter_dnums(g.dnums), unique_indices=_unique_rows(g.arrays), mode='drop')
    return sh.reshape(out, x.shape)


def _scatter_dnums(dn):
    return ix.ScatterDimensionNumbers(dn.offset_dims, dn.collapsed_slice_dims, dn.start_index_map)


def _update_window(x, p, values, mode):
    """Static ints and unit-stride slices: one rectangular window, a dynamic_update_slice."""
    starts, window = [], []
    for e in p.entries:
        if e[0] == 'slice':
            starts.append(e[2])
            window.append(e[4])
        elif e[0] == 'int':
            starts.append(e[2])
            window.append(1)
    values = sh.reshape(values, window)
    if mode != 'set':
        current = sh.slice(x, starts, [s + w for s, w in zip(starts, window)])
        values = _COMBINE[mode](current, values)
    return ix.dynamic_update_slice(x, values, starts)


# --- take, take_along_axis, put_along_axis ------------------------------------------------------------

def _int_array(name, a):
    a = asarray(a)
    if not dtypes.is_integer(a.dtype):
        raise TypeError(f"{name}: indices must be integers, got {a.dtype}")
    return a


def _mode_indices(name, idx, n, mode):
    """(indices, gather mode) for NumPy/JAX index modes: None/'fill', 'clip', 'wrap'."""
    if mode in (None, 'fill'):
        return _wrap_negative(idx, n), 'fill'
    if mode == 'clip':
        return idx, 'clip'
    if mode == 'wrap':
        if n == 0:
            raise IndexError(f"{name}: cannot wrap indices into an empty axis")
        return remainder(idx, n), 'clip'
    if mode == 'raise':
        raise ValueError(f"{name}: mode='raise' would need the index values on the host, which traced indices do "
                         f"not have; use mode='fill' (out-of-bounds reads give fill_value), 'clip' or 'wrap'")
    raise ValueError(f"{name}: mode must be None, 'fill', 'clip' or 'wrap', got {mode!r}")


def take(a, indices, axis=None, mode=None, fill_value=None):
    """Elements of `a` at `indices` along `axis` (of the flattened array when axis is None).

    mode: None or 'fill' (as JAX: negative indices count from the end and
    out-of-bounds ones read `fill_value`, NaN for floats by default), 'clip'
    or 'wrap'.

    >>> import fn_dl.numpy as fnp
    >>> a = fnp.asarray([[1., 2.], [3., 4.]])
    >>> fnp.take(a, fnp.asarray([1, -1, 5]), axis=1).tolist()
    [[2.0, 2.0, nan], [4.0, 4.0, nan]]
    """
    a = asarray(a)
    idx = _int_array('take', indices)
    if axis is None:
        a, axis = sh.reshape(a, (a.size,)), 0
    axis = normalize_axis('take', axis, a.ndim)
    idx, gmode = _mode_indices('take', idx, a.shape[axis], mode)
    out_rank = a.ndim - 1 + idx.ndim
    dn = ix.GatherDimensionNumbers(tuple(range(axis)) + tuple(range(axis + idx.ndim, out_rank)), (axis,), (axis,))
    sizes = tuple(1 if d == axis else s for d, s in enumerate(a.shape))
    return ix.gather(a, sh.reshape(idx, idx.shape + (1,)), dn, sizes, mode=gmode, fill_value=fill_value)


def _along_axis(name, arr, indices, axis):
    """arr and indices with their non-`axis` dimensions broadcast together, and the normalized axis."""
    arr, idx = asarray(arr), _int_array(name, indices)
    if axis is None:
        if idx.ndim != 1:
            raise ValueError(f"{name}: with axis=None the indices must be 1-d, got shape {shape_str(idx.shape)}")
        arr, axis = sh.reshape(arr, (arr.size,)), 0
    if arr.ndim != idx.ndim:
        raise ValueError(f"{name}: indices and arr must have the same number of dimensions, got shapes "
                         f"{shape_str(idx.shape)} and {shape_str(arr.shape)}")
    axis = normalize_axis(name, axis, arr.ndim)
    shape = list(broadcast_shapes(name, [s for d, s in enumerate(arr.shape) if d != axis],
                                  [s for d, s in enumerate(idx.shape) if d != axis]))
    a_shape, i_shape = list(shape), list(shape)
    a_shape.insert(axis, arr.shape[axis])
    i_shape.insert(axis, idx.shape[axis])
    return sh.broadcast_in_dim(arr, a_shape, tuple(range(arr.ndim))), \
        sh.broadcast_in_dim(idx, i_shape, tuple(range(idx.ndim))), axis


def _along_axis_dims(ndim, axis):
    others = tuple(d for d in range(ndim) if d != axis)
    return others, others


def take_along_axis(arr, indices, axis, mode=None, fill_value=None):
    """out[..., j, ...] = arr[..., indices[..., j, ...], ...] along `axis` (other axes broadcast).

    >>> import fn_dl.numpy as fnp
    >>> a = fnp.asarray([[10, 30, 20], [60, 40, 50]])
    >>> fnp.take_along_axis(a, fnp.argsort(a, axis=1), axis=1).tolist()
    [[10, 20, 30], [40, 50, 60]]
    """
    arr, idx, axis = _along_axis('take_along_axis', arr, indices, axis)
    idx, gmode = _mode_indices('take_along_axis', idx, arr.shape[axis], mode)
    batch_a, batch_i = _along_axis_dims(arr.ndim, axis)
    dn = ix.GatherDimensionNumbers((), (axis,), (axis,), batch_a, batch_i)
    return ix.gather(arr, sh.reshape(idx, idx.shape + (1,)), dn, (1,) * arr.ndim, mode=gmode,
                     fill_value=fill_value)


def put_along_axis(arr, indices, values, axis, mode=None):
    """A copy of arr with values written at indices along axis (the functional np.put_along_axis).

    Out-of-bounds indices are dropped (mode None/'drop'), or clamped (mode='clip').

    >>> import fn_dl.numpy as fnp
    >>> a = fnp.zeros((2, 3))
    >>> fnp.put_along_axis(a, fnp.asarray([[2], [0]]), 1.0, axis=1).tolist()
    [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    arr, idx = asarray(arr), _int_array('put_along_axis', indices)
    if axis is None:
        arr_shape, arr = arr.shape, sh.reshape(arr, (arr.size,))
        ax = 0
    else:
        arr_shape, ax = arr.shape, normalize_axis('put_along_axis', axis, arr.ndim)
    if idx.ndim != arr.ndim:
        raise ValueError(f"put_along_axis: indices and arr must have the same number of dimensions, got shapes "
                         f"{shape_str(idx.shape)} and {shape_str(arr.shape)}")
    i_shape = [s if d == ax else arr.shape[d] for d, s in enumerate(idx.shape)]
    if any(s not in (1, arr.shape[d]) for d, s in enumerate(idx.shape) if d != ax):
        raise ValueError(f"put_along_axis: indices of shape {shape_str(idx.shape)} do not broadcast against arr of "
                         f"shape {shape_str(arr.shape)} outside axis {ax}")
    idx = sh.broadcast_in_dim(idx, i_shape, tuple(range(idx.ndim)))
    if mode in (None, 'drop', 'fill'):
        idx, smode = _wrap_negative(idx, arr.shape[ax]), 'drop'
    elif mode == 'clip':
        smode = 'clip'
    else:
        raise ValueError(f"put_along_axis: mode must be None, 'drop' or 'clip', got {mode!r}")
    vals = _broadcast_values(to_dtype('put_along_axis', asarray(values), arr.dtype), tuple(i_shape),
                             'put_along_axis')
    batch_a, batch_i = _along_axis_dims(arr.ndim, ax)
    dn = ix.ScatterDimensionNumbers((), (ax,), (ax,), batch_a, batch_i)
    out = ix.scatter(arr, sh.reshape(idx, idx.shape + (1,)), vals, dn, mode=smode)
    return sh.reshape(out, arr_shape)


# --- nonzero and friends ---------------------------------------------------------------------------------

def _concrete_size(count, name):
    try:
        return int(count)
    except ConcretizationError:
        raise ConcretizationError(
            f"{name}: the size of the result depends on the values of the input, which are traced here; pass "
            f"size=N (and fill_value=...) to give it a static size") from None


def nonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements, one array per axis.

    Pass `size` (and `fill_value`, default 0) to use it under vmap or jit: the
    result then has exactly `size` entries, truncated or padded.

    >>> import fn_dl.numpy as fnp
    >>> [i.tolist() for i in fnp.nonzero(fnp.asarray([[0, 1], [2, 0]]))]
    [[0, 1], [1, 0]]
    >>> fnp.nonzero(fnp.asarray([0, 3, 0, 4]), size=3, fill_value=-1)[0].tolist()
    [1, 3, -1]
    """
    a = asarray(a)
    if a.ndim == 0:
        raise ValueError("nonzero: not defined for 0-d arrays; use fnp.atleast_1d(a) first")
    n = a.size
    dt = ix.index_dtype(n + 1)
    mask = a if a.dtype == dtypes.bool_ else ew.ne(a, sh.full(a.shape, 0, a.dtype))
    m = ew.convert_element_type(sh.reshape(mask, (n,)), dt)
    count = reduce_sum(m, (0,))
    if size is None:
        size = _concrete_size(count, 'nonzero')
    size = operator.index(size)
    # the k-th nonzero sits where the running count first reaches k + 1: count how many positions
    # have each running count (a scatter-add), and a running sum of those gives the positions
    ranks = sh.reshape(cumsum(m), (n, 1))
    per_rank = ix.scatter_add(sh.full((size,), 0, dt), ranks, sh.full((n,), 1, dt),
                              ix.ScatterDimensionNumbers((), (0,), (0,)))
    flat = cumsum(per_rank)
    found = ew.lt(sh.iota(dt, (size,)), sh.broadcast_in_dim(count, (size,), ()))
    fills = fill_value if isinstance(fill_value, (tuple, list)) else (0 if fill_value is None else fill_value,) * a.ndim
    if len(fills) != a.ndim:
        raise ValueError(f"nonzero: fill_value has {len(fills)} entries for a {a.ndim}-d array")
    out, stride = [], n
    for s, f in zip(a.shape, fills):
        stride //= max(s, 1)
        coord = ew.rem(ew.div(flat, sh.full((size,), max(stride, 1), dt)), sh.full((size,), max(s, 1), dt))
        out.append(ew.select_n(found, sh.broadcast_in_dim(to_dtype('nonzero', f, dt), (size,), ()), coord))
    return tuple(out)


def argwhere(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements as a (count, ndim) array.

    >>> import fn_dl.numpy as fnp
    >>> fnp.argwhere(fnp.asarray([[0, 1], [2, 0]])).tolist()
    [[0, 1], [1, 0]]
    """
    a = asarray(a)
    if a.ndim == 0:
        return argwhere(sh.reshape(a, (1,)), size=size, fill_value=fill_value)[:, :0]
    cols = nonzero(a, size=size, fill_value=fill_value)
    return sh.concatenate([sh.reshape(c, (c.shape[0], 1)) for c in cols], 1)


def flatnonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements of the flattened array.

    >>> import fn_dl.numpy as fnp
    >>> fnp.flatnonzero(fnp.asarray([[0, 1], [2, 0]])).tolist()
    [1, 2]
    """
    a = asarray(a)
    return nonzero(sh.reshape(a, (a.size,)), size=size, fill_value=fill_value)[0]


def compress(condition, a, axis=None, *, size=None, fill_value=0):
    """The slices of `a` along `axis` where the 1-d `condition` is true (`size` for a static length).

    >>> import fn_dl.numpy as fnp
    >>> fnp.compress(fnp.asarray([False, True, True]), fnp.asarray([[1, 2], [3, 4], [5, 6]]), axis=0).tolist()
    [[3, 4], [5, 6]]
    """
    cond, a = asarray(condition), asarray(a)
    if cond.ndim != 1:
        raise ValueError(f"compress: condition must be 1-d, got shape {shape_str(cond.shape)}")
    if axis is None:
        a, axis = sh.reshape(a, (a.size,)), 0
    axis = normalize_axis('compress', axis, a.ndim)
    n = a.shape[axis]
    if cond.shape[0] > n:
        extra = sh.slice(cond, (n,), cond.shape)
        if not isinstance(extra, Tracer) and bool(reduce_or(extra != 0, (0,))):
            raise IndexError(f"compress: condition has a true entry beyond the {n} entries of axis {axis}")
        cond = sh.slice(cond, (0,), (n,))
    idx = nonzero(cond, size=size, fill_value=n)[0]  # padding indices are out of bounds: they read fill_value
    return take(a, idx, axis=axis, mode='fill', fill_value=fill_value)


def extract(condition, arr, *, size=None, fill_value=0):
    """The elements of `arr` where `condition` is nonzero, flattened.

    >>> import fn_dl.numpy as fnp
    >>> fnp.extract(fnp.asarray([[1, 0], [0, 1]]), fnp.asarray([[1, 2], [3, 4]])).tolist()
    [1, 4]
    """
    cond, arr = asarray(condition), asarray(arr)
    idx = nonzero(sh.reshape(cond, (cond.size,)), size=size, fill_value=arr.size)[0]
    return take(sh.reshape(arr, (arr.size,)), idx, axis=0, mode='fill', fill_value=fill_value)


def select(condlist, choicelist, default=0):
    """Elementwise, the choice of the first true condition (default where none is).

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.arange(6)
    >>> fnp.select([x < 2, x > 3], [x, x ** 2], -1).tolist()
    [0, 1, -1, -1, 16, 25]
    """
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions for {len(choicelist)} choices; they must match")
    if not condlist:
        raise ValueError("select: needs at least one condition")
    conds = [asarray(c) for c in condlist]
    for c in conds:
        if c.dtype != dtypes.bool_:
            raise TypeError(f"select: conditions must be boolean arrays, got {c.dtype}")
    out = default
    for c, v in zip(reversed(conds), reversed(list(choicelist))):
        out = where(c, v, out)
    return asarray(out)


def choose(a, choices, mode='raise'):
    """out[i] = choices[a[i]][i], everything broadcast together.

    mode 'raise' needs a concrete `a` (it checks the range); 'wrap' and 'clip' work traced.

    >>> import fn_dl.numpy as fnp
    >>> fnp.choose(fnp.asarray([0, 2, 1]), [fnp.asarray([1, 2, 3]), 10, fnp.asarray([7, 8, 9])]).tolist()
    [1, 8, 10]
    """
    a = _int_array('choose', a)
    choices = promote('choose', *[c for c in choices])
    n = len(choices)
    if n == 0:
        raise ValueError("choose: needs at least one choice")
    shape = broadcast_shapes('choose', a.shape, *[c.shape for c in choices])
    a = broadcast_to_shape(a, shape)
    if mode == 'raise':
        bad = reduce_or(ew.bitwise_or(ew.lt(a, sh.full(shape, 0, a.dtype)),
                                      ew.ge(a, sh.full(shape, n, a.dtype))), tuple(range(len(shape))))
        try:
            bad = bool(bad)
        except ConcretizationError:
            raise ConcretizationError("choose: mode='raise' checks the indices, which are traced here; use "
                                      "mode='wrap' or mode='clip'") from None
        if bad:
            raise ValueError(f"choose: invalid entry in choice array (entries must be in [0, {n}))")
    elif mode == 'wrap':
        a = remainder(a, n)
    elif mode != 'clip':
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    stacked = sh.concatenate([sh.reshape(broadcast_to_shape(c, shape), (1,) + shape) for c in choices], 0)
    picked = take_along_axis(stacked, sh.reshape(a, (1,) + shape), axis=0, mode='clip')
    return sh.reshape(picked, shape)


# --- index grids and conversions ------------------------------------------------------------------

def indices(dimensions, dtype=None, sparse=False):
    """An index grid: out[k][i0, i1, ...] = ik (a tuple of broadcastable aranges when sparse).

    >>> import fn_dl.numpy as fnp
    >>> fnp.indices((2, 3))[1].tolist()
    [[0, 1, 2], [0, 1, 2]]
    """
    dims = tuple(operator.index(d) for d in dimensions)
    dt = dtypes.canonicalize(dtypes.default_int if dtype is None else dtype)
    if sparse:
        return tuple(sh.reshape(sh.iota(dt, (n,)), tuple(n if j == k else 1 for j in range(len(dims))))
                     for k, n in enumerate(dims))
    if not dims:
        return sh.full((0,), 0, dt)
    return sh.concatenate([sh.reshape(sh.iota(dt, dims, k), (1,) + dims) for k in range(len(dims))], 0)


def ix_(*args):
    """Open-mesh index arrays: x[fnp.ix_(rows, cols)] is the rows x cols sub-array.

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.arange(9).reshape(3, 3)
    >>> x[fnp.ix_(fnp.asarray([0, 2]), fnp.asarray([1, 2]))].tolist()
    [[1, 2], [7, 8]]
    """
    out = []
    for k, a in enumerate(args):
        a = asarray(a)
        if a.ndim != 1:
            raise ValueError(f"ix_: each argument must be 1-d, argument {k} has shape {shape_str(a.shape)}")
        if a.dtype == dtypes.bool_:
            a = nonzero(_concrete_bool(a, 'ix_'))[0]
        elif not dtypes.is_integer(a.dtype):
            if a.size:
                raise TypeError(f"ix_: arguments must be integer or boolean, argument {k} is {a.dtype}")
            a = to_dtype('ix_', a, dtypes.default_int)
        out.append(sh.reshape(a, tuple(a.shape[0] if j == k else 1 for j in range(len(args)))))
    return tuple(out)


def diag_indices(n, ndim=2):
    """Indices of the main diagonal of an (n, n, ..., n) array.

    >>> import fn_dl.numpy as fnp
    >>> fnp.arange(9).reshape(3, 3)[fnp.diag_indices(3)].tolist()
    [0, 4, 8]
    """
    i = sh.iota(dtypes.default_int, (operator.index(n),))
    return (i,) * operator.index(ndim)


def _tri_indices(fn, n, k, m):
    rows, cols = fn(operator.index(n), operator.index(k), None if m is None else operator.index(m))
    return asarray(rows, dtypes.default_int), asarray(cols, dtypes.default_int)


def tril_indices(n, k=0, m=None):
    """Indices of the lower triangle (diagonal offset k) of an (n, m) array.

    >>> import fn_dl.numpy as fnp
    >>> [a.tolist() for a in fnp.tril_indices(3)]
    [[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]]
    """
    return _tri_indices(np.tril_indices, n, k, m)


def triu_indices(n, k=0, m=None):
    """Indices of the upper triangle (diagonal offset k) of an (n, m) array.

    >>> import fn_dl.numpy as fnp
    >>> [a.tolist() for a in fnp.triu_indices(3, k=1)]
    [[0, 0, 1], [1, 2, 2]]
    """
    return _tri_indices(np.triu_indices, n, k, m)


def unravel_index(indices, shape):
    """Flat indices -> a tuple of coordinate arrays for `shape` (C order).

    As in JAX, out-of-range indices are clipped into [-size, size) and negative
    ones count from the end, instead of raising.

    >>> import fn_dl.numpy as fnp
    >>> [c.tolist() for c in fnp.unravel_index(fnp.asarray([5, 7]), (2, 4))]
    [[1, 1], [1, 3]]
    """
    idx = _int_array('unravel_index', indices)
    shape = tuple(operator.index(s) for s in shape)
    total = int(np.prod(shape, dtype=np.int64))
    if not shape:
        return ()
    dt = dtypes.int64 if total >= 2 ** 31 or idx.dtype.itemsize == 8 else idx.dtype
    idx = ew.convert_element_type(idx, dt)
    idx = ew.max(ew.min(idx, sh.full(idx.shape, max(total - 1, 0), dt)), sh.full(idx.shape, -total, dt))
    out, size = [], total
    for s in shape:
        inner = size // s if s else 0
        coord = floor_divide(remainder(idx, size), inner) if inner else sh.full(idx.shape, 0, dt)
        out.append(coord)
        size = inner
    return tuple(out)


def ravel_multi_index(multi_index, dims, mode='raise', order='C'):
    """Coordinate arrays -> flat indices into an array of shape `dims`.

    mode ('raise', 'wrap' or 'clip', or one per axis): 'raise' needs concrete
    coordinates (it checks them); 'wrap' and 'clip' work traced.

    >>> import fn_dl.numpy as fnp
    >>> fnp.ravel_multi_index((fnp.asarray([1, 1]), fnp.asarray([1, 3])), (2, 4)).tolist()
    [5, 7]
    """
    dims = tuple(operator.index(d) for d in dims)
    coords = [_int_array('ravel_multi_index', c) for c in multi_index]
    if len(coords) != len(dims):
        raise ValueError(f"ravel_multi_index: {len(coords)} coordinate arrays for {len(dims)} dimensions")
    if order not in ('C', 'F'):
        raise ValueError(f"ravel_multi_index: order must be 'C' or 'F', got {order!r}")
    modes = (mode,) * len(dims) if isinstance(mode, str) else tuple(mode)
    total = int(np.prod(dims, dtype=np.int64))
    coords = promote('ravel_multi_index', *coords) if coords else []
    dt = dtypes.int64 if total >= 2 ** 31 or any(c.dtype.itemsize == 8 for c in coords) else dtypes.int32
    shape = broadcast_shapes('ravel_multi_index', *[c.shape for c in coords])
    coords = [broadcast_to_shape(ew.convert_element_type(c, dt), shape) for c in coords]
    fixed = []
    for c, d, md in zip(coords, dims, modes):
        if md == 'raise':
            bad = reduce_or(ew.bitwise_or(ew.lt(c, sh.full(shape, 0, dt)), ew.ge(c, sh.full(shape, d, dt))),
                            tuple(range(len(shape))))
            try:
                bad = bool(bad)
            except ConcretizationError:
                raise ConcretizationError("ravel_multi_index: mode='raise' checks the coordinates, which are traced "
                                          "here; use mode='wrap' or mode='clip'") from None
            if bad:
                raise ValueError("ravel_multi_index: invalid entry in coordinates array")
        elif md == 'wrap':
            c = remainder(c, d)
        elif md == 'clip':
            c = ew.max(ew.min(c, sh.full(shape, max(d - 1, 0), dt)), sh.full(shape, 0, dt))
        else:
            raise ValueError(f"ravel_multi_index: mode must be 'raise', 'wrap' or 'clip', got {md!r}")
        fixed.append(c)
    out = sh.full(shape, 0, dt)
    stride = 1
    axes = range(len(dims) - 1, -1, -1) if order == 'C' else range(len(dims))
    for k in axes:
        out = ew.add(out, ew.mul(fixed[k], sh.full(shape, stride, dt)))
        stride *= dims[k]
    return out


__all__ = ['take', 'take_along_axis', 'put_along_axis', 'nonzero', 'argwhere', 'flatnonzero', 'compress', 'extract',
           'select', 'choose', 'indices', 'ix_', 'diag_indices', 'tril_indices', 'triu_indices', 'unravel_index',
           'ravel_multi_index']

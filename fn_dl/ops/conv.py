"""conv_general_dilated: N-d convolution with strides, padding, dilations and feature/batch groups.

The semantics are XLA's (and `jax.lax.conv_general_dilated`'s): a
cross-correlation (the kernel is not flipped) of `lhs` with `rhs`, where
`dimension_numbers` says which axes are batch, feature and spatial:
lhs_spec = (batch, feature, *spatial), rhs_spec = (out feature, in feature,
*spatial), out_spec = (batch, feature, *spatial), each a tuple of axis
indices. `lhs_dilation` inserts zeros between input elements (the
fractionally strided convolution behind conv_transpose), `rhs_dilation`
between kernel taps (atrous convolution). With `feature_group_count` G the
input features split into G groups, each convolved with its share of the
output features (G = C is a depthwise convolution); with
`batch_group_count` B the lhs batch splits into B groups, each producing
its share of the output features (this is how the kernel gradient of a
grouped convolution is expressed).

The eager implementation works channels-last and picks one of three
strategies: im2col (a sliding-window view of the padded input, gathered
into rows, one matmul per group) in general; a multiply-add per kernel tap
for depthwise convolutions; and col2im (one matmul of the undilated input
with the whole kernel, then a strided add per tap) when lhs_dilation > 1,
which would otherwise multiply mostly inserted zeros. Under jit it is one
stablehlo.convolution.
"""
from __future__ import annotations

import itertools
import math
from typing import NamedTuple

from fn_dl.backends.xla.lowering import i64_array, i64_attr
from fn_dl.core import dtypes
from fn_dl.core.aval import describe, shape_str
from fn_dl.ops._rules import NUMERIC, Primitive, ShapedArray, Zero, add_tangents, is_undefined
from fn_dl.ops.elementwise import convert_element_type
from fn_dl.ops.shape import full, reshape, rev, transpose

__all__ = ['ConvDimensionNumbers', 'conv_dimension_numbers', 'conv_general_dilated', 'conv_transpose',
           'padtype_to_pads']


class ConvDimensionNumbers(NamedTuple):
    """Axis indices: lhs_spec = (batch, feature, *spatial), rhs_spec = (out feature, in feature, *spatial),
    out_spec = (batch, feature, *spatial); spatial axes are listed in the same order in all three."""
    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers) -> ConvDimensionNumbers:
    """Canonical `ConvDimensionNumbers` from None (NCHW/OIHW/NCHW order), a ConvDimensionNumbers, or
    three layout strings such as ('NHWC', 'HWIO', 'NHWC').

    >>> conv_dimension_numbers((1, 5, 5, 3), (3, 3, 3, 8), ('NHWC', 'HWIO', 'NHWC'))
    ConvDimensionNumbers(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))
    """
    if len(lhs_shape) != len(rhs_shape):
        raise ValueError(f"conv_general_dilated: lhs and rhs must have the same rank, got shapes "
                         f"{shape_str(lhs_shape)} and {shape_str(rhs_shape)}")
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        return ConvDimensionNumbers(*(tuple(int(i) for i in s) for s in dimension_numbers))
    if dimension_numbers is None:
        iota = tuple(range(len(lhs_shape)))
        return ConvDimensionNumbers(iota, iota, iota)
    if not (isinstance(dimension_numbers, (tuple, list)) and len(dimension_numbers) == 3
            and all(isinstance(s, str) for s in dimension_numbers)):
        raise TypeError(f"conv_general_dilated: dimension_numbers must be None, a ConvDimensionNumbers or three "
                        f"layout strings like ('NCHW', 'OIHW', 'NCHW'), got {dimension_numbers!r}")
    for s in dimension_numbers:
        if len(s) != len(lhs_shape):
            raise ValueError(f"conv_general_dilated: layout {s!r} has {len(s)} letters but the operands have rank "
                             f"{len(lhs_shape)}")
    return ConvDimensionNumbers(*_layout_permutations(*dimension_numbers))


def _layout_permutations(lhs, rhs, out):
    """Axis indices for layout strings; spatial axes are ordered as they appear in the rhs layout."""
    pairs = (('N', 'C'), ('O', 'I'), ('N', 'C'))
    for spec, (a, b) in zip((lhs, rhs, out), pairs):
        if spec.count(a) != 1 or spec.count(b) != 1 or len(set(spec)) != len(spec):
            raise ValueError(f"conv_general_dilated: layout {spec!r} must contain {a!r} and {b!r} exactly once "
                             f"and no letter twice")
    if not set(lhs) - {'N', 'C'} == set(rhs) - {'O', 'I'} == set(out) - {'N', 'C'}:
        raise ValueError(f"conv_general_dilated: layouts {(lhs, rhs, out)} must name the same spatial letters")
    spatial = [c for c in rhs if c not in 'OI']
    return tuple((spec.index(a), spec.index(b)) + tuple(spec.index(c) for c in spatial)
                 for spec, (a, b) in zip((lhs, rhs, out), pairs))


def padtype_to_pads(in_shape, window_shape, window_strides, padding, op='padtype_to_pads'):
    """(low, high) pads per spatial axis for 'SAME', 'SAME_LOWER' or 'VALID' (as XLA/TensorFlow define them).

    'SAME' pads so that the output has ceil(in / stride) elements, putting the odd element at the end.

    >>> padtype_to_pads((5,), (3,), (2,), 'SAME')
    [(1, 1)]
    """
    mode = padding.upper()
    if mode == 'VALID':
        return [(0, 0)] * len(in_shape)
    if mode not in ('SAME', 'SAME_LOWER'):
        raise ValueError(f"{op}: padding must be 'SAME', 'SAME_LOWER', 'VALID' or a sequence of (low, high) "
                         f"pairs, got {padding!r}")
    pads = []
    for n, k, s in zip(in_shape, window_shape, window_strides):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        small, big = total // 2, total - total // 2
        pads.append((small, big) if mode == 'SAME' else (big, small))
    return pads


def dilate_dim(d, dilation):
    return 0 if d == 0 else 1 + dilation * (d - 1)


def _tuple(name, values, n, what):
    values = tuple(int(v) for v in values)
    if len(values) != n:
        raise ValueError(f"{name}: {what} has {len(values)} entries for {n} spatial dimensions")
    return values


def _conv_shape(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
                feature_group_count, batch_group_count, preferred_element_type):
    """(output shape, output dtype); raises a clear error for inconsistent operands or parameters."""
    name = 'conv_general_dilated'
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    if lhs.ndim != rhs.ndim or lhs.ndim < 2:
        raise ValueError(f"{name}: lhs and rhs must have the same rank (at least 2), got {describe([lhs, rhs])}")
    if lhs.dtype != rhs.dtype or lhs.dtype not in NUMERIC:
        raise TypeError(f"{name}: lhs and rhs must share a numeric dtype, got {describe([lhs, rhs])}; "
                        f"cast one with .astype")
    if preferred_element_type is not None and preferred_element_type not in NUMERIC:
        raise TypeError(f"{name}: preferred_element_type must be numeric, got {preferred_element_type}")
    for spec in dimension_numbers:
        if sorted(spec) != list(range(lhs.ndim)):
            raise ValueError(f"{name}: dimension_numbers {tuple(dimension_numbers)} are not permutations of the "
                             f"{lhs.ndim} axes of {describe([lhs, rhs])}")
    nsp = lhs.ndim - 2
    if len(padding) != nsp or any(len(p) != 2 for p in padding):
        raise ValueError(f"{name}: padding {padding} must be {nsp} (low, high) pairs for {describe([lhs, rhs])}")
    for what, vals in (('window_strides', window_strides), ('lhs_dilation', lhs_dilation),
                       ('rhs_dilation', rhs_dilation)):
        if len(vals) != nsp or any(v < 1 for v in vals):
            raise ValueError(f"{name}: {what} {vals} must be {nsp} positive integers")
    g, b = feature_group_count, batch_group_count
    if g < 1 or b < 1 or (g > 1 and b > 1):
        raise ValueError(f"{name}: feature_group_count {g} and batch_group_count {b} must be positive, and at "
                         f"most one of them above 1")
    n, c = lhs.shape[lhs_spec[0]], lhs.shape[lhs_spec[1]]
    o, i = rhs.shape[rhs_spec[0]], rhs.shape[rhs_spec[1]]
    if c % g or c // g != i:
        raise ValueError(f"{name}: lhs has {c} features, which with feature_group_count={g} must be {g} x the "
                         f"kernel's {i} input features (lhs {shape_str(lhs.shape)}, rhs {shape_str(rhs.shape)})")
    if o % g or o % b:
        raise ValueError(f"{name}: the kernel's {o} output features must be a multiple of feature_group_count={g} "
                         f"and batch_group_count={b}")
    if n % b:
        raise ValueError(f"{name}: batch_group_count={b} must divide the lhs batch size {n}")
    out_sp = []
    for d in range(nsp):
        size = dilate_dim(lhs.shape[lhs_spec[2 + d]], lhs_dilation[d]) + padding[d][0] + padding[d][1]
        window = dilate_dim(rhs.shape[rhs_spec[2 + d]], rhs_dilation[d])
        if size < 0:
            raise ValueError(f"{name}: negative padding {padding[d]} removes more than the {d}-th spatial axis of "
                             f"lhs {shape_str(lhs.shape)} holds")
        out_sp.append(max((size - window) // window_strides[d] + 1, 0))
    out_canon = (n // b, o) + tuple(out_sp)
    shape = [0] * lhs.ndim
    for k, axis in enumerate(out_spec):
        shape[axis] = out_canon[k]
    return tuple(shape), preferred_element_type or lhs.dtype


# --- the primitive ---------------------------------------------------------------------

conv_general_dilated_p = Primitive('conv_general_dilated')


@conv_general_dilated_p.def_abstract_eval
def _conv_abstract(lhs, rhs, **params):
    shape, dtype = _conv_shape(lhs, rhs, **params)
    return ShapedArray(shape, dtype, lhs.weak_type and rhs.weak_type)


def pad_dilate_slices(shape, config):
    """For lax.pad-style `config` ((low, high, interior) per axis, edges may be negative): the padded
    shape, and the slices `src` of the operand and `dst` of the padded array with padded[dst] = x[src]."""
    out_shape, src, dst = [], [], []
    for n, (lo, hi, interior) in zip(shape, config):
        step = interior + 1
        size = lo + hi + dilate_dim(n, step)
        first = 0 if lo >= 0 else -(lo // step)             # first element that survives negative low padding
        last = min(n - 1, (size - 1 - lo) // step)          # last one that survives negative high padding
        count = max(last - first + 1, 0)
        start = lo + first * step
        out_shape.append(size)
        src.append(slice(first, first + count))
        dst.append(slice(start, start + (count - 1) * step + 1 if count else start, step))
    return tuple(out_shape), tuple(src), tuple(dst)


def pad_dilate(xp, x, config, fill):
    """x padded and interior-dilated as lax.pad does, filled with `fill`; one allocation and one copy."""
    if all(c == (0, 0, 0) for c in config):
        return x
    shape, src, dst = pad_dilate_slices(x.shape, config)
    out = xp.full(shape, fill, dtype=x.dtype)
    out[dst] = x[src]
    return out


def _compute_dtype(dtype):
    # float16/bfloat16 have no BLAS kernels: accumulate in float32, which is also more accurate
    return dtypes.float32 if dtype in (dtypes.float16, dtypes.bfloat16) else dtype


@conv_general_dilated_p.def_impl
def _conv_impl(xp, lhs, rhs, **params):
    out_shape, out_dtype = _conv_shape(lhs, rhs, **params)
    if math.prod(out_shape) == 0:
        return xp.zeros(out_shape, out_dtype)
    lhs_spec, rhs_spec, out_spec = params['dimension_numbers']
    nsp = lhs.ndim - 2
    ct = _compute_dtype(out_dtype)
    # canonical layouts: input channels-last (N, *spatial, C), kernel (*spatial, I, O)
    x = xp.transpose(lhs.astype(ct, copy=False), (lhs_spec[0],) + lhs_spec[2:] + (lhs_spec[1],))
    w = xp.transpose(rhs.astype(ct, copy=False), rhs_spec[2:] + (rhs_spec[1], rhs_spec[0]))
    out_sp = tuple(out_shape[a] for a in out_spec[2:])
    if any(d > 1 for d in params['lhs_dilation']):
        y = _conv_scatter(xp, x, w, out_sp, params)
    elif params['feature_group_count'] > 1 and w.shape[-2] == 1:
        y = _conv_depthwise(xp, x, w, out_sp, params)
    else:
        y = _conv_im2col(xp, x, w, out_sp, params)
    # canonical (N, *spatial, O) -> the out_spec layout
    perm = [0] * (nsp + 2)
    perm[out_spec[0]], perm[out_spec[1]] = 0, nsp + 1
    for d, axis in enumerate(out_spec[2:]):
        perm[axis] = 1 + d
    return xp.transpose(y, perm).astype(out_dtype, copy=False)


def _grouped(xp, x, w, params):
    """Views with a leading group axis: x (N, *S, C) -> (G, N', *S, C/G), w (*k, I, O) -> (G, *k, I, O/G).

    Feature groups split C, batch groups split N (groups major, as XLA); either way they split O."""
    g, b = params['feature_group_count'], params['batch_group_count']
    if g > 1:
        xg = xp.moveaxis(x.reshape(x.shape[:-1] + (g, x.shape[-1] // g)), -2, 0)
    else:
        xg = x.reshape((b, x.shape[0] // b) + x.shape[1:])
    groups = max(g, b)
    wg = xp.moveaxis(w.reshape(w.shape[:-1] + (groups, w.shape[-1] // groups)), -2, 0)
    return xg, wg


def _ungroup(xp, yg):
    """(G, N', *out, O/G) -> (N', *out, O), the group major in O."""
    y = xp.moveaxis(yg, 0, -2)
    return y.reshape(y.shape[:-2] + (y.shape[-2] * y.shape[-1],))


def _padded(xp, x, padding):
    return pad_dilate(xp, x, ((0, 0, 0),) + tuple((lo, hi, 0) for lo, hi in padding) + ((0, 0, 0),), 0)


# Elements of one im2col / col2im buffer (64 MiB in float32): larger batches go through in slices of examples
_BUFFER_ELEMENTS = 1 << 24


def _conv_im2col(xp, x, w, out_sp, params):
    """Gather every window into a row (C innermost, so the copy reads contiguous runs), one matmul per group."""
    nsp = len(out_sp)
    xg, wg = _grouped(xp, xp.ascontiguousarray(_padded(xp, x, params['padding'])), w, params)
    groups, n, cg, og = xg.shape[0], xg.shape[1], xg.shape[-1], wg.shape[-1]
    ksize, rhs_dil = w.shape[:nsp], params['rhs_dilation']
    eff = tuple(dilate_dim(k, r) for k, r in zip(ksize, rhs_dil))
    win = xp.lib.stride_tricks.sliding_window_view(xg, eff, axis=tuple(range(2, nsp + 2)))
    win = win[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in params['window_strides'])
              + (slice(None),) + tuple(slice(None, None, r) for r in rhs_dil)]
    # (G, N', *out, Cg, *k) -> (G, N', *out, *k, Cg)
    win = xp.moveaxis(win, nsp + 2, -1)
    rows, k = math.prod(out_sp), math.prod(ksize) * cg
    wm = wg.reshape(groups, k, og)
    yg = xp.empty((groups, n * rows, og), dtype=x.dtype)
    step = max(1, _BUFFER_ELEMENTS // max(groups * rows * k, 1))
    for n0 in range(0, n, step):
        n1 = min(n0 + step, n)
        yg[:, n0 * rows:n1 * rows] = xp.matmul(win[:, n0:n1].reshape(groups, (n1 - n0) * rows, k), wm)
    return _ungroup(xp, yg.reshape((groups, n) + out_sp + (og,)))


def _tap_offsets(taps, out_sp, params):
    """For one kernel tap, the strided slices of the padded input that it reads for all outputs."""
    return tuple(slice(t * r, t * r + (m - 1) * s + 1, s)
                 for t, r, m, s in zip(taps, params['rhs_dilation'], out_sp, params['window_strides']))


def _conv_depthwise(xp, x, w, out_sp, params):
    """One input channel per group: per kernel tap, one broadcast multiply-add over all channels
    (a matmul per group would have a single-element contraction)."""
    nsp = len(out_sp)
    x = _padded(xp, x, params['padding'])
    g, ksize = params['feature_group_count'], w.shape[:nsp]
    wt = w.reshape(ksize + (g, w.shape[-1] // g))  # (*k, G, multiplier), as I == 1
    y = xp.zeros((x.shape[0],) + out_sp + wt.shape[-2:], dtype=x.dtype)
    for taps in itertools.product(*map(range, ksize)):
        y += x[(slice(None),) + _tap_offsets(taps, out_sp, params)][..., None] * wt[taps]
    return y.reshape(y.shape[:-2] + (y.shape[-2] * y.shape[-1],))


def _tap_scatter_slices(n, m, lo, ld, rd, s, tap):
    """Input indices i and output indices j with j * s == lo + i * ld - tap * rd, as (slice of i, slice of j);
    None when the tap reaches no output."""
    off = lo - tap * rd
    first = max(0, -(off // ld))  # first input at or after the start of the padded, dilated input
    i0 = next((i for i in range(first, first + s) if (off + i * ld) % s == 0), None)
    if i0 is None or i0 >= n:
        return None
    step_i = s // math.gcd(ld, s)
    j0, step_j = (off + i0 * ld) // s, ld * step_i // s
    count = min((n - 1 - i0) // step_i, (m - 1 - j0) // step_j) + 1 if j0 < m else 0
    if count <= 0:
        return None
    return slice(i0, i0 + (count - 1) * step_i + 1, step_i), slice(j0, j0 + (count - 1) * step_j + 1, step_j)


def _conv_scatter(xp, x, w, out_sp, params):
    """With lhs dilation (transposed convolutions, gradients of strided ones) most of the dilated input is
    zeros: multiply each input element by the whole kernel in one matmul per group, then add each tap's
    products into the outputs it reaches (col2im). lhs_dilation**d fewer flops than im2col, no big buffer."""
    nsp = len(out_sp)
    xg, wg = _grouped(xp, x, w, params)
    groups, n, sp, i, og = xg.shape[0], xg.shape[1], xg.shape[2:-1], xg.shape[-1], wg.shape[-1]
    ksize = w.shape[:nsp]
    wm = xp.moveaxis(wg, -2, 1).reshape(groups, i, math.prod(ksize) * og)  # (G, I, *k * O/G)
    reach = []  # (tap, input slices, output slices) for the taps that reach some output
    for taps in itertools.product(*map(range, ksize)):
        pairs = [_tap_scatter_slices(sp[d], out_sp[d], params['padding'][d][0], params['lhs_dilation'][d],
                                     params['rhs_dilation'][d], params['window_strides'][d], taps[d])
                 for d in range(nsp)]
        if None not in pairs:
            reach.append((taps, tuple(i for i, _ in pairs), tuple(j for _, j in pairs)))
    yg = xp.zeros((groups, n) + out_sp + (og,), dtype=x.dtype)
    rows = math.prod(sp)
    step = max(1, _BUFFER_ELEMENTS // max(groups * rows * math.prod(ksize) * og, 1))
    for n0 in range(0, n, step):
        n1 = min(n0 + step, n)
        prods = xp.matmul(xg[:, n0:n1].reshape(groups, (n1 - n0) * rows, i), wm)
        prods = prods.reshape((groups, n1 - n0) + sp + ksize + (og,))
        for taps, src, dst in reach:
            # one tap's outputs are distinct positions, so += does not collide
            yg[(slice(None), slice(n0, n1)) + dst] += prods[(slice(None), slice(None)) + src + taps]
    return _ungroup(xp, yg)


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                         dimension_numbers=None, feature_group_count=1, batch_group_count=1,
                         preferred_element_type=None):
    """General N-d convolution (cross-correlation), as `jax.lax.conv_general_dilated`.

    padding: 'SAME', 'SAME_LOWER', 'VALID' or one (low, high) pair per spatial axis (negative crops).
    dimension_numbers: None (NCHW, OIHW, NCHW order), layout strings such as
    ('NHWC', 'HWIO', 'NHWC'), or a ConvDimensionNumbers.

    >>> import fn_dl.numpy as fnp
    >>> x, k = fnp.ones((1, 1, 4, 4)), fnp.ones((1, 1, 3, 3))
    >>> conv_general_dilated(x, k, (1, 1), 'SAME')[0, 0].tolist()
    [[4.0, 6.0, 6.0, 4.0], [6.0, 9.0, 9.0, 6.0], [6.0, 9.0, 9.0, 6.0], [4.0, 6.0, 6.0, 4.0]]
    """
    dnums = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    nsp = lhs.ndim - 2
    name = 'conv_general_dilated'
    window_strides = _tuple(name, window_strides, nsp, 'window_strides')
    lhs_dilation = (1,) * nsp if lhs_dilation is None else _tuple(name, lhs_dilation, nsp, 'lhs_dilation')
    rhs_dilation = (1,) * nsp if rhs_dilation is None else _tuple(name, rhs_dilation, nsp, 'rhs_dilation')
    if isinstance(padding, str):
        if any(d != 1 for d in lhs_dilation):
            raise ValueError(f"{name}: string padding {padding!r} is not defined with lhs_dilation "
                             f"{lhs_dilation}; give explicit (low, high) pairs or use conv_transpose")
        in_sp = [lhs.shape[a] for a in dnums.lhs_spec[2:]]
        window = [dilate_dim(rhs.shape[a], r) for a, r in zip(dnums.rhs_spec[2:], rhs_dilation)]
        padding = padtype_to_pads(in_sp, window, window_strides, padding, name)
    try:
        padding = tuple((int(lo), int(hi)) for lo, hi in padding)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: padding must be a string or a sequence of (low, high) pairs, "
                         f"got {padding!r}") from None
    if preferred_element_type is not None:
        preferred_element_type = dtypes.canonicalize(preferred_element_type)
    return conv_general_dilated_p.bind(
        lhs, rhs, window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dnums, feature_group_count=int(feature_group_count),
        batch_group_count=int(batch_group_count), preferred_element_type=preferred_element_type)


def _bind_like(lhs, rhs, params, **changes):
    return conv_general_dilated_p.bind(lhs, rhs, **dict(params, **changes))


# --- JVP and transposes (JAX's rules: the transposes are convolutions too) -------------------------

@conv_general_dilated_p.def_jvp
def _conv_jvp(primals, tangents, **params):
    (lhs, rhs), (tl, tr) = primals, tangents
    out = conv_general_dilated_p.bind(lhs, rhs, **params)
    t = None
    if type(tl) is not Zero:
        t = conv_general_dilated_p.bind(tl, rhs, **params)
    if type(tr) is not Zero:
        t = add_tangents(t, conv_general_dilated_p.bind(lhs, tr, **params))
    return out, t


def _reshape_axis_into(src, dst, x):
    """Merge axis `src` into axis `dst` (numbered after removing src), src becoming the major part."""
    perm = [i for i in range(x.ndim) if i != src]
    perm.insert(dst, src)
    shape = [s for i, s in enumerate(x.shape) if i != src]
    shape[dst] *= x.shape[src]
    return reshape(transpose(x, perm), shape)


def _reshape_axis_out_of(src, size1, x):
    """Split axis `src` into (size1, rest)."""
    shape = list(x.shape)
    shape[src:src + 1] = [size1, shape[src] // size1]
    return reshape(x, shape)


def _spec_transpose(spec):
    return (spec[1], spec[0]) + tuple(spec[2:])


def vjp_lhs_padding(in_shape, window_dimensions, window_strides, out_shape, padding, lhs_dilation,
                     rhs_dilation):
    pads = []
    for n, k, s, m, (lo, _), ld, rd in zip(in_shape, window_dimensions, window_strides, out_shape, padding,
                                           lhs_dilation, rhs_dilation):
        before = dilate_dim(k, rd) - lo - 1
        after = dilate_dim(n, ld) + dilate_dim(k, rd) - 1 - dilate_dim(m, s) - before
        pads.append((before, after))
    return tuple(pads)


def _vjp_rhs_padding(in_shape, window_dimensions, window_strides, out_shape, padding, lhs_dilation,
                     rhs_dilation):
    pads = []
    for n, k, s, m, (lo, _), ld, rd in zip(in_shape, window_dimensions, window_strides, out_shape, padding,
                                           lhs_dilation, rhs_dilation):
        pads.append((lo, dilate_dim(m, s) - dilate_dim(n, ld) + dilate_dim(k, rd) - lo - 1))
    return tuple(pads)


def _transpose_lhs(g, lhs_aval, rhs, params):
    dn = params['dimension_numbers']
    lhs_spec, rhs_spec, out_spec = dn
    g_count, b_count = params['feature_group_count'], params['batch_group_count']
    rhs_shape = rhs.shape
    if g_count > 1 or b_count > 1:
        # move the group axis from the kernel's output features into its input features
        rhs = _reshape_axis_out_of(rhs_spec[0], max(g_count, b_count), rhs)
        rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[1], rhs)
    pads = vjp_lhs_padding([lhs_aval.shape[a] for a in lhs_spec[2:]], [rhs_shape[a] for a in rhs_spec[2:]],
                            params['window_strides'], [g.shape[a] for a in out_spec[2:]], params['padding'],
                            params['lhs_dilation'], params['rhs_dilation'])
    w = rev(rhs, rhs_spec[2:])
    if w.dtype != g.dtype:
        w = convert_element_type(w, g.dtype)
    out = _bind_like(g, w, params, window_strides=params['lhs_dilation'], padding=pads,
                     lhs_dilation=params['window_strides'],
                     dimension_numbers=ConvDimensionNumbers(out_spec, _spec_transpose(rhs_spec), lhs_spec),
                     feature_group_count=max(g_count, b_count), batch_group_count=1)
    if out.dtype != lhs_aval.dtype:
        out = convert_element_type(out, lhs_aval.dtype)
    if b_count > 1:
        out = _reshape_axis_out_of(lhs_spec[1], b_count, out)
        out = _reshape_axis_into(lhs_spec[1], lhs_spec[0], out)
    return out


def _transpose_rhs(g, lhs, rhs_aval, params):
    dn = params['dimension_numbers']
    lhs_spec, rhs_spec, out_spec = dn
    g_count, b_count = params['feature_group_count'], params['batch_group_count']
    pads = _vjp_rhs_padding([lhs.shape[a] for a in lhs_spec[2:]], [rhs_aval.shape[a] for a in rhs_spec[2:]],
                            params['window_strides'], [g.shape[a] for a in out_spec[2:]], params['padding'],
                            params['lhs_dilation'], params['rhs_dilation'])
    if lhs.dtype != g.dtype:
        lhs = convert_element_type(lhs, g.dtype)
    # feature groups become batch groups and vice versa: [gj, m] x [m, gk] -> [j, gk]
    out = _bind_like(lhs, g, params, window_strides=params['rhs_dilation'], padding=pads,
                     rhs_dilation=params['window_strides'],
                     dimension_numbers=ConvDimensionNumbers(*map(_spec_transpose, (lhs_spec, out_spec, rhs_spec))),
                     feature_group_count=b_count, batch_group_count=g_count)
    if out.dtype != rhs_aval.dtype:
        out = convert_element_type(out, rhs_aval.dtype)
    return out


@conv_general_dilated_p.def_transpose
def _conv_transpose_rule(ct, lhs, rhs, **params):
    if is_undefined(lhs) and is_undefined(rhs):
        raise TypeError("conv_general_dilated: transpose of a convolution of two linear values "
                        "(the function is not linear)")
    if is_undefined(lhs):
        aval = lhs.aval
        if ct.size == 0:
            return [full(aval.shape, 0, aval.dtype), None]
        return [_transpose_lhs(ct, aval, rhs, params), None]
    aval = rhs.aval
    if ct.size == 0:  # avoid a degenerate convolution whose kernel has a zero-sized spatial axis
        return [None, full(aval.shape, 0, aval.dtype)]
    return [None, _transpose_rhs(ct, lhs, aval, params)]


# --- batching: fold the vmapped axis into the batch or feature axes (no loop) ----------------------

@conv_general_dilated_p.def_batch
def _conv_batch(args, dims, **params):
    (lhs, rhs), (ld, rd) = args, dims
    lhs_spec, rhs_spec, out_spec = params['dimension_numbers']
    g_count, b_count = params['feature_group_count'], params['batch_group_count']
    size = lhs.shape[ld] if ld is not None else rhs.shape[rd]
    if size == 0 or lhs.size == 0 or rhs.size == 0:
        lhs_aval = _unbatched_aval(lhs, ld)
        rhs_aval = _unbatched_aval(rhs, rd)
        shape, dtype = _conv_shape(lhs_aval, rhs_aval, **params)
        return full((size,) + shape, 0, dtype), 0
    if ld is not None and rd is not None:
        if b_count > 1:
            new_lhs = _reshape_axis_into(ld, lhs_spec[0], lhs)
            changes = dict(batch_group_count=b_count * size)
        else:
            new_lhs = _reshape_axis_into(ld, lhs_spec[1], lhs)
            changes = dict(feature_group_count=g_count * size)
        new_rhs = _reshape_axis_into(rd, rhs_spec[0], rhs)
        out = _bind_like(new_lhs, new_rhs, params, **changes)
        return _reshape_axis_out_of(out_spec[1], size, out), out_spec[1]
    if ld is not None:
        if b_count == 1:
            out = _bind_like(_reshape_axis_into(ld, lhs_spec[0], lhs), rhs, params)
        else:
            # the batch groups must stay outermost in the lhs batch axis: (B, vmap, N/B)
            new_lhs = _reshape_axis_out_of(lhs_spec[0] + int(ld <= lhs_spec[0]), b_count, lhs)
            new_lhs = _reshape_axis_into(ld + int(lhs_spec[0] < ld), lhs_spec[0] + 1, new_lhs)
            new_lhs = _reshape_axis_into(lhs_spec[0], lhs_spec[0], new_lhs)
            out = _bind_like(new_lhs, rhs, params)
        return _reshape_axis_out_of(out_spec[0], size, out), out_spec[0]
    if g_count == 1 and b_count == 1:
        out = _bind_like(lhs, _reshape_axis_into(rd, rhs_spec[0], rhs), params)
        return _reshape_axis_out_of(out_spec[1], size, out), out_spec[1]
    # groups must stay outermost in the kernel's output features: (G, vmap, O/G), and likewise in the output
    groups = max(g_count, b_count)
    new_rhs = _reshape_axis_out_of(rhs_spec[0] + int(rd <= rhs_spec[0]), groups, rhs)
    new_rhs = _reshape_axis_into(rd + int(rhs_spec[0] < rd), rhs_spec[0] + 1, new_rhs)
    new_rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[0], new_rhs)
    out = _bind_like(lhs, new_rhs, params)
    out = _reshape_axis_out_of(out_spec[1], groups, out)
    out = _reshape_axis_out_of(out_spec[1] + 1, size, out)
    return _reshape_axis_into(out_spec[1], out_spec[1] + 1, out), out_spec[1]


def _unbatched_aval(x, d):
    shape = x.shape if d is None else x.shape[:d] + x.shape[d + 1:]
    return ShapedArray(shape, x.dtype)


def padding_attr(padding):
    """(low, high) pairs as the `dense<...> : tensor<Nx2xi64>` padding of convolution and reduce_window."""
    rows = ', '.join(f"[{int(lo)}, {int(hi)}]" for lo, hi in padding)
    # an empty list would parse as shape [0], not [0, 2]
    return f"dense<{f'[{rows}]' if rows else ''}> : tensor<{len(padding)}x2xi64>"


def _layout_text(spec, batch, feature):
    """One operand's layout for #stablehlo.conv: per axis, its role ('b'/'f' or 'o'/'i', or the spatial index)."""
    roles = [''] * len(spec)
    roles[spec[0]], roles[spec[1]] = batch, feature
    for d, axis in enumerate(spec[2:]):
        roles[axis] = str(d)
    return f"[{', '.join(roles)}]"


@conv_general_dilated_p.def_lower
def _conv_lower(ctx, lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
                feature_group_count, batch_group_count, preferred_element_type):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    dn = (f"#stablehlo.conv<{_layout_text(lhs_spec, 'b', 'f')}x{_layout_text(rhs_spec, 'o', 'i')}->"
          f"{_layout_text(out_spec, 'b', 'f')}>")
    attrs = {'dimension_numbers': dn, 'window_strides': i64_array(window_strides), 'padding': padding_attr(padding),
             'lhs_dilation': i64_array(lhs_dilation), 'rhs_dilation': i64_array(rhs_dilation),
             'feature_group_count': i64_attr(feature_group_count), 'batch_group_count': i64_attr(batch_group_count),
             'precision_config': '[#stablehlo<precision DEFAULT>, #stablehlo<precision DEFAULT>]'}
    return ctx.op1('stablehlo.convolution', [lhs, rhs], ctx.avals_in, ctx.avals_out[0], attrs)


# --- conv_transpose ----------------------------------------------------------------------------

def _conv_transpose_padding(k, s, padding):
    """(before, after) padding of the dilated input for a transposed convolution (as JAX)."""
    if padding == 'SAME':
        total = k + s - 2
        before = k - 1 if s > k - 1 else -(-total // 2)
    elif padding == 'VALID':
        total = k + s - 2 + max(k - s, 0)
        before = k - 1
    else:
        before, after = k - padding[0] - 1, k - padding[1] - 1
        total = before + after
    return before, total - before


_DEFAULT_TRANSPOSE_LAYOUTS = {2: ('NC', 'IO', 'NC'), 3: ('NHC', 'HIO', 'NHC'), 4: ('NHWC', 'HWIO', 'NHWC'),
                              5: ('NHWDC', 'HWDIO', 'NHWDC')}


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
                   transpose_kernel=False, preferred_element_type=None, use_consistent_padding=False):
    """The transposed ("fractionally strided") convolution, as `jax.lax.conv_transpose`.

    The default layouts are TensorFlow's (NHWC, HWIO, NHWC). padding 'SAME'/'VALID' names the padding of
    the forward convolution this one transposes; explicit pairs are the transposed convolution's own
    padding unless `use_consistent_padding=True` (PyTorch's convention: the forward conv's padding).
    `transpose_kernel=True` flips the kernel's spatial axes and swaps its I/O axes, which makes this the
    gradient of `conv_general_dilated` with the same kernel (Keras's Conv2DTranspose).

    >>> import fn_dl.numpy as fnp
    >>> conv_transpose(fnp.ones((1, 2, 1)), fnp.ones((3, 1, 1)), (2,), 'VALID')[0, :, 0].tolist()
    [1.0, 1.0, 2.0, 1.0, 1.0]
    """
    if lhs.ndim != rhs.ndim or lhs.ndim < 2:
        raise ValueError(f"conv_transpose: lhs and rhs must have the same rank (at least 2), got shapes "
                         f"{shape_str(lhs.shape)} and {shape_str(rhs.shape)}")
    if dimension_numbers is None:
        if lhs.ndim not in _DEFAULT_TRANSPOSE_LAYOUTS:
            raise ValueError(f"conv_transpose: no default layout for rank {lhs.ndim}; pass dimension_numbers")
        dimension_numbers = _DEFAULT_TRANSPOSE_LAYOUTS[lhs.ndim]
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    nsp = lhs.ndim - 2
    strides = _tuple('conv_transpose', strides, nsp, 'strides')
    rhs_dilation = (1,) * nsp if rhs_dilation is None else _tuple('conv_transpose', rhs_dilation, nsp,
                                                                  'rhs_dilation')
    ksize = [dilate_dim(rhs.shape[a], r) for a, r in zip(dn.rhs_spec[2:], rhs_dilation)]
    if isinstance(padding, str):
        if padding.upper() not in ('SAME', 'VALID'):
            raise ValueError(f"conv_transpose: padding must be 'SAME', 'VALID' or (low, high) pairs, got {padding!r}")
        pads = [_conv_transpose_padding(k, s, padding.upper()) for k, s in zip(ksize, strides)]
    elif use_consistent_padding:
        pads = [_conv_transpose_padding(k, s, (int(lo), int(hi))) for k, s, (lo, hi) in zip(ksize, strides, padding)]
    else:
        pads = padding
    if transpose_kernel:
        rhs = rev(rhs, dn.rhs_spec[2:])
        perm = list(range(rhs.ndim))
        perm[dn.rhs_spec[0]], perm[dn.rhs_spec[1]] = dn.rhs_spec[1], dn.rhs_spec[0]
        rhs = transpose(rhs, perm)
    return conv_general_dilated(lhs, rhs, (1,) * nsp, pads, lhs_dilation=strides, rhs_dilation=rhs_dilation,
                                dimension_numbers=dn, preferred_element_type=preferred_element_type)

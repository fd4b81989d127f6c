"""dot_general: batched tensor contraction, the one primitive behind matmul, einsum and tensordot.

dimension_numbers = ((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch)).
The output's axes are: batch axes, then lhs free axes, then rhs free axes.
"""
from __future__ import annotations

import functools

import numpy as np

from fn_dl.core.aval import describe, shape_str
from fn_dl.ops._rules import NUMERIC, Primitive, ShapedArray, Zero, add_tangents, is_undefined, moveaxis
from fn_dl.ops.shape import transpose

dot_general_p = Primitive('dot_general')


def _remaining(n, *removed):
    drop = set().union(*map(set, removed))
    return [i for i in range(n) if i not in drop]


@functools.lru_cache(maxsize=4096)
def _layout(dimension_numbers, lhs_shape, rhs_shape):
    """How to run a dot_general as one (batched) matmul: static per signature, so cached."""
    (lc, rc), (lb, rb) = dimension_numbers
    lf, rf = _remaining(len(lhs_shape), lc, lb), _remaining(len(rhs_shape), rc, rb)
    bshape = tuple(lhs_shape[i] for i in lb)
    lfs, rfs = tuple(lhs_shape[i] for i in lf), tuple(rhs_shape[i] for i in rf)
    size = lambda dims: int(np.prod(dims, dtype=np.int64))  # noqa: E731
    k = size([lhs_shape[i] for i in lc])
    return (tuple(lb) + tuple(lf) + tuple(lc), tuple(rb) + tuple(rc) + tuple(rf),
            size(bshape), size(lfs), k, size(rfs), bshape + lfs + rfs)


@dot_general_p.def_impl
def _dot_general_impl(xp, lhs, rhs, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    out_dtype = preferred_element_type or lhs.dtype
    if not lb and len(lc) == 1 and rhs.ndim == 2 and lc[0] in (0, lhs.ndim - 1) and (lhs.ndim == 2 or lc[0] > 0):
        # one matrix product, possibly of transposed views: BLAS takes the transposes for free
        a = lhs if lc[0] == lhs.ndim - 1 else lhs.T
        out = a @ (rhs if rc == (0,) else rhs.T)
    elif not lb and lc == (lhs.ndim - 1,) and rc == (0,) and rhs.ndim == 1:
        out = lhs @ rhs
    else:
        perm_l, perm_r, b, m, k, n, out_shape = _layout(dimension_numbers, lhs.shape, rhs.shape)
        l3 = xp.transpose(lhs, perm_l).reshape(b, m, k)
        r3 = xp.transpose(rhs, perm_r).reshape(b, k, n)
        # a contraction of size 1 is an outer product: a broadcast multiply beats b tiny GEMMs
        out = (l3 * r3 if k == 1 else xp.matmul(l3, r3)).reshape(out_shape)
    return xp.asarray(out).astype(out_dtype, copy=False)


@dot_general_p.def_abstract_eval
def _dot_general_abstract(lhs, rhs, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise ValueError(f"dot_general: dimension_numbers {dimension_numbers} pair up unequal numbers of axes")
    for name, dims, a in (('lhs', lc + lb, lhs), ('rhs', rc + rb, rhs)):
        if any(not 0 <= d < a.ndim for d in dims) or len(set(dims)) != len(dims):
            raise ValueError(f"dot_general: {name} axes {dims} are invalid for {describe([a])}")
    for i, j in zip(lc, rc):
        if lhs.shape[i] != rhs.shape[j]:
            raise ValueError(f"dot_general: contracting dimensions differ: lhs {shape_str(lhs.shape)} axis {i} has "
                             f"size {lhs.shape[i]}, rhs {shape_str(rhs.shape)} axis {j} has size {rhs.shape[j]}")
    for i, j in zip(lb, rb):
        if lhs.shape[i] != rhs.shape[j]:
            raise ValueError(f"dot_general: batch dimensions differ: lhs {shape_str(lhs.shape)} axis {i}, "
                             f"rhs {shape_str(rhs.shape)} axis {j}")
    if lhs.dtype != rhs.dtype or lhs.dtype not in NUMERIC:
        raise TypeError(f"dot_general: operands must share a numeric dtype, got {describe([lhs, rhs])}")
    shape = ([lhs.shape[i] for i in lb] + [lhs.shape[i] for i in _remaining(lhs.ndim, lc, lb)]
             + [rhs.shape[i] for i in _remaining(rhs.ndim, rc, rb)])
    return ShapedArray(shape, preferred_element_type or lhs.dtype, lhs.weak_type and rhs.weak_type)


def dot_general(lhs, rhs, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    dn = ((tuple(map(int, lc)), tuple(map(int, rc))), (tuple(map(int, lb)), tuple(map(int, rb))))
    return dot_general_p.bind(lhs, rhs, dimension_numbers=dn, preferred_element_type=preferred_element_type)


@dot_general_p.def_jvp
def _dot_general_jvp(primals, tangents, **params):
    (lhs, rhs), (tl, tr) = primals, tangents
    out = dot_general_p.bind(lhs, rhs, **params)
    t = None
    if type(tl) is not Zero:
        t = dot_general_p.bind(tl, rhs, **params)
    if type(tr) is not Zero:
        t = add_tangents(t, dot_general_p.bind(lhs, tr, **params))
    return out, t


def _ranges_like(*xs):
    start = 0
    for x in xs:
        yield list(range(start, start + len(x)))
        start += len(x)


@functools.lru_cache(maxsize=None)
def _transpose_lhs_dims(dimension_numbers, x_ndim, y_ndim, swap_ans):
    """(dot dimension numbers for ct . y, the permutation back to x's layout): static, so cached."""
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    x_kept = _remaining(x_ndim, x_contract, x_batch)
    y_kept = _remaining(y_ndim, y_contract, y_batch)
    if swap_ans:
        ans_batch, ans_y, _ = _ranges_like(x_batch, y_kept, x_kept)
    else:
        ans_batch, _, ans_y = _ranges_like(x_batch, x_kept, y_kept)
    dims = ((tuple(ans_y), tuple(y_kept)), (tuple(ans_batch), tuple(y_batch)))
    x_contract_sorted_by_y = list(np.take(x_contract, np.argsort(y_contract))) if x_contract else []
    out_axes = tuple(int(a) for a in np.argsort(list(x_batch) + x_kept + x_contract_sorted_by_y))
    return dims, out_axes


def _transpose_lhs(g, x_aval, y, dimension_numbers, preferred_element_type, swap_ans=False):
    dims, out_axes = _transpose_lhs_dims(dimension_numbers, x_aval.ndim, y.ndim, swap_ans)
    res = transpose(dot_general_p.bind(g, y, dimension_numbers=dims, preferred_element_type=None), out_axes)
    return res if res.dtype == x_aval.dtype else _convert(res, x_aval.dtype)


def _convert(x, dtype):
    from fn_dl.ops.elementwise import convert_element_type
    return convert_element_type(x, dtype)


@dot_general_p.def_transpose
def _dot_general_transpose(ct, lhs, rhs, *, dimension_numbers, preferred_element_type=None):
    if is_undefined(lhs) and is_undefined(rhs):
        raise TypeError("dot_general: transpose of a product of two linear values (the function is not linear)")
    (lc, rc), (lb, rb) = dimension_numbers
    if is_undefined(lhs):
        return [_transpose_lhs(ct, lhs.aval, rhs, dimension_numbers, preferred_element_type), None]
    swapped = ((rc, lc), (rb, lb))
    return [None, _transpose_lhs(ct, rhs.aval, lhs, swapped, preferred_element_type, swap_ans=True)]


@dot_general_p.def_batch
def _dot_general_batch(args, dims, *, dimension_numbers, preferred_element_type=None):
    (lhs, rhs), (ld, rd) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers
    shift = lambda ds: tuple(d + 1 for d in ds)  # noqa: E731
    if ld is not None and rd is not None:
        lhs, rhs = moveaxis(lhs, ld, 0), moveaxis(rhs, rd, 0)
        dn = ((shift(lc), shift(rc)), ((0,) + shift(lb), (0,) + shift(rb)))
        return dot_general(lhs, rhs, dn, preferred_element_type), 0
    if ld is not None:
        # the batch axis becomes lhs's first free axis: it lands right after the batch axes of the output
        lhs = moveaxis(lhs, ld, 0)
        dn = ((shift(lc), rc), (shift(lb), rb))
        return dot_general(lhs, rhs, dn, preferred_element_type), len(lb)
    rhs = moveaxis(rhs, rd, 0)
    dn = ((lc, shift(rc)), (lb, shift(rb)))
    n_lhs_free = lhs.ndim - len(lc) - len(lb)
    return dot_general(lhs, rhs, dn, preferred_element_type), len(lb) + n_lhs_free


@dot_general_p.def_lower
def _dot_general_lower(ctx, lhs, rhs, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    dn = (f"#stablehlo.dot<lhs_batching_dimensions = {list(lb)}, rhs_batching_dimensions = {list(rb)}, "
          f"lhs_contracting_dimensions = {list(lc)}, rhs_contracting_dimensions = {list(rc)}>")
    return ctx.op1('stablehlo.dot_general', [lhs, rhs], ctx.avals_in, ctx.avals_out[0], {'dot_dimension_numbers': dn})

"""Sorting primitives: `sort` (several operands ordered by their first keys) and `top_k`.

`sort` orders all its operands along `dimension` by the lexicographic order
of the first `num_keys` of them, NaNs last, as NumPy and XLA do. Its JVP sorts
an iota along to learn the permutation and applies it to the tangents.
"""
from __future__ import annotations

import numpy as np

from fn_dl.backends.xla.lowering import compare, i64_attr
from fn_dl.core import dtypes
from fn_dl.core.aval import describe
from fn_dl.ops._rules import REAL, Primitive, ShapedArray, Zero, bdim_at_front, moveaxis
from fn_dl.ops.indexing import GatherDimensionNumbers, gather, index_dtype
from fn_dl.ops.shape import iota, reshape

# --- sort -------------------------------------------------------------------------------------

sort_p = Primitive('sort', multiple_results=True)


def _sort_permutation(xp, keys, dimension, is_stable):
    """The permutation along `dimension` that orders `keys` (most significant first) lexicographically."""
    if len(keys) == 1:
        return xp.argsort(keys[0], axis=dimension, kind='stable' if is_stable else None)
    # least significant key first: each later stable sort keeps the order of the earlier ones among its ties
    perm = None
    for key in reversed(keys):
        k = key if perm is None else xp.take_along_axis(key, perm, axis=dimension)
        p = xp.argsort(k, axis=dimension, kind='stable')
        perm = p if perm is None else xp.take_along_axis(perm, p, axis=dimension)
    return perm


@sort_p.def_impl
def _sort_impl(xp, *operands, dimension, is_stable, num_keys):
    if len(operands) == 1:
        return [xp.sort(operands[0], axis=dimension, kind='stable' if is_stable else None)]
    perm = _sort_permutation(xp, operands[:num_keys], dimension, is_stable)
    return [xp.take_along_axis(o, perm, axis=dimension) for o in operands]


@sort_p.def_abstract_eval
def _sort_abstract(*operands, dimension, is_stable, num_keys):
    if not operands:
        raise ValueError("sort: needs at least one operand")
    shape = operands[0].shape
    if any(o.shape != shape for o in operands):
        raise ValueError(f"sort: operands must have equal shapes, got {describe(operands)}; "
                         f"broadcast them first")
    if not 0 <= dimension < len(shape):
        raise ValueError(f"sort: dimension {dimension} is out of range for {describe(operands[:1])}; "
                         f"a scalar must be reshaped to 1-d first")
    if not 1 <= num_keys <= len(operands):
        raise ValueError(f"sort: num_keys={num_keys} must be between 1 and the number of operands ({len(operands)})")
    return list(operands)


def sort(operands, dimension=-1, is_stable=True, num_keys=1):
    """Sort `operands` (an array or a sequence of equal-shaped arrays) along `dimension`.

    The order is lexicographic in the first `num_keys` operands; the others
    are carried along. Returns an array for one operand, else a list.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.sort import sort
    >>> keys, vals = sort([fnp.asarray([3, 1, 2]), fnp.asarray([30.0, 10.0, 20.0])])
    >>> keys.tolist(), vals.tolist()
    ([1, 2, 3], [10.0, 20.0, 30.0])
    """
    single = not isinstance(operands, (list, tuple))
    ops = [operands] if single else list(operands)
    if ops[0].ndim == 0:
        raise ValueError("sort: cannot sort a 0-d array; reshape it to 1-d")
    params = dict(dimension=int(dimension) % ops[0].ndim, is_stable=bool(is_stable), num_keys=int(num_keys))
    sort_p.abstract_eval(*[o.aval for o in ops], **params)  # the eager impl would not notice bad shapes
    out = sort_p.bind(*ops, **params)
    return out[0] if single else out


def take_along_axis(x, idx, dimension):
    """x's entries at positions `idx` along `dimension`; idx has x's shape except along it.

    One gather whose other axes are batching dimensions shared by x and idx.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.sort import take_along_axis
    >>> take_along_axis(fnp.asarray([[10, 20, 30]]), fnp.asarray([[2, 0]]), 1).tolist()
    [[30, 10]]
    """
    others = tuple(i for i in range(x.ndim) if i != dimension)
    dn = GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(dimension,), start_index_map=(dimension,),
                                operand_batching_dims=others, start_indices_batching_dims=others)
    return gather(x, reshape(idx, idx.shape + (1,)), dn, (1,) * x.ndim)


@sort_p.def_jvp
def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    shape = primals[0].shape
    outs = sort_p.bind(*primals, iota(index_dtype(shape[dimension]), shape, dimension),
                       dimension=dimension, is_stable=is_stable, num_keys=num_keys)
    perm = outs[-1]
    t_out = [t if type(t) is Zero else take_along_axis(t, perm, dimension) for t in tangents]
    return outs[:-1], t_out


@sort_p.def_batch
def _sort_batch(args, dims, *, dimension, is_stable, num_keys):
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    args = [bdim_at_front(a, d, size) for a, d in zip(args, dims)]
    return sort_p.bind(*args, dimension=dimension + 1, is_stable=is_stable, num_keys=num_keys), 0


@sort_p.def_lower
def _sort_lower(ctx, *operands, dimension, is_stable, num_keys):
    """One stablehlo.sort whose comparator orders the keys lexicographically, as the eager impl does."""
    avals = ctx.avals_in
    scalars = [ShapedArray((), a.dtype) for a in avals]
    b = ShapedArray((), dtypes.bool_)

    def both(sub, op, x, y):
        return sub.op1(f'stablehlo.{op}', [x, y], [b, b], b)

    def parts(sub, x, y, s):
        """(x, y, scalar aval) per component: a complex key orders by real part, then imaginary part."""
        if not dtypes.is_complex(s.dtype):
            return [(x, y, s)]
        r = s.update(dtype=dtypes.to_real(s.dtype))
        return [(sub.op1(f'stablehlo.{p}', [x], [s], r), sub.op1(f'stablehlo.{p}', [y], [s], r), r)
                for p in ('real', 'imag')]

    def less_equal(sub, x, y, s):
        """(x < y, x == y) with NaN after everything and equal to itself, -0.0 == 0.0 (NumPy's order)."""
        lt, eq = compare(sub, 'LT', x, y, s), compare(sub, 'EQ', x, y, s)
        if dtypes.is_floating(s.dtype):
            x_nan, y_nan = compare(sub, 'NE', x, x, s), compare(sub, 'NE', y, y, s)
            not_x_nan = sub.op1('stablehlo.not', [x_nan], [b], b)
            lt = both(sub, 'or', lt, both(sub, 'and', y_nan, not_x_nan))
            eq = both(sub, 'or', eq, both(sub, 'and', x_nan, y_nan))
        return lt, eq

    def comparator(sub, args):
        keys = [c for i in range(num_keys) for c in parts(sub, args[2 * i], args[2 * i + 1], scalars[i])]
        result = None
        for x, y, s in reversed(keys):  # lhs < rhs: less on this key, or equal here and less on the next ones
            lt, eq = less_equal(sub, x, y, s)
            result = lt if result is None else both(sub, 'or', lt, both(sub, 'and', eq, result))
        return [result]

    region = ctx.region([s for s in scalars for _ in (0, 1)], [b], comparator)
    attrs = {'dimension': i64_attr(dimension), 'is_stable': 'true' if is_stable else 'false'}
    return ctx.op('stablehlo.sort', list(operands), avals, ctx.avals_out, attrs, [region])


# --- top_k ------------------------------------------------------------------------------------

top_k_p = Primitive('top_k', multiple_results=True)


def _total_order_key(xp, x):
    """Integers ordered as IEEE's total order of the floats x (XLA's TopK order):
    -NaN < -inf < ... < -0.0 < 0.0 < ... < inf < NaN."""
    bits = x.view(np.dtype(f'i{x.dtype.itemsize}'))
    magnitude = np.iinfo(bits.dtype).max
    # negative floats grow more negative with their magnitude bits: flip those bits (arithmetic shift: -1 or 0)
    return bits ^ ((bits >> (8 * x.dtype.itemsize - 1)) & magnitude)


@top_k_p.def_impl
def _top_k_impl(xp, x, *, k):
    n = x.shape[-1]
    key = _total_order_key(xp, x) if x.dtype.kind == 'f' or x.dtype == dtypes.bfloat16 else x
    # a stable ascending sort of the reversed row, read backwards: descending, ties by lower index
    order = xp.argsort(xp.flip(key, -1), axis=-1, kind='stable')[..., ::-1][..., :k]
    idx = (n - 1 - order).astype(np.int32)
    return [xp.take_along_axis(x, idx, axis=-1), idx]


@top_k_p.def_abstract_eval
def _top_k_abstract(x, *, k):
    if x.ndim == 0:
        raise ValueError("top_k: needs an array of rank >= 1, got a scalar")
    if not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k: k={k} must be between 0 and the size of the last axis of {describe([x])}")
    if x.dtype not in REAL:
        raise TypeError(f"top_k: needs integer or floating values, got {describe([x])}")
    shape = x.shape[:-1] + (k,)
    return [ShapedArray(shape, x.dtype, x.weak_type), ShapedArray(shape, dtypes.int32)]


def top_k(operand, k):
    """The `k` largest entries along the last axis, in descending order, and their int32 indices.

    Ties go to the lower index; floats follow IEEE's total order, as XLA: NaN above inf, -0.0 below 0.0.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.ops.sort import top_k
    >>> vals, idx = top_k(fnp.asarray([1.0, 4.0, 2.0, 4.0]), 2)
    >>> vals.tolist(), idx.tolist()
    ([4.0, 4.0], [1, 3])
    """
    top_k_p.abstract_eval(operand.aval, k=int(k))  # the eager impl would silently cut k to the axis size
    return top_k_p.bind(operand, k=int(k))


@top_k_p.def_jvp
def _top_k_jvp(primals, tangents, *, k):
    (x,), (t,) = primals, tangents
    vals, idx = top_k_p.bind(x, k=k)
    t_out = Zero(vals.aval) if type(t) is Zero else take_along_axis(t, idx, x.ndim - 1)
    return [vals, idx], [t_out, Zero(idx.aval)]


@top_k_p.def_batch
def _top_k_batch(args, dims, *, k):
    x = moveaxis(args[0], dims[0], 0)  # the batch axis must not be the last (the one top_k reduces)
    return top_k_p.bind(x, k=k), 0


top_k_p.lower = lambda ctx, x, *, k: ctx.op('chlo.top_k', [x], ctx.avals_in, ctx.avals_out, {'k': i64_attr(k)})

__all__ = ['sort', 'top_k', 'take_along_axis']

"""dot_general: batched tensor contraction, the one primitive behind matmul, einsum and tensordot.

dimension_numbers = ((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch)).
The output's axes are: batch axes, then lhs free axes, then rhs free axes.
"""
from __future__ import annotations

import functools
import os

import numpy as np

from fn_dl.backends.xla.lowering import i64_array
from fn_dl.core.aval import describe, shape_str
from fn_dl.ops._rules import NUMERIC, Primitive, ShapedArray, Zero, add_tangents, is_undefined, skip_bdim
from fn_dl.ops.shape import transpose

dot_general_p = Primitive('dot_general')


def _remaining(n, *removed):
    drop = set().union(*map(set, removed))
    return [i for i in range(n) if i not in drop]


_CANONICAL_DN: dict = {}


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


_PARALLEL_MIN = 1 << 20  # output elements: below this, handing work to threads costs more than it saves


def _outer_products(xp, lhs, rhs):
    """out[i] = outer(lhs[i], rhs[i]) for operands (b, m) and (b, n).

    Per-example weight gradients are exactly this, and it costs what writing the output to fresh memory
    costs. einsum's product loop runs 1.1-2x faster than the equivalent broadcast multiply (which serves
    the dtypes einsum does not know, such as bfloat16); NumPy runs it on one core, so a large one is cut
    into blocks shared with idle threads (einsum releases the GIL): about 1.8x faster with two idle cores.
    Faster still, where jaxlib is there, is a compiled XLA kernel (vectorised, on XLA's threads, its output
    block reused under fn_dl.backends._malloc's settings): 8.8 ms against 14 for the (64, 784, 512) products
    of the per-sample gradients benchmark, whose eager call went from 47 to 30 ms.
    """
    if lhs.dtype.isbuiltin != 1:
        return lhs[:, :, None] * rhs[:, None, :]
    (b, m), n = lhs.shape, rhs.shape[1]
    if (b * m * n >= _PARALLEL_MIN and isinstance(lhs, np.ndarray) and lhs.dtype.char in 'fd'
            and _xla_kernels_ready()):
        return _xla_outer_products(lhs, rhs)
    pool, workers = _threads(os.getpid())
    out = xp.output_buffer((b, m, n), lhs.dtype)  # written in full: no need to clear it
    if pool is None or b * m * n < _PARALLEL_MIN or not isinstance(lhs, np.ndarray):
        return xp.einsum('bm,bn->bmn', lhs, rhs, out=out)
    if out is None:
        out = xp.empty((b, m, n), lhs.dtype)
    split_b = b >= 16 * workers  # else split the rows of a few large outer products
    bounds = np.linspace(0, b if split_b else m, 1 + min(16 * workers, b if split_b else m)).astype(int)
    blocks = iter(range(len(bounds) - 1))  # shared: next() on it is atomic under the GIL

    def work():
        for i in blocks:
            s = slice(bounds[i], bounds[i + 1])
            if split_b:
                xp.einsum('bm,bn->bmn', lhs[s], rhs[s], out=out[s])
            else:
                xp.einsum('bm,bn->bmn', lhs[:, s], rhs, out=out[:, s])
    # This thread works too, and helpers that have not started when it runs out of blocks are cancelled:
    # on a busy machine, where no core is free for them, this costs nothing over doing it all here.
    helpers = [pool.submit(work) for _ in range(workers - 1)]
    work()
    for h in helpers:
        if not h.cancel():
            h.result()
    return out


def _xla_kernels_ready():
    """Whether eager impls may hand work to compiled XLA kernels: jaxlib works, and glibc keeps their output
    blocks mapped (without that, each call page-faults its output in afresh and loses what the kernel gains)."""
    from fn_dl.backends import _malloc
    from fn_dl.backends.xla import _pjrt
    if not _pjrt.available() or _pjrt.inherited_by_fork():
        return False
    _pjrt.client()  # creating it applies the settings first, if it does not exist yet
    return _malloc.retain_large_blocks()


def _xla_outer_products(lhs, rhs):
    """`_outer_products` of NumPy operands by a compiled XLA kernel; the result views XLA's output buffer."""
    from fn_dl.backends.xla import _pjrt
    (b, m), n = lhs.shape, rhs.shape[1]
    (out,) = _outer_kernel(b, m, n, lhs.dtype)([_pjrt.to_device(lhs), _pjrt.to_device(rhs)])
    return _pjrt.to_host(out)


@functools.lru_cache(maxsize=32)
def _outer_kernel(b, m, n, dtype):
    """The executable of out[i] = outer(l[i], r[i]) for this signature (a broadcast multiply, which XLA fuses)."""
    from fn_dl.backends.xla import _pjrt
    from fn_dl.backends.xla.lowering import lower_module
    from fn_dl.core.staging import stage
    from fn_dl.ops.elementwise import mul
    from fn_dl.ops.shape import broadcast_in_dim

    def outer(lhs, rhs):
        return [mul(broadcast_in_dim(lhs, (b, m, n), (0, 1)), broadcast_in_dim(rhs, (b, m, n), (0, 2)))]
    program = stage(outer, [ShapedArray((b, m), dtype), ShapedArray((b, n), dtype)], name='outer_products')
    return _pjrt.executor(_pjrt.compile(lower_module(program, 'outer_products')), [((b, m, n), dtype)])


@functools.lru_cache(maxsize=None)
def _threads(pid):
    """(pool, n): n - 1 helper threads for memory-bound work NumPy runs on one core, None if n == 1.

    One pool per process: a forked child has none of its parent's threads.
    """
    from concurrent.futures import ThreadPoolExecutor
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1
    n = min(cores, 8)  # bound by memory: more threads gain nothing
    return (ThreadPoolExecutor(n - 1, thread_name_prefix='fn_dl') if n > 1 else None), n


@dot_general_p.def_impl
def _dot_general_impl(xp, lhs, rhs, *, dimension_numbers, preferred_element_type=None):
    perm_l, perm_r, b, m, k, n, out_shape = _layout(dimension_numbers, lhs.shape, rhs.shape)
    # views: (batch, free, contracting) etc.; the array methods, not xp.transpose (a Python wrapper)
    lhs, rhs = lhs.transpose(perm_l), rhs.transpose(perm_r)
    if k == 1:  # b tiny GEMMs would be slow
        out = _outer_products(xp, lhs.reshape(b, m), rhs.reshape(b, n))
    else:
        # one GEMM over all the free axes when b == 1 (NumPy would run a 3-D lhs as one small product per
        # leading index); BLAS takes transposed views without a copy
        shape = (m, n) if b == 1 else (b, m, n)
        big = b * m * n * lhs.itemsize >= xp.OUTPUT_BUFFER_MIN
        out = xp.matmul(lhs.reshape(shape[:-1] + (k,)), rhs.reshape(shape[:-2] + (k, n)),
                        out=xp.output_buffer(shape, lhs.dtype) if big else None)
    return out.reshape(out_shape).astype(preferred_element_type or lhs.dtype, copy=False)


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
    try:  # params must be nested tuples of Python ints (hashable); each spelling is converted once
        dn = _CANONICAL_DN[dimension_numbers]
    except (KeyError, TypeError):  # new, or spelled with lists
        (lc, rc), (lb, rb) = dimension_numbers
        dn = ((tuple(map(int, lc)), tuple(map(int, rc))), (tuple(map(int, lb)), tuple(map(int, rb))))
        if type(lc) is tuple and len(_CANONICAL_DN) < 4096:
            try:
                _CANONICAL_DN[dimension_numbers] = dn
            except TypeError:
                pass
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
    """(dot dimension numbers for ct . y, whether to compute y . ct instead, the permutation back to x's
    layout): static, so cached."""
    (x_contract, y_contract), (x_batch, y_batch) = dimension_numbers
    x_kept = _remaining(x_ndim, x_contract, x_batch)
    y_kept = _remaining(y_ndim, y_contract, y_batch)
    if swap_ans:
        ans_batch, ans_y, _ = _ranges_like(x_batch, y_kept, x_kept)
    else:
        ans_batch, _, ans_y = _ranges_like(x_batch, x_kept, y_kept)
    x_contract_sorted_by_y = list(np.take(x_contract, np.argsort(y_contract))) if x_contract else []
    # ct . y yields (batch, x's kept axes, x's contracted axes); y . ct yields (batch, contracted, kept).
    # Prefer the order that is already x's layout: the rhs of a plain matmul is then x.T @ ct, with no
    # transpose (a separate op in eager mode, a copy under jit).
    ct_first = list(x_batch) + x_kept + x_contract_sorted_by_y
    y_first = list(x_batch) + x_contract_sorted_by_y + x_kept
    if y_first == sorted(y_first) and ct_first != sorted(ct_first):
        dims = ((tuple(y_kept), tuple(ans_y)), (tuple(y_batch), tuple(ans_batch)))
        return dims, True, tuple(int(a) for a in np.argsort(y_first))
    dims = ((tuple(ans_y), tuple(y_kept)), (tuple(ans_batch), tuple(y_batch)))
    return dims, False, tuple(int(a) for a in np.argsort(ct_first))


def _transpose_lhs(g, x_aval, y, dimension_numbers, preferred_element_type, swap_ans=False):
    dims, y_first, out_axes = _transpose_lhs_dims(dimension_numbers, x_aval.ndim, y.ndim, swap_ans)
    operands = (y, g) if y_first else (g, y)
    res = transpose(dot_general_p.bind(*operands, dimension_numbers=dims, preferred_element_type=None), out_axes)
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
    # The batch axis stays where it is (moving it would cost a transpose): it is one more batch dimension
    # when both operands carry it, else one more free axis; the impl lays the operands out for BLAS once.
    (lhs, rhs), (ld, rd) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers
    if ld is not None:
        lc, lb = skip_bdim(lc, ld), skip_bdim(lb, ld)
    if rd is not None:
        rc, rb = skip_bdim(rc, rd), skip_bdim(rb, rd)
    if ld is not None and rd is not None:
        return dot_general(lhs, rhs, ((lc, rc), ((ld,) + lb, (rd,) + rb)), preferred_element_type), 0
    if ld is not None:
        # lhs's free axes keep their order in the output, after the batch axes
        return (dot_general(lhs, rhs, ((lc, rc), (lb, rb)), preferred_element_type),
                len(lb) + sum(1 for i in range(ld) if i not in lc and i not in lb))
    # Only rhs is batched: the product is computed with the operands swapped, so that the batch axis comes
    # before the lhs's free axes in memory, as the per-example results of (matrix @ batch of vectors) should.
    out = dot_general(rhs, lhs, ((rc, lc), (rb, lb)), preferred_element_type)
    nb, n_rfree = len(lb), rhs.ndim - len(rc) - len(rb)
    bpos = nb + sum(1 for i in range(rd) if i not in rc and i not in rb)
    rfree = [i for i in range(nb, nb + n_rfree) if i != bpos]
    perm = list(range(nb)) + [bpos] + list(range(nb + n_rfree, out.ndim)) + rfree
    return transpose(out, perm), nb


@dot_general_p.def_lower
def _dot_general_lower(ctx, lhs, rhs, *, dimension_numbers, preferred_element_type=None):
    (lhs_aval, rhs_aval), out_aval = ctx.avals_in, ctx.avals_out[0]
    out = _emit_dot(ctx, lhs, rhs, lhs_aval, rhs_aval, out_aval, dimension_numbers)
    (lc, rc), (lb, rb) = dimension_numbers
    n_batch, n_lhs_free = len(lb), lhs_aval.ndim - len(lc) - len(lb)
    n_free = out_aval.ndim - n_batch
    # (batch, rhs free, lhs free): the same dot with its operands exchanged
    exchanged = tuple(range(n_batch)) + tuple(n_batch + (i + n_lhs_free) % n_free for i in range(n_free))
    outer = _is_outer_product(lhs_aval, dimension_numbers)

    def transposed(ctx, permutation):
        # weight gradients are dots whose result is transposed next: write the wanted order directly
        if outer:
            return _emit_outer_product(ctx, lhs, rhs, lhs_aval, rhs_aval, out_aval, dimension_numbers, permutation)
        if permutation == exchanged:
            out_t = out_aval.update(shape=tuple(out_aval.shape[p] for p in permutation))
            return _emit_dot(ctx, rhs, lhs, rhs_aval, lhs_aval, out_t, ((rc, lc), (rb, lb)))
        return None
    ctx.transposable(out, transposed, cheap=outer)  # a broadcast multiply fuses into its users: free to repeat
    return out


def _is_outer_product(lhs_aval, dimension_numbers):
    return all(lhs_aval.shape[i] == 1 for i in dimension_numbers[0][0])


def _emit_dot(ctx, lhs, rhs, lhs_aval, rhs_aval, out_aval, dimension_numbers):
    if _is_outer_product(lhs_aval, dimension_numbers):
        return _emit_outer_product(ctx, lhs, rhs, lhs_aval, rhs_aval, out_aval, dimension_numbers)
    (lc, rc), (lb, rb) = dimension_numbers
    dn = (f"#stablehlo.dot<lhs_batching_dimensions = {list(lb)}, rhs_batching_dimensions = {list(rb)}, "
          f"lhs_contracting_dimensions = {list(lc)}, rhs_contracting_dimensions = {list(rc)}>")
    return ctx.op1('stablehlo.dot_general', [lhs, rhs], [lhs_aval, rhs_aval], out_aval, {'dot_dimension_numbers': dn})


def _emit_outer_product(ctx, lhs, rhs, lhs_aval, rhs_aval, out_aval, dimension_numbers, permutation=None):
    """A contraction of size 1 (per-example weight gradients under vmap) as a broadcast multiply, its result's
    axes in `permutation` order (default: the dot's own order).

    XLA CPU runs a size-1 dot as a multiply anyway, but only after fixing the dot's row-major result layout;
    a multiply of broadcasts can be written in any order, so a transpose after it costs nothing.
    """
    (lc, rc), (lb, rb) = dimension_numbers
    n_batch, n_lhs_free = len(lb), lhs_aval.ndim - len(lc) - len(lb)
    permutation = permutation or tuple(range(out_aval.ndim))
    where = np.argsort(permutation)  # dot axis -> result axis
    out = out_aval.update(shape=tuple(out_aval.shape[p] for p in permutation))
    operands = []
    for x, aval, contracting, batch, first_free in ((lhs, lhs_aval, lc, lb, n_batch),
                                                     (rhs, rhs_aval, rc, rb, n_batch + n_lhs_free)):
        if aval.dtype != out.dtype:  # preferred_element_type: multiply in the result's type
            x = ctx.op1('stablehlo.convert', [x], [aval], aval.update(dtype=out.dtype))
            aval = aval.update(dtype=out.dtype)
        kept = _remaining(aval.ndim, contracting)  # the size-1 contracting axes go, by a free reshape
        free = _remaining(aval.ndim, contracting, batch)
        squeezed = aval.update(shape=tuple(aval.shape[i] for i in kept))
        x = ctx.op1('stablehlo.reshape', [x], [aval], squeezed)
        dims = [where[batch.index(i) if i in batch else first_free + free.index(i)] for i in kept]
        operands.append(ctx.op1('stablehlo.broadcast_in_dim', [x], [squeezed], out,
                                {'broadcast_dimensions': i64_array(dims)}))
    return ctx.op1('stablehlo.multiply', operands, [out, out], out)

"""Dense linear algebra primitives: cholesky, triangular_solve, lu, qr, eigh, svd.

Each acts on the last two axes of its operands and maps over any leading
(batch) axes, so a vmap rule only moves the vmapped axis to the front.
Derivatives follow JAX (jax/_src/lax/linalg.py): every JVP computes its
tangents with primitives that are linear in the tangents (products with
primal matrices, triangular solves, masks), so reverse mode transposes them;
`triangular_solve` is linear in its right-hand side and carries the
transpose rule. `lu_solve` is the composite shared by the QR derivative and
`fn_dl.numpy.linalg.solve`.

Supported dtypes: float32, float64, complex64, complex128.
"""
from __future__ import annotations

import numpy as np

from fn_dl.backends.xla.lowering import compare, i64_attr, select
from fn_dl.core import dtypes
from fn_dl.core.aval import describe
from fn_dl.core.staging import close_over, stage
from fn_dl.ops._rules import Primitive, ShapedArray, Zero, bdim_at_front, defjvp2, is_undefined, moveaxis
from fn_dl.ops.control_flow import scan_bind
from fn_dl.ops.dot import dot_general
from fn_dl.ops.elementwise import (add, complex, conj, convert_element_type, div, eq, ge, integer_pow, le, mul, neg,
                                   real, select_n, sub)
from fn_dl.ops.reduce import reduce_sum
from fn_dl.ops.shape import broadcast_in_dim, concatenate, full, iota, pad, reshape, slice, transpose

_DTYPES = frozenset((dtypes.float32, dtypes.float64, dtypes.complex64, dtypes.complex128))


# --- shared checks and matrix helpers (compositions of primitives) ---------------------------
# The impls run the checks too: the eager path skips abstract_eval, and LAPACK wrappers would
# quietly upcast a float16 input or factor a non-square one row by row.

def _check_dtype(name, *avals):
    for a in avals:
        if a.dtype not in _DTYPES:
            raise TypeError(f"{name}: supports float32, float64, complex64 and complex128, got {describe(avals)}; "
                            f"cast with .astype(fnp.float32) (or float64)")
    if any(a.dtype != avals[0].dtype for a in avals):
        raise TypeError(f"{name}: operands must share a dtype, got {describe(avals)}")


def _check_matrix(name, a, square=False):
    if a.ndim < 2:
        raise ValueError(f"{name}: expects a matrix or a stack of matrices (..., m, n), got {describe([a])}")
    if square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: expects square matrices (..., n, n), got {describe([a])}")
    _check_dtype(name, a)


def _real_dtype(dt):
    return dtypes.to_real(dt) if dtypes.is_complex(dt) else dt


def _mT(x):
    """Swap the last two axes."""
    return transpose(x, tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))


def _conj(x):
    return conj(x) if dtypes.is_complex(x.dtype) else x


def _H(x):
    """The conjugate transpose of the last two axes."""
    return _conj(_mT(x))


def _mm(a, b):
    """Matrix product of two stacks with equal batch axes."""
    nb = a.ndim - 2
    batch = tuple(range(nb))
    return dot_general(a, b, (((nb + 1,), (nb,)), (batch, batch)))


def _mask(shape, k, lower):
    """Bool mask over the last two axes of `shape`: on or below (lower) / on or above diagonal k."""
    n, m = shape[-2:]
    r = iota(dtypes.int32, (n, m), 0)
    c = iota(dtypes.int32, (n, m), 1)
    edge = add(r, full((n, m), k, dtypes.int32))
    mask = le(c, edge) if lower else ge(c, edge)
    return broadcast_in_dim(mask, tuple(shape), (len(shape) - 2, len(shape) - 1))


def _tril(x, k=0):
    return select_n(_mask(x.shape, k, True), full(x.shape, 0, x.dtype), x)


def _triu(x, k=0):
    return select_n(_mask(x.shape, k, False), full(x.shape, 0, x.dtype), x)


def _eye(shape, dtype):
    """Identity matrices (ones where row == column) broadcast to `shape` (..., n, m)."""
    n, m = shape[-2:]
    on = eq(iota(dtypes.int32, (n, m), 0), iota(dtypes.int32, (n, m), 1))
    return broadcast_in_dim(convert_element_type(on, dtype), tuple(shape), (len(shape) - 2, len(shape) - 1))


def _diag_part(x):
    """The diagonal of square matrices (..., n, n) -> (..., n): a strided slice of the flattened matrix."""
    n = x.shape[-1]
    flat = reshape(x, x.shape[:-2] + (n * n,))
    lead = (0,) * (x.ndim - 2)
    return slice(flat, lead + (0,), x.shape[:-2] + (n * n,), (1,) * (x.ndim - 2) + (n + 1,))


def _rows_bcast(v, shape):
    """v (..., k) broadcast to (..., n, k): entry [i, j] is v[j]."""
    return broadcast_in_dim(v, shape, tuple(range(v.ndim - 1)) + (v.ndim,))


def _diag_matrix(v):
    """Square matrices with v (..., n) on their diagonals."""
    shape = v.shape + v.shape[-1:]
    return mul(_rows_bcast(v, shape), _eye(shape, v.dtype))


def _cols_bcast(v, shape):
    """v (..., n) broadcast to (..., n, k): entry [i, j] is v[i]."""
    return broadcast_in_dim(v, shape, tuple(range(v.ndim)))


def _scalar(x, value):
    return full(x.shape, value, x.dtype)


def _hermitian_read(t, lower):
    """The Hermitian matrix a factorization actually reads from t: its lower (or upper) triangle
    mirrored, with the real part of the diagonal (LAPACK ignores the other triangle and the
    diagonal's imaginary part). A tangent that is already Hermitian comes back unchanged."""
    strict = _tril(t, -1) if lower else _triu(t, 1)
    d = mul(t, _eye(t.shape, t.dtype))
    if dtypes.is_complex(t.dtype):
        d = complex(real(d), full(d.shape, 0, _real_dtype(d.dtype)))
    return add(add(strict, _H(strict)), d)


def _to(x, dtype):
    return convert_element_type(x, dtype)


# --- lowering to jaxlib's LAPACK kernels (CPU) ----------------------------------------------
# lu, qr, eigh and svd lower as JAX lowers them on CPU: a `stablehlo.custom_call` of a typed-FFI
# LAPACK kernel that jaxlib ships (registered in backends/xla/_pjrt.py), between ops that convert
# its results to the primitive's conventions. Those ops are compositions of primitives, staged
# and lowered inline.

_LAPACK_PREFIX = {dtypes.float32: 's', dtypes.float64: 'd', dtypes.complex64: 'c', dtypes.complex128: 'z'}


def _layout_attr(dims):
    return f"dense<[{', '.join(map(str, dims))}]> : tensor<{len(dims)}xindex>"


def _lapack_call(ctx, routine, operands, in_avals, out_avals, aliases, **chars):
    """Emit the custom call of kernel `lapack_<s|d|c|z><routine>_ffi`; returns its result names.

    aliases maps an operand index to the result that reuses its buffer (LAPACK works in place);
    chars are the kernel's one-character LAPACK options (e.g. uplo='L'), passed as ui8 attributes.
    """
    target = f"lapack_{_LAPACK_PREFIX[in_avals[0].dtype]}{routine}_ffi"
    rank = max(a.ndim for a in in_avals)

    def layouts(avals):
        # LAPACK reads column-major matrices; the kernels' other buffers (pivots, taus, info, the
        # eigenvalues) have a lower rank and keep the default row-major layout, as JAX gives them
        return '[' + ', '.join(_layout_attr((a.ndim - 2, a.ndim - 1) + tuple(range(a.ndim - 3, -1, -1))
                                            if a.ndim == rank else tuple(range(a.ndim - 1, -1, -1)))
                               for a in avals) + ']'

    tuple_index = (lambda o: f"[{o}]") if len(out_avals) > 1 else (lambda o: '[]')
    alias_text = ', '.join(f"#stablehlo.output_operand_alias<output_tuple_indices = {tuple_index(o)}, "
                           f"operand_index = {i}, operand_tuple_indices = []>" for i, o in aliases.items())
    config = ', '.join(f"{k} = {ord(v)} : ui8" for k, v in chars.items())
    # api_version 4 (typed FFI) takes its attributes as a dictionary backend_config; JAX writes
    # api_version 1 with an `mhlo.backend_config` dictionary only because its Python op builder
    # accepts strings alone, and XLA reads both the same way
    attrs = {'call_target_name': f'"{target}"', 'api_version': '4 : i32', 'backend_config': f"{{{config}}}",
             'operand_layouts': layouts(in_avals), 'result_layouts': layouts(out_avals),
             'output_operand_aliases': f"[{alias_text}]"}
    return ctx.op('stablehlo.custom_call', operands, in_avals, out_avals, attrs)


def _lower_composition(ctx, fun, args, avals):
    """Lower fun (arrays -> list of arrays, written with primitives) inline on SSA values args."""
    return ctx.lower_program(stage(lambda *xs: list(fun(*xs)), avals, name='linalg_lowering'), list(args))


def _nan_unless(ok, x):
    """x where the factorization of its matrix succeeded (ok: one bool per batch element), else NaN."""
    ok = broadcast_in_dim(ok, x.shape, tuple(range(ok.ndim)))
    return select_n(ok, full(x.shape, np.nan, x.dtype), x)


def _info_ok_or_nan(ctx, outs, avals, info_aval):
    """The factorization's results, NaN for each batch element whose LAPACK info is nonzero
    (the iteration did not converge), as JAX does; the last of outs is info."""
    def finish(*xs):
        *xs, info = xs
        ok = eq(info, full(info.shape, 0, dtypes.int32))
        return [_nan_unless(ok, x) for x in xs]
    return _lower_composition(ctx, finish, outs, list(avals) + [info_aval])


def _batch_front(prim):
    """vmap rule of a one-operand factorization: batch axes are leading axes, so move vmap's there."""
    def batch(args, dims, **params):
        x = moveaxis(args[0], dims[0], 0)
        return prim.bind(x, **params), 0
    return batch


# --- cholesky ------------------------------------------------------------------------------

cholesky_p = Primitive('cholesky')


@cholesky_p.def_impl
def _cholesky_impl(xp, a):
    _check_matrix('cholesky', a, square=True)
    return xp.cholesky(a)


@cholesky_p.def_abstract_eval
def _cholesky_abstract(a):
    _check_matrix('cholesky', a, square=True)
    return ShapedArray(a.shape, a.dtype)


def cholesky(a):
    """Lower Cholesky factor L (L @ L^H = a) reading only a's lower triangle; NaNs (in the lower
    triangle) where a is not positive definite.

    >>> import fn_dl.numpy as fnp
    >>> cholesky(fnp.asarray([[4.0, 2.0], [2.0, 5.0]])).tolist()
    [[2.0, 0.0], [1.0, 2.0]]
    """
    return cholesky_p.bind(a)


@cholesky_p.def_jvp
def _cholesky_jvp(primals, tangents):
    (a,), (t,) = primals, tangents
    L = cholesky(a)
    if type(t) is Zero:
        return L, Zero(L.aval)
    # Murray, "Differentiation of the Cholesky decomposition" (arXiv:1602.07527):
    # dL = L phi(L^-1 dA L^-H), phi taking the lower triangle with the diagonal halved
    sigma = _hermitian_read(t, lower=True)
    tmp = triangular_solve(L, sigma, left_side=False, lower=True, transpose_a=True, conjugate_a=True)
    inner = triangular_solve(L, tmp, left_side=True, lower=True)
    phi_weights = sub(_tril(full(a.shape, 1, a.dtype)), mul(_eye(a.shape, a.dtype), _scalar(a, 0.5)))
    return L, _mm(L, mul(inner, phi_weights))


cholesky_p.batch = _batch_front(cholesky_p)


@cholesky_p.def_lower
def _cholesky_lower(ctx, a):
    aval = ctx.avals_out[0]
    out = ctx.op1('stablehlo.cholesky', [a], ctx.avals_in, aval, {'lower': 'true'})
    # XLA leaves the strict upper triangle unspecified: zero it, as the eager backends return it
    index = aval.update(dtype=dtypes.int32)
    rows = ctx.op1('stablehlo.iota', [], [], index, {'iota_dimension': i64_attr(aval.ndim - 2)})
    cols = ctx.op1('stablehlo.iota', [], [], index, {'iota_dimension': i64_attr(aval.ndim - 1)})
    keep = compare(ctx, 'GE', rows, cols, index)
    return select(ctx, keep, out, ctx.splat(0, aval), aval, index.update(dtype=dtypes.bool_))


# --- triangular_solve -----------------------------------------------------------------------

triangular_solve_p = Primitive('triangular_solve')


@triangular_solve_p.def_impl
def _triangular_solve_impl(xp, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    _triangular_solve_abstract(a, b, left_side=left_side, lower=lower, transpose_a=transpose_a,
                               conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)
    if conjugate_a and a.dtype.kind == 'c':
        # op(conj(A)) x = b  <=>  op(A) conj(x) = conj(b)
        return xp.conj(_triangular_solve_impl(xp, a, xp.conj(b), left_side=left_side, lower=lower,
                                              transpose_a=transpose_a, conjugate_a=False,
                                              unit_diagonal=unit_diagonal))
    if left_side:
        return xp.solve_triangular(a, b, lower=lower, trans=int(transpose_a), unit_diagonal=unit_diagonal)
    # x op(A) = b  <=>  op(A)^T x^T = b^T
    xt = xp.solve_triangular(a, xp.swapaxes(b, -1, -2), lower=lower, trans=int(not transpose_a),
                             unit_diagonal=unit_diagonal)
    return xp.swapaxes(xt, -1, -2)


@triangular_solve_p.def_abstract_eval
def _triangular_solve_abstract(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    _check_matrix('triangular_solve', a, square=True)
    _check_matrix('triangular_solve', b)
    _check_dtype('triangular_solve', a, b)
    side = 'left' if left_side else 'right'
    if a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2 if left_side else -1]:
        raise ValueError(f"triangular_solve ({side} side): a {describe([a])} does not fit b {describe([b])}; "
                         f"a must be (..., m, m) for b (..., m, n) (left side) or (..., n, n) (right side), "
                         f"with equal batch axes (broadcast them first)")
    return ShapedArray(b.shape, b.dtype)


def triangular_solve(a, b, *, left_side=False, lower=False, transpose_a=False, conjugate_a=False,
                     unit_diagonal=False):
    """x with op(a) @ x = b (left_side) or x @ op(a) = b, a triangular; op transposes and/or conjugates.

    Reads only a's lower (or upper) triangle, and not its diagonal when unit_diagonal.

    >>> import fn_dl.numpy as fnp
    >>> a = fnp.asarray([[2.0, 0.0], [1.0, 1.0]])
    >>> triangular_solve(a, fnp.asarray([[2.0], [3.0]]), left_side=True, lower=True).tolist()
    [[1.0], [2.0]]
    """
    return triangular_solve_p.bind(a, b, left_side=bool(left_side), lower=bool(lower),
                                   transpose_a=bool(transpose_a), conjugate_a=bool(conjugate_a),
                                   unit_diagonal=bool(unit_diagonal))


def _triangular_solve_jvp_a(g_a, ans, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    # d(A^-1 B) = -A^-1 dA A^-1 B, with dA restricted to the triangle the solve reads
    m, n = b.shape[-2:]
    k = 1 if unit_diagonal else 0
    g_a = neg(_tril(g_a, -k) if lower else _triu(g_a, k))
    g_a = _mT(g_a) if transpose_a else g_a
    g_a = _conj(g_a) if conjugate_a else g_a

    def a_inverse(rhs):
        return triangular_solve(a, rhs, left_side=left_side, lower=lower, transpose_a=transpose_a,
                                conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)

    # a solve costs about a product: take the order with the smaller intermediate
    if left_side:
        return a_inverse(_mm(g_a, ans)) if m > n else _mm(a_inverse(g_a), ans)
    return a_inverse(_mm(ans, g_a)) if m < n else _mm(ans, a_inverse(g_a))


def _triangular_solve_jvp_b(g_b, ans, a, b, **params):
    return triangular_solve_p.bind(a, g_b, **params)


defjvp2(triangular_solve_p, _triangular_solve_jvp_a, _triangular_solve_jvp_b)


@triangular_solve_p.def_transpose
def _triangular_solve_transpose(ct, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    # linear in b only, like div in its numerator: the transpose solves with op(A)^T
    if is_undefined(a):
        raise TypeError("triangular_solve: transpose with respect to the matrix a (the solve is not linear in a)")
    return [None, triangular_solve(a, ct, left_side=left_side, lower=lower, transpose_a=not transpose_a,
                                   conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)]


@triangular_solve_p.def_batch
def _triangular_solve_batch(args, dims, **params):
    (a, b), (da, db) = args, dims
    if da is None:
        # one matrix for the whole batch: fold the batch into b's free axis, one solve for all
        if params['left_side']:
            b = moveaxis(b, db, b.ndim - 1)
            flat = reshape(b, b.shape[:-2] + (b.shape[-2] * b.shape[-1],))
            out_dim = b.ndim - 1
        else:
            b = moveaxis(b, db, b.ndim - 2)
            flat = reshape(b, b.shape[:-3] + (b.shape[-3] * b.shape[-2], b.shape[-1]))
            out_dim = b.ndim - 2
        return reshape(triangular_solve_p.bind(a, flat, **params), b.shape), out_dim
    size = a.shape[da]
    return triangular_solve_p.bind(moveaxis(a, da, 0), bdim_at_front(b, db, size), **params), 0


@triangular_solve_p.def_lower
def _triangular_solve_lower(ctx, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    a_aval, b_aval = ctx.avals_in
    conj_only = conjugate_a and not transpose_a and dtypes.is_complex(a_aval.dtype)
    if conj_only:  # StableHLO's transpose_a has no "conjugate only"
        a = ctx.op1('chlo.conj', [a], [a_aval], a_aval)
    mode = 'ADJOINT' if transpose_a and conjugate_a else 'TRANSPOSE' if transpose_a else 'NO_TRANSPOSE'
    flag = lambda v: 'true' if v else 'false'  # noqa: E731
    attrs = {'left_side': flag(left_side), 'lower': flag(lower), 'unit_diagonal': flag(unit_diagonal),
             'transpose_a': f"#stablehlo<transpose {mode}>"}
    return ctx.op1('stablehlo.triangular_solve', [a, b], [a_aval, b_aval], ctx.avals_out[0], attrs)


# --- lu --------------------------------------------------------------------------------------

lu_p = Primitive('lu', multiple_results=True)


def _pivots_to_permutation(xp, pivots, m):
    """Apply LAPACK's sequential row swaps to 0..m-1 (vectorised over the batch, a loop over the swaps)."""
    perm = xp.broadcast_to(xp.arange(m, dtype=np.int32), pivots.shape[:-1] + (m,)).copy()
    for i in range(pivots.shape[-1]):
        j = pivots[..., i:i + 1]
        p_i = perm[..., i:i + 1].copy()
        perm[..., i:i + 1] = xp.take_along_axis(perm, j, axis=-1)
        xp.put_along_axis(perm, j, p_i, axis=-1)
    return perm


@lu_p.def_impl
def _lu_impl(xp, a):
    _check_matrix('lu', a)
    lu, pivots = xp.lu_factor(a)
    return [lu, pivots, _pivots_to_permutation(xp, pivots, a.shape[-2])]


@lu_p.def_abstract_eval
def _lu_abstract(a):
    _check_matrix('lu', a)
    m, n = a.shape[-2:]
    batch = a.shape[:-2]
    return [ShapedArray(a.shape, a.dtype), ShapedArray(batch + (min(m, n),), dtypes.int32),
            ShapedArray(batch + (m,), dtypes.int32)]


def lu(a):
    """LU decomposition with partial pivoting of (..., m, n) matrices: (lu, pivots, permutation).

    lu holds L (unit diagonal, below it) and U (on and above it); pivots are LAPACK's 0-based row
    swaps; a[..., permutation, :] == L @ U.

    >>> import fn_dl.numpy as fnp
    >>> lu_, pivots, permutation = lu(fnp.asarray([[1.0, 2.0], [3.0, 4.0]]))
    >>> pivots.tolist(), permutation.tolist()
    ([1, 1], [1, 0])
    """
    return lu_p.bind(a)


def _permutation_matrix(permutation, dtype):
    """P with P @ x == x[..., permutation, :] (a one-hot matrix: a product keeps everything linear)."""
    m = permutation.shape[-1]
    shape = permutation.shape + (m,)
    cols = iota(dtypes.int32, shape, len(shape) - 1)
    return _to(eq(broadcast_in_dim(permutation, shape, tuple(range(permutation.ndim))), cols), dtype)


@lu_p.def_jvp
def _lu_jvp(primals, tangents):
    # de Hoog, Anderssen, Lukas, "Differentiation of matrix functionals using triangular factorization":
    # with F = L^-1 P dA U^-1, dL = L tril(F, -1) and dU = triu(F) U
    (a,), (t,) = primals, tangents
    lu_, pivots, permutation = outs = lu(a)
    zeros = [Zero(pivots.aval), Zero(permutation.aval)]
    if type(t) is Zero:
        return outs, [Zero(lu_.aval)] + zeros
    m, n = a.shape[-2:]
    k = min(m, n)
    nb = a.ndim - 2
    batch = a.shape[:-2]
    zero = full((), 0, a.dtype)
    x = _mm(_permutation_matrix(permutation, a.dtype), t)
    lower = _tril(slice(lu_, (0,) * a.ndim, batch + (m, k)), -1)
    lower = add(pad(lower, zero, [(0, 0, 0)] * (nb + 1) + [(0, m - k, 0)]), _eye(batch + (m, m), a.dtype))
    upper = pad(_triu(slice(lu_, (0,) * a.ndim, batch + (k, n))), zero, [(0, 0, 0)] * nb + [(0, n - k, 0), (0, 0, 0)])
    if n > k:  # complete U to an invertible (n, n) matrix; the extra rows do not affect dU's kept part
        corner = pad(_eye((n - k, n - k), a.dtype), zero, [(k, 0, 0), (k, 0, 0)])
        upper = add(upper, broadcast_in_dim(corner, batch + (n, n), (nb, nb + 1)))
    la = triangular_solve(lower, x, left_side=True, lower=True, unit_diagonal=True)
    lau = triangular_solve(upper, la, left_side=False, lower=False)
    lu_dot = add(_mm(lower, _tril(lau, -1)), _mm(_triu(lau), upper))
    return outs, [lu_dot] + zeros


lu_p.batch = _batch_front(lu_p)


def _permutation_of_pivots(pivots, m):
    """`_pivots_to_permutation` written with primitives (for lowering): a scan over the row swaps."""
    nb = pivots.ndim - 1
    shape = pivots.shape[:-1] + (m,)
    batch = tuple(range(nb))

    def swap(perm, i, j):
        cols = iota(dtypes.int32, shape, nb)
        at_i = eq(cols, broadcast_in_dim(i, shape, ()))
        at_j = eq(cols, broadcast_in_dim(j, shape, batch))
        zeros = full(shape, 0, dtypes.int32)
        # perm[i] and perm[j] as one-hot masked sums: a row of selects, no gather/scatter per batch element
        p_i = broadcast_in_dim(reduce_sum(select_n(at_i, zeros, perm), (nb,)), shape, batch)
        p_j = broadcast_in_dim(reduce_sum(select_n(at_j, zeros, perm), (nb,)), shape, batch)
        return [select_n(at_i, select_n(at_j, perm, p_i), p_j)]

    steps = pivots.shape[-1]
    if not steps:  # an empty matrix: no swaps (and a scan over no steps does not lower)
        return iota(dtypes.int32, shape, nb)
    i32 = ShapedArray((), dtypes.int32)
    body, consts = close_over(swap, [ShapedArray(shape, dtypes.int32), i32, i32.update(shape=shape[:-1])],
                              name='lu_pivots')
    xs = [iota(dtypes.int32, (steps,), 0), moveaxis(pivots, nb, 0)]
    return scan_bind(body, consts, [iota(dtypes.int32, shape, nb)], xs, steps)[0]


@lu_p.def_lower
def _lu_lower(ctx, a):
    (a_aval,), (lu_aval, pivots_aval, _) = ctx.avals_in, ctx.avals_out
    info_aval = ShapedArray(a_aval.shape[:-2], dtypes.int32)
    outs = _lapack_call(ctx, 'getrf', [a], [a_aval], [lu_aval, pivots_aval, info_aval], {0: 0})

    def finish(lu_, pivots, info):
        pivots = sub(pivots, full(pivots.shape, 1, dtypes.int32))  # LAPACK's pivots are 1-based
        # info > 0 only reports an exactly singular U, which is still a valid factorization
        lu_ = _nan_unless(ge(info, full(info.shape, 0, dtypes.int32)), lu_)
        return lu_, pivots, _permutation_of_pivots(pivots, a_aval.shape[-2])

    return _lower_composition(ctx, finish, outs, [lu_aval, pivots_aval, info_aval])


def lu_solve(lu_, permutation, b, trans=0):
    """Solve a x = b (trans=0), a^T x = b (1) or a^H x = b (2) from lu(a) = (lu_, _, permutation).

    b is (..., m, k) with the batch axes of lu_.

    >>> import fn_dl.numpy as fnp
    >>> lu_, _, permutation = lu(fnp.asarray([[2.0, 0.0], [0.0, 4.0]]))
    >>> lu_solve(lu_, permutation, fnp.asarray([[2.0], [2.0]])).tolist()
    [[1.0], [0.5]]
    """
    p = _permutation_matrix(permutation, b.dtype)
    if trans == 0:
        x = triangular_solve(lu_, _mm(p, b), left_side=True, lower=True, unit_diagonal=True)
        return triangular_solve(lu_, x, left_side=True, lower=False)
    if trans not in (1, 2):
        raise ValueError(f"lu_solve: trans must be 0, 1 or 2, got {trans!r}")
    c = trans == 2
    x = triangular_solve(lu_, b, left_side=True, lower=False, transpose_a=True, conjugate_a=c)
    x = triangular_solve(lu_, x, left_side=True, lower=True, unit_diagonal=True, transpose_a=True, conjugate_a=c)
    return _mm(_mT(p), x)


# --- qr --------------------------------------------------------------------------------------

qr_p = Primitive('qr', multiple_results=True)


@qr_p.def_impl
def _qr_impl(xp, a, *, full_matrices):
    _check_matrix('qr', a)
    q, r = xp.linalg.qr(a, mode='complete' if full_matrices else 'reduced')
    return [q.astype(a.dtype, copy=False), r.astype(a.dtype, copy=False)]


@qr_p.def_abstract_eval
def _qr_abstract(a, *, full_matrices):
    _check_matrix('qr', a)
    m, n = a.shape[-2:]
    k = m if full_matrices else min(m, n)
    return [ShapedArray(a.shape[:-2] + (m, k), a.dtype), ShapedArray(a.shape[:-2] + (k, n), a.dtype)]


def qr(a, full_matrices=False):
    """QR decomposition of (..., m, n) matrices: q (..., m, k), r (..., k, n), k = m if full_matrices
    else min(m, n).

    >>> import fn_dl.numpy as fnp
    >>> [x.shape for x in qr(fnp.ones((4, 3)), full_matrices=True)]
    [(4, 4), (4, 3)]
    """
    return qr_p.bind(a, full_matrices=bool(full_matrices))


def _thin_qr_jvp(q, r, dx):
    # Townsend, "Differentiating the QR decomposition" (m >= n, q (m, n), r (n, n))
    dx_rinv = triangular_solve(r, dx)
    qt_dx_rinv = _mm(_H(q), dx_rinv)
    low = _tril(qt_dx_rinv, -1)
    do = sub(low, _H(low))  # skew-Hermitian
    if dtypes.is_complex(q.dtype):
        # the diagonal of dR must stay real: move the imaginary part of the diagonal into dO
        diag_imag = sub(qt_dx_rinv, complex(real(qt_dx_rinv), full(qt_dx_rinv.shape, 0, _real_dtype(q.dtype))))
        do = add(do, mul(_eye(do.shape, do.dtype), diag_imag))
    dq = add(_mm(q, sub(do, qt_dx_rinv)), dx_rinv)
    dr = _mm(sub(qt_dx_rinv, do), r)
    return dq, dr


def _cols(x, start, stop):
    return slice(x, (0,) * (x.ndim - 1) + (start,), x.shape[:-1] + (stop,))


def _rows(x, start, stop):
    lo = (0,) * (x.ndim - 2) + (start, 0)
    return slice(x, lo, x.shape[:-2] + (stop, x.shape[-1]))


@qr_p.def_jvp
def _qr_jvp(primals, tangents, *, full_matrices):
    (x,), (dx,) = primals, tangents
    q, r = outs = qr(x, full_matrices)
    if type(dx) is Zero:
        return outs, [Zero(q.aval), Zero(r.aval)]
    m, n = x.shape[-2:]
    if m < n:
        # wide: x = [x1 x2] with x1 square; x1 = q r1 is a square QR and r2 = q^H x2
        dq, dr1 = _thin_qr_jvp(q, _cols(r, 0, m), _cols(dx, 0, m))
        dr2 = add(_mm(_H(dq), _cols(x, m, n)), _mm(_H(q), _cols(dx, m, n)))
        return outs, [dq, concatenate([dr1, dr2], x.ndim - 1)]
    if not full_matrices or m == n:
        return outs, list(_thin_qr_jvp(q, r, dx))
    # tall with full_matrices: the trailing m - n columns of q follow the Householder construction
    # (Roberts & Roberts, arXiv:2409.13374, eqs. 32-33)
    q_mn, q_mp = _cols(q, 0, n), _cols(q, n, m)
    dq_mn, dr_nn = _thin_qr_jvp(q_mn, _rows(r, 0, n), dx)
    q_nn, q_pn = _rows(q_mn, 0, n), _rows(q_mn, n, m)
    dq_nn, dq_pn = _rows(dq_mn, 0, n), _rows(dq_mn, n, m)
    f, _, perm = lu(sub(q_nn, _eye(q_nn.shape, q_nn.dtype)))
    z_pn_h = lu_solve(f, perm, _H(q_pn), trans=2)  # z_pn = q_pn (q_nn - I)^-1
    z_pn = _H(z_pn_h)
    dq_mp = sub(_mm(dq_mn, z_pn_h), _mm(add(q_mn, _mm(q_mp, z_pn)), _H(sub(dq_pn, _mm(z_pn, dq_nn)))))
    dr = concatenate([dr_nn, full(x.shape[:-2] + (m - n, n), 0, x.dtype)], x.ndim - 2)
    return outs, [concatenate([dq_mn, dq_mp], x.ndim - 1), dr]


qr_p.batch = _batch_front(qr_p)


@qr_p.def_lower
def _qr_lower(ctx, a, *, full_matrices):
    (a_aval,), (q_aval, r_aval) = ctx.avals_in, ctx.avals_out
    m, n = a_aval.shape[-2:]
    taus_aval = ShapedArray(a_aval.shape[:-2] + (min(m, n),), a_aval.dtype)
    h, taus = _lapack_call(ctx, 'geqrf', [a], [a_aval], [a_aval, taus_aval], {0: 0})
    k = q_aval.shape[-1]

    def split(h):
        # orgqr expands the Householder reflectors stored below h's diagonal in place, so it takes
        # them in a matrix of q's shape: h's first m columns (wide a), or h widened by zero columns
        # (complete q of tall a); r is the upper triangle of h's first rows
        widen = [(0, 0, 0)] * (h.ndim - 1) + [(0, k - n, 0)]
        reflectors = pad(h, full((), 0, h.dtype), widen) if k > n else _cols(h, 0, k)
        return reflectors, _triu(_rows(h, 0, r_aval.shape[-2]))

    reflectors, r = _lower_composition(ctx, split, [h], [a_aval])
    q = _lapack_call(ctx, 'ungqr' if dtypes.is_complex(a_aval.dtype) else 'orgqr', [reflectors, taus],
                     [q_aval, taus_aval], [q_aval], {0: 0})
    return q + [r]


# --- eigh ------------------------------------------------------------------------------------

eigh_p = Primitive('eigh', multiple_results=True)


@eigh_p.def_impl
def _eigh_impl(xp, a, *, lower):
    _check_matrix('eigh', a, square=True)
    w, v = xp.linalg.eigh(a, UPLO='L' if lower else 'U')
    return [v.astype(a.dtype, copy=False), w.astype(_real_dtype(a.dtype), copy=False)]


@eigh_p.def_abstract_eval
def _eigh_abstract(a, *, lower):
    _check_matrix('eigh', a, square=True)
    return [ShapedArray(a.shape, a.dtype), ShapedArray(a.shape[:-1], _real_dtype(a.dtype))]


def eigh(a, lower=True):
    """Eigenvectors v (columns) and ascending real eigenvalues w of Hermitian matrices, reading only
    the lower (or upper) triangle: a @ v == v * w.

    >>> import fn_dl.numpy as fnp
    >>> eigh(fnp.asarray([[2.0, 0.0], [0.0, 1.0]]))[1].tolist()
    [1.0, 2.0]
    """
    return eigh_p.bind(a, lower=bool(lower))


@eigh_p.def_jvp
def _eigh_jvp(primals, tangents, *, lower):
    # non-degenerate perturbation theory (Magnus; Giles, "An extended collection of matrix derivative
    # results"): with S = V^H dA V, dw = real(diag S), dV = V (F * S), F[i, j] = 1 / (w_j - w_i)
    (a,), (t,) = primals, tangents
    v, w_real = outs = eigh(a, lower)
    if type(t) is Zero:
        return outs, [Zero(v.aval), Zero(w_real.aval)]
    w = _to(w_real, a.dtype)
    eye = _eye(a.shape, a.dtype)
    diffs = sub(_rows_bcast(w, a.shape), _cols_bcast(w, a.shape))
    f = sub(integer_pow(add(eye, diffs), -1), eye)
    s = _mm(_mm(_H(v), _hermitian_read(t, lower)), v)
    dv = _mm(v, mul(f, s))
    dw = _diag_part(real(s)) if dtypes.is_complex(a.dtype) else _diag_part(s)
    return outs, [dv, dw]


eigh_p.batch = _batch_front(eigh_p)


@eigh_p.def_lower
def _eigh_lower(ctx, a, *, lower):
    (a_aval,), (v_aval, w_aval) = ctx.avals_in, ctx.avals_out
    info_aval = ShapedArray(a_aval.shape[:-2], dtypes.int32)
    routine = 'heevd' if dtypes.is_complex(a_aval.dtype) else 'syevd'
    outs = _lapack_call(ctx, routine, [a], [a_aval], [v_aval, w_aval, info_aval], {0: 0},
                        mode='V', uplo='L' if lower else 'U')
    return _info_ok_or_nan(ctx, outs, [v_aval, w_aval], info_aval)


# --- svd -------------------------------------------------------------------------------------

svd_p = Primitive('svd', multiple_results=True)


@svd_p.def_impl
def _svd_impl(xp, a, *, full_matrices, compute_uv):
    _check_matrix('svd', a)
    rdt = _real_dtype(a.dtype)
    if not compute_uv:
        return [xp.linalg.svd(a, compute_uv=False).astype(rdt, copy=False)]
    u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    return [s.astype(rdt, copy=False), u.astype(a.dtype, copy=False), vh.astype(a.dtype, copy=False)]


@svd_p.def_abstract_eval
def _svd_abstract(a, *, full_matrices, compute_uv):
    _check_matrix('svd', a)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    s = ShapedArray(batch + (k,), _real_dtype(a.dtype))
    if not compute_uv:
        return [s]
    ku, kv = (m, n) if full_matrices else (k, k)
    return [s, ShapedArray(batch + (m, ku), a.dtype), ShapedArray(batch + (kv, n), a.dtype)]


def svd(a, full_matrices=False, compute_uv=True):
    """Singular values s (descending, real) and, with compute_uv, u and vh: a == u @ diag(s) @ vh.

    Returns [s, u, vh], or [s] without compute_uv.

    >>> import fn_dl.numpy as fnp
    >>> svd(fnp.asarray([[0.0, 2.0], [3.0, 0.0]]), compute_uv=False)[0].tolist()
    [3.0, 2.0]
    """
    return svd_p.bind(a, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))


@svd_p.def_jvp
def _svd_jvp(primals, tangents, *, full_matrices, compute_uv):
    # Townsend, "Differentiating the singular value decomposition"; distinct nonzero singular values
    (a,), (da,) = primals, tangents
    m, n = a.shape[-2:]
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError(
            f"svd: derivative of u and vh with full_matrices=True for non-square {describe([a.aval])} matrices "
            f"(their extra columns are not unique); use full_matrices=False")
    s, u, vh = svd(a, full_matrices=False, compute_uv=True)
    outs = [s, u, vh] if compute_uv else [s]
    if type(da) is Zero:
        return outs, [Zero(o.aval) for o in outs]
    dt = a.dtype
    v = _H(vh)
    ds_mat = _mm(_mm(_H(u), da), v)
    ds = _diag_part(real(ds_mat) if dtypes.is_complex(dt) else ds_mat)
    if not compute_uv:
        return outs, [ds]
    k = s.shape[-1]
    sq = s.shape[:-1] + (k, k)
    s_row, s_col = _rows_bcast(s, sq), _cols_bcast(s, sq)  # [i, j] -> s_j, s_i
    eye_r = _eye(sq, s.dtype)
    f = sub(div(full(sq, 1, s.dtype), add(mul(add(s_row, s_col), sub(s_row, s_col)), eye_r)), eye_r)
    s_zero = _to(eq(s, _scalar(s, 0)), s.dtype)
    s_inv = sub(div(_scalar(s, 1), add(s, s_zero)), s_zero)
    f_c, s_row_c = _to(f, dt), _to(s_row, dt)
    dss = mul(s_row_c, ds_mat)
    sds = mul(_to(s_col, dt), ds_mat)
    du_dv_diag = mul(mul(sub(ds_mat, _H(ds_mat)), _to(_diag_matrix(s_inv), dt)), _scalar(ds_mat, 0.5))
    du = _mm(u, add(mul(f_c, add(dss, _H(dss))), du_dv_diag))
    dv = _mm(v, mul(f_c, add(sds, _H(sds))))
    if m > n:
        dav = _mm(da, v)
        du = add(du, div(sub(dav, _mm(u, _mm(_H(u), dav))), _rows_bcast(_to(s, dt), dav.shape)))
    if n > m:
        dahu = _mm(_H(da), u)
        dv = add(dv, div(sub(dahu, _mm(v, _mm(vh, dahu))), _rows_bcast(_to(s, dt), dahu.shape)))
    return outs, [ds, du, _H(dv)]


svd_p.batch = _batch_front(svd_p)


@svd_p.def_lower
def _svd_lower(ctx, a, *, full_matrices, compute_uv):
    (a_aval,), out_avals = ctx.avals_in, ctx.avals_out
    m, n = a_aval.shape[-2:]
    if m == 0 or n == 0:
        # gesdd rejects empty matrices in mode 'A' (so JAX special-cases them too): no singular
        # values, and the singular vectors, where asked for, are identities
        return _lower_composition(ctx, lambda x: [full(out_avals[0].shape, 0, out_avals[0].dtype)] +
                                  [_eye(o.shape, x.dtype) for o in out_avals[1:]], [a], [a_aval])
    s_aval, k = out_avals[0], min(m, n)
    if compute_uv:
        u_aval, vh_aval = out_avals[1:]
    else:  # gesdd computes no vectors in mode 'N' but still takes buffers for them
        u_aval = a_aval.update(shape=a_aval.shape[:-2] + (m, m if full_matrices else k))
        vh_aval = a_aval.update(shape=a_aval.shape[:-2] + (n if full_matrices else k, n))
    info_aval = ShapedArray(a_aval.shape[:-2], dtypes.int32)
    mode = 'N' if not compute_uv else 'A' if full_matrices else 'S'
    _, s, u, vh, info = _lapack_call(ctx, 'gesdd', [a], [a_aval], [a_aval, s_aval, u_aval, vh_aval, info_aval],
                                     {0: 0}, mode=mode)
    kept = len(out_avals)
    return _info_ok_or_nan(ctx, [s, u, vh][:kept] + [info], [s_aval, u_aval, vh_aval][:kept], info_aval)


__all__ = ['cholesky', 'triangular_solve', 'lu', 'lu_solve', 'qr', 'eigh', 'svd']

"""fn_dl.numpy.linalg: the Array API linear algebra extension, plus NumPy's norm, lstsq, multi_dot and cond.

Everything is a composition of primitives, so it runs eagerly and under grad,
vmap and jit. Factorizations are the primitives of `fn_dl.ops.linalg`;
solve, inv and det go through `lu` and triangular solves and differentiate
through their rules. Functions act on the last two axes and broadcast over
the leading ones. Integer inputs are converted to the default float dtype.

>>> import fn_dl.numpy as fnp
>>> a = fnp.asarray([[3.0, 1.0], [1.0, 2.0]])
>>> fnp.linalg.solve(a, fnp.asarray([9.0, 8.0])).tolist()
[2.0, 3.0]
"""
from __future__ import annotations

import builtins
import math
import operator
from typing import NamedTuple

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.array import Array
from fn_dl.core.aval import shape_str
from fn_dl.numpy._creation import arange, eye
from fn_dl.numpy._elementwise import abs, conj, isnan, log, power, real, sqrt, where  # noqa: A004
from fn_dl.numpy._manipulation import (broadcast_to, expand_dims, matrix_transpose, moveaxis, reshape, squeeze,
                                       stack)
from fn_dl.numpy._manipulation import diagonal as _diagonal
from fn_dl.numpy._manipulation import trace as _trace
from fn_dl.numpy._products import matmul, tensordot, vecdot
from fn_dl.numpy._products import outer as _outer
from fn_dl.numpy._reductions import any, count_nonzero, max, min, prod, sum  # noqa: A004
from fn_dl.numpy._util import asarray, broadcast_shapes, normalize_axes, normalize_axis, promote
from fn_dl.ops import linalg as lin


class EighResult(NamedTuple):
    eigenvalues: Array
    eigenvectors: Array


class QRResult(NamedTuple):
    Q: Array
    R: Array


class SlogdetResult(NamedTuple):
    sign: Array
    logabsdet: Array


class SVDResult(NamedTuple):
    U: Array
    S: Array
    Vh: Array


# --- helpers -------------------------------------------------------------------------------

def _inexact(x):
    x = asarray(x)
    return x if dtypes.is_inexact(x.dtype) else x.astype(dtypes.default_float)


def _matrices(name, x, square=False):
    """x as an inexact stack of matrices, checked."""
    x = _inexact(x)
    if x.ndim < 2:
        raise ValueError(f"linalg.{name}: expects a matrix or a stack of matrices (..., M, N), "
                         f"got shape {shape_str(x.shape)}")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"linalg.{name}: expects square matrices (..., M, M), got shape {shape_str(x.shape)}")
    return x


def _H(x):
    return conj(matrix_transpose(x))


def _symmetrize(x):
    # the factorizations read one triangle; averaging with the conjugate transpose makes the
    # result, and its derivative, depend on the whole matrix (as JAX does)
    return (x + _H(x)) * 0.5


def _lu_parity(x):
    """(lu, the sign of lu(x)'s row permutation as x's dtype)."""
    lu, pivots, _ = lin.lu(x)
    swaps = count_nonzero(pivots != arange(pivots.shape[-1], dtype=pivots.dtype), axis=-1)
    return lu, (1 - 2 * (swaps % 2)).astype(x.dtype)


# --- factorizations ------------------------------------------------------------------------

def cholesky(x, /, *, upper=False):
    """The Cholesky factor of Hermitian positive-definite matrices: L with x = L @ L^H (or the upper
    factor U = L^H with upper=True). Matrices that are not positive definite give NaNs.

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.cholesky(fnp.asarray([[4.0, 2.0], [2.0, 5.0]])).tolist()
    [[2.0, 0.0], [1.0, 2.0]]
    """
    x = _matrices('cholesky', x, square=True)
    factor = lin.cholesky(_symmetrize(x))
    return _H(factor) if upper else factor


def eigh(x, /):
    """Eigenvalues (ascending) and eigenvectors (columns) of Hermitian matrices.

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.eigh(fnp.asarray([[2.0, 0.0], [0.0, 1.0]])).eigenvalues.tolist()
    [1.0, 2.0]
    """
    x = _matrices('eigh', x, square=True)
    vectors, values = lin.eigh(_symmetrize(x))
    return EighResult(values, vectors)


def eigvalsh(x, /):
    """Eigenvalues (ascending) of Hermitian matrices.

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.eigvalsh(fnp.asarray([[2.0, 0.0], [0.0, -1.0]])).tolist()
    [-1.0, 2.0]
    """
    return eigh(x).eigenvalues


def qr(x, /, *, mode='reduced'):
    """QR decomposition: mode 'reduced' (Q (..., M, K), R (..., K, N), K = min(M, N)), 'complete'
    (Q (..., M, M)) or 'r' (R alone, reduced).

    >>> import fn_dl.numpy as fnp
    >>> q, r = fnp.linalg.qr(fnp.ones((4, 3)))
    >>> q.shape, r.shape
    ((4, 3), (3, 3))
    """
    if mode not in ('reduced', 'complete', 'r'):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    x = _matrices('qr', x)
    q, r = lin.qr(x, full_matrices=mode == 'complete')
    return r if mode == 'r' else QRResult(q, r)


def svd(x, /, *, full_matrices=True):
    """Singular value decomposition x = U @ diag(S) @ Vh, singular values descending.

    Derivatives need full_matrices=False for non-square x (the extra singular vectors are not unique).

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.svd(fnp.asarray([[0.0, 2.0], [3.0, 0.0]])).S.tolist()
    [3.0, 2.0]
    """
    x = _matrices('svd', x)
    s, u, vh = lin.svd(x, full_matrices=full_matrices)
    return SVDResult(u, s, vh)


def svdvals(x, /):
    """Singular values, descending.

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.svdvals(fnp.asarray([[0.0, 2.0], [3.0, 0.0]])).tolist()
    [3.0, 2.0]
    """
    x = _matrices('svdvals', x)
    return lin.svd(x, compute_uv=False)[0]


# --- solves, inverses, determinants -------------------------------------------------------------

def solve(x1, x2, /):
    """The solution of x1 @ x = x2 for square x1. x2 is a vector if it is 1-d (shape (M,)), else a stack
    of (M, K) matrices; batch axes broadcast.

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.solve(fnp.asarray([[2.0, 0.0], [0.0, 4.0]]), fnp.asarray([2.0, 2.0])).tolist()
    [1.0, 0.5]
    """
    a = _matrices('solve', x1, square=True)
    a, b = promote('linalg.solve', a, _inexact(x2))
    vector = b.ndim == 1
    if b.ndim == 0 or (b.shape[0] if vector else b.shape[-2]) != a.shape[-1]:
        raise ValueError(f"linalg.solve: x2 of shape {shape_str(b.shape)} does not fit x1 of shape "
                         f"{shape_str(a.shape)}; x2 must be (M,) or (..., M, K) with M = {a.shape[-1]}")
    if vector:
        b = reshape(b, b.shape + (1,))
    batch = broadcast_shapes('linalg.solve', a.shape[:-2], b.shape[:-2])
    lu, _, permutation = lin.lu(a)
    m = a.shape[-1]
    x = lin.lu_solve(broadcast_to(lu, batch + (m, m)), broadcast_to(permutation, batch + (m,)),
                     broadcast_to(b, batch + b.shape[-2:]))
    return squeeze(x, axis=-1) if vector else x


def inv(x, /):
    """The inverse of square matrices.

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.inv(fnp.asarray([[2.0, 0.0], [0.0, 4.0]])).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    x = _matrices('inv', x, square=True)
    lu, _, permutation = lin.lu(x)
    return lin.lu_solve(lu, permutation, broadcast_to(eye(x.shape[-1], dtype=x.dtype), x.shape))


def det(x, /):
    """The determinant of square matrices (from the LU decomposition).

    Its derivative goes through the LU rule: exact for invertible matrices; at exactly singular
    ones it is NaN.

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.linalg.det(fnp.asarray([[2.0, 1.0], [4.0, 4.0]])))
    4.0
    """
    x = _matrices('det', x, square=True)
    lu, parity = _lu_parity(x)
    return parity * prod(_diagonal(lu), axis=-1)


def slogdet(x, /):
    """sign and log|det| of square matrices; sign is 0 and logabsdet -inf for singular matrices.

    >>> import fn_dl.numpy as fnp
    >>> sign, logabsdet = fnp.linalg.slogdet(fnp.asarray([[-2.0, 0.0], [0.0, 3.0]]))
    >>> float(sign), round(float(logabsdet), 4)
    (-1.0, 1.7918)
    """
    x = _matrices('slogdet', x, square=True)
    lu, parity = _lu_parity(x)
    diag = _diagonal(lu)
    singular = any(diag == 0, axis=-1)
    magnitude = abs(diag)
    magnitude = where(magnitude == 0, 1, magnitude)  # keeps log(0) and 0 / 0 out; `singular` decides below
    if dtypes.is_complex(x.dtype):
        sign = prod(diag / magnitude.astype(x.dtype), axis=-1) * parity
    else:
        sign = parity * (1 - 2 * (count_nonzero(diag < 0, axis=-1) % 2)).astype(x.dtype)
    sign = where(singular, 0, sign)
    logabsdet = where(singular, -np.inf, sum(log(magnitude), axis=-1))
    return SlogdetResult(sign, logabsdet)


def pinv(x, /, *, rtol=None):
    """The Moore-Penrose pseudo-inverse, from the SVD; singular values at most rtol * the largest
    (default rtol: max(M, N) * eps) count as zero.

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.pinv(fnp.asarray([[1.0, 0.0], [0.0, 0.0]])).tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """
    x = _matrices('pinv', x)
    u, s, vh = svd(x, full_matrices=False)
    cutoff = _tolerance(x, s, rtol)
    s = where(s > cutoff, s, np.inf).astype(x.dtype)  # 1 / inf = 0: dropped directions
    return matmul(_H(vh), _H(u) / expand_dims(s, axis=-1))


def _tolerance(x, s, rtol):
    """rtol (default max(M, N) * eps; an array broadcasts over the batch) times the largest singular value."""
    if rtol is None:
        rtol = builtins.max(x.shape[-2:]) * float(dtypes.finfo(s.dtype).eps)
    if isinstance(rtol, Array):
        rtol = expand_dims(rtol.astype(s.dtype), axis=-1)
    return max(s, axis=-1, keepdims=True, initial=0) * rtol


def matrix_rank(x, /, *, rtol=None):
    """The number of singular values above rtol * the largest (default rtol: max(M, N) * eps).

    >>> import fn_dl.numpy as fnp
    >>> int(fnp.linalg.matrix_rank(fnp.asarray([[1.0, 2.0], [2.0, 4.0]])))
    1
    """
    x = _matrices('matrix_rank', x)
    s = svdvals(x)
    return count_nonzero(s > _tolerance(x, s, rtol), axis=-1)


def lstsq(a, b, rcond=None):
    """Least-squares solution of a @ x = b: (x, residuals, rank, singular values), NumPy-style.

    Residuals (squared 2-norms of b - a @ x per column) are always returned (NumPy returns an empty
    array when a is rank deficient or M <= N). rcond: relative cutoff for small singular values
    (default: eps * max(M, N)).

    >>> import fn_dl.numpy as fnp
    >>> x, res, rank, s = fnp.linalg.lstsq(fnp.asarray([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
    ...                                    fnp.asarray([1.0, 2.0, 3.0]))
    >>> x.tolist(), res.tolist(), int(rank)
    ([1.0, 2.0], [9.0], 2)
    """
    a = _matrices('lstsq', a)
    a, b = promote('linalg.lstsq', a, _inexact(b))
    if a.ndim != 2 or b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ValueError(f"linalg.lstsq: expects a (M, N) and b (M,) or (M, K), got a {shape_str(a.shape)} "
                         f"and b {shape_str(b.shape)}")
    vector = b.ndim == 1
    b2 = reshape(b, b.shape + (1,)) if vector else b
    u, s, vh = svd(a, full_matrices=False)
    keep = s >= _tolerance(a, s, rcond)
    rank = count_nonzero(keep)
    s_inv = where(keep, 1 / where(keep, s, 1), 0).astype(a.dtype)  # the inner where keeps 1/0 out of gradients
    x = matmul(_H(vh), expand_dims(s_inv, axis=-1) * matmul(_H(u), b2))
    r = b2 - matmul(a, x)
    residuals = sum(real(r * conj(r)), axis=0)
    return (squeeze(x, axis=-1) if vector else x), residuals, rank, s


# --- products and powers -------------------------------------------------------------------------

def matrix_power(x, n, /):
    """x raised to the integer power n by repeated squaring (n < 0: powers of the inverse; n = 0: identity).

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.matrix_power(fnp.asarray([[1, 1], [0, 1]]), 3).tolist()
    [[1, 3], [0, 1]]
    """
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"linalg.matrix_power: the exponent must be an integer, got {type(n).__name__}") from None
    x = asarray(x)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"linalg.matrix_power: expects square matrices (..., M, M), got shape {shape_str(x.shape)}")
    if n == 0:
        return broadcast_to(eye(x.shape[-1], dtype=x.dtype), x.shape)
    if n < 0:
        x, n = inv(x), -n
    result = None
    while True:
        if n & 1:
            result = x if result is None else matmul(result, x)
        n >>= 1
        if not n:
            return result
        x = matmul(x, x)


def multi_dot(arrays):
    """The product of a chain of matrices, multiplied in the cheapest order. The first may be 1-d (a row
    vector) and the last 1-d (a column vector), as in NumPy.

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.multi_dot([fnp.ones((2, 3)), fnp.ones((3, 4)), fnp.ones(4)]).tolist()
    [12.0, 12.0]
    """
    arrays = [asarray(a) for a in arrays]
    if len(arrays) < 2:
        raise ValueError("linalg.multi_dot: needs at least two arrays")
    first_1d, last_1d = arrays[0].ndim == 1, arrays[-1].ndim == 1
    if first_1d:
        arrays[0] = reshape(arrays[0], (1,) + arrays[0].shape)
    if last_1d:
        arrays[-1] = reshape(arrays[-1], arrays[-1].shape + (1,))
    for i, a in enumerate(arrays):
        if a.ndim != 2:
            raise ValueError(f"linalg.multi_dot: array {i} has shape {shape_str(a.shape)}; all must be 2-d "
                             f"(the first and last may be 1-d)")
    out = _chain(arrays, _chain_order([a.shape[0] for a in arrays] + [arrays[-1].shape[1]]), 0, len(arrays) - 1)
    if first_1d:
        out = squeeze(out, axis=0)
    if last_1d:
        out = squeeze(out, axis=-1)
    return out


def _chain_order(dims):
    """Matrix-chain dynamic programme: split[i][j] is where the product of arrays i..j splits."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(arrays, split, i, j):
    if i == j:
        return arrays[i]
    k = split[i][j]
    return matmul(_chain(arrays, split, i, k), _chain(arrays, split, k + 1, j))


def outer(x1, x2, /):
    """The outer product of two 1-d arrays.

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.outer(fnp.asarray([1, 2]), fnp.asarray([3, 4])).tolist()
    [[3, 4], [6, 8]]
    """
    x1, x2 = asarray(x1), asarray(x2)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"linalg.outer: expects 1-d arrays, got shapes {shape_str(x1.shape)} and "
                         f"{shape_str(x2.shape)}; fnp.outer flattens its inputs")
    return _outer(x1, x2)


def cross(x1, x2, /, *, axis=-1):
    """The cross product of 3-element vectors along `axis` (negative: counted from the end); batch axes
    broadcast.

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.cross(fnp.asarray([1.0, 0.0, 0.0]), fnp.asarray([0.0, 1.0, 0.0])).tolist()
    [0.0, 0.0, 1.0]
    """
    x1, x2 = promote('linalg.cross', x1, x2)
    if not -builtins.min(x1.ndim, x2.ndim) <= axis < 0:
        raise ValueError(f"linalg.cross: axis must be negative and within both ranks, got {axis} for shapes "
                         f"{shape_str(x1.shape)} and {shape_str(x2.shape)}")
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ValueError(f"linalg.cross: axis {axis} must have size 3 in both inputs, got shapes "
                         f"{shape_str(x1.shape)} and {shape_str(x2.shape)}")
    shape = broadcast_shapes('linalg.cross', x1.shape, x2.shape)
    a, b = moveaxis(broadcast_to(x1, shape), axis, -1), moveaxis(broadcast_to(x2, shape), axis, -1)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    c = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis(c, -1, axis)


# --- norms and condition numbers ----------------------------------------------------------------------

def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    """The vector norm over `axis` (an int, a tuple treated as one flattened vector, or None: all axes).

    ord: 2 (default), 1, inf, -inf, 0 (number of nonzeros) or any other p (sum(|x|**p)**(1/p)).

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.linalg.vector_norm(fnp.asarray([3.0, 4.0])))
    5.0
    """
    x = _inexact(x)
    axes = None if axis is None else normalize_axes('linalg.vector_norm', axis, x.ndim)
    if ord == 2:
        return sqrt(sum(real(x * conj(x)), axis=axes, keepdims=keepdims))
    magnitude = abs(x)
    if ord == np.inf:
        return max(magnitude, axis=axes, keepdims=keepdims, initial=0)
    if ord == -np.inf:
        return min(magnitude, axis=axes, keepdims=keepdims)
    if ord == 0:
        return sum((x != 0).astype(magnitude.dtype), axis=axes, keepdims=keepdims)
    if ord == 1:
        return sum(magnitude, axis=axes, keepdims=keepdims)
    if isinstance(ord, str) or not isinstance(ord, (int, float)):
        raise ValueError(f"linalg.vector_norm: ord must be a number (or inf), got {ord!r}")
    return power(sum(power(magnitude, ord), axis=axes, keepdims=keepdims), 1.0 / ord)


def matrix_norm(x, /, *, keepdims=False, ord='fro'):  # noqa: A002
    """The matrix norm of the last two axes: ord 'fro' (default), 'nuc', 1, -1, 2, -2, inf or -inf.

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.linalg.matrix_norm(fnp.asarray([[3.0, 0.0], [0.0, 4.0]])))
    5.0
    """
    x = _matrices('matrix_norm', x)
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    """NumPy's norm: a vector norm over one axis, a matrix norm over two, the 2-norm of the flattened x
    when ord and axis are None.

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.linalg.norm(fnp.asarray([[1.0, 2.0], [3.0, 4.0]]), ord=1))
    6.0
    """
    x = _inexact(x)
    if axis is None:
        if ord is None:
            return vector_norm(x, keepdims=keepdims)
        axes = tuple(range(x.ndim))
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        axes = tuple(normalize_axis('linalg.norm', a, x.ndim) for a in axes)
    if len(axes) == 1:
        return vector_norm(x, axis=axes[0], keepdims=keepdims, ord=2 if ord is None else ord)
    if len(axes) != 2 or axes[0] == axes[1]:
        raise ValueError(f"linalg.norm: axis must name one axis (a vector norm) or two (a matrix norm), got {axis}")
    row, col = axes
    if ord is None or ord in ('fro', 'f'):
        return sqrt(sum(real(x * conj(x)), axis=axes, keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x|; inf: the largest row sum
        summed, other = (row, col) if ord in (1, -1) else (col, row)
        sums = sum(abs(x), axis=summed, keepdims=keepdims)
        other = other - 1 if not keepdims and other > summed else other
        return max(sums, axis=other, keepdims=keepdims, initial=0) if ord > 0 else min(sums, axis=other,
                                                                                         keepdims=keepdims)
    if ord in ('nuc', 2, -2):
        s = svdvals(moveaxis(x, axes, (-2, -1)))
        y = sum(s, axis=-1) if ord == 'nuc' else max(s, axis=-1, initial=0) if ord == 2 else min(s, axis=-1)
        return expand_dims(y, axis=tuple(sorted(axes))) if keepdims else y
    raise ValueError(f"linalg.norm: invalid ord {ord!r} for a matrix norm; use 'fro', 'nuc', 1, -1, 2, -2, "
                     f"inf or -inf")


def cond(x, p=None):
    """The condition number norm(x, p) * norm(inv(x), p); p None or 2: the ratio of the extreme singular
    values. inf where x is singular.

    >>> import fn_dl.numpy as fnp
    >>> float(fnp.linalg.cond(fnp.asarray([[1.0, 2.0], [2.0, 1.0]])))
    3.0
    """
    x = _matrices('cond', x)
    if p is None or p == 2:
        s = svdvals(x)
        return s[..., 0] / s[..., -1]
    if p == -2:
        s = svdvals(x)
        r = s[..., -1] / s[..., 0]
    elif x.shape[-1] != x.shape[-2]:
        raise ValueError(f"linalg.cond: p={p!r} needs square matrices, got shape {shape_str(x.shape)}")
    else:
        r = norm(x, ord=p, axis=(-2, -1)) * norm(inv(x), ord=p, axis=(-2, -1))
    # a singular x gives NaN through the inverse: report it as infinitely ill-conditioned
    return where(isnan(r) & ~any(isnan(x), axis=(-2, -1)), np.inf, r)


# --- views of the Array API namespace ---------------------------------------------------------------------

def diagonal(x, /, *, offset=0):
    """The diagonal of the last two axes (offset > 0: above the main diagonal).

    >>> import fn_dl.numpy as fnp
    >>> fnp.linalg.diagonal(fnp.asarray([[1, 2], [3, 4]])).tolist()
    [1, 4]
    """
    return _diagonal(x, offset=offset, axis1=-2, axis2=-1)


def trace(x, /, *, offset=0, dtype=None):
    """The sum of the diagonal of the last two axes.

    >>> import fn_dl.numpy as fnp
    >>> int(fnp.linalg.trace(fnp.asarray([[1, 2], [3, 4]])))
    5
    """
    x = asarray(x)
    if x.ndim < 2:
        raise ValueError(f"linalg.trace: expects a matrix or a stack of matrices, got shape {shape_str(x.shape)}")
    return _trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


__all__ = ['EighResult', 'QRResult', 'SlogdetResult', 'SVDResult', 'cholesky', 'cond', 'cross', 'det', 'diagonal',
           'eigh', 'eigvalsh', 'inv', 'lstsq', 'matmul', 'matrix_norm', 'matrix_power', 'matrix_rank',
           'matrix_transpose', 'multi_dot', 'norm', 'outer', 'pinv', 'qr', 'slogdet', 'solve', 'svd', 'svdvals',
           'tensordot', 'trace', 'vecdot', 'vector_norm']

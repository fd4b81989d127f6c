"""The eager CPU backend: NumPy's namespace plus the special functions primitives need.

Primitive impls receive this namespace as `xp`; the CuPy backend builds the
same names from CuPy, so each impl is written once for both.
"""
from __future__ import annotations

import types
import warnings

import ml_dtypes
import numpy as np
import scipy.linalg as sl
import scipy.special as sp

from fn_dl.backends import _host_buffers

_LOW_PRECISION = (np.dtype(np.float16), np.dtype(ml_dtypes.bfloat16))


def _upcast(f):
    """scipy.special has no float16/bfloat16 kernels: compute in float32 and round back."""
    def g(*args):
        x = args[-1]
        dt = x.dtype
        if dt in _LOW_PRECISION:
            args = args[:-1] + (x.astype(np.float32),)
        return np.asarray(f(*args)).astype(dt, copy=False)
    return g


def _expit(x):
    # logistic without overflow warnings
    return _upcast(sp.expit)(x)


namespace = types.SimpleNamespace(**{k: v for k, v in vars(np).items() if not k.startswith('__')})
namespace.erf = _upcast(sp.erf)
namespace.erfc = _upcast(sp.erfc)
namespace.erfinv = _upcast(sp.erfinv)
namespace.gammaln = _upcast(sp.gammaln)
namespace.polygamma = _upcast(lambda n, x: sp.polygamma(n, x))
namespace.expit = _expit
namespace.name = 'numpy'


_BITS = {4: np.int32, 8: np.int64}
_BRANCHLESS_MIN = 4096  # elements: below this np.where's own cost is too small to matter


def _where(condition, x=None, y=None, /):
    """np.where, branch-free for large boolean selections between equal arrays.

    np.where branches per element, so on an unpredictable mask (a ReLU's, a dropout's) it runs ~3x
    slower than arithmetic; selecting the bits with a mask (y ^ ((x ^ y) & -cond)) gives identical
    results, NaNs, infinities and signed zeros included.
    """
    if y is None:
        return np.where(condition) if x is None else np.where(condition, x, y)
    bits = _BITS.get(getattr(x, 'itemsize', 0))
    if (bits is None or type(x) is not np.ndarray or type(y) is not np.ndarray or type(condition) is not np.ndarray
            or condition.dtype != np.bool_ or x.dtype != y.dtype or not x.shape == y.shape == condition.shape
            or x.size < _BRANCHLESS_MIN):
        return np.where(condition, x, y)
    bits = np.dtype(bits)
    buffer = _host_buffers.output_buffer  # the mask and the result: reused memory when large
    mask = np.negative(condition.view(np.int8), dtype=bits, out=buffer(x.shape, bits))
    xb, yb = _as_bits(x, bits), _as_bits(y, bits)
    out = np.bitwise_xor(xb, yb, out=buffer(x.shape, bits))
    out &= mask
    out ^= yb
    return out.view(x.dtype)


def _as_bits(a, bits):
    """`a`'s elements as integers of their width (`bits`); a broadcast scalar (the 0 of a ReLU or of a
    mask: all strides 0) as one 0-d array, which the bit operations broadcast, rather than a full copy."""
    if not any(a.strides):
        return np.asarray(a[(0,) * a.ndim]).view(bits)
    return np.ascontiguousarray(a).view(bits)


namespace.where = _where
# `out=` for outputs large enough that fresh memory for them would be page-faulted in on every call: freed
# buffers are reused; None for smaller ones. The hottest impls (ufuncs, contractions) skip the call below
# OUTPUT_BUFFER_MIN bytes. The CuPy backend's returns None (CuPy pools device memory itself).
namespace.output_buffer = _host_buffers.output_buffer
namespace.OUTPUT_BUFFER_MIN = _host_buffers.MIN_BYTES


# --- dense linear algebra and FFTs: the CuPy backend provides the same names with the same meaning ---

def _cholesky(a):
    """Lower Cholesky factors of a stack of matrices, reading only their lower triangles.

    A matrix that is not positive definite gives NaNs (in the lower triangle) rather than an
    error, as XLA does, so one bad matrix does not fail a whole batch (or a vmap).
    """
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        pass
    # only on failure: factor one by one to find the matrices that are not positive definite
    out = np.empty_like(a)
    flat_in, flat_out = a.reshape((-1,) + a.shape[-2:]), out.reshape((-1,) + a.shape[-2:])
    for i, m in enumerate(flat_in):
        try:
            flat_out[i] = np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            flat_out[i] = np.where(np.tri(*m.shape, dtype=bool), np.nan, 0)
    return out


_SMALL_TRIANGULAR = 32


def _solve_triangular(a, b, *, lower, trans, unit_diagonal):
    """x with op(a) @ x = b for stacks of triangular a (op by trans: 0 none, 1 transpose,
    2 conjugate transpose), reading only a's lower (or upper) triangle, and not its diagonal
    when unit_diagonal. A zero on the diagonal gives inf/nan, as XLA, rather than an error."""
    if a.size == 0 or b.size == 0:
        return np.zeros(b.shape, b.dtype)
    n = a.shape[-1]
    try:
        if n <= _SMALL_TRIANGULAR:
            # small systems: numpy's solve loops over the batch in C, where scipy's batched trtrs
            # loops in Python and OpenBLAS threads each tiny call; the O(n^3) is negligible here
            t = np.tril(a) if lower else np.triu(a)
            if unit_diagonal:
                t[..., range(n), range(n)] = 1
            if trans:
                t = np.swapaxes(t, -1, -2).conj() if trans == 2 else np.swapaxes(t, -1, -2)
            x = np.linalg.solve(t, b)
        else:
            x = sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal,
                                    check_finite=False)
    except np.linalg.LinAlgError:
        # singular: BLAS trsm divides through to inf/nan without checking; scipy has no batched
        # trsm, so loop (only on this path)
        trsm = sl.blas.get_blas_funcs('trsm', (a, b))
        a2, b2 = a.reshape((-1,) + a.shape[-2:]), b.reshape((-1,) + b.shape[-2:])
        x = np.stack([trsm(1.0, ai, bi, lower=lower, trans_a=trans, diag=unit_diagonal) for ai, bi in zip(a2, b2)])
        x = x.reshape(b.shape)
    return x.astype(b.dtype, copy=False)


def _lu_factor(a):
    """LU with partial pivoting of a stack of (m, n) matrices: (lu, pivots), pivots the 0-based
    int32 row swaps of LAPACK getrf. Singular matrices factor without an error (zeros on U's diagonal)."""
    if a.size == 0:
        return a.copy(), np.zeros(a.shape[:-2] + (min(a.shape[-2:]),), np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', sl.LinAlgWarning)
        lu, pivots = sl.lu_factor(a, check_finite=False)
    return lu.astype(a.dtype, copy=False), pivots.astype(np.int32, copy=False)


namespace.cholesky = _cholesky
namespace.solve_triangular = _solve_triangular
namespace.lu_factor = _lu_factor
namespace.fft = np.fft  # a lazily loaded submodule, so vars(np) above does not hold it

VALUE_TYPES = (np.ndarray,) + tuple(set(np.dtype(t).type for t in (
    np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
    np.float16, np.float32, np.float64, np.complex64, np.complex128, ml_dtypes.bfloat16)))

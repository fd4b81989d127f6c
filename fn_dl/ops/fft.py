"""The fft primitive: discrete Fourier transforms over the last 1 to 3 axes, as XLA's fft op.

fft_type is one of:

- 'FFT' / 'IFFT': complex -> complex, forward / inverse (the inverse scales by 1/n);
- 'RFFT': real -> complex, the last axis of length n giving n // 2 + 1 coefficients;
- 'IRFFT': complex -> real, the inverse of RFFT (scaled by 1/n).

fft_lengths are the transform lengths of the last axes (for IRFFT: of the real output). The
transform is linear in its operand; the transposes are JAX's (jax/_src/lax/fft.py).
"""
from __future__ import annotations

import math

from fn_dl.backends.xla.lowering import i64_array
from fn_dl.core import dtypes
from fn_dl.core.aval import describe, shape_str
from fn_dl.ops._rules import Primitive, ShapedArray, deflinear, moveaxis
from fn_dl.ops.elementwise import conj, mul, real
from fn_dl.ops.shape import broadcast_in_dim, concatenate, full, pad

FFT, IFFT, RFFT, IRFFT = 'FFT', 'IFFT', 'RFFT', 'IRFFT'
_TYPES = (FFT, IFFT, RFFT, IRFFT)
_REAL = frozenset((dtypes.float32, dtypes.float64))
_COMPLEX = frozenset((dtypes.complex64, dtypes.complex128))

fft_p = Primitive('fft')


@fft_p.def_impl
def _fft_impl(xp, x, *, fft_type, fft_lengths):
    _fft_abstract(x, fft_type=fft_type, fft_lengths=fft_lengths)  # the eager path skips abstract_eval
    axes = tuple(range(x.ndim - len(fft_lengths), x.ndim))
    if fft_type == FFT:
        out = xp.fft.fftn(x, axes=axes)
    elif fft_type == IFFT:
        out = xp.fft.ifftn(x, axes=axes)
    elif fft_type == RFFT:
        out = xp.fft.rfftn(x, axes=axes)
    else:
        out = xp.fft.irfftn(x, s=fft_lengths, axes=axes)
    return out.astype(_out_dtype(x.dtype, fft_type), copy=False)


def _out_dtype(dt, fft_type):
    if fft_type == RFFT:
        return dtypes.to_complex(dt)
    if fft_type == IRFFT:
        return dtypes.to_real(dt)
    return dt


@fft_p.def_abstract_eval
def _fft_abstract(x, *, fft_type, fft_lengths):
    if fft_type not in _TYPES:
        raise ValueError(f"fft: fft_type must be one of {', '.join(_TYPES)}, got {fft_type!r}")
    k = len(fft_lengths)
    if not 1 <= k <= min(3, x.ndim):
        raise ValueError(f"fft: transforms 1 to 3 trailing axes of an operand with at least that many, got "
                         f"fft_lengths {fft_lengths} for {describe([x])}; fn_dl.numpy.fft.fftn splits longer "
                         f"axis lists")
    allowed = _REAL if fft_type == RFFT else _COMPLEX
    if x.dtype not in allowed:
        want = 'float32 or float64' if fft_type == RFFT else 'complex64 or complex128'
        raise TypeError(f"fft ({fft_type}): the operand must be {want}, got {describe([x])}; "
                        f"cast it first (fn_dl.numpy.fft functions do)")
    expected = tuple(fft_lengths)
    if fft_type == IRFFT:
        expected = expected[:-1] + (expected[-1] // 2 + 1,)
    if tuple(x.shape[-k:]) != expected:
        raise ValueError(f"fft ({fft_type}): the last {k} axes of {describe([x])} must be {shape_str(expected)} "
                         f"for fft_lengths {shape_str(fft_lengths)}; crop or pad them first")
    shape = tuple(x.shape)
    if fft_type == RFFT:
        shape = shape[:-1] + (fft_lengths[-1] // 2 + 1,)
    elif fft_type == IRFFT:
        shape = shape[:-1] + (fft_lengths[-1],)
    return ShapedArray(shape, _out_dtype(x.dtype, fft_type))


def fft(x, fft_type, fft_lengths):
    """The `fft_type` transform of x over its last len(fft_lengths) axes (1 to 3).

    >>> import fn_dl.numpy as fnp
    >>> fft(fnp.asarray([1.0, 1.0, 1.0, 1.0]), RFFT, (4,)).tolist()
    [(4+0j), 0j, 0j]
    """
    return fft_p.bind(x, fft_type=str(fft_type), fft_lengths=tuple(int(n) for n in fft_lengths))


def _rfft_transpose(ct, fft_lengths):
    # RFFT = (slice to n // 2 + 1) . FFT . (real -> complex); transpose each in reverse order
    n = fft_lengths[-1]
    config = [(0, 0, 0)] * (ct.ndim - 1) + [(0, n - ct.shape[-1], 0)]
    full_spectrum = pad(ct, full((), 0, ct.dtype), config)
    return real(fft(full_spectrum, FFT, fft_lengths))


def _irfft_transpose(ct, fft_lengths):
    # IRFFT's transpose is a scaled RFFT of the cotangent; the coefficients that stand for a
    # conjugate pair (all but the first, and the last when n is even) count twice
    x = fft(ct, RFFT, fft_lengths)
    m = x.shape[-1]
    odd = fft_lengths[-1] % 2
    weights = concatenate([full((1,), 1.0, x.dtype), full((m - 2 + odd,), 2.0, x.dtype),
                           full((1 - odd,), 1.0, x.dtype)], 0)
    scale = full(x.shape, 1 / math.prod(fft_lengths), x.dtype)
    out = mul(mul(x, broadcast_in_dim(weights, x.shape, (x.ndim - 1,))), scale)
    return conj(out)  # JAX's convention for complex cotangents


def _fft_transpose(ct, x, *, fft_type, fft_lengths):
    if fft_type == RFFT:
        out = _rfft_transpose(ct, fft_lengths)
    elif fft_type == IRFFT:
        out = _irfft_transpose(ct, fft_lengths)
    else:
        out = fft(ct, fft_type, fft_lengths)  # the DFT matrix is symmetric
    return [out]


deflinear(fft_p, _fft_transpose)


@fft_p.def_batch
def _fft_batch(args, dims, *, fft_type, fft_lengths):
    return fft_p.bind(moveaxis(args[0], dims[0], 0), fft_type=fft_type, fft_lengths=fft_lengths), 0


fft_p.lower = lambda ctx, x, *, fft_type, fft_lengths: ctx.op1(
    'stablehlo.fft', [x], ctx.avals_in, ctx.avals_out[0],
    {'fft_type': f"#stablehlo<fft_type {fft_type}>", 'fft_length': i64_array(fft_lengths)})

__all__ = ['fft', 'FFT', 'IFFT', 'RFFT', 'IRFFT']

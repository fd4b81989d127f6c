"""fn_dl.numpy.fft: the Array API FFT extension, plus NumPy's fft2 family, on the `fft` primitive.

Transforms take `n` (or `s`) to crop or zero-pad the input first, `axis` (or
`axes`), and `norm`: 'backward' (default: no scaling forward, 1/n inverse),
'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward). Real inputs of
complex transforms become complex of the same precision (float32 ->
complex64); integer inputs use the default float32/complex64.
Everything is a composition of primitives, so it runs under grad, vmap and jit.

>>> import fn_dl.numpy as fnp
>>> fnp.fft.fft(fnp.asarray([1.0, 0.0, 0.0, 0.0])).tolist()
[(1+0j), (1+0j), (1+0j), (1+0j)]
"""
from __future__ import annotations

import math

from fn_dl.core import dtypes
from fn_dl.core.aval import shape_str
from fn_dl.numpy._creation import arange
from fn_dl.numpy._elementwise import conj, where
from fn_dl.numpy._manipulation import roll
from fn_dl.numpy._util import asarray, normalize_axis
from fn_dl.ops import fft as _fft
from fn_dl.ops import shape as sh

_NORMS = ('backward', 'ortho', 'forward')
_MAX_AXES = 3  # the fft primitive (XLA's fft op) transforms at most 3 axes at once


# --- helpers -------------------------------------------------------------------------------

def _check_norm(name, norm):
    norm = 'backward' if norm is None else norm
    if norm not in _NORMS:
        raise ValueError(f"fft.{name}: norm must be 'backward', 'ortho' or 'forward', got {norm!r}")
    return norm


def _as_complex(x):
    x = asarray(x)
    if dtypes.is_complex(x.dtype):
        return x
    real = x.dtype if x.dtype in (dtypes.float32, dtypes.float64) else dtypes.default_float
    return x.astype(dtypes.to_complex(real))


def _as_real(name, x):
    x = asarray(x)
    if dtypes.is_complex(x.dtype):
        raise TypeError(f"fft.{name}: expects a real input, got {x.dtype}; use fft.fft/fftn for complex input "
                        f"(or take the real part first)")
    return x if x.dtype in (dtypes.float32, dtypes.float64) else x.astype(dtypes.default_float)


def _axes_and_lengths(name, x, s, axes):
    """Normalized axes and their lengths (s[i] == -1 or None: the input's size), as the Array API says:
    axes None means all axes, or the last len(s) axes when s is given."""
    if axes is None:
        axes = tuple(range(x.ndim)) if s is None else tuple(range(x.ndim - len(s), x.ndim))
    else:
        axes = tuple(normalize_axis(f'fft.{name}', a, x.ndim) for a in
                     ((axes,) if isinstance(axes, int) else axes))
    if len(set(axes)) != len(axes):
        raise ValueError(f"fft.{name}: repeated axes {axes}")
    if s is None:
        s = [-1] * len(axes)
    if len(s) != len(axes):
        raise ValueError(f"fft.{name}: s {tuple(s)} and axes {axes} must have the same length")
    if not axes:
        raise ValueError(f"fft.{name}: needs at least one axis to transform, got shape {shape_str(x.shape)}")
    lengths = []
    for a, n in zip(axes, s):
        n = x.shape[a] if n is None or n == -1 else int(n)
        if n < 1:
            raise ValueError(f"fft.{name}: transform lengths must be at least 1, got {n} for axis {a}")
        lengths.append(n)
    return axes, tuple(lengths)


def _resize(x, axis, n):
    """x cropped or zero-padded along `axis` to length n."""
    size = x.shape[axis]
    if n < size:
        return sh.slice(x, (0,) * x.ndim, x.shape[:axis] + (n,) + x.shape[axis + 1:])
    if n > size:
        config = [(0, 0, 0)] * x.ndim
        config[axis] = (0, n - size, 0)
        return sh.pad(x, sh.full((), 0, x.dtype), config)
    return x


def _apply(x, axes, fft_type, lengths):
    """The primitive over up to 3 `axes` (the real axis last for RFFT/IRFFT): move them to the end and back."""
    perm = tuple(i for i in range(x.ndim) if i not in axes) + tuple(axes)
    identity = perm == tuple(range(x.ndim))
    out = _fft.fft(x if identity else sh.transpose(x, perm), fft_type, lengths)
    if identity:
        return out
    inverse = [0] * x.ndim
    for i, p in enumerate(perm):
        inverse[p] = i
    return sh.transpose(out, tuple(inverse))


def _scale(x, norm, count, inverse):
    # the primitive's inverse transforms already divide by the count
    if norm == 'backward':
        return x
    if norm == 'ortho':
        return x * (math.sqrt(count) if inverse else 1 / math.sqrt(count))
    return x * count if inverse else x * (1 / count)


def _c2c(name, x, s, axes, norm, inverse):
    norm = _check_norm(name, norm)
    x = _as_complex(x)
    axes, lengths = _axes_and_lengths(name, x, s, axes)
    for a, n in zip(axes, lengths):
        x = _resize(x, a, n)
    fft_type = _fft.IFFT if inverse else _fft.FFT
    for i in range(0, len(axes), _MAX_AXES):  # separable: transform the axes a group at a time
        x = _apply(x, axes[i:i + _MAX_AXES], fft_type, lengths[i:i + _MAX_AXES])
    return _scale(x, norm, math.prod(lengths), inverse)


def _r2c(name, x, s, axes, norm):
    norm = _check_norm(name, norm)
    x = _as_real(name, x)
    axes, lengths = _axes_and_lengths(name, x, s, axes)
    for a, n in zip(axes, lengths):
        x = _resize(x, a, n)
    split = max(len(axes) - _MAX_AXES, 0)
    x = _apply(x, axes[split:], _fft.RFFT, lengths[split:])  # the real transform includes the last axis
    for i in range(0, split, _MAX_AXES):
        stop = min(i + _MAX_AXES, split)
        x = _apply(x, axes[i:stop], _fft.FFT, lengths[i:stop])
    return _scale(x, norm, math.prod(lengths), False)


def _c2r(name, x, s, axes, norm):
    norm = _check_norm(name, norm)
    x = _as_complex(x)
    s_in = None if s is None else tuple(s[:-1]) + (-1,)
    axes, lengths = _axes_and_lengths(name, x, s_in, axes)
    last = 2 * (x.shape[axes[-1]] - 1) if s is None or s[-1] in (None, -1) else int(s[-1])
    if last < 1:
        raise ValueError(f"fft.{name}: the output length along axis {axes[-1]} must be at least 1, got {last}; "
                         f"pass n (or s)")
    lengths = lengths[:-1] + (last,)
    for a, n in zip(axes[:-1], lengths[:-1]):
        x = _resize(x, a, n)
    x = _resize(x, axes[-1], last // 2 + 1)
    split = max(len(axes) - _MAX_AXES, 0)
    for i in range(0, split, _MAX_AXES):
        stop = min(i + _MAX_AXES, split)
        x = _apply(x, axes[i:stop], _fft.IFFT, lengths[i:stop])
    x = _apply(x, axes[split:], _fft.IRFFT, lengths[split:])
    return _scale(x, norm, math.prod(lengths), True)


def _one(n):
    return None if n is None else (n,)


# --- one axis ------------------------------------------------------------------------------------

def fft(x, /, *, n=None, axis=-1, norm='backward'):
    """The discrete Fourier transform along `axis`.

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.fft(fnp.asarray([1.0, 1.0])).tolist()
    [(2+0j), 0j]
    """
    return _c2c('fft', x, _one(n), (axis,), norm, inverse=False)


def ifft(x, /, *, n=None, axis=-1, norm='backward'):
    """The inverse discrete Fourier transform along `axis`.

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.ifft(fnp.asarray([2.0, 0.0])).tolist()
    [(1+0j), (1+0j)]
    """
    return _c2c('ifft', x, _one(n), (axis,), norm, inverse=True)


def rfft(x, /, *, n=None, axis=-1, norm='backward'):
    """The transform of a real input: the n // 2 + 1 non-negative frequency terms.

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.rfft(fnp.asarray([1.0, 1.0, 1.0, 1.0])).tolist()
    [(4+0j), 0j, 0j]
    """
    return _r2c('rfft', x, _one(n), (axis,), norm)


def irfft(x, /, *, n=None, axis=-1, norm='backward'):
    """The inverse of rfft: a real output of length n (default 2 * (m - 1) for m input terms).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.irfft(fnp.asarray([4.0, 0.0, 0.0])).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    return _c2r('irfft', x, _one(n), (axis,), norm)


def _swap(norm):
    return {'backward': 'forward', 'forward': 'backward', 'ortho': 'ortho', None: 'forward'}.get(norm, norm)


def hfft(x, /, *, n=None, axis=-1, norm='backward'):
    """The transform of a Hermitian-symmetric signal given by its first half: a real spectrum of length n
    (default 2 * (m - 1)).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.hfft(fnp.asarray([1.0, 0.0, 0.0])).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    return _c2r('hfft', conj(_as_complex(x)), _one(n), (axis,), _swap(norm))


def ihfft(x, /, *, n=None, axis=-1, norm='backward'):
    """The inverse of hfft: the first n // 2 + 1 terms of the Hermitian spectrum of a real signal.

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.ihfft(fnp.asarray([1.0, 1.0, 1.0, 1.0])).tolist()
    [(1-0j), -0j, -0j]
    """
    return conj(_r2c('ihfft', x, _one(n), (axis,), _swap(norm)))


# --- several axes -----------------------------------------------------------------------------------

def fftn(x, /, *, s=None, axes=None, norm='backward'):
    """The n-dimensional transform over `axes` (default: all, or the last len(s)); s crops or pads them.

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.fftn(fnp.ones((2, 2))).real.tolist()
    [[4.0, 0.0], [0.0, 0.0]]
    """
    return _c2c('fftn', x, s, axes, norm, inverse=False)


def ifftn(x, /, *, s=None, axes=None, norm='backward'):
    """The inverse n-dimensional transform.

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.ifftn(fnp.asarray([[4.0, 0.0], [0.0, 0.0]])).real.tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    return _c2c('ifftn', x, s, axes, norm, inverse=True)


def rfftn(x, /, *, s=None, axes=None, norm='backward'):
    """The n-dimensional transform of a real input; the last axis keeps its s[-1] // 2 + 1 terms.

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.rfftn(fnp.ones((2, 4))).shape
    (2, 3)
    """
    return _r2c('rfftn', x, s, axes, norm)


def irfftn(x, /, *, s=None, axes=None, norm='backward'):
    """The inverse of rfftn; s[-1] (default 2 * (m - 1)) is the length of the real output's last axis.

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.irfftn(fnp.fft.rfftn(fnp.ones((2, 4)))).tolist()
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    """
    return _c2r('irfftn', x, s, axes, norm)


def fft2(x, /, *, s=None, axes=(-2, -1), norm='backward'):
    """fftn over two axes (default: the last two).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.fft2(fnp.ones((3, 2, 2))).shape
    (3, 2, 2)
    """
    return _c2c('fft2', x, s, axes, norm, inverse=False)


def ifft2(x, /, *, s=None, axes=(-2, -1), norm='backward'):
    """ifftn over two axes (default: the last two).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.ifft2(fnp.ones((2, 2))).real.tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """
    return _c2c('ifft2', x, s, axes, norm, inverse=True)


def rfft2(x, /, *, s=None, axes=(-2, -1), norm='backward'):
    """rfftn over two axes (default: the last two).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.rfft2(fnp.ones((2, 4))).shape
    (2, 3)
    """
    return _r2c('rfft2', x, s, axes, norm)


def irfft2(x, /, *, s=None, axes=(-2, -1), norm='backward'):
    """irfftn over two axes (default: the last two).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.irfft2(fnp.ones((2, 3))).shape
    (2, 4)
    """
    return _c2r('irfft2', x, s, axes, norm)


# --- frequencies and shifts ------------------------------------------------------------------------------

def _freq_dtype(name, dtype):
    dt = dtypes.default_float if dtype is None else dtypes.canonicalize(dtype)
    if not dtypes.is_floating(dt):
        raise TypeError(f"fft.{name}: dtype must be a real floating dtype, got {dt}")
    return dt


def fftfreq(n, /, *, d=1.0, dtype=None, device=None):
    """The sample frequencies of an n-point transform with sample spacing d: [0, 1, ..., -1] / (d * n).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.fftfreq(4).tolist()
    [0.0, 0.25, -0.5, -0.25]
    """
    dt = _freq_dtype('fftfreq', dtype)
    k = arange(n, dtype=dtypes.int32)
    k = where(k < (n - 1) // 2 + 1, k, k - n)  # non-negative frequencies first, then the negative ones
    return k.astype(dt) / (d * n)


def rfftfreq(n, /, *, d=1.0, dtype=None, device=None):
    """The sample frequencies of rfft's n // 2 + 1 terms: [0, 1, ..., n // 2] / (d * n).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.rfftfreq(4).tolist()
    [0.0, 0.25, 0.5]
    """
    dt = _freq_dtype('rfftfreq', dtype)
    return arange(n // 2 + 1, dtype=dtypes.int32).astype(dt) / (d * n)


def _shift(name, x, axes, sign):
    x = asarray(x)
    axes = tuple(range(x.ndim)) if axes is None else (axes,) if isinstance(axes, int) else tuple(axes)
    axes = tuple(normalize_axis(f'fft.{name}', a, x.ndim) for a in axes)
    return roll(x, tuple(sign * (x.shape[a] // 2) for a in axes), axis=axes)


def fftshift(x, /, *, axes=None):
    """Move the zero-frequency term to the centre (along `axes`, default all).

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.fftshift(fnp.fft.fftfreq(4)).tolist()
    [-0.5, -0.25, 0.0, 0.25]
    """
    return _shift('fftshift', x, axes, 1)


def ifftshift(x, /, *, axes=None):
    """The inverse of fftshift.

    >>> import fn_dl.numpy as fnp
    >>> fnp.fft.ifftshift(fnp.asarray([-0.5, -0.25, 0.0, 0.25])).tolist()
    [0.0, 0.25, -0.5, -0.25]
    """
    return _shift('ifftshift', x, axes, -1)


__all__ = ['fft', 'ifft', 'fftn', 'ifftn', 'rfft', 'irfft', 'rfftn', 'irfftn', 'fft2', 'ifft2', 'rfft2', 'irfft2',
           'hfft', 'ihfft', 'fftfreq', 'rfftfreq', 'fftshift', 'ifftshift']

"""convolve and correlate of 1-d arrays, as one-channel `conv_general_dilated` calls."""
from __future__ import annotations

from fn_dl.core import dtypes
from fn_dl.numpy._util import asarray, promote
from fn_dl.ops.conv import conv_general_dilated
from fn_dl.ops.elementwise import conj
from fn_dl.ops.shape import reshape, rev

__all__ = ['convolve', 'correlate']


def _conv1d(name, a, v, mode):
    a, v = promote(name, asarray(a), asarray(v))
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"{name}: a and v must be 1-d, got shapes {a.shape} and {v.shape}")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError(f"{name}: a and v must not be empty, got shapes {a.shape} and {v.shape}")
    if a.dtype == dtypes.bool_:
        raise TypeError(f"{name}: boolean inputs are not supported; cast them to an integer or float dtype")
    reverse = False
    if name == 'correlate':
        if dtypes.is_complex(v.dtype):
            v = conj(v)
        if a.shape[0] < v.shape[0]:
            # correlate(a, v)[k] == correlate(conj(v), a)[-k]: keep the longer array as the signal
            a, v, reverse = v, a, True
    else:
        if a.shape[0] < v.shape[0]:
            a, v = v, a  # convolution commutes
        v = rev(v, (0,))  # conv_general_dilated correlates; convolving flips the kernel
    m = v.shape[0]
    if mode == 'valid':
        padding = (0, 0)
    elif mode == 'same':
        padding = (m // 2, m - m // 2 - 1)
    elif mode == 'full':
        padding = (m - 1, m - 1)
    else:
        raise ValueError(f"{name}: mode must be 'full', 'same' or 'valid', got {mode!r}")
    out = conv_general_dilated(reshape(a, (1, 1, a.shape[0])), reshape(v, (1, 1, m)), (1,), (padding,))
    out = reshape(out, (out.shape[-1],))
    return rev(out, (0,)) if reverse else out


def convolve(a, v, mode='full'):
    """Discrete linear convolution of two 1-d arrays (mode 'full', 'same' or 'valid'), as numpy.convolve.

    >>> import fn_dl.numpy as fnp
    >>> fnp.convolve(fnp.asarray([1.0, 2.0, 3.0]), fnp.asarray([0.0, 1.0, 0.5])).tolist()
    [0.0, 1.0, 2.5, 4.0, 1.5]
    """
    return _conv1d('convolve', a, v, mode)


def correlate(a, v, mode='valid'):
    """Cross-correlation of two 1-d arrays, c[k] = sum_n a[n + k] * conj(v[n]), as numpy.correlate.

    >>> import fn_dl.numpy as fnp
    >>> fnp.correlate(fnp.asarray([1.0, 2.0, 3.0]), fnp.asarray([0.0, 1.0, 0.5]), 'same').tolist()
    [2.0, 3.5, 3.0]
    """
    return _conv1d('correlate', a, v, mode)

"""Padding layers: Zero/Constant/Reflection/Replication/CircularPad1d/2d/3d, F.pad as layers (PyTorch's
arguments and reprs; padding is an int, or (left, right[, top, bottom[, front, back]]))."""
from __future__ import annotations

from fn_dl.nn import functional as F
from fn_dl.nn._module import Module


class _PadNd(Module):
    _nsp, _mode = 0, 'constant'

    def __init__(self, padding):
        super().__init__()
        self.padding = F._ntuple(padding, 2 * self._nsp, 'padding', type(self).__name__)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, 'constant', self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim of (N, C, W) or (C, W) with zeros.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ZeroPad1d(1)(fnp.ones((1, 2, 3))).shape
    (1, 2, 5)
    """
    _nsp = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last 2 dims of (N, C, H, W) or (C, H, W) with zeros.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ZeroPad2d(1)(fnp.ones((1, 2, 3, 3))).shape
    (1, 2, 5, 5)
    """
    _nsp = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last 3 dims of (N, C, D, H, W) or (C, D, H, W) with zeros.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ZeroPad3d(1)(fnp.ones((1, 2, 3, 3, 3))).shape
    (1, 2, 5, 5, 5)
    """
    _nsp = 3


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim of (N, C, W) or (C, W) with `value`.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ConstantPad1d(1, 2.0)(fnp.ones((1, 2, 3))).shape
    (1, 2, 5)
    """
    _nsp = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims of (N, C, H, W) or (C, H, W) with `value`.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ConstantPad2d(1, 2.0)(fnp.ones((1, 2, 3, 3))).shape
    (1, 2, 5, 5)
    """
    _nsp = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims of (N, C, D, H, W) or (C, D, H, W) with `value`.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ConstantPad3d(1, 2.0)(fnp.ones((1, 2, 3, 3, 3))).shape
    (1, 2, 5, 5, 5)
    """
    _nsp = 3


class ReflectionPad1d(_PadNd):
    """Pad the last dim of (N, C, W) or (C, W) with the reflection of the input about its border.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ReflectionPad1d(1)(fnp.ones((1, 2, 3))).shape
    (1, 2, 5)
    """
    _nsp, _mode = 1, 'reflect'


class ReflectionPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) or (C, H, W) with the reflection of the input about its border.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ReflectionPad2d(1)(fnp.ones((1, 2, 3, 3))).shape
    (1, 2, 5, 5)
    """
    _nsp, _mode = 2, 'reflect'


class ReflectionPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) or (C, D, H, W) with the reflection of the input about its border.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ReflectionPad3d(1)(fnp.ones((1, 2, 3, 3, 3))).shape
    (1, 2, 5, 5, 5)
    """
    _nsp, _mode = 3, 'reflect'


class ReplicationPad1d(_PadNd):
    """Pad the last dim of (N, C, W) or (C, W) with copies of the border values.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ReplicationPad1d(1)(fnp.ones((1, 2, 3))).shape
    (1, 2, 5)
    """
    _nsp, _mode = 1, 'replicate'


class ReplicationPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) or (C, H, W) with copies of the border values.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ReplicationPad2d(1)(fnp.ones((1, 2, 3, 3))).shape
    (1, 2, 5, 5)
    """
    _nsp, _mode = 2, 'replicate'


class ReplicationPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) or (C, D, H, W) with copies of the border values.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ReplicationPad3d(1)(fnp.ones((1, 2, 3, 3, 3))).shape
    (1, 2, 5, 5, 5)
    """
    _nsp, _mode = 3, 'replicate'


class CircularPad1d(_PadNd):
    """Pad the last dim of (N, C, W) or (C, W) circularly (wrapping around).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.CircularPad1d(1)(fnp.ones((1, 2, 3))).shape
    (1, 2, 5)
    """
    _nsp, _mode = 1, 'circular'


class CircularPad2d(_PadNd):
    """Pad the last 2 dims of (N, C, H, W) or (C, H, W) circularly (wrapping around).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.CircularPad2d(1)(fnp.ones((1, 2, 3, 3))).shape
    (1, 2, 5, 5)
    """
    _nsp, _mode = 2, 'circular'


class CircularPad3d(_PadNd):
    """Pad the last 3 dims of (N, C, D, H, W) or (C, D, H, W) circularly (wrapping around).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.CircularPad3d(1)(fnp.ones((1, 2, 3, 3, 3))).shape
    (1, 2, 5, 5, 5)
    """
    _nsp, _mode = 3, 'circular'

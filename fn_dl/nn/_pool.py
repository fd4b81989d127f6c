"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d (PyTorch's arguments and reprs)."""
from __future__ import annotations

from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn._module import Module


def _check_rank(module, input, nsp):
    if input.ndim not in (nsp + 1, nsp + 2):
        sp = 'L' if nsp == 1 else 'H, W'
        raise ValueError(f"{module!r} expected input of shape (N, C, {sp}) or (C, {sp}), got {shape_str(input.shape)}")


class _MaxPool(Module):
    _nsp, _fn = 0, None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation, self.ceil_mode = padding, dilation, ceil_mode

    def forward(self, input):
        _check_rank(self, input, self._nsp)
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPool):
    """Max over windows of (N, C, L) or (C, L); stride defaults to kernel_size.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.MaxPool1d(2)(fnp.asarray([[1.0, 3.0, 2.0, 5.0]])).tolist()
    [[3.0, 5.0]]
    """
    _nsp, _fn = 1, F.max_pool1d


class MaxPool2d(_MaxPool):
    """Max over windows of (N, C, H, W) or (C, H, W); stride defaults to kernel_size.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.MaxPool2d(2)(fnp.ones((8, 3, 32, 32))).shape
    (8, 3, 16, 16)
    """
    _nsp, _fn = 2, F.max_pool2d


class AvgPool1d(Module):
    """Mean over windows of (N, C, L) or (C, L); stride defaults to kernel_size.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.AvgPool1d(2)(fnp.asarray([[1.0, 3.0, 2.0, 6.0]])).tolist()
    [[2.0, 4.0]]
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = F._ntuple(kernel_size, 1, 'kernel_size', 'AvgPool1d')
        self.stride = F._ntuple(kernel_size if stride is None else stride, 1, 'stride', 'AvgPool1d')
        self.padding = F._ntuple(padding, 1, 'padding', 'AvgPool1d')
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        _check_rank(self, input, 1)
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Mean over windows of (N, C, H, W) or (C, H, W); stride defaults to kernel_size.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.AvgPool2d(3, stride=2, padding=1)(fnp.ones((1, 2, 8, 8))).shape
    (1, 2, 4, 4)
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        _check_rank(self, input, 2)
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveAvgPool(Module):
    _nsp, _fn = 0, None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        _check_rank(self, input, self._nsp)
        return type(self)._fn(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPool):
    """Average pooling of (N, C, L) or (C, L) to a fixed length.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.AdaptiveAvgPool1d(2)(fnp.asarray([[1.0, 2.0, 3.0, 4.0]])).tolist()
    [[1.5, 3.5]]
    """
    _nsp, _fn = 1, F.adaptive_avg_pool1d


class AdaptiveAvgPool2d(_AdaptiveAvgPool):
    """Average pooling of (N, C, H, W) or (C, H, W) to a fixed size (None keeps that input size).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.AdaptiveAvgPool2d(1)(fnp.ones((4, 8, 7, 7))).shape
    (4, 8, 1, 1)
    """
    _nsp, _fn = 2, F.adaptive_avg_pool2d

"""Pooling layers: MaxPool1d/2d/3d, MaxUnpool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d/3d,
AdaptiveMaxPool1d/2d/3d (PyTorch's arguments and reprs)."""
from __future__ import annotations

from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn._module import Module


def _check_rank(module, input, nsp):
    if input.ndim not in (nsp + 1, nsp + 2):
        sp = ('L', 'H, W', 'D, H, W')[nsp - 1]
        raise ValueError(f"{module!r} expected input of shape (N, C, {sp}) or (C, {sp}), got {shape_str(input.shape)}")


class _MaxPool(Module):
    _nsp, _fn = 0, None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        _check_rank(self, input, self._nsp)
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                              self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPool):
    """Max over windows of (N, C, L) or (C, L); stride defaults to kernel_size.

    return_indices=True returns (values, int64 indices along L), the indices as MaxUnpool1d takes them.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.MaxPool1d(2)(fnp.asarray([[1.0, 3.0, 2.0, 5.0]])).tolist()
    [[3.0, 5.0]]
    >>> nn.MaxPool1d(2, return_indices=True)(fnp.asarray([[1.0, 3.0, 2.0, 5.0]]))[1].tolist()
    [[1, 3]]
    """
    _nsp, _fn = 1, F.max_pool1d


class MaxPool2d(_MaxPool):
    """Max over windows of (N, C, H, W) or (C, H, W); stride defaults to kernel_size.

    return_indices=True returns (values, int64 flat indices h * W + w into each (H, W) plane), the indices as
    MaxUnpool2d takes them.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.MaxPool2d(2)(fnp.ones((8, 3, 32, 32))).shape
    (8, 3, 16, 16)
    """
    _nsp, _fn = 2, F.max_pool2d


class MaxPool3d(_MaxPool):
    """Max over windows of (N, C, D, H, W) or (C, D, H, W); stride defaults to kernel_size.

    return_indices=True returns (values, int64 flat indices into each (D, H, W) volume), as MaxUnpool3d takes
    them.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.MaxPool3d(2)(fnp.ones((2, 3, 4, 4, 4))).shape
    (2, 3, 2, 2, 2)
    """
    _nsp, _fn = 3, F.max_pool3d


class _MaxUnpool(Module):
    _nsp, _fn = 0, None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        n, name = self._nsp, type(self).__name__
        self.kernel_size = F._ntuple(kernel_size, n, 'kernel_size', name)
        self.stride = F._ntuple(kernel_size if stride is None else stride, n, 'stride', name)
        self.padding = F._ntuple(padding, n, 'padding', name)

    def forward(self, input, indices, output_size=None):
        _check_rank(self, input, self._nsp)
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpool):
    """The partial inverse of MaxPool1d: forward(input, indices, output_size=None) puts each value at its index
    (from MaxPool1d(return_indices=True)) and zeros elsewhere.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> y, i = nn.MaxPool1d(2, return_indices=True)(fnp.asarray([[1.0, 3.0, 2.0, 5.0, 4.0]]))
    >>> nn.MaxUnpool1d(2)(y, i, output_size=(5,)).tolist()
    [[0.0, 3.0, 0.0, 5.0, 0.0]]
    """
    _nsp, _fn = 1, F.max_unpool1d


class MaxUnpool2d(_MaxUnpool):
    """The partial inverse of MaxPool2d: forward(input, indices, output_size=None) puts each value at its flat
    (H, W) index (from MaxPool2d(return_indices=True)) and zeros elsewhere.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> y, i = nn.MaxPool2d(2, return_indices=True)(fnp.ones((1, 3, 4, 4)))
    >>> nn.MaxUnpool2d(2)(y, i).shape
    (1, 3, 4, 4)
    """
    _nsp, _fn = 2, F.max_unpool2d


class MaxUnpool3d(_MaxUnpool):
    """The partial inverse of MaxPool3d: forward(input, indices, output_size=None) puts each value at its flat
    (D, H, W) index (from MaxPool3d(return_indices=True)) and zeros elsewhere.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> y, i = nn.MaxPool3d(2, return_indices=True)(fnp.ones((1, 2, 4, 4, 4)))
    >>> nn.MaxUnpool3d(2)(y, i).shape
    (1, 2, 4, 4, 4)
    """
    _nsp, _fn = 3, F.max_unpool3d


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


class _AvgPoolNd(Module):
    _nsp, _fn = 0, None

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        _check_rank(self, input, self._nsp)
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                              self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over windows of (N, C, H, W) or (C, H, W); stride defaults to kernel_size.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.AvgPool2d(3, stride=2, padding=1)(fnp.ones((1, 2, 8, 8))).shape
    (1, 2, 4, 4)
    """
    _nsp, _fn = 2, F.avg_pool2d


class AvgPool3d(_AvgPoolNd):
    """Mean over windows of (N, C, D, H, W) or (C, D, H, W); stride defaults to kernel_size.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.AvgPool3d(2)(fnp.ones((1, 2, 4, 4, 4))).shape
    (1, 2, 2, 2, 2)
    """
    _nsp, _fn = 3, F.avg_pool3d


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


class AdaptiveAvgPool3d(_AdaptiveAvgPool):
    """Average pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed size (None keeps that input size).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.AdaptiveAvgPool3d((1, 2, None))(fnp.ones((4, 8, 3, 5, 7))).shape
    (4, 8, 1, 2, 7)
    """
    _nsp, _fn = 3, F.adaptive_avg_pool3d


class _AdaptiveMaxPool(_AdaptiveAvgPool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        _check_rank(self, input, self._nsp)
        return type(self)._fn(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max pooling of (N, C, L) or (C, L) to a fixed length; return_indices=True also returns int64 indices.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.AdaptiveMaxPool1d(2)(fnp.asarray([[1.0, 2.0, 3.0, 4.0]])).tolist()
    [[2.0, 4.0]]
    """
    _nsp, _fn = 1, F.adaptive_max_pool1d


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max pooling of (N, C, H, W) or (C, H, W) to a fixed size (None keeps that input size);
    return_indices=True also returns int64 flat (H, W) indices.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.AdaptiveMaxPool2d(1)(fnp.ones((4, 8, 7, 7))).shape
    (4, 8, 1, 1)
    """
    _nsp, _fn = 2, F.adaptive_max_pool2d


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Max pooling of (N, C, D, H, W) or (C, D, H, W) to a fixed size; return_indices as AdaptiveMaxPool2d.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.AdaptiveMaxPool3d(1)(fnp.ones((4, 8, 3, 3, 3))).shape
    (4, 8, 1, 1, 1)
    """
    _nsp, _fn = 3, F.adaptive_max_pool3d

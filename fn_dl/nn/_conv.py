"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d (PyTorch's math, init, names and reprs)."""
from __future__ import annotations

import math

from fn_dl import random
from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn import init
from fn_dl.nn._module import Module, Parameter

_SPATIAL = {1: 'L', 2: 'H, W', 3: 'D, H, W'}
_PADDING_MODES = ('zeros', 'reflect', 'replicate', 'circular')


class _ConvNd(Module):
    _nsp = 0            # spatial dims
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                 output_padding, dtype, key):
        super().__init__()
        name, n = type(self).__name__, self._nsp
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                             f"divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if self._transposed and (padding_mode != 'zeros' or isinstance(padding, str)):
            raise ValueError(f"{name}: only padding_mode='zeros' and int or tuple padding are supported")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = F._ntuple(kernel_size, n, 'kernel_size', name)
        self.stride = F._ntuple(stride, n, 'stride', name)
        self.dilation = F._ntuple(dilation, n, 'dilation', name)
        self.output_padding = F._ntuple(output_padding, n, 'output_padding', name)
        self.padding = padding if isinstance(padding, str) else F._ntuple(padding, n, 'padding', name)
        self.padding_mode = padding_mode
        # the (low, high) pads per spatial dim; also checks 'same' against the stride
        self._pads = F._conv_pads(name, padding, self.kernel_size, self.stride, self.dilation)
        shape = ((in_channels, out_channels // groups) if self._transposed else
                 (out_channels, in_channels // groups)) + self.kernel_size
        k_w, k_b = random.split(init._key(key))
        dtype = dtype or 'float32'
        self.weight = Parameter(init.kaiming_uniform(k_w, shape, a=math.sqrt(5), dtype=dtype))
        if bias:
            fan_in = shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            self.bias = Parameter(init.uniform(k_b, (out_channels,), -bound, bound, dtype))
        else:
            self.register_parameter('bias', None)

    def _check(self, input):
        n, c = self._nsp, self.in_channels
        if input.ndim not in (n + 1, n + 2) or input.shape[-n - 1] != c:
            sp = _SPATIAL[n]
            raise ValueError(f"{type(self).__name__}({c}, {self.out_channels}, kernel_size={self.kernel_size}) "
                             f"expected input of shape (N, {c}, {sp}) or ({c}, {sp}), got {shape_str(input.shape)}")

    def extra_repr(self):
        n = self._nsp
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != 'zeros':
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    _fn = None  # F.conv1d / conv2d / conv3d

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode='zeros', dtype=None, key=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, 0, dtype, key)

    def forward(self, input):
        self._check(input)
        padding = self.padding
        if self.padding_mode != 'zeros':  # pad with the mode first, then convolve without padding
            input = F.pad(input, [p for pair in reversed(self._pads) for p in pair], mode=self.padding_mode)
            padding = 0
        return type(self)._fn(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv1d(_Conv):
    """1-d convolution over (N, C_in, L) or (C_in, L); weight (out_channels, in_channels / groups, k).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Conv1d(3, 8, 5, padding='same')(fnp.ones((2, 3, 20))).shape
    (2, 8, 20)
    """
    _nsp, _fn = 1, F.conv1d


class Conv2d(_Conv):
    """2-d convolution over (N, C_in, H, W) or (C_in, H, W); weight (out_channels, in_channels / groups, kH, kW).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> conv = nn.Conv2d(3, 16, 3, stride=2, padding=1)
    >>> conv(fnp.ones((2, 3, 32, 32))).shape, conv
    ((2, 16, 16, 16), Conv2d(3, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1)))
    """
    _nsp, _fn = 2, F.conv2d


class Conv3d(_Conv):
    """3-d convolution over (N, C_in, D, H, W) or (C_in, D, H, W).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Conv3d(2, 4, 3)(fnp.ones((1, 2, 5, 5, 5))).shape
    (1, 4, 3, 3, 3)
    """
    _nsp, _fn = 3, F.conv3d


class _ConvTranspose(_ConvNd):
    _transposed = True
    _fn = None  # F.conv_transpose1d / 2d / 3d

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode='zeros', dtype=None, key=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, dtype, key)

    def _output_padding(self, input, output_size):
        """The output_padding that makes the output `output_size` (spatial, or with the leading dims)."""
        if output_size is None:
            return self.output_padding
        n = self._nsp
        size = tuple(output_size)
        if len(size) == input.ndim:
            size = size[-n:]
        if len(size) != n:
            raise ValueError(f"{type(self).__name__}: output_size must have {n} or {input.ndim} elements, got {size}")
        pads = []
        for d in range(n):
            smallest = ((input.shape[d - n] - 1) * self.stride[d] - 2 * self.padding[d]
                        + self.dilation[d] * (self.kernel_size[d] - 1) + 1)
            if not smallest <= size[d] < smallest + self.stride[d]:
                raise ValueError(f"{type(self).__name__}: requested output size {size} is not reachable from input "
                                 f"{shape_str(input.shape)}: dim {d} must lie in [{smallest}, "
                                 f"{smallest + self.stride[d] - 1}]")
            pads.append(size[d] - smallest)
        return tuple(pads)

    def forward(self, input, output_size=None):
        self._check(input)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding,
                              self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-d convolution (the gradient of Conv1d); weight (in_channels, out_channels / groups, k).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ConvTranspose1d(4, 2, 3, stride=2)(fnp.ones((1, 4, 10))).shape
    (1, 2, 21)
    """
    _nsp, _fn = 1, F.conv_transpose1d


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-d convolution (the gradient of Conv2d); weight (in_channels, out_channels / groups, kH, kW).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> up = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1)
    >>> up(fnp.ones((1, 16, 5, 5)), output_size=(10, 10)).shape
    (1, 8, 10, 10)
    """
    _nsp, _fn = 2, F.conv_transpose2d


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-d convolution (the gradient of Conv3d).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ConvTranspose3d(2, 1, 2, stride=2)(fnp.ones((1, 2, 3, 3, 3))).shape
    (1, 1, 6, 6, 6)
    """
    _nsp, _fn = 3, F.conv_transpose3d

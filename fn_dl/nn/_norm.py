"""Normalisation layers: LayerNorm, RMSNorm, GroupNorm, BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d (PyTorch's math,
init and names).

BatchNorm (and InstanceNorm with track_running_stats) updates its running statistics by assigning new arrays
to its buffers in train mode, so eagerly the module changes as in PyTorch, while
nn.functional_call(..., return_buffers=True) returns the new statistics and leaves the module as it was.
"""
from __future__ import annotations

import warnings

from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn import init
from fn_dl.nn._module import Module, Parameter


def _shape(normalized_shape):
    return (int(normalized_shape),) if isinstance(normalized_shape, int) else tuple(int(n) for n in normalized_shape)


class _TrailingNorm(Module):
    """Shared by LayerNorm and RMSNorm: normalise over the trailing `normalized_shape` dims."""

    def _check(self, input):
        n = len(self.normalized_shape)
        if input.ndim < n or tuple(input.shape[input.ndim - n:]) != self.normalized_shape:
            raise ValueError(f"{type(self).__name__}({self.normalized_shape}) expected input with trailing dims "
                             f"{self.normalized_shape}, got {shape_str(input.shape)}")


class LayerNorm(_TrailingNorm):
    """Layer normalisation over the trailing dims, with elementwise weight (ones) and bias (zeros).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> ln = nn.LayerNorm(4)
    >>> list(ln.state_dict()), ln(fnp.ones((2, 4))).shape
    (['weight', 'bias'], (2, 4))
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        self.normalized_shape, self.eps, self.elementwise_affine = _shape(normalized_shape), eps, elementwise_affine
        dtype = dtype or 'float32'
        if elementwise_affine:
            self.weight = Parameter(init.ones(self.normalized_shape, dtype))
            if bias:
                self.bias = Parameter(init.zeros(self.normalized_shape, dtype))
            else:
                self.register_parameter('bias', None)
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)

    def forward(self, input):
        self._check(input)
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(_TrailingNorm):
    """x / sqrt(mean(x^2) + eps) over the trailing dims, times an elementwise weight (ones).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.RMSNorm(2)(fnp.asarray([[2.0, 2.0]])).tolist()
    [[1.0, 1.0]]
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, dtype=None):
        super().__init__()
        self.normalized_shape, self.eps, self.elementwise_affine = _shape(normalized_shape), eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(init.ones(self.normalized_shape, dtype or 'float32'))
        else:
            self.register_parameter('weight', None)

    def forward(self, x):
        self._check(x)
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Normalise (N, C, *) over groups of channels, then a per-channel weight (ones) and bias (zeros).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.GroupNorm(2, 6)(fnp.ones((3, 6, 5))).shape
    (3, 6, 5)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        dtype = dtype or 'float32'
        if affine:
            self.weight = Parameter(init.ones((num_channels,), dtype))
            if bias:
                self.bias = Parameter(init.zeros((num_channels,), dtype))
            else:
                self.register_parameter('bias', None)
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)

    def forward(self, input):
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}) expected input of shape "
                             f"(N, {self.num_channels}, *), got {shape_str(input.shape)}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _BatchNorm(Module):
    _ranks, _layout = (), ''  # the accepted input ranks, and their layouts for error messages

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=None, *,
                 bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dtype = dtype or 'float32'
        if affine:
            self.weight = Parameter(init.ones((num_features,), dtype))
            if bias:
                self.bias = Parameter(init.zeros((num_features,), dtype))
            else:
                self.register_parameter('bias', None)
        else:
            self.register_parameter('weight', None)
            self.register_parameter('bias', None)
        if track_running_stats:
            self.register_buffer('running_mean', init.zeros((num_features,), dtype))
            self.register_buffer('running_var', init.ones((num_features,), dtype))
            self.register_buffer('num_batches_tracked', init.zeros((), 'int64'))
        else:
            self.register_buffer('running_mean', None)
            self.register_buffer('running_var', None)
            self.register_buffer('num_batches_tracked', None)

    def forward(self, input):
        if input.ndim not in self._ranks or input.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}) expected input of shape "
                             f"{self._layout.replace('C', str(self.num_features))}, got {shape_str(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked = self.num_batches_tracked + 1
            if self.momentum is None:  # a cumulative moving average, as PyTorch
                factor = 1.0 / self.num_batches_tracked.astype(self.running_mean.dtype)
        # batch statistics in training, and in eval when there are no running statistics
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        out, new_mean, new_var = F.batch_norm(input, self.running_mean if track else None,
                                              self.running_var if track else None, self.weight, self.bias,
                                              use_batch, factor, self.eps)
        if self.training and self.track_running_stats:
            self.running_mean, self.running_var = new_mean, new_var
        return out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L), per channel, with running statistics.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> bn = nn.BatchNorm1d(3)
    >>> list(bn.state_dict())
    ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']
    >>> _ = bn(fnp.ones((4, 3))); int(bn.num_batches_tracked)
    1
    """
    _ranks, _layout = (2, 3), '(N, C) or (N, C, L)'


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W), per channel, with running statistics.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.BatchNorm2d(3).eval()(fnp.ones((2, 3, 4, 4))).shape
    (2, 3, 4, 4)
    """
    _ranks, _layout = (4,), '(N, C, H, W)'


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W), per channel, with running statistics.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.BatchNorm3d(2)(fnp.ones((2, 2, 3, 3, 3))).shape
    (2, 2, 3, 3, 3)
    """
    _ranks, _layout = (5,), '(N, C, D, H, W)'


class _InstanceNorm(_BatchNorm):
    _nsp = 0

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, dtype=None, *,
                 bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias=bias)

    def forward(self, input):
        n = self._nsp
        if input.ndim not in (n + 1, n + 2):
            sp = ('L', 'H, W', 'D, H, W')[n - 1]
            raise ValueError(f"{type(self).__name__}({self.num_features}) expected input of shape (N, C, {sp}) or "
                             f"(C, {sp}), got {shape_str(input.shape)}")
        if input.shape[-n - 1] != self.num_features:
            if self.affine or self.track_running_stats:
                raise ValueError(f"{type(self).__name__}({self.num_features}) expected {self.num_features} channels "
                                 f"at dim {input.ndim - n - 1}, got input {shape_str(input.shape)}")
            warnings.warn(f"{type(self).__name__}: input's size at dim={input.ndim - n - 1} does not match "
                          f"num_features; num_features is not used because affine=False", stacklevel=2)
        x = input if input.ndim == n + 2 else input[None]
        use_input_stats = self.training or not self.track_running_stats
        out, new_mean, new_var = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                                 use_input_stats, self.momentum or 0.0, self.eps)
        if self.running_mean is not None and use_input_stats:
            self.running_mean, self.running_var = new_mean, new_var
        return out if input.ndim == n + 2 else out[0]


class InstanceNorm1d(_InstanceNorm):
    """Normalise each channel of each example of (N, C, L) or (C, L) over L; affine and running statistics
    are off by default, as PyTorch's.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> [round(v, 3) for v in nn.InstanceNorm1d(1)(fnp.asarray([[1.0, 3.0]]))[0].tolist()]
    [-1.0, 1.0]
    """
    _nsp = 1


class InstanceNorm2d(_InstanceNorm):
    """Normalise each channel of each example of (N, C, H, W) or (C, H, W) over (H, W).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.InstanceNorm2d(3, affine=True)(fnp.ones((2, 3, 4, 4))).shape
    (2, 3, 4, 4)
    """
    _nsp = 2


class InstanceNorm3d(_InstanceNorm):
    """Normalise each channel of each example of (N, C, D, H, W) or (C, D, H, W) over (D, H, W).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.InstanceNorm3d(2)(fnp.ones((2, 2, 3, 3, 3))).shape
    (2, 2, 3, 3, 3)
    """
    _nsp = 3

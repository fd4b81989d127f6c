"""Power-average pooling: lp_pool1d/2d/3d and the LPPool1d/2d/3d layers, PyTorch's formula over avg_pool.

(sum over the window of x^p)^(1/p), computed as PyTorch does it: the average pool of x^p times the kernel
size, so ceil_mode windows that overhang the input are scaled the same way, and the gradients agree too.
"""
from __future__ import annotations

import math

import fn_dl.numpy as fnp
from fn_dl.nn import functional as F
from fn_dl.nn._module import Module


def _lp_pool(avg_pool, nsp, name, input, norm_type, kernel_size, stride, ceil_mode):
    kernel = F._ntuple(kernel_size, nsp, 'kernel_size', name)
    out = avg_pool(input ** norm_type, kernel_size, stride, 0, ceil_mode)
    # sign * relu(abs): PyTorch's guard against a negative average (odd p), whose root would be NaN
    return (fnp.sign(out) * F.relu(fnp.abs(out)) * math.prod(kernel)) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^norm_type over each window)^(1 / norm_type) for (N, C, L) or (C, L); stride defaults to kernel_size.

    >>> import fn_dl.numpy as fnp
    >>> lp_pool1d(fnp.asarray([[3.0, 4.0, 1.0, 1.0]]), 2, 2).tolist()
    [[5.0, 1.4142135381698608]]
    """
    return _lp_pool(F.avg_pool1d, 1, 'lp_pool1d', input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^norm_type over each window)^(1 / norm_type) for (N, C, H, W) or (C, H, W).

    >>> import fn_dl.numpy as fnp
    >>> lp_pool2d(fnp.ones((1, 4, 4)), 1, 2).tolist()
    [[[4.0, 4.0], [4.0, 4.0]]]
    """
    return _lp_pool(F.avg_pool2d, 2, 'lp_pool2d', input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^norm_type over each window)^(1 / norm_type) for (N, C, D, H, W) or (C, D, H, W).

    >>> import fn_dl.numpy as fnp
    >>> lp_pool3d(fnp.ones((1, 2, 2, 2)), 1, 2).tolist()
    [[[[8.0]]]]
    """
    return _lp_pool(F.avg_pool3d, 3, 'lp_pool3d', input, norm_type, kernel_size, stride, ceil_mode)


class _LPPool(Module):
    _fn = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input):
        return type(self)._fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPool):
    """lp_pool1d as a layer.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.LPPool1d(2, 3, stride=2)(fnp.ones((2, 4, 9))).shape
    (2, 4, 4)
    """
    _fn = staticmethod(lp_pool1d)


class LPPool2d(_LPPool):
    """lp_pool2d as a layer.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.LPPool2d(1.5, (3, 2))(fnp.ones((2, 4, 9, 8))).shape
    (2, 4, 3, 4)
    """
    _fn = staticmethod(lp_pool2d)


class LPPool3d(_LPPool):
    """lp_pool3d as a layer.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.LPPool3d(2, 2)(fnp.ones((1, 2, 4, 4, 4))).shape
    (1, 2, 2, 2, 2)
    """
    _fn = staticmethod(lp_pool3d)

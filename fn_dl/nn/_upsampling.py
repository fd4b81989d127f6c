"""Upsample, UpsamplingNearest2d, UpsamplingBilinear2d: F.interpolate as layers (PyTorch's arguments and reprs)."""
from __future__ import annotations

from fn_dl.nn import functional as F
from fn_dl.nn._module import Module


class Upsample(Module):
    """Resize (N, C, *spatial) to `size` or by `scale_factor` with F.interpolate's modes ('nearest',
    'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area').

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Upsample(scale_factor=2)(fnp.asarray([[[1.0, 2.0]]])).tolist()
    [[[1.0, 1.0, 2.0, 2.0]]]
    >>> nn.Upsample(size=(6, 8), mode='bicubic')(fnp.ones((1, 3, 3, 4))).shape
    (1, 3, 6, 8)
    """

    def __init__(self, size=None, scale_factor=None, mode='nearest', align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.size, self.mode = size, mode
        self.scale_factor = (tuple(float(f) for f in scale_factor) if isinstance(scale_factor, (tuple, list))
                             else float(scale_factor) if scale_factor else None)
        self.align_corners, self.recompute_scale_factor = align_corners, recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Upsample(size, scale_factor, mode='nearest') for (N, C, H, W).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.UpsamplingNearest2d(scale_factor=2)(fnp.ones((1, 1, 2, 3))).shape
    (1, 1, 4, 6)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode='nearest')


class UpsamplingBilinear2d(Upsample):
    """Upsample(size, scale_factor, mode='bilinear', align_corners=True) for (N, C, H, W).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.UpsamplingBilinear2d(size=3)(fnp.asarray([[[[0.0, 2.0], [4.0, 6.0]]]]))[0, 0, 1].tolist()
    [2.0, 3.0, 4.0]
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode='bilinear', align_corners=True)

"""PixelShuffle, PixelUnshuffle: move values between channels and space (PyTorch's arguments and reprs)."""
from __future__ import annotations

from fn_dl.nn import functional as F
from fn_dl.nn._module import Module


class PixelShuffle(Module):
    """(*, C r^2, H, W) to (*, C, H r, W r) with r = upscale_factor, as F.pixel_shuffle.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.PixelShuffle(3)(fnp.ones((1, 18, 4, 4))).shape
    (1, 2, 12, 12)
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) to (*, C r^2, H, W) with r = downscale_factor, as F.pixel_unshuffle.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.PixelUnshuffle(3)(fnp.ones((1, 2, 12, 12))).shape
    (1, 18, 4, 4)
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"

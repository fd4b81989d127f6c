"""Operations across the channel axis: local_response_norm / LocalResponseNorm (AlexNet's normalisation over
neighbouring channels) and channel_shuffle / ChannelShuffle (ShuffleNet's interleaving of channel groups)."""
from __future__ import annotations

import fn_dl.numpy as fnp
from fn_dl.core.aval import shape_str
from fn_dl.nn._module import Module
from fn_dl.ops.windowed import reduce_window_sum


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta, for (N, C, *) inputs.

    The window over channels is centred as PyTorch's: size // 2 channels before, (size - 1) // 2 after, zeros
    beyond the ends, always divided by size.

    >>> import fn_dl.numpy as fnp
    >>> local_response_norm(fnp.ones((1, 3, 1)), 2, alpha=1.0, beta=1.0, k=0.0).ravel().tolist()
    [2.0, 1.0, 1.0]
    """
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected a 3-d or higher input (N, C, *), got "
                         f"{shape_str(input.shape)}")
    if size < 1:
        raise ValueError(f"local_response_norm: size must be positive, got {size}")
    window, pads = [1] * input.ndim, [(0, 0)] * input.ndim
    window[1], pads[1] = size, (size // 2, (size - 1) // 2)
    div = reduce_window_sum(input * input, tuple(window), (1,) * input.ndim, pads) * (alpha / size) + k
    return input / div ** beta


def channel_shuffle(input, groups):
    """(N, C, *) with its C channels, read as a (groups, C // groups) grid, transposed: channel g * m + i moves
    to i * groups + g (m = C // groups).

    >>> import fn_dl.numpy as fnp
    >>> channel_shuffle(fnp.arange(6.0).reshape(1, 6, 1), 2).ravel().tolist()
    [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    """
    if input.ndim < 3:
        raise ValueError(f"channel_shuffle: expected an input of at least 3 dims (N, C, *), got "
                         f"{shape_str(input.shape)}")
    if groups < 1:
        raise ValueError(f"channel_shuffle: number of groups to divide channels in must be positive, got {groups}")
    n, c = input.shape[:2]
    if c % groups:
        raise ValueError(f"channel_shuffle: number of channels must be divisible by groups. Got {c} channels and "
                         f"{groups} groups (input {shape_str(input.shape)})")
    grid = input.reshape((n, groups, c // groups) + input.shape[2:])
    return fnp.swapaxes(grid, 1, 2).reshape(input.shape)


class LocalResponseNorm(Module):
    """local_response_norm as a layer.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.LocalResponseNorm(3)(fnp.ones((2, 5, 4, 4))).shape
    (2, 5, 4, 4)
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class ChannelShuffle(Module):
    """channel_shuffle as a layer.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.ChannelShuffle(3)(fnp.arange(6.0).reshape(1, 6, 1, 1)).ravel().tolist()
    [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]
    """

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"

"""unfold / fold (im2col / col2im) and the Unfold / Fold layers, as PyTorch's.

unfold gathers every sliding block of a (N, C, H, W) input into a column of (N, C * kh * kw, L); fold sums
such columns back into an image, overlapping entries added. The block positions depend only on shapes, so
they are computed with NumPy when tracing (the windows of max pooling with indices): unfold is one gather,
fold one scatter-add, each the other's transpose, and both differentiate, vmap and jit as indexing does.
"""
from __future__ import annotations

import numpy as np

import fn_dl.numpy as fnp
from fn_dl.core.aval import shape_str
from fn_dl.nn._module import Module
from fn_dl.nn.functional import _ntuple, _sliding_windows


def _block_args(name, kernel_size, dilation, padding, stride):
    args = [_ntuple(v, 2, what, name) for v, what in ((kernel_size, 'kernel_size'), (dilation, 'dilation'),
                                                       (padding, 'padding'), (stride, 'stride'))]
    for (what, low), v in zip((('kernel_size', 1), ('dilation', 1), ('padding', 0), ('stride', 1)), args):
        if min(v) < low:
            raise ValueError(f"{name}: {what} must be {'positive' if low else 'non-negative'}, got {v}")
    return args


def _blocks(name, size, kernel, dilation, padding, stride):
    """Per block and kernel element: the flat index into the (H, W) plane, whether it lies inside (not in the
    zero padding), and the number of blocks per spatial dim."""
    if any(n + 2 * p < d * (k - 1) + 1 for n, p, d, k in zip(size, padding, dilation, kernel)):
        raise ValueError(f"{name}: spatial size {tuple(size)} with padding {padding} is too small for kernel_size "
                         f"{kernel} with dilation {dilation}")
    return _sliding_windows(size, [(p, p) for p in padding], kernel, stride, dilation)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of (N, C, H, W) or (C, H, W) as columns: (N, C * kh * kw, L), L the number of blocks.

    Column entries run over C, then the kernel's rows, then its columns; blocks run row-major over the image,
    as in PyTorch.

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.arange(9.0).reshape(1, 1, 3, 3)
    >>> unfold(x, 2).shape
    (1, 4, 4)
    >>> unfold(x, 2)[0, :, 0].tolist()        # the top-left 2x2 block
    [0.0, 1.0, 3.0, 4.0]
    """
    if input.ndim not in (3, 4):
        raise ValueError(f"unfold: expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got {shape_str(input.shape)}")
    kernel, dilation, padding, stride = _block_args('unfold', kernel_size, dilation, padding, stride)
    flat, valid, counts = _blocks('unfold', input.shape[-2:], kernel, dilation, padding, stride)
    lead = input.shape[:-2]
    # (..., C, L, K) gathered from the flattened plane, then (..., C, K, L) as PyTorch lays the columns out
    cols = fnp.take(input.reshape(lead + (-1,)), np.where(valid, flat, 0), axis=-1)
    cols = fnp.where(valid, cols, 0)
    return fnp.swapaxes(cols, -1, -2).reshape(lead[:-1] + (lead[-1] * flat.shape[1], flat.shape[0]))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns (N, C * kh * kw, L) or (C * kh * kw, L) summed back into an image (N, C, *output_size).

    The inverse layout of `unfold` (overlapping entries are added, so fold(unfold(x)) counts each pixel once
    per block that holds it).

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.ones((1, 1, 3, 3))
    >>> fold(unfold(x, 2), (3, 3), 2)[0, 0].tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-d (C * kernel size, L) or 3-d (N, C * kernel size, L) input, got "
                         f"{shape_str(input.shape)}")
    size = _ntuple(output_size, 2, 'output_size', 'fold')
    kernel, dilation, padding, stride = _block_args('fold', kernel_size, dilation, padding, stride)
    flat, valid, counts = _blocks('fold', size, kernel, dilation, padding, stride)
    n_blocks, k = flat.shape
    rows, length = input.shape[-2:]
    if rows % k:
        raise ValueError(f"fold: expected size of input's dimension 1 ({rows}) to be divisible by the product of "
                         f"kernel_size {kernel} ({k}), input {shape_str(input.shape)}")
    if length != n_blocks:
        raise ValueError(f"fold: output_size {size}, kernel_size {kernel}, dilation {dilation}, padding {padding} "
                         f"and stride {stride} give {counts[0]} x {counts[1]} = {n_blocks} blocks, but input "
                         f"{shape_str(input.shape)} has {length}")
    lead = input.shape[:-2] + (rows // k,)
    cols = fnp.swapaxes(input.reshape(lead + (k, length)), -1, -2)        # (..., C, L, K)
    # entries that fall in the padding go to one extra slot past the plane, cut off afterwards
    target = np.where(valid, flat, size[0] * size[1]).ravel()
    plane = fnp.zeros(lead + (size[0] * size[1] + 1,), dtype=input.dtype)
    plane = plane.at[..., target].add(cols.reshape(lead + (-1,)))
    return plane[..., :-1].reshape(lead + size)


class Unfold(Module):
    """F.unfold as a layer: sliding blocks of (N, C, H, W) as columns (N, C * kh * kw, L).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Unfold(kernel_size=(2, 3))(fnp.ones((2, 5, 3, 4))).shape
    (2, 30, 4)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """F.fold as a layer: columns (N, C * kh * kw, L) summed into an image (N, C, *output_size).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(fnp.ones((1, 12, 12))).shape
    (1, 3, 4, 5)
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")

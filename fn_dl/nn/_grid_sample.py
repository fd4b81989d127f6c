"""Spatial transformers: affine_grid (sampling grids of affine maps) and grid_sample (bilinear or nearest
sampling of an image at grid points), PyTorch's conventions and gradients.

Grid points are normalised: -1 and 1 are the centres of the corner pixels (align_corners=True) or their outer
edges (False). Each output point gathers its (up to four) source pixels from the flattened image, so the
gradient reaches the image by the gather's transpose and the grid through the interpolation weights;
out-of-range taps read zeros or are moved inside first (padding_mode 'border' and 'reflection'), with
PyTorch's convention that a coordinate clipped to the border gets no gradient.
"""
from __future__ import annotations

import warnings

import fn_dl.numpy as fnp
from fn_dl.core import dtypes
from fn_dl.core.aval import shape_str

_MODES = ('bilinear', 'nearest')
_PADDING_MODES = ('zeros', 'border', 'reflection')


def _align_corners(name, align_corners):
    if align_corners is None:
        warnings.warn(f"{name}: the default align_corners=None means False, as in PyTorch since 1.3.0; pass "
                      f"align_corners explicitly", stacklevel=3)
        return False
    return bool(align_corners)


def _base_coords(n, align_corners, dtype):
    """The normalised coordinates of n pixel centres: linspace(-1, 1, n), shrunk by (n - 1) / n to pixel
    centres when not align_corners; [0] for one pixel."""
    if n <= 1:
        return fnp.zeros((n,), dtype=dtype)
    c = fnp.linspace(-1.0, 1.0, n, dtype=dtype)
    return c if align_corners else c * ((n - 1) / n)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) of the affine maps theta (N, 2, 3) for an output of size (N, C, H, W)
    (or (N, D, H, W, 3) from theta (N, 3, 4) for size (N, C, D, H, W)); grid[..., 0] is x, along W.

    >>> import fn_dl.numpy as fnp
    >>> identity = fnp.asarray([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    >>> affine_grid(identity, (1, 1, 2, 2), align_corners=True)[0].tolist()
    [[[-1.0, -1.0], [1.0, -1.0]], [[-1.0, 1.0], [1.0, 1.0]]]
    """
    size = tuple(int(s) for s in size)
    align_corners = _align_corners('affine_grid', align_corners)
    if len(size) not in (4, 5):
        raise ValueError(f"affine_grid: size must be (N, C, H, W) or (N, C, D, H, W), got {size}")
    nsp = len(size) - 2
    if not dtypes.is_floating(theta.dtype):
        raise TypeError(f"affine_grid: expected theta to have a floating point type, got {theta.dtype}")
    if tuple(theta.shape) != (size[0], nsp, nsp + 1):
        raise ValueError(f"affine_grid: expected a batch of {nsp}-d affine matrices of shape "
                         f"({size[0]}, {nsp}, {nsp + 1}) for size {size}, got {shape_str(theta.shape)}")
    if min(size) <= 0:
        raise ValueError(f"affine_grid: expected a non-zero, positive output size, got {size}")
    # homogeneous coordinates (x, y[, z], 1) of every output point; x runs along the last dim
    axes = [_base_coords(n, align_corners, theta.dtype) for n in size[2:]]
    mesh = fnp.meshgrid(*axes, indexing='ij')
    base = fnp.stack(mesh[::-1] + [fnp.ones_like(mesh[0])], axis=-1)
    return fnp.einsum('...k,nck->n...c', base, theta)


def _reflect(c, twice_low, twice_high):
    """c reflected off the bounds twice_low / 2 and twice_high / 2 until it lies between them (PyTorch's
    reflect_coordinates; its gradient flips sign with each reflection)."""
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    c = fnp.abs(c - low)
    extra = fnp.fmod(c, span)
    flips = fnp.floor(c / span)
    return fnp.where(fnp.fmod(flips, 2) == 0, extra + low, span - extra + low)


def _clip(c, n):
    """c clipped to [0, n - 1]; a clipped coordinate, the borders included, gets no gradient (PyTorch's)."""
    return fnp.where(c <= 0, 0.0, fnp.where(c >= n - 1, n - 1.0, c)).astype(c.dtype)


def _source_index(coord, n, padding_mode, align_corners):
    """Normalised grid coordinates -> pixel coordinates along an axis of size n, after padding_mode."""
    c = (coord + 1) / 2 * (n - 1) if align_corners else ((coord + 1) * n - 1) / 2
    if padding_mode == 'border':
        return _clip(c, n)
    if padding_mode == 'reflection':
        if align_corners:
            c = fnp.zeros_like(c) if n == 1 else _reflect(c, 0, 2 * (n - 1))
        else:
            c = _reflect(c, -1, 2 * n - 1)
        return _clip(c, n)
    return c


def _gather(flat, x, y, h, w):
    """Pixels (N, C, P) of flat (N, C, H * W) at integer-valued float coordinates x, y (N, P); zeros outside."""
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    xi = fnp.clip(x, 0, w - 1).astype(fnp.int32)
    yi = fnp.clip(y, 0, h - 1).astype(fnp.int32)
    values = fnp.take_along_axis(flat, fnp.expand_dims(yi * w + xi, 1), axis=-1)
    return fnp.where(fnp.expand_dims(inside, 1), values, 0)


def grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners=None):
    """input (N, C, H, W) sampled at the normalised points grid (N, H_out, W_out, 2) -> (N, C, H_out, W_out).

    grid[..., 0] is x (along W), grid[..., 1] is y. mode: 'bilinear' or 'nearest' (round half to even, no
    gradient to the grid). padding_mode: points outside read 'zeros', the nearest 'border' pixel, or their
    'reflection' off the borders. align_corners: as affine_grid (None means False, with a warning).

    >>> import fn_dl.numpy as fnp
    >>> image = fnp.asarray([[[[0.0, 1.0], [2.0, 3.0]]]])
    >>> grid_sample(image, fnp.asarray([[[[0.0, 0.0], [1.0, -1.0]]]]), align_corners=True).tolist()
    [[[[1.5, 1.0]]]]
    """
    align_corners = _align_corners('grid_sample', align_corners)
    if mode not in _MODES:
        raise ValueError(f"grid_sample: mode must be 'bilinear' or 'nearest', got {mode!r}")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"grid_sample: padding_mode must be 'zeros', 'border' or 'reflection', got "
                         f"{padding_mode!r}")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or input.shape[0] != grid.shape[0]:
        raise ValueError(f"grid_sample: expected a 4-d input (N, C, H, W) and grid (N, H_out, W_out, 2) with the "
                         f"same N, got input {shape_str(input.shape)} and grid {shape_str(grid.shape)}")
    n, c, h, w = input.shape
    out_hw = grid.shape[1:3]
    points = grid.reshape(n, -1, 2)
    x = _source_index(points[..., 0], w, padding_mode, align_corners)
    y = _source_index(points[..., 1], h, padding_mode, align_corners)
    flat = input.reshape(n, c, h * w)
    if mode == 'nearest':
        out = _gather(flat, fnp.round(x), fnp.round(y), h, w)
    else:
        # the floors are not differentiated: the grid's gradient comes from the weights, as in PyTorch
        x0, y0 = fnp.floor(x), fnp.floor(y)
        wx1, wy1 = x - x0, y - y0
        wx0, wy0 = 1 - wx1, 1 - wy1
        out = sum(_gather(flat, xs, ys, h, w) * fnp.expand_dims(wt, 1)
                  for xs, ys, wt in ((x0, y0, wx0 * wy0), (x0 + 1, y0, wx1 * wy0),
                                     (x0, y0 + 1, wx0 * wy1), (x0 + 1, y0 + 1, wx1 * wy1)))
    return out.reshape((n, c) + tuple(out_hw))

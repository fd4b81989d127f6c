"""More margin losses: multi_margin_loss / MultiMarginLoss (multi-class hinge), multilabel_margin_loss /
MultiLabelMarginLoss (multi-label hinge) and triplet_margin_with_distance_loss /
TripletMarginWithDistanceLoss (the triplet loss with any distance function).

The hinges count only strictly positive margins, as PyTorch does, so the gradients agree at the kink too.
"""
from __future__ import annotations

import numpy as np

import fn_dl.numpy as fnp
from fn_dl.core import dtypes
from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn._distance import PairwiseDistance
from fn_dl.nn._loss import _Loss, _WeightedLoss


def _hinge(z):
    return fnp.where(z > 0, z, 0)


def _batched_classes(name, input, target, target_shape):
    """input (N, C) or (C,) as (N, C), and the integer target checked against target_shape(input)."""
    target = fnp.asarray(target)
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise ValueError(f"{name}: expected a non-empty (N, C) or (C,) input, got {shape_str(input.shape)}")
    if not dtypes.is_integer(target.dtype):
        raise TypeError(f"{name}: targets must be integer class indices, got {target.dtype}")
    if tuple(target.shape) != target_shape(input):
        raise ValueError(f"{name}: inconsistent target size: expected {shape_str(target_shape(input))} for input "
                         f"{shape_str(input.shape)}, got {shape_str(target.shape)}")
    return (input[None], target[None]) if input.ndim == 1 else (input, target)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction='mean'):
    """The multi-class hinge loss: per example, sum over classes i != y of max(0, margin - x[y] + x[i])^p / C
    (times weight[y]), for input (N, C) or (C,) and class indices target (N,) or ().

    >>> import fn_dl.numpy as fnp
    >>> round(float(multi_margin_loss(fnp.asarray([[0.1, 0.2, 0.4, 0.8]]), fnp.asarray([3]))), 4)
    0.325
    """
    reduction = F._legacy_reduction(size_average, reduce, reduction)
    name = 'multi_margin_loss'
    if p not in (1, 2):
        raise ValueError(f"{name}: only p == 1 and p == 2 supported, got {p}")
    x, t = _batched_classes(name, input, target, lambda a: a.shape[:-1])
    n_classes = x.shape[-1]
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != n_classes):
        raise ValueError(f"{name}: weight must be one-dimensional with one value per class ({n_classes}), got "
                         f"{shape_str(weight.shape)}")
    if F._is_concrete(t) and np.any((np.asarray(t) < 0) | (np.asarray(t) >= n_classes)):
        raise IndexError(f"{name}: target {np.asarray(t).tolist()} out of range for {n_classes} classes")
    picked = fnp.take_along_axis(x, t[:, None], axis=-1)
    h = _hinge(margin - picked + x) ** p
    if weight is not None:
        h = h * fnp.take(weight, t)[:, None]
    others = fnp.arange(n_classes) != t[:, None]
    loss = fnp.sum(fnp.where(others, h, 0), axis=-1) / n_classes
    return F._reduce(loss if input.ndim == 2 else loss[0], reduction, name)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """The multi-label hinge loss: per example, the sum over its target classes j and its other classes i of
    max(0, 1 - (x[j] - x[i])) / C. target (input's shape) lists the target classes first, ended by the first -1.

    >>> import fn_dl.numpy as fnp
    >>> x = fnp.asarray([[0.1, 0.2, 0.4, 0.8]])
    >>> round(float(multilabel_margin_loss(x, fnp.asarray([[3, 0, -1, 1]]))), 4)
    0.85
    """
    reduction = F._legacy_reduction(size_average, reduce, reduction)
    name = 'multilabel_margin_loss'
    x, t = _batched_classes(name, input, target, lambda a: a.shape)
    n_classes = x.shape[-1]
    if F._is_concrete(t) and np.any((np.asarray(t) < -1) | (np.asarray(t) >= n_classes)):
        raise IndexError(f"{name}: targets must lie in [-1, {n_classes}), got {np.asarray(t).tolist()}")
    listed = fnp.cumprod((t >= 0).astype(fnp.int32), axis=-1) > 0          # the entries before the first -1
    safe = fnp.where(listed, t, 0)
    is_target = fnp.any(listed[..., None] & (safe[..., None] == fnp.arange(n_classes)), axis=1)  # (N, C)
    picked = fnp.take_along_axis(x, safe, axis=-1)                                               # (N, C_j)
    pairs = _hinge(1 - picked[:, :, None] + x[:, None, :])                                       # (N, j, i)
    counted = listed[:, :, None] & ~is_target[:, None, :]
    loss = fnp.sum(fnp.where(counted, pairs, 0), axis=(1, 2)) / n_classes
    return F._reduce(loss if input.ndim == 2 else loss[0], reduction, name)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction='mean'):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) for any distance function d (default
    F.pairwise_distance); swap uses min(d(a, n), d(p, n)) as the negative distance.

    >>> import fn_dl.numpy as fnp
    >>> import fn_dl.nn.functional as F
    >>> a, pos, neg = fnp.zeros((1, 2)), fnp.asarray([[0.0, 1.0]]), fnp.asarray([[0.0, 1.5]])
    >>> cosine = lambda x, y: 1.0 - F.cosine_similarity(x + 1, y + 1)
    >>> round(float(triplet_margin_with_distance_loss(a, pos, neg, distance_function=cosine)), 4)
    0.9705
    """
    name = 'triplet_margin_with_distance_loss'
    if margin <= 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin}")
    F._same_rank(name, anchor, positive, negative)
    distance = F.pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = distance(anchor, positive), distance(anchor, negative)
    if swap:
        d_neg = fnp.minimum(d_neg, distance(positive, negative))
    return F._reduce(fnp.maximum(margin + d_pos - d_neg, 0), reduction, name)


class MultiMarginLoss(_WeightedLoss):
    """F.multi_margin_loss; the class weight is a buffer, as in PyTorch.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> round(float(nn.MultiMarginLoss(p=2)(fnp.asarray([[0.1, 0.2, 0.4, 0.8]]), fnp.asarray([3]))), 4)
    0.1525
    """

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction='mean'):
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got {p}")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: weight must be None or one-dimensional, got "
                             f"{shape_str(weight.shape)}")
        super().__init__(weight, size_average, reduce, reduction)
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight,
                                 reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """F.multilabel_margin_loss.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> round(float(nn.MultiLabelMarginLoss()(fnp.asarray([0.1, 0.2, 0.4, 0.8]), fnp.asarray([3, 0, -1, 1]))), 4)
    0.85
    """

    def forward(self, input, target):
        return multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """F.triplet_margin_with_distance_loss; a distance_function that is a Module is registered as a submodule
    (its parameters train with the loss's), the default being PairwiseDistance(), as in PyTorch.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> loss = nn.TripletMarginWithDistanceLoss(margin=0.5)
    >>> loss(fnp.zeros((2, 3)), fnp.zeros((2, 3)), fnp.ones((2, 3))).tolist()
    0.0
    """

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction='mean'):
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} "
                             f"instead")
        self.distance_function = PairwiseDistance() if distance_function is None else distance_function
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return triplet_margin_with_distance_loss(anchor, positive, negative,
                                                 distance_function=self.distance_function, margin=self.margin,
                                                 swap=self.swap, reduction=self.reduction)

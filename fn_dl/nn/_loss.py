"""Loss modules over nn.functional, with PyTorch's arguments; class weights are buffers, as in PyTorch."""
from __future__ import annotations

from fn_dl.nn import functional as F
from fn_dl.nn._module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction='mean'):
        super().__init__()
        self.reduction = F._legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction='mean'):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer('weight', weight)


class CrossEntropyLoss(_WeightedLoss):
    """F.cross_entropy: logits (N, C, ...) against class indices or probabilities.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> round(float(nn.CrossEntropyLoss()(fnp.zeros((2, 4)), fnp.asarray([1, 2]))), 4)
    1.3863
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean',
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """F.nll_loss: log-probabilities (N, C, ...) against class indices.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.NLLLoss()(fnp.asarray([[-1.0, -2.0]]), fnp.asarray([1])).tolist()
    2.0
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """F.mse_loss.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.MSELoss()(fnp.asarray([1.0, 3.0]), fnp.zeros(2)).tolist()
    5.0
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """F.l1_loss.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.L1Loss(reduction='sum')(fnp.asarray([1.0, -3.0]), fnp.zeros(2)).tolist()
    4.0
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """F.binary_cross_entropy on probabilities.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> round(float(nn.BCELoss()(fnp.asarray([0.5]), fnp.asarray([0.0]))), 4)
    0.6931
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """F.binary_cross_entropy_with_logits; weight and pos_weight are buffers.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> round(float(nn.BCEWithLogitsLoss()(fnp.asarray([0.0]), fnp.asarray([1.0]))), 4)
    0.6931
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction='mean', pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer('weight', weight)
        self.register_buffer('pos_weight', pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class HuberLoss(_Loss):
    """F.huber_loss: quadratic below delta, linear above.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.HuberLoss()(fnp.asarray([3.0]), fnp.zeros(1)).tolist()
    2.5
    """

    def __init__(self, reduction='mean', delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """F.smooth_l1_loss: quadratic below beta (scaled by 1 / beta), linear above.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.SmoothL1Loss()(fnp.asarray([0.5]), fnp.zeros(1)).tolist()
    0.125
    """

    def __init__(self, size_average=None, reduce=None, reduction='mean', beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class KLDivLoss(_Loss):
    """F.kl_div: input log-probabilities, target probabilities (or log-probabilities with log_target).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> p = fnp.asarray([[0.25, 0.75]])
    >>> nn.KLDivLoss(reduction='batchmean')(fnp.log(p), p).tolist()
    0.0
    """

    def __init__(self, size_average=None, reduce=None, reduction='mean', log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

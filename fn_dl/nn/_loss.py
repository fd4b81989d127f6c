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


class _MarginLoss(_Loss):
    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction='mean'):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class MarginRankingLoss(_MarginLoss):
    """F.margin_ranking_loss: max(0, -target (x1 - x2) + margin).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.MarginRankingLoss(0.5)(fnp.asarray([2.0]), fnp.asarray([1.0]), fnp.asarray([1.0])).tolist()
    0.0
    """

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """F.hinge_embedding_loss: x where target is 1, max(0, margin - x) where it is -1.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.HingeEmbeddingLoss()(fnp.asarray([0.25]), fnp.asarray([-1.0])).tolist()
    0.75
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction='mean'):
        super().__init__(margin, size_average, reduce, reduction)

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_MarginLoss):
    """F.cosine_embedding_loss: 1 - cos(x1, x2) for target 1, max(0, cos(x1, x2) - margin) for -1.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.CosineEmbeddingLoss()(fnp.asarray([[1.0, 0.0]]), fnp.asarray([[2.0, 0.0]]), fnp.asarray([1])).tolist()
    0.0
    """

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """F.soft_margin_loss: log(1 + exp(-target x)).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> round(float(nn.SoftMarginLoss()(fnp.asarray([0.0]), fnp.asarray([-1.0]))), 4)
    0.6931
    """

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """F.multilabel_soft_margin_loss: per-class binary cross entropy of logits, averaged over the classes.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> round(float(nn.MultiLabelSoftMarginLoss()(fnp.zeros((2, 3)), fnp.ones((2, 3)))), 4)
    0.6931
    """

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)


class TripletMarginLoss(_MarginLoss):
    """F.triplet_margin_loss: max(0, margin + d(anchor, positive) - d(anchor, negative)).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.TripletMarginLoss()(fnp.zeros((1, 2)), fnp.zeros((1, 2)), fnp.zeros((1, 2))).tolist()
    1.0
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None, reduction='mean'):
        super().__init__(margin, size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.p, self.eps, self.swap = p, eps, swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps, self.swap,
                                     reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """F.gaussian_nll_loss: forward(input, target, var), the negative log likelihood under N(input, var).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.GaussianNLLLoss()(fnp.zeros(2), fnp.zeros(2), fnp.ones(2)).tolist()
    0.0
    """

    def __init__(self, *, full=False, eps=1e-6, reduction='mean'):
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """F.poisson_nll_loss: the negative log likelihood of counts under Poisson rates (log-rates by default).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.PoissonNLLLoss()(fnp.zeros(2), fnp.zeros(2)).tolist()
    1.0
    """

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction='mean'):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                  reduction=self.reduction)

"""CosineSimilarity, PairwiseDistance: F.cosine_similarity and F.pairwise_distance as layers."""
from __future__ import annotations

from fn_dl.nn import functional as F
from fn_dl.nn._module import Module


class CosineSimilarity(Module):
    """x1 . x2 / (max(|x1|, eps) max(|x2|, eps)) along dim.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.CosineSimilarity()(fnp.asarray([[1.0, 0.0]]), fnp.asarray([[2.0, 0.0]])).tolist()
    [1.0]
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """|x1 - x2 + eps|_p along the last dim.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> [round(v, 4) for v in nn.PairwiseDistance()(fnp.asarray([[3.0, 0.0]]), fnp.asarray([[0.0, 4.0]])).tolist()]
    [5.0]
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)

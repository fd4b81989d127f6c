"""Dropout: zero elements at random in train mode, the identity in eval mode."""
from __future__ import annotations

from fn_dl.nn import functional as F
from fn_dl.nn._module import Module


class Dropout(Module):
    """Zero each element with probability p in train mode, scaling the rest by 1 / (1 - p).

    The key comes from nn.functional_call(..., rng=key) (a fresh one per Dropout call), or, eagerly,
    from the global stream; under vmap, pass one key per example.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> drop = nn.Dropout(0.5)
    >>> y = nn.functional_call(drop, {}, fnp.ones(8), rng=fd.random.key(0))
    >>> set(y.tolist()) <= {0.0, 2.0}
    True
    >>> drop.eval()(fnp.ones(2)).tolist()
    [1.0, 1.0]
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"

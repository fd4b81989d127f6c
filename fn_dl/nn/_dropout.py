"""Dropout, Dropout1d/2d/3d: zero elements (or whole channels) at random in train mode, the identity in eval."""
from __future__ import annotations

from fn_dl.nn import functional as F
from fn_dl.nn._module import Module


class Dropout(Module):
    """Zero each element with probability p in train mode, scaling the rest by 1 / (1 - p).

    The key comes from nn.functional_call(..., rng=key) (a fresh one per Dropout call), or, eagerly,
    from the global stream. Under vmap pass one key per example, rng=k with keys = fd.random.split(key, n)
    mapped (see F.dropout: a key shared by examples that differ is an error).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> drop = nn.Dropout(0.5)
    >>> y = nn.functional_call(drop, {}, fnp.ones(8), rng=fd.random.key(0))
    >>> set(y.tolist()) <= {0.0, 2.0}
    True
    >>> drop.eval()(fnp.ones(2)).tolist()
    [1.0, 1.0]
    >>> keys = fd.random.split(fd.random.key(1), 4)
    >>> fd.vmap(lambda x, k: nn.functional_call(drop.train(), {}, x, rng=k))(fnp.ones((4, 8)), keys).shape
    (4, 8)
    """
    _fn = staticmethod(F.dropout)

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return self._fn(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) or (C, L) with probability p in train mode (keys as Dropout).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.functional_call(nn.Dropout1d(0.5), {}, fnp.ones((2, 3, 4)), rng=fd.random.key(0)).shape
    (2, 3, 4)
    """
    _fn = staticmethod(F.dropout1d)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability p in train mode (keys as Dropout).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.functional_call(nn.Dropout2d(0.5), {}, fnp.ones((2, 3, 4, 4)), rng=fd.random.key(0)).shape
    (2, 3, 4, 4)
    """
    _fn = staticmethod(F.dropout2d)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p in train mode (keys as Dropout).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.functional_call(nn.Dropout3d(0.5), {}, fnp.ones((2, 3, 2, 2, 2)), rng=fd.random.key(0)).shape
    (2, 3, 2, 2, 2)
    """
    _fn = staticmethod(F.dropout3d)

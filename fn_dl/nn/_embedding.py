"""Embedding: a lookup table of vectors, initialised N(0, 1) as in PyTorch, with an optional padding row."""
from __future__ import annotations

import fn_dl.numpy as fnp
from fn_dl.core import dtypes
from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn import init
from fn_dl.nn._module import Module, Parameter


class Embedding(Module):
    """weight[indices] for weight (num_embeddings, embedding_dim), N(0, 1) initialised.

    padding_idx: that row starts at zero and receives no gradient.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(fnp.asarray([[0, 4]])).shape, emb.weight[0].tolist()
    ((1, 2, 3), [0.0, 0.0, 0.0])
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, *, _weight=None, _freeze=False, dtype=None,
                 key=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                                 f"{num_embeddings}")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            weight = init.normal(key, (num_embeddings, embedding_dim), dtype=dtype or 'float32')
            if padding_idx is not None:
                weight = weight.at[padding_idx].set(0)
        else:
            weight = _weight
            if tuple(weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape ({num_embeddings}, {embedding_dim}), got "
                                 f"{shape_str(weight.shape)}")
        self.weight = Parameter(weight, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding holding `embeddings` (num_embeddings, embedding_dim); frozen unless freeze=False.

        >>> import fn_dl.numpy as fnp
        >>> from fn_dl import nn
        >>> nn.Embedding.from_pretrained(fnp.eye(3))(fnp.asarray([2])).tolist()
        [[0.0, 0.0, 1.0]]
        """
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-d, got {shape_str(embeddings.shape)}")
        return cls(embeddings.shape[0], embeddings.shape[1], padding_idx=padding_idx, _weight=embeddings,
                   _freeze=freeze)

    def forward(self, input):
        input = fnp.asarray(input)
        if not dtypes.is_integer(input.dtype):
            raise TypeError(f"Embedding({self.num_embeddings}, {self.embedding_dim}) expected integer indices, got "
                            f"{input.dtype} {shape_str(input.shape)}")
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"

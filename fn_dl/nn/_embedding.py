"""Embedding: a lookup table of vectors, initialised N(0, 1) as in PyTorch, with an optional padding row and
PyTorch's max_norm renormalisation."""
from __future__ import annotations

import fn_dl.numpy as fnp
from fn_dl.core import dtypes
from fn_dl.core.array import Tracer
from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn import init
from fn_dl.nn._adapter import in_functional_call
from fn_dl.nn._module import Module, Parameter


class Embedding(Module):
    """weight[indices] for weight (num_embeddings, embedding_dim), N(0, 1) initialised.

    padding_idx: that row starts at zero and receives no gradient.
    max_norm: looked-up rows whose norm_type-norm exceeds max_norm come out scaled to norm max_norm, as in
    PyTorch. Where PyTorch also rescales those rows of the weight in place, an eager call here does the same
    to the module's stored weight; inside nn.functional_call (and whenever the indices are traced) the stored
    weight and the parameters passed in are left as they are, the output is renormalised all the same; to keep
    functional parameters renormalised too, apply F.embedding_renorm(params[name], indices, max_norm) in the
    step. The gradient, as PyTorch's, is that of the plain lookup.
    scale_grad_by_freq, sparse: as F.embedding.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> emb = nn.Embedding(10, 3, padding_idx=0)
    >>> emb(fnp.asarray([[0, 4]])).shape, emb.weight[0].tolist()
    ((1, 2, 3), [0.0, 0.0, 0.0])
    >>> emb = nn.Embedding.from_pretrained(fnp.asarray([[3.0, 4.0]]), max_norm=1.0)
    >>> emb(fnp.asarray([0])).tolist(), emb.weight.tolist()
    ([[0.6000000238418579, 0.800000011920929]], [[0.6000000238418579, 0.800000011920929]])
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, *, dtype=None, key=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                                 f"{num_embeddings}")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
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
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding holding `embeddings` (num_embeddings, embedding_dim); frozen unless freeze=False.

        >>> import fn_dl.numpy as fnp
        >>> from fn_dl import nn
        >>> nn.Embedding.from_pretrained(fnp.eye(3))(fnp.asarray([2])).tolist()
        [[0.0, 0.0, 1.0]]
        """
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-d, got {shape_str(embeddings.shape)}")
        return cls(embeddings.shape[0], embeddings.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq,
                   sparse, _weight=embeddings, _freeze=freeze)

    def forward(self, input):
        input = fnp.asarray(input)
        if not dtypes.is_integer(input.dtype):
            raise TypeError(f"Embedding({self.num_embeddings}, {self.embedding_dim}) expected integer indices, got "
                            f"{input.dtype} {shape_str(input.shape)}")
        self._renorm_stored_weight(input)
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def _renorm_stored_weight(self, input):
        """PyTorch's in-place max_norm renormalisation of the looked-up rows, on the module's own weight (only
        when eager: never inside nn.functional_call or for traced indices)."""
        if self.max_norm is not None and isinstance(self.weight, Parameter) and not in_functional_call():
            renormed = F.embedding_renorm(self.weight, input, self.max_norm, self.norm_type)
            if not isinstance(renormed, Tracer):
                self.weight._value = renormed._value

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        s += self._norm_repr()
        if self.sparse:
            s += ", sparse=True"
        return s

    def _norm_repr(self):
        """The max_norm options as PyTorch's repr lists them (EmbeddingBag's too, in another place)."""
        s = f", max_norm={self.max_norm}" if self.max_norm is not None else ''
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        return s

"""embedding_bag and EmbeddingBag: sums, means or maxima of bags of embeddings, without the per-index rows.

Every looked-up row gets the id of its bag (from `offsets`, or its row of a 2-d input), and one
scatter-add (sum, mean) or scatter-max per call reduces the rows into their bags; rows that do not count
(padding_idx, or past the last offset with include_last_offset) go to one extra bag that is cut off. No
Python loop runs over the bags, so the bags' number and the offsets may be traced (jit, vmap).
"""
from __future__ import annotations

import numpy as np

import fn_dl.numpy as fnp
from fn_dl.core import dtypes
from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn._embedding import Embedding

_MODES = ('sum', 'mean', 'max')


def _bag_ids(name, input, offsets, include_last_offset):
    """(flat indices, bag id per index, number of bags) for a 2-d input of bags or a 1-d input with offsets."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{name}: if input is 2-d, then offsets has to be None, as input is treated as a "
                             f"mini-batch of fixed length sequences; got offsets {shape_str(fnp.shape(offsets))}")
        n_bags, length = input.shape
        return input.reshape(-1), fnp.asarray(np.repeat(np.arange(n_bags), length)), n_bags
    if input.ndim != 1:
        raise ValueError(f"{name}: input has to be a 1-d or 2-d array of indices, got {shape_str(input.shape)}")
    if offsets is None:
        raise ValueError(f"{name}: offsets has to be a 1-d array for a 1-d input, got None")
    offsets = fnp.asarray(offsets)
    if offsets.ndim != 1 or not dtypes.is_integer(offsets.dtype):
        raise ValueError(f"{name}: offsets has to be a 1-d integer array, got {offsets.dtype} "
                         f"{shape_str(offsets.shape)}")
    if F._is_concrete(offsets) and offsets.shape[0]:
        o = np.asarray(offsets)
        if o[0] != 0:
            raise ValueError(f"{name}: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to "
                             f"start from position 0. However, got {o[0]}")
        if o[-1] > input.shape[0] or np.any(np.diff(o) < 0):
            raise ValueError(f"{name}: offsets must be non-decreasing and at most the input's length "
                             f"{input.shape[0]}, got {o.tolist()}")
        if include_last_offset and o[-1] != input.shape[0]:
            # PyTorch leaves the indices past it out of some modes and not others; here it is an error
            raise ValueError(f"{name}: with include_last_offset=True the last offset ends the last bag and must "
                             f"equal the input's length {input.shape[0]}, got {o[-1]}")
    n_bags = offsets.shape[0] - (1 if include_last_offset else 0)
    # the bag of index i is the last offset <= i; past the final offset (include_last_offset) it is n_bags
    ids = fnp.searchsorted(offsets, fnp.arange(input.shape[0], dtype=offsets.dtype), side='right') - 1
    return input, fnp.minimum(ids, n_bags), n_bags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode='mean',
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Per bag, the sum, mean or max of the rows of weight (num_embeddings, embedding_dim) its indices pick.

    input: (B, L), each row a bag of L indices, or 1-d with `offsets`, the start of each bag in input (the
    first must be 0; with include_last_offset the last one is the end of the last bag, not a bag). Empty bags
    give zeros. per_sample_weights (input's shape) scales each row, mode='sum' only. Indices equal to
    padding_idx are left out of their bag (and of its mean's count). max_norm, norm_type, scale_grad_by_freq:
    as F.embedding (frequencies counted over the whole input). The gradient of mode='max' goes to each bag's maximum.

    >>> import fn_dl.numpy as fnp
    >>> w = fnp.arange(8.0).reshape(4, 2)
    >>> embedding_bag(fnp.asarray([0, 1, 3]), w, fnp.asarray([0, 2]), mode='sum').tolist()
    [[2.0, 4.0], [6.0, 7.0]]
    >>> embedding_bag(fnp.asarray([[0, 2], [3, 3]]), w, mode='max').tolist()
    [[4.0, 5.0], [6.0, 7.0]]
    """
    name = 'embedding_bag'
    if mode not in _MODES:
        raise ValueError(f"{name}: mode has to be one of sum, mean or max, got {mode!r}")
    input = fnp.asarray(input)
    if per_sample_weights is not None:
        if mode != 'sum':
            raise NotImplementedError(f"{name}: per_sample_weights was not None. per_sample_weights is only "
                                      f"supported for mode='sum' (got mode={mode!r})")
        per_sample_weights = fnp.asarray(per_sample_weights)
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"{name}: per_sample_weights {shape_str(per_sample_weights.shape)} must have the "
                             f"input's shape {shape_str(input.shape)}")
    indices, ids, n_bags = _bag_ids(name, input, offsets, include_last_offset)
    rows = F.embedding(indices, weight, None, max_norm, norm_type, scale_grad_by_freq)
    if padding_idx is not None:
        if not -weight.shape[0] <= padding_idx < weight.shape[0]:
            raise ValueError(f"{name}: padding_idx {padding_idx} must be within num_embeddings {weight.shape[0]}")
        ids = fnp.where(indices == padding_idx % weight.shape[0], n_bags, ids)
    if per_sample_weights is not None:
        rows = rows * fnp.expand_dims(per_sample_weights.reshape(-1), -1)
    shape = (n_bags + 1, weight.shape[1])
    count = fnp.zeros(n_bags + 1, dtype=weight.dtype).at[ids].add(1)[:n_bags, None]
    if mode == 'max':
        out = fnp.full(shape, -fnp.inf, dtype=weight.dtype).at[ids].max(rows)[:n_bags]
        return fnp.where(count > 0, out, 0)
    out = fnp.zeros(shape, dtype=weight.dtype).at[ids].add(rows)[:n_bags]
    return out / fnp.maximum(count, 1) if mode == 'mean' else out


class EmbeddingBag(Embedding):
    """Sums, means or maxima of bags of embeddings (F.embedding_bag), weight initialised N(0, 1) as PyTorch.

    forward(input, offsets=None, per_sample_weights=None): input (B, L), or 1-d with offsets. padding_idx:
    that row starts at zero and is left out of the bags. max_norm: as Embedding (an eager call rescales the
    stored rows, as PyTorch; inside nn.functional_call the output is renormalised, the parameters kept).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> bag = nn.EmbeddingBag(10, 3, mode='sum')
    >>> bag(fnp.asarray([1, 2, 4, 5, 4]), fnp.asarray([0, 2])).shape
    (2, 3)
    >>> bool(fnp.allclose(bag(fnp.asarray([[1, 2]]))[0], bag.weight[1] + bag.weight[2]))
    True
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode='mean', sparse=False, _weight=None, include_last_offset=False, padding_idx=None, *,
                 dtype=None, key=None):
        if mode not in _MODES:
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                         sparse, _weight, dtype=dtype, key=key)
        self.mode, self.include_last_offset = mode, include_last_offset

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode='mean', sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag holding `embeddings` (num_embeddings, embedding_dim); frozen unless freeze=False.

        >>> import fn_dl.numpy as fnp
        >>> from fn_dl import nn
        >>> nn.EmbeddingBag.from_pretrained(fnp.eye(3))(fnp.asarray([[0, 2]])).tolist()
        [[0.5, 0.0, 0.5]]
        """
        if embeddings.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings must be 2-d, got "
                             f"{shape_str(embeddings.shape)}")
        bag = cls(embeddings.shape[0], embeddings.shape[1], max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  embeddings, include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input, offsets=None, per_sample_weights=None):
        input = fnp.asarray(input)
        if not dtypes.is_integer(input.dtype):
            raise TypeError(f"{self!r} expected integer indices, got {input.dtype} {shape_str(input.shape)}")
        self._renorm_stored_weight(input)
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}{self._norm_repr()}, mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

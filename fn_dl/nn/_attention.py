"""MultiheadAttention with PyTorch's parameters, masks and outputs (its slow, non-fused path).

Masks follow torch.nn.MultiheadAttention: a boolean mask is True where attention is NOT allowed,
a float mask is added to the scores; both become one additive mask of shape (N, H, L, S).
"""
from __future__ import annotations

import math

import fn_dl.numpy as fnp
from fn_dl import random
from fn_dl.core import dtypes
from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn import init
from fn_dl.nn._adapter import next_rng_key
from fn_dl.nn._linear import Linear
from fn_dl.nn._module import Module, Parameter


class MultiheadAttention(Module):
    """Multi-head attention, softmax(q k^T / sqrt(head_dim) + mask) v per head, as torch.nn.MultiheadAttention.

    Inputs are (L, N, E) (or (N, L, E) with batch_first, or unbatched (L, E)); returns
    (attn_output, attn_weights), the weights averaged over heads (N, L, S) unless
    average_attn_weights=False (N, H, L, S), and None with need_weights=False.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = fnp.ones((3, 5, 8))
    >>> out, w = mha(x, x, x)
    >>> out.shape, w.shape
    ((3, 5, 8), (3, 5, 5))
    >>> list(mha.state_dict())
    ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, dtype=None, key=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        dtype = dtype or 'float32'
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first, self.add_zero_attn = dropout, batch_first, add_zero_attn
        k_q, k_k, k_v, k_out, k_bk, k_bv = random.split(init._key(key), 6)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(init.xavier_uniform(k_q, (3 * embed_dim, embed_dim), dtype=dtype))
            for name in ('q_proj_weight', 'k_proj_weight', 'v_proj_weight'):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(init.xavier_uniform(k_q, (embed_dim, embed_dim), dtype=dtype))
            self.k_proj_weight = Parameter(init.xavier_uniform(k_k, (embed_dim, self.kdim), dtype=dtype))
            self.v_proj_weight = Parameter(init.xavier_uniform(k_v, (embed_dim, self.vdim), dtype=dtype))
            self.register_parameter('in_proj_weight', None)
        if bias:
            self.in_proj_bias = Parameter(init.zeros((3 * embed_dim,), dtype))
        else:
            self.register_parameter('in_proj_bias', None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype, key=k_out)
        if bias:  # PyTorch zeroes the output bias too, after Linear's default init
            self.out_proj.bias = Parameter(init.zeros((embed_dim,), dtype))
        if add_bias_kv:
            self.bias_k = Parameter(init.xavier_normal(k_bk, (1, 1, embed_dim), dtype=dtype))
            self.bias_v = Parameter(init.xavier_normal(k_bv, (1, 1, embed_dim), dtype=dtype))
        else:
            self.bias_k = self.bias_v = None

    def _describe(self):
        return f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"

    def _check_inputs(self, query, key, value):
        batched = query.ndim == 3
        layout = ('(N, {L}, {E})' if self.batch_first else '({L}, N, {E})') if batched else '({L}, {E})'
        for x, name, seq, dim in ((query, 'query', 'L', self.embed_dim), (key, 'key', 'S', self.kdim),
                                  (value, 'value', 'S', self.vdim)):
            if x.ndim != (3 if batched else 2) or x.shape[-1] != dim:
                raise ValueError(f"{self._describe()} expected {name} of shape {layout.format(L=seq, E=dim)} "
                                 f"(query, key and value all batched or all unbatched), got {shape_str(x.shape)}")
        b, s = (0, 1) if self.batch_first else (1, 0)
        same_batch = not batched or query.shape[b] == key.shape[b] == value.shape[b]
        if not same_batch or key.shape[s if batched else 0] != value.shape[s if batched else 0]:
            raise ValueError(f"{self._describe()}: query, key and value must share the batch size and key and value "
                             f"the sequence length; got {shape_str(query.shape)}, {shape_str(key.shape)} and "
                             f"{shape_str(value.shape)}")
        return batched

    def _projections(self, query, key, value):
        """q, k, v = the input projections, with PyTorch's packed weight split in the order q, k, v."""
        e = self.embed_dim
        b_q, b_k, b_v = (None,) * 3 if self.in_proj_bias is None else fnp.split(self.in_proj_bias, 3)
        if not self._qkv_same_embed_dim:
            return (F.linear(query, self.q_proj_weight, b_q), F.linear(key, self.k_proj_weight, b_k),
                    F.linear(value, self.v_proj_weight, b_v))
        w = self.in_proj_weight
        if query is key and key is value:  # self-attention: one matmul for all three
            return fnp.split(F.linear(query, w, self.in_proj_bias), 3, axis=-1)
        return F.linear(query, w[:e], b_q), F.linear(key, w[e:2 * e], b_k), F.linear(value, w[2 * e:], b_v)

    def _additive(self, mask, name, dtype):
        """A boolean mask (True = masked out) as 0 / -inf, a float mask as it is."""
        if dtypes.is_bool(mask.dtype):
            return fnp.where(mask, -math.inf, 0.0).astype(dtype)
        if not dtypes.is_floating(mask.dtype):
            raise TypeError(f"{self._describe()}: only bool and floating types of {name} are supported, got "
                            f"{mask.dtype}")
        return mask.astype(dtype)

    def _mask(self, attn_mask, key_padding_mask, n, tgt, src, batched, dtype):
        """attn_mask (L, S) or (N * H, L, S) and key_padding_mask (N, S) merged into one (N|1, H|1, L, S) mask."""
        mask = None
        if attn_mask is not None:
            attn_mask = fnp.asarray(attn_mask)
            shapes = {2: (tgt, src), 3: (n * self.num_heads, tgt, src)}
            if shapes.get(attn_mask.ndim) != tuple(attn_mask.shape):
                raise ValueError(f"{self._describe()} expected attn_mask of shape {shapes[2]} or {shapes[3]} "
                                 f"(L, S) or (N * num_heads, L, S), got {shape_str(attn_mask.shape)}")
            mask = self._additive(attn_mask, 'attn_mask', dtype).reshape((-1, self.num_heads if attn_mask.ndim == 3
                                                                          else 1, tgt, src))
        if key_padding_mask is not None:
            key_padding_mask = fnp.asarray(key_padding_mask)
            expected = (n, src) if batched else (src,)
            if tuple(key_padding_mask.shape) != expected:
                raise ValueError(f"{self._describe()} expected key_padding_mask of shape {expected} "
                                 f"({'N, ' if batched else ''}S), got {shape_str(key_padding_mask.shape)}")
            kpm = self._additive(key_padding_mask, 'key_padding_mask', dtype).reshape((n, 1, 1, src))
            mask = kpm if mask is None else mask + kpm
        return mask

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        batched = self._check_inputs(query, key, value)
        if is_causal and attn_mask is None:
            raise ValueError(f"{self._describe()}: is_causal is a hint that attn_mask is the causal mask, so it needs "
                             f"attn_mask (e.g. nn.Transformer.generate_square_subsequent_mask(L))")
        q, k, v = self._projections(query, key, value)
        # from here on batch-major (N, L, E), which is what the head split and the batched matmuls want
        if not batched:
            q, k, v = (fnp.expand_dims(t, 0) for t in (q, k, v))
        elif not self.batch_first:
            q, k, v = (fnp.swapaxes(t, 0, 1) for t in (q, k, v))
        n, tgt, src = q.shape[0], q.shape[1], k.shape[1]
        mask = self._mask(attn_mask, key_padding_mask, n, tgt, src, batched, q.dtype)
        if self.bias_k is not None:
            k = fnp.concatenate([k, fnp.broadcast_to(self.bias_k, (n, 1, self.embed_dim))], axis=1)
            v = fnp.concatenate([v, fnp.broadcast_to(self.bias_v, (n, 1, self.embed_dim))], axis=1)
        q, k, v = (fnp.swapaxes(t.reshape(n, t.shape[1], self.num_heads, self.head_dim), 1, 2) for t in (q, k, v))
        if self.add_zero_attn:
            zeros = fnp.zeros((n, self.num_heads, 1, self.head_dim), k.dtype)
            k, v = fnp.concatenate([k, zeros], axis=2), fnp.concatenate([v, zeros], axis=2)
        if mask is not None and k.shape[2] > src:  # the appended key positions are never masked
            mask = fnp.pad(mask, [(0, 0)] * 3 + [(0, k.shape[2] - src)])
        p = self.dropout if self.training else 0.0
        rng = next_rng_key(f"{self._describe()} (attention dropout={p})") if p > 0 else None
        if need_weights:
            # PyTorch's weights path: a fully masked row gives NaN here, as it does there
            scores = fnp.matmul(q * (1.0 / math.sqrt(self.head_dim)), fnp.swapaxes(k, -1, -2))
            weights = F.softmax(scores if mask is None else scores + mask, dim=-1)
            if p > 0:
                weights = F.dropout(weights, p, key=rng)
            out = fnp.matmul(weights, v)
        else:
            # PyTorch's fused path (scaled_dot_product_attention): a fully masked row gives 0
            out, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, key=rng), None
        out = self.out_proj(fnp.swapaxes(out, 1, 2).reshape(n, tgt, self.embed_dim))
        if not batched:
            out = out[0]
        elif not self.batch_first:
            out = fnp.swapaxes(out, 0, 1)
        if weights is not None:
            if average_attn_weights:
                weights = fnp.mean(weights, axis=1)
            if not batched:
                weights = weights[0]
        return out, weights

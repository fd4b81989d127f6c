"""Transformer layers and stacks with PyTorch's structure, parameter names and (slow-path) math.

There is no nested-tensor "fast path": padding is handled by the masks alone, so the results are
those of PyTorch with the fast path disabled, in train and eval mode alike. `is_causal` is, as in
PyTorch, a hint that the given mask is causal; the mask itself is always what is applied.
"""
from __future__ import annotations

import copy
import math

import fn_dl.numpy as fnp
from fn_dl import random
from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn import init
from fn_dl.nn._attention import MultiheadAttention
from fn_dl.nn._dropout import Dropout
from fn_dl.nn._linear import Linear
from fn_dl.nn._module import Module, ModuleList, Parameter
from fn_dl.nn._norm import LayerNorm


def _activation(activation, who):
    if callable(activation):
        return activation
    if activation == 'relu':
        return F.relu
    if activation == 'gelu':
        return F.gelu
    raise ValueError(f"{who}: activation should be 'relu', 'gelu' or a callable, not {activation!r}")


def _check_input(who, x, name, d_model, batch_first):
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        layout = '(N, S, E)' if batch_first else '(S, N, E)'
        raise ValueError(f"{who} expected {name} of shape {layout} or (S, E) with E = d_model = {d_model}, "
                         f"got {shape_str(x.shape)}")


def _clones(module, n):
    """n independent deep copies, as PyTorch's _get_clones: every copy starts with the same values.

    Arrays are immutable and deepcopy shares them, so each copied Parameter is re-wrapped: the
    copies must be distinct Parameter objects, or named_parameters would see one shared parameter.
    """
    clones = [copy.deepcopy(module) for _ in range(n)]
    for c in clones:
        for m in c.modules():
            for name, p in m._parameters.items():
                if p is not None:
                    m._parameters[name] = Parameter(p, getattr(p, 'requires_grad', True))
    return ModuleList(clones)


class _LayerParts:
    """What the encoder and decoder layers share: the feed-forward block, norms, dropouts and the attention call."""

    def _init_ff(self, d_model, dim_feedforward, dropout, activation, layer_norm_eps, bias, dtype, k1, k2, n_norms):
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype, key=k1)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype, key=k2)
        for i in range(1, n_norms + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for i in range(1, n_norms + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation, type(self).__name__)

    def _ff_block(self, x, drop):
        return drop(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    @staticmethod
    def _attend(attn, x, mem, mask, key_padding_mask, is_causal, drop):
        return drop(attn(x, mem, mem, attn_mask=mask, key_padding_mask=key_padding_mask, need_weights=False,
                         is_causal=is_causal)[0])


class TransformerEncoderLayer(_LayerParts, Module):
    """Self-attention then a feed-forward block, each with a residual and LayerNorm (post-norm, or pre-norm
    with norm_first=True), as torch.nn.TransformerEncoderLayer.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    >>> layer(fnp.ones((3, 5, 8))).shape
    (3, 5, 8)
    >>> list(layer.state_dict())[:3]
    ['self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight']
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, dtype=None, key=None):
        super().__init__()
        k_attn, k1, k2 = random.split(init._key(key), 3)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype, key=k_attn)
        self._init_ff(d_model, dim_feedforward, dropout, activation, layer_norm_eps, bias, dtype, k1, k2, 2)
        self.norm_first = norm_first

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        _check_input(f"TransformerEncoderLayer(d_model={self.self_attn.embed_dim})", src, 'src',
                     self.self_attn.embed_dim, self.self_attn.batch_first)
        x = src

        def sa(y):
            return self._attend(self.self_attn, y, y, src_mask, src_key_padding_mask, is_causal, self.dropout1)

        if self.norm_first:
            x = x + sa(self.norm1(x))
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + sa(x))
        return self.norm2(x + self._ff_block(x, self.dropout2))


class TransformerDecoderLayer(_LayerParts, Module):
    """Self-attention, attention over the encoder's memory, then a feed-forward block, each with a residual and
    LayerNorm, as torch.nn.TransformerDecoderLayer.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> layer = nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    >>> layer(fnp.ones((4, 3, 8)), fnp.ones((6, 3, 8))).shape
    (4, 3, 8)
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, dtype=None, key=None):
        super().__init__()
        k_sa, k_mha, k1, k2 = random.split(init._key(key), 4)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype, key=k_sa)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                 dtype=dtype, key=k_mha)
        self._init_ff(d_model, dim_feedforward, dropout, activation, layer_norm_eps, bias, dtype, k1, k2, 3)
        self.norm_first = norm_first

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        d, bf = self.self_attn.embed_dim, self.self_attn.batch_first
        who = f"TransformerDecoderLayer(d_model={d})"
        _check_input(who, tgt, 'tgt', d, bf)
        _check_input(who, memory, 'memory', d, bf)
        x = tgt

        def sa(y):
            return self._attend(self.self_attn, y, y, tgt_mask, tgt_key_padding_mask, tgt_is_causal, self.dropout1)

        def mha(y):
            return self._attend(self.multihead_attn, y, memory, memory_mask, memory_key_padding_mask,
                                memory_is_causal, self.dropout2)

        if self.norm_first:
            x = x + sa(self.norm1(x))
            x = x + mha(self.norm2(x))
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + sa(x))
        x = self.norm2(x + mha(x))
        return self.norm3(x + self._ff_block(x, self.dropout3))


class TransformerEncoder(Module):
    """num_layers deep copies of encoder_layer applied in turn, then an optional norm.

    enable_nested_tensor and mask_check are accepted for PyTorch compatibility; there is no nested-tensor
    fast path, so they change nothing.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    >>> enc = nn.TransformerEncoder(layer, num_layers=2)
    >>> enc(fnp.ones((3, 5, 8))).shape, 'layers.1.linear2.bias' in enc.state_dict()
    ((3, 5, 8), True)
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return out if self.norm is None else self.norm(out)


class TransformerDecoder(Module):
    """num_layers deep copies of decoder_layer applied in turn over (tgt, memory), then an optional norm.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, dim_feedforward=16), num_layers=2)
    >>> dec(fnp.ones((4, 3, 8)), fnp.ones((6, 3, 8))).shape
    (4, 3, 8)
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return out if self.norm is None else self.norm(out)


class Transformer(Module):
    """The full encoder-decoder model of "Attention Is All You Need", as torch.nn.Transformer.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16)
    >>> model(fnp.ones((6, 3, 8)), fnp.ones((4, 3, 8))).shape
    (4, 3, 8)
    >>> nn.Transformer.generate_square_subsequent_mask(3).tolist()
    [[0.0, -inf, -inf], [0.0, 0.0, -inf], [0.0, 0.0, 0.0]]
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation=F.relu, custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, dtype=None, key=None):
        super().__init__()
        k_enc, k_dec, k_reset = random.split(init._key(key), 3)
        args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first, bias,
                dtype)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(*args, key=k_enc), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(*args, key=k_dec), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        # PyTorch re-initialises every matrix (not the biases or norms) of the whole model with xavier_uniform
        params = [p for p in self.parameters() if p.ndim > 1]
        for k, p in zip(random.split(k_reset, max(len(params), 1)), params):
            init.xavier_uniform_(p, key=k)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        b = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[b] != tgt.shape[b]):
            raise ValueError(f"Transformer: the batch size of src and tgt must be equal, got {shape_str(src.shape)} "
                             f"and {shape_str(tgt.shape)} (batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer: the feature size of src and tgt must equal d_model = {self.d_model}, got "
                             f"{shape_str(src.shape)} and {shape_str(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, dtype=None):
        """The float causal mask for a sequence of length sz: 0 on and below the diagonal, -inf above."""
        return fnp.triu(fnp.full((sz, sz), -math.inf, dtype or 'float32'), 1)

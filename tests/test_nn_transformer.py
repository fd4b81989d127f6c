"""MultiheadAttention and the Transformer layers against PyTorch 2.x (its slow path, fast path disabled):
state_dict keys, outputs and gradients (inputs and parameters) with every kind of mask, batch_first both ways,
norm_first, activations; once under fd.jit and once under fd.vmap; init, dropout and the error messages."""
import math

import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl import nn
from fn_dl.nn import functional as F
from _nn_parity import close, copy_weights, module_parity, randn

torch = pytest.importorskip('torch')

E, HEADS, FF = 8, 2, 16
N, L, S = 2, 5, 4


@pytest.fixture(autouse=True)
def slow_path():
    """PyTorch's fused inference path is a different kernel; fn_dl implements the reference (slow) path."""
    torch.backends.mha.set_fastpath_enabled(False)
    yield
    torch.backends.mha.set_fastpath_enabled(True)


def both(name, *args, **kwargs):
    return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


def seq(length, batch_first, dim=E):
    return randn(N, length, dim) if batch_first else randn(length, N, dim)


KPM = np.array([[False, False, True, True], [False, True, False, False]])  # (N, S), True = padding
CAUSAL_BOOL = np.triu(np.ones((L, L), bool), 1)  # True = not allowed
CAUSAL_FLOAT = np.triu(np.full((L, L), -np.inf, np.float32), 1)


# --- MultiheadAttention --------------------------------------------------------------------------

@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('need_weights,average', [(True, True), (True, False), (False, True)])
def test_mha_self_attention(batch_first, need_weights, average):
    ours, theirs = both('MultiheadAttention', E, HEADS, batch_first=batch_first)
    x = seq(L, batch_first)
    module_parity(ours, theirs, x, x, x, need_weights=need_weights, average_attn_weights=average)


@pytest.mark.parametrize('need_weights', [True, False])
def test_mha_cross_attention_with_masks(need_weights):
    ours, theirs = both('MultiheadAttention', E, HEADS, batch_first=True)
    attn_mask = np.triu(np.ones((L, S), bool), 2)
    module_parity(ours, theirs, seq(L, True), seq(S, True), seq(S, True), key_padding_mask=KPM,
                  attn_mask=attn_mask, need_weights=need_weights)


def test_mha_float_3d_mask_kdim_vdim_no_bias():
    ours, theirs = both('MultiheadAttention', E, HEADS, kdim=3, vdim=6, bias=False)
    assert list(ours.state_dict()) == ['q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'out_proj.weight']
    mask = randn(N * HEADS, L, S)
    module_parity(ours, theirs, randn(L, N, E), randn(S, N, 3), randn(S, N, 6), attn_mask=mask,
                  key_padding_mask=randn(N, S))


def test_mha_bias_kv_and_zero_attn():
    ours, theirs = both('MultiheadAttention', E, HEADS, add_bias_kv=True, add_zero_attn=True)
    assert list(ours.state_dict()) == ['in_proj_weight', 'in_proj_bias', 'bias_k', 'bias_v', 'out_proj.weight',
                                       'out_proj.bias']
    x = randn(L, N, E)
    module_parity(ours, theirs, x, x, x, attn_mask=CAUSAL_BOOL, key_padding_mask=np.zeros((N, L), bool),
                  average_attn_weights=False)
    module_parity(ours, theirs, x, x, x, need_weights=False)


def test_mha_causal_hint():
    """is_causal only tells that attn_mask is causal (PyTorch then uses its causal kernel): same result."""
    ours, theirs = both('MultiheadAttention', E, HEADS)
    x = randn(L, N, E)
    module_parity(ours, theirs, x, x, x, attn_mask=CAUSAL_FLOAT, is_causal=True, need_weights=False)


def test_mha_unbatched():
    ours, theirs = both('MultiheadAttention', E, HEADS, batch_first=True)
    x = randn(L, E)
    module_parity(ours, theirs, x, x, x, key_padding_mask=np.array([0, 0, 0, 1, 1], bool))
    module_parity(ours, theirs, x, x, x, attn_mask=randn(HEADS, L, L), average_attn_weights=False)


@pytest.mark.filterwarnings('ignore:invalid value encountered')  # the 0 / 0 that makes PyTorch's NaN too
def test_mha_fully_masked_rows_as_pytorch():
    """A query that may attend to nothing: NaN weights with need_weights=True, zeros without, as PyTorch."""
    ours, theirs = both('MultiheadAttention', E, HEADS, batch_first=True)
    x, kpm = seq(S, True), np.array([[True] * S, [False] * S])
    for need_weights in (True, False):
        module_parity(ours, theirs, x, x, x, key_padding_mask=kpm, need_weights=need_weights, grad=False)


def test_mha_init_and_repr():
    mha = nn.MultiheadAttention(64, 4, key=fd.random.key(0))
    w = np.asarray(mha.in_proj_weight)
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier_uniform over the packed (3E, E) matrix, as PyTorch
    assert w.shape == (192, 64) and np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert not np.asarray(mha.in_proj_bias).any() and not np.asarray(mha.out_proj.bias).any()
    assert np.abs(np.asarray(mha.out_proj.weight)).max() <= 1 / math.sqrt(64)
    assert repr(nn.MultiheadAttention(E, HEADS)).replace('Linear', 'NonDynamicallyQuantizableLinear') == \
        repr(torch.nn.MultiheadAttention(E, HEADS))


def test_mha_dropout():
    mha = nn.MultiheadAttention(E, HEADS, dropout=0.5, batch_first=True)
    x = fnp.asarray(seq(L, True))
    _, w = nn.functional_call(mha, {}, x, x, x, rng=fd.random.key(0), average_attn_weights=False)
    w = np.asarray(w)
    assert 0.3 < (w == 0).mean() < 0.7  # weights are returned after dropout, as PyTorch does
    _, w_eval = nn.functional_call(mha, {}, x, x, x, train=False)
    close(np.asarray(w_eval).sum(-1), np.ones((N, L)), 1e-5)
    with pytest.raises(ValueError, match=r'MultiheadAttention\(embed_dim=8, num_heads=2\) \(attention dropout'):
        fd.jit(lambda x: mha(x, x, x)[0])(x)


def test_mha_errors():
    mha = nn.MultiheadAttention(E, HEADS, batch_first=True)
    x = fnp.ones((N, L, E))
    with pytest.raises(ValueError, match=r'MultiheadAttention\(embed_dim=8, num_heads=2\) expected key of shape '
                                         r'\(N, S, 8\).*got \(2, 5, 3\)'):
        mha(x, fnp.ones((N, L, 3)), x)
    with pytest.raises(ValueError, match=r'expected attn_mask of shape \(5, 5\) or \(4, 5, 5\)'):
        mha(x, x, x, attn_mask=fnp.ones((L, L + 1), 'bool'))
    with pytest.raises(ValueError, match=r'expected key_padding_mask of shape \(2, 5\)'):
        mha(x, x, x, key_padding_mask=fnp.ones((N, L + 1), 'bool'))
    with pytest.raises(TypeError, match='only bool and floating types of attn_mask'):
        mha(x, x, x, attn_mask=fnp.ones((L, L), 'int32'))
    with pytest.raises(ValueError, match='is_causal is a hint'):
        mha(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match='divisible'):
        nn.MultiheadAttention(10, 3)


# --- encoder and decoder layers ------------------------------------------------------------------

@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('norm_first', [False, True])
@pytest.mark.parametrize('activation', ['relu', 'gelu'])
def test_encoder_layer(batch_first, norm_first, activation):
    ours, theirs = both('TransformerEncoderLayer', E, HEADS, FF, dropout=0.0, activation=activation,
                        batch_first=batch_first, norm_first=norm_first)
    kpm = np.array([[False] * 3 + [True] * 2, [False] * L])
    module_parity(ours, theirs, seq(L, batch_first), src_mask=CAUSAL_BOOL, src_key_padding_mask=kpm)


def test_encoder_layer_callable_activation_no_bias_eval():
    """A callable activation, bias=False, a float mask with the is_causal hint; eval mode with dropout > 0."""
    ours = nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.3, activation=F.silu, bias=False, layer_norm_eps=1e-3)
    theirs = torch.nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.3, activation=torch.nn.functional.silu,
                                              bias=False, layer_norm_eps=1e-3)
    ours.eval(), theirs.eval()
    module_parity(ours, theirs, seq(L, False), src_mask=CAUSAL_FLOAT, is_causal=True)
    module_parity(ours, theirs, randn(L, E))  # unbatched


@pytest.mark.parametrize('norm_first', [False, True])
def test_decoder_layer(norm_first):
    ours, theirs = both('TransformerDecoderLayer', E, HEADS, FF, dropout=0.0, batch_first=True,
                        norm_first=norm_first, activation='gelu')
    module_parity(ours, theirs, seq(L, True), seq(S, True), tgt_mask=CAUSAL_FLOAT, memory_key_padding_mask=KPM,
                  tgt_key_padding_mask=np.zeros((N, L), np.float32), memory_mask=np.zeros((L, S), bool))


def test_encoder_and_decoder_stacks():
    enc_layer = nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0)
    t_enc_layer = torch.nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0)
    ours = nn.TransformerEncoder(enc_layer, 3, norm=nn.LayerNorm(E))
    theirs = torch.nn.TransformerEncoder(t_enc_layer, 3, norm=torch.nn.LayerNorm(E), enable_nested_tensor=False)
    # deep copies: the layers start equal but are independent parameters, all of them trainable
    assert len(nn.params(ours)) == len(dict(theirs.named_parameters())) == 3 * 12 + 2
    assert list(nn.params(ours)) == [n for n, _ in theirs.named_parameters()]
    close(ours.layers[0].linear1.weight, ours.layers[2].linear1.weight, 0)
    module_parity(ours, theirs, seq(L, False), mask=CAUSAL_BOOL, src_key_padding_mask=KPM[:, :1].repeat(L, 1))

    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(E, HEADS, FF, dropout=0.0), 2, norm=nn.LayerNorm(E))
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(E, HEADS, FF, dropout=0.0), 2,
                                         norm=torch.nn.LayerNorm(E))
    module_parity(ours, theirs, seq(L, False), seq(S, False), tgt_mask=CAUSAL_FLOAT, memory_key_padding_mask=KPM)


def test_full_transformer():
    kwargs = dict(d_model=E, nhead=HEADS, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=FF,
                  dropout=0.0, batch_first=True)
    ours, theirs = both('Transformer', **kwargs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    mask = nn.Transformer.generate_square_subsequent_mask(L)
    close(mask, torch.nn.Transformer.generate_square_subsequent_mask(L).numpy(), 0)
    module_parity(ours, theirs, seq(S, True), seq(L, True), tgt_mask=np.asarray(mask), tgt_is_causal=True,
                  src_key_padding_mask=KPM, memory_key_padding_mask=KPM)
    bound = math.sqrt(6 / (E + FF))  # every matrix xavier-initialised, as PyTorch's _reset_parameters
    w = np.asarray(nn.Transformer(**kwargs).decoder.layers[1].linear1.weight)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound


def test_encoder_under_jit():
    """Values and gradients through fd.jit: the seed TextClassifier's encoder, batch_first, with padding."""
    layer = nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0, batch_first=True)
    t_layer = torch.nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0, batch_first=True)
    ours, theirs = nn.TransformerEncoder(layer, 2), torch.nn.TransformerEncoder(t_layer, 2)
    kpm = np.array([[False] * 3 + [True] * 2, [False] * L])
    module_parity(ours, theirs, seq(L, True), src_key_padding_mask=kpm, jit=True)


def test_encoder_layer_vmap_per_example_gradients():
    """vmap(grad) over unbatched sequences equals a loop; vmapped outputs equal the batched call."""
    layer = nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.0, batch_first=True)
    xs = fnp.asarray(seq(L, True))

    def loss(p, x):
        return fnp.sum(nn.functional_call(layer, p, x, src_mask=fnp.asarray(CAUSAL_BOOL)) ** 2)

    params = nn.params(layer)
    got = fd.vmap(fd.grad(loss), in_axes=(None, 0))(params, xs)
    for i in range(N):
        one = fd.grad(loss)(params, xs[i])
        for k in params:
            close(got[k][i], one[k], 1e-5, k)
    close(fd.vmap(lambda x: layer(x))(xs), layer(xs), 1e-5, 'vmap output')


def test_layer_dropout_uses_rng():
    layer = nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.5, batch_first=True)
    x, params = fnp.asarray(seq(L, True)), nn.params(layer)
    a, b = (nn.functional_call(layer, params, x, rng=fd.random.key(k)) for k in (0, 1))
    close(a, nn.functional_call(layer, params, x, rng=fd.random.key(0)), 0, 'same key')
    assert not np.allclose(np.asarray(a), np.asarray(b))
    theirs = torch.nn.TransformerEncoderLayer(E, HEADS, FF, dropout=0.5, batch_first=True).eval()
    copy_weights(layer, theirs)
    close(nn.functional_call(layer, nn.params(layer), x, train=False),
          theirs(torch.tensor(np.asarray(x))).detach().numpy(), 1e-5, 'eval')


def test_layer_errors():
    layer = nn.TransformerEncoderLayer(E, HEADS, FF, batch_first=True)
    with pytest.raises(ValueError, match=r'TransformerEncoderLayer\(d_model=8\) expected src of shape \(N, S, E\) or '
                                         r'\(S, E\) with E = d_model = 8, got \(2, 5, 6\)'):
        layer(fnp.ones((N, L, 6)))
    dec = nn.TransformerDecoderLayer(E, HEADS, FF)
    with pytest.raises(ValueError, match=r'TransformerDecoderLayer\(d_model=8\) expected memory of shape'):
        dec(fnp.ones((L, N, E)), fnp.ones((S, N, 4)))
    with pytest.raises(ValueError, match="activation should be 'relu', 'gelu' or a callable, not 'tanh'"):
        nn.TransformerEncoderLayer(E, HEADS, activation='tanh')

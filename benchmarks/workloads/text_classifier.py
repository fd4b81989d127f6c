"""The seed TextClassifier's training step: fn_dl's model class jitted, the same encoder in jax.numpy, and PyTorch.

Embedding, two post-norm TransformerEncoderLayers (relu feed-forward of 4 * d, no dropout), mean pooling and a
linear head; cross-entropy on class indices and AdamW. All three start from the fn_dl model's weights, copied
through its state_dict, whose names are PyTorch's; the JAX model reads the same names.
"""
import importlib.util
import math
import pathlib
from functools import partial

import numpy as np

from benchmarks.registry import register
from benchmarks.workloads import adamw, mlp

VOCAB, HEADS, LAYERS, CLASSES, SEQ, BATCH = 10000, 4, 2, 5, 64, 32
# Two widths: d 256 is the seed example's (the nn issue's benchmark), d 128 the jit issue's variant. The
# feed-forward is 4 * d, the TextClassifier's default.
LN_EPS = 1e-5


def seed_model_class():
    """examples/text_classifier.py's TextClassifier: the examples are scripts, not an importable package."""
    path = pathlib.Path(__file__).resolve().parents[2] / 'examples' / 'text_classifier.py'
    spec = importlib.util.spec_from_file_location('text_classifier_example', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TextClassifier


def looped(step, state, *batch):
    """The timed callable: state advances by step(*state, *batch) -> (loss, *state); it returns the loss."""
    def call():
        nonlocal state
        loss, *state = step(*state, *batch)
        return loss
    return call


# The JAX model, written against a NumPy-like namespace xp (jax.numpy) so that this module imports without JAX.

def linear(x, p, name):
    return x @ p[f'{name}.weight'].T + p[f'{name}.bias']


def layer_norm(xp, x, p, name):
    mean = xp.mean(x, axis=-1, keepdims=True)
    var = xp.mean((x - mean) ** 2, axis=-1, keepdims=True)
    return (x - mean) / xp.sqrt(var + LN_EPS) * p[f'{name}.weight'] + p[f'{name}.bias']


def self_attention(xp, x, p, name):
    n, length, d = x.shape
    qkv = x @ p[f'{name}.in_proj_weight'].T + p[f'{name}.in_proj_bias']
    q, k, v = (xp.swapaxes(t.reshape(n, length, HEADS, d // HEADS), 1, 2) for t in xp.split(qkv, 3, axis=-1))
    scores = q @ xp.swapaxes(k, -1, -2) * (1 / math.sqrt(d // HEADS))
    weights = xp.exp(scores - xp.max(scores, axis=-1, keepdims=True))
    weights = weights / xp.sum(weights, axis=-1, keepdims=True)
    out = xp.swapaxes(weights @ v, 1, 2).reshape(n, length, d)
    return linear(out, p, f'{name}.out_proj')


def encoder_layer(xp, x, p, name):
    x = layer_norm(xp, x + self_attention(xp, x, p, f'{name}.self_attn'), p, f'{name}.norm1')
    ff = linear(xp.maximum(linear(x, p, f'{name}.linear1'), 0), p, f'{name}.linear2')
    return layer_norm(xp, x + ff, p, f'{name}.norm2')


def jax_loss(xp, p, tokens, labels):
    h = p['embed.weight'][tokens]
    for i in range(LAYERS):
        h = encoder_layer(xp, h, p, f'encoder.layers.{i}')
    logp = mlp.log_softmax(xp, linear(xp.mean(h, axis=1), p, 'head'))
    return -xp.mean(xp.take_along_axis(logp, labels[:, None], axis=-1))


def torch_text_classifier(d):
    """The TextClassifier of width d in PyTorch, attribute names as in the seed model so that state_dicts match."""
    import torch

    class TextClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = torch.nn.Embedding(VOCAB, d)
            layer = torch.nn.TransformerEncoderLayer(d, HEADS, 4 * d, dropout=0.0, batch_first=True)
            self.encoder = torch.nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
            self.head = torch.nn.Linear(d, CLASSES)

        def forward(self, tokens):
            return self.head(self.encoder(self.embed(tokens)).mean(dim=1))
    return TextClassifier()


@register('text_classifier_step', unit='steps/s', rtol=1e-4, atol=1e-5)
def text_classifier_step():
    """Training steps/s of the seed TextClassifier (d 256, 2 layers, seq 64, batch 32, AdamW); checks the first loss."""
    return text_classifier_setups(256)


@register('text_classifier_step_d128', unit='steps/s', rtol=1e-4, atol=1e-5)
def text_classifier_step_d128():
    """Training steps/s of the TextClassifier's d 128 variant (otherwise as text_classifier_step)."""
    return text_classifier_setups(128)


def text_classifier_setups(d):
    """fn_dl jit, jax.jit and torch eager training steps of the TextClassifier of width d, from one set of weights."""
    import fn_dl as fd
    fd.random.seed(0)
    model = seed_model_class()(VOCAB, d, HEADS, LAYERS, CLASSES)
    weights = {k: np.array(v) for k, v in model.state_dict().items()}  # copies, out of reach of donated buffers
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, VOCAB, (BATCH, SEQ), dtype=np.int32)
    labels = rng.integers(0, CLASSES, BATCH, dtype=np.int32)

    def fn_dl_jit():
        import fn_dl.numpy as fnp
        from fn_dl import nn
        from fn_dl.nn import functional as F
        opt = fd.optim.adamw(adamw.LR, adamw.B1, adamw.B2, adamw.EPS, weight_decay=adamw.WD)

        @partial(fd.jit, donate_argnums=(0, 1))
        def step(params, opt_state, tokens, labels):
            def loss_fn(p):
                return F.cross_entropy(nn.functional_call(model, p, tokens), labels)
            loss, grads = fd.value_and_grad(loss_fn)(params)
            updates, opt_state = opt.update(grads, opt_state, params)
            return loss, fd.optim.apply_updates(params, updates), opt_state
        params = {k: fnp.asarray(v) for k, v in weights.items()}
        return looped(step, (params, opt.init(params)), fnp.asarray(tokens), fnp.asarray(labels))

    def jax_jit():
        import jax
        import jax.numpy as jnp

        @partial(jax.jit, donate_argnums=(0, 1, 2))
        def step(p, m, v, count, tokens, labels):
            loss, grads = jax.value_and_grad(partial(jax_loss, jnp))(p, tokens, labels)
            return loss, *adamw.jax_adamw(p, m, v, count, grads)
        state = adamw.jax_adamw_init({k: jnp.asarray(v) for k, v in weights.items()})
        call = looped(step, state, jnp.asarray(tokens), jnp.asarray(labels))
        return lambda: jax.block_until_ready(call())

    def torch_eager():
        import torch
        net = torch_text_classifier(d)
        net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})  # strict: the names must match
        opt = torch.optim.AdamW(net.parameters(), lr=adamw.LR, betas=(adamw.B1, adamw.B2), eps=adamw.EPS,
                                weight_decay=adamw.WD)
        tt, lt = torch.from_numpy(tokens.astype(np.int64)), torch.from_numpy(labels.astype(np.int64))

        def call():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(tt), lt)
            loss.backward()
            opt.step()
            return loss
        return call

    return {'fn_dl jit': fn_dl_jit, 'jax.jit': jax_jit, 'torch eager': torch_eager}

"""The 784-512-512-10 MLP with softmax cross-entropy: an SGD training step and per-sample gradients, eager here
and jitted in jit.py, which reuses these step builders.

Every framework starts from the same NumPy weights, laid out as x @ w + b, so
the checks compare like with like. fn_dl, JAX and HIPS autograd share one loss
written against a NumPy-like namespace `xp`; PyTorch gets its idiomatic one.
"""
from functools import partial

import numpy as np

from benchmarks.registry import register

SIZES = (784, 512, 512, 10)
LAYERS = range(1, len(SIZES))
LR = 0.01


def init_params() -> dict:
    rng = np.random.default_rng(0)
    params = {}
    for k in LAYERS:
        fan_in, fan_out = SIZES[k - 1], SIZES[k]
        params[f'w{k}'] = rng.standard_normal((fan_in, fan_out), dtype=np.float32) * np.float32(np.sqrt(2 / fan_in))
        params[f'b{k}'] = np.zeros(fan_out, np.float32)
    return params


def batch(n: int):
    """Random inputs and one-hot labels (one-hot keeps integer gathers out of the comparison)."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, SIZES[-1], n)
    return rng.standard_normal((n, SIZES[0]), dtype=np.float32), np.eye(SIZES[-1], dtype=np.float32)[labels]


def log_softmax(xp, h):
    z = h - xp.max(h, axis=-1, keepdims=True)
    return z - xp.log(xp.sum(xp.exp(z), axis=-1, keepdims=True))


def loss(xp, params, x, y):
    """Mean softmax cross-entropy; x may be one example or a batch."""
    h = x
    for k in LAYERS:
        h = h @ params[f'w{k}'] + params[f'b{k}']
        if k < LAYERS[-1]:
            h = xp.maximum(h, 0)
    return -xp.mean(xp.sum(y * log_softmax(xp, h), axis=-1))


def torch_loss(params, x, y):
    import torch
    h = x
    for k in LAYERS:
        h = h @ params[f'w{k}'] + params[f'b{k}']
        if k < LAYERS[-1]:
            h = torch.relu(h)
    return -(y * torch.log_softmax(h, dim=-1)).sum(-1).mean()


def sgd(params, grads):
    return {k: p - LR * grads[k] for k, p in params.items()}


def numpy_backprop(params, x, y):
    """Hand-written forward and backward pass for a batch.

    Returns the mean loss and, per layer, its input and the gradient of each
    example's own loss w.r.t. its output; weight gradients are outer products
    of the two, summed (training step) or kept per example (per-sample grads).
    """
    acts = [x]
    for k in LAYERS:
        h = acts[-1] @ params[f'w{k}'] + params[f'b{k}']
        acts.append(np.maximum(h, 0) if k < LAYERS[-1] else h)
    logp = log_softmax(np, acts.pop())
    deltas = [np.exp(logp) - y]
    for k in reversed(LAYERS[1:]):
        deltas.insert(0, (deltas[0] @ params[f'w{k}'].T) * (acts[k - 1] > 0))
    return -(y * logp).sum(axis=-1).mean(), list(zip(acts, deltas))


def sgd_step(value_and_grad, xp):
    """One SGD step, (params, x, y) -> (loss, grads, new params), from a framework's value_and_grad and namespace."""
    vg = value_and_grad(partial(loss, xp))

    def step(params, x, y):
        value, grads = vg(params, x, y)
        return value, grads, sgd(params, grads)
    return step


def stepper(step, params, *data):
    """The timed callable: params advance by step(params, *data) -> (loss, grads, new params); returns (loss, grads)."""
    def call():
        nonlocal params
        value, grads, params = step(params, *data)
        return value, grads
    return call


def torch_stepper(loss_fn, params, x, y):
    """Timed PyTorch steps: loss_fn (eager or torch.compile'd), autograd, then SGD in place as torch.optim.SGD does."""
    import torch

    def step(p, x, y):
        value = loss_fn(p, x, y)
        grads = torch.autograd.grad(value, list(p.values()))
        with torch.no_grad():
            for w, g in zip(p.values(), grads):
                w.add_(g, alpha=-LR)
        return value, dict(zip(p, grads)), p
    pt = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in params.items()}
    return stepper(step, pt, torch.from_numpy(x), torch.from_numpy(y))


@register('mlp_step', unit='steps/s', rtol=1e-3, atol=1e-5)
def mlp_step():
    """Eager training steps/s of the MLP, batch 128, SGD; checks the loss and gradients of the first step."""
    params, (x, y) = init_params(), batch(128)

    def fn_dl():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        return stepper(sgd_step(fd.value_and_grad, fnp), {k: fnp.asarray(v) for k, v in params.items()},
                       fnp.asarray(x), fnp.asarray(y))

    def numpy_by_hand():
        def step(p, x, y):
            value, layers = numpy_backprop(p, x, y)
            grads = {}
            for k, (a, d) in zip(LAYERS, layers):
                grads[f'w{k}'], grads[f'b{k}'] = a.T @ d / len(x), d.mean(axis=0)
            return value, grads, sgd(p, grads)
        return stepper(step, params, x, y)

    def hips_autograd():
        import autograd
        import autograd.numpy as anp
        return stepper(sgd_step(autograd.value_and_grad, anp), params, x, y)

    def jax_eager():
        import jax
        import jax.numpy as jnp
        call = stepper(sgd_step(jax.value_and_grad, jnp), {k: jnp.asarray(v) for k, v in params.items()},
                       jnp.asarray(x), jnp.asarray(y))
        return lambda: jax.block_until_ready(call())

    return {'fn_dl': fn_dl, 'torch eager': partial(torch_stepper, torch_loss, params, x, y),
            'numpy by hand': numpy_by_hand, 'autograd': hips_autograd, 'jax eager': jax_eager}


def per_sample_grads_setups(jit: bool) -> dict:
    """Per-example gradients of the MLP loss, batch 64: fn_dl's vmap(grad), eager or under fd.jit, and its peers."""
    params, (x, y) = init_params(), batch(64)

    def fn_dl():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        g = fd.vmap(fd.grad(partial(loss, fnp)), in_axes=(None, 0, 0))
        g = fd.jit(g) if jit else g
        pa, xa, ya = {k: fnp.asarray(v) for k, v in params.items()}, fnp.asarray(x), fnp.asarray(y)
        return lambda: g(pa, xa, ya)

    def torch_func():
        import torch
        g = torch.func.vmap(torch.func.grad(torch_loss), in_dims=(None, 0, 0))
        pt, xt, yt = {k: torch.from_numpy(v) for k, v in params.items()}, torch.from_numpy(x), torch.from_numpy(y)
        return lambda: g(pt, xt, yt)

    def jax_jit():
        import jax
        import jax.numpy as jnp
        g = jax.jit(jax.vmap(jax.grad(partial(loss, jnp)), in_axes=(None, 0, 0)))
        pj, xj, yj = {k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(x), jnp.asarray(y)
        return lambda: jax.block_until_ready(g(pj, xj, yj))

    def numpy_by_hand():
        # The floor: the same math with batched outer products and no framework at all.
        def call():
            grads = {}
            for k, (a, d) in zip(LAYERS, numpy_backprop(params, x, y)[1]):
                grads[f'w{k}'], grads[f'b{k}'] = a[:, :, None] * d[:, None, :], d
            return grads
        return call

    return {'fn_dl jit' if jit else 'fn_dl': fn_dl, 'torch.func': torch_func, 'jax.jit': jax_jit,
            'numpy by hand': numpy_by_hand}


@register('per_sample_grads', unit='ms', rtol=1e-3, atol=1e-5)
def per_sample_grads():
    """ms per call of per-example gradients of the MLP loss, batch 64: vmap(grad) and its peers."""
    return per_sample_grads_setups(jit=False)

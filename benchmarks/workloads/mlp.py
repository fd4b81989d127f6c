"""The 784-512-512-10 MLP with softmax cross-entropy: an SGD training step and per-sample gradients.

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


def loss(xp, params, x, y):
    """Mean softmax cross-entropy; x may be one example or a batch."""
    h = x
    for k in LAYERS:
        h = h @ params[f'w{k}'] + params[f'b{k}']
        if k < LAYERS[-1]:
            h = xp.maximum(h, 0)
    z = h - xp.max(h, axis=-1, keepdims=True)
    logp = z - xp.log(xp.sum(xp.exp(z), axis=-1, keepdims=True))
    return -xp.mean(xp.sum(y * logp, axis=-1))


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
    z = acts.pop()
    z = z - z.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    deltas = [np.exp(logp) - y]
    for k in reversed(LAYERS[1:]):
        deltas.insert(0, (deltas[0] @ params[f'w{k}'].T) * (acts[k - 1] > 0))
    return -(y * logp).sum(axis=-1).mean(), list(zip(acts, deltas))


def stepper(step, params):
    """The timed callable: params advance by step(params) -> (loss, grads, new params); it returns (loss, grads)."""
    def call():
        nonlocal params
        value, grads, params = step(params)
        return value, grads
    return call


@register('mlp_step', unit='steps/s', rtol=1e-3, atol=1e-5)
def mlp_step():
    """Eager training steps/s of the MLP, batch 128, SGD; checks the loss and gradients of the first step."""
    params, (x, y) = init_params(), batch(128)

    def fn_dl():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        vg = fd.value_and_grad(partial(loss, fnp))
        xa, ya = fnp.asarray(x), fnp.asarray(y)

        def step(p):
            value, grads = vg(p, xa, ya)
            return value, grads, sgd(p, grads)
        return stepper(step, {k: fnp.asarray(v) for k, v in params.items()})

    def torch_eager():
        import torch
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        pt = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in params.items()}

        def step(p):
            value = torch_loss(p, xt, yt)
            grads = torch.autograd.grad(value, list(p.values()))
            with torch.no_grad():
                for w, g in zip(p.values(), grads):
                    w.add_(g, alpha=-LR)  # in place, as torch.optim.SGD does
            return value, dict(zip(p, grads)), p
        return stepper(step, pt)

    def numpy_by_hand():
        def step(p):
            value, layers = numpy_backprop(p, x, y)
            grads = {}
            for k, (a, d) in zip(LAYERS, layers):
                grads[f'w{k}'], grads[f'b{k}'] = a.T @ d / len(x), d.mean(axis=0)
            return value, grads, sgd(p, grads)
        return stepper(step, params)

    def hips_autograd():
        import autograd
        import autograd.numpy as anp
        vg = autograd.value_and_grad(partial(loss, anp))

        def step(p):
            value, grads = vg(p, x, y)
            return value, grads, sgd(p, grads)
        return stepper(step, params)

    def jax_eager():
        import jax
        import jax.numpy as jnp
        vg = jax.value_and_grad(partial(loss, jnp))
        xj, yj = jnp.asarray(x), jnp.asarray(y)

        def step(p):
            value, grads = vg(p, xj, yj)
            return value, grads, jax.block_until_ready(sgd(p, grads))
        return stepper(step, {k: jnp.asarray(v) for k, v in params.items()})

    return {'fn_dl': fn_dl, 'torch eager': torch_eager, 'numpy by hand': numpy_by_hand,
            'autograd': hips_autograd, 'jax eager': jax_eager}


@register('per_sample_grads', unit='ms', rtol=1e-3, atol=1e-5)
def per_sample_grads():
    """ms per call of per-example gradients of the MLP loss, batch 64: vmap(grad) and its peers."""
    params, (x, y) = init_params(), batch(64)

    def fn_dl():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        g = fd.vmap(fd.grad(partial(loss, fnp)), in_axes=(None, 0, 0))
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

    return {'fn_dl': fn_dl, 'torch.func': torch_func, 'jax.jit': jax_jit, 'numpy by hand': numpy_by_hand}

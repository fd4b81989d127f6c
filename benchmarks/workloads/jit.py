"""Compiled code: jitted MLP steps and per-sample gradients, a fusable elementwise chain, the cost of a cache hit
and of a first compilation; fn_dl's fd.jit (the baseline) against jax.jit (the same XLA) and PyTorch.

The MLP workloads reuse mlp.py's model, data and step builders, so eager and jitted rows run the same math.
"""
import warnings
from functools import partial

import numpy as np

from benchmarks.registry import register
from benchmarks.workloads import mlp


@register('mlp_step_jit', unit='steps/s', rtol=1e-3, atol=1e-5)
def mlp_step_jit():
    """Jitted training steps/s of the MLP, batch 128, SGD, params donated; checks the first step's loss and grads."""
    params, (x, y) = mlp.init_params(), mlp.batch(128)

    def fn_dl_jit():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        step = fd.jit(mlp.sgd_step(fd.value_and_grad, fnp), donate_argnums=0)
        return mlp.stepper(step, {k: fnp.asarray(v) for k, v in params.items()}, fnp.asarray(x), fnp.asarray(y))

    def jax_jit():
        import jax
        import jax.numpy as jnp
        step = jax.jit(mlp.sgd_step(jax.value_and_grad, jnp), donate_argnums=0)
        call = mlp.stepper(step, {k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(x), jnp.asarray(y))
        return lambda: jax.block_until_ready(call())

    def torch_compile():
        # torch.compile's training idiom: a compiled forward (AOTAutograd compiles its backward), eager optimiser
        import torch
        return mlp.torch_stepper(torch.compile(mlp.torch_loss), params, x, y)

    torch_eager = partial(mlp.torch_stepper, mlp.torch_loss, params, x, y)
    return {'fn_dl jit': fn_dl_jit, 'jax.jit': jax_jit, 'torch eager': torch_eager, 'torch.compile': torch_compile}


@register('per_sample_grads_jit', unit='ms', rtol=1e-3, atol=1e-5)
def per_sample_grads_jit():
    """ms per call of jit(vmap(grad)) of the MLP loss per example, batch 64, and its peers."""
    return mlp.per_sample_grads_setups(jit=True)


ELEMENTS = 4 * 2 ** 20


def chain(xp, x):
    """12 elementwise ops, three transcendental: a fusing compiler does them in one pass over memory, NumPy in 12."""
    y = xp.sin(x) * 2.0 + 1.0
    y = xp.tanh(y) * x - 0.5
    y = xp.exp(y * -0.5)
    return y / (1.0 + xp.abs(x)) - x


@register('elementwise_chain', unit='ms', rtol=1e-4, atol=1e-5)
def elementwise_chain():
    """ms per chain of 12 elementwise ops (sin, tanh, exp among them) on 4M float32, jitted or eager."""
    x = np.random.default_rng(0).standard_normal(ELEMENTS, dtype=np.float32)

    def fn_dl_jit():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        f, xa = fd.jit(partial(chain, fnp)), fnp.asarray(x)
        return lambda: f(xa)

    def jax_jit():
        import jax
        import jax.numpy as jnp
        f, xj = jax.jit(partial(chain, jnp)), jnp.asarray(x)
        return lambda: f(xj).block_until_ready()

    def torch_compile():
        import torch
        f, xt = torch.compile(partial(chain, torch)), torch.from_numpy(x)
        return lambda: f(xt)

    def torch_eager():
        import torch
        xt = torch.from_numpy(x)
        return lambda: chain(torch, xt)

    return {'fn_dl jit': fn_dl_jit, 'jax.jit': jax_jit, 'torch.compile': torch_compile,
            'numpy': lambda: partial(chain, np, x), 'torch eager': torch_eager}


@register('jit_call_overhead', unit='us')
def jit_call_overhead():
    """µs per cache-hit call of jit(lambda x: x + 1) on float32 (8,): the fixed cost of running compiled code."""
    a = np.arange(8, dtype=np.float32)

    def fn_dl_jit():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        f, x = fd.jit(lambda x: x + 1), fnp.asarray(a)
        return lambda: f(x)

    def jax_jit():
        import jax
        import jax.numpy as jnp
        f, x = jax.jit(lambda x: x + 1), jnp.asarray(a)
        return lambda: f(x).block_until_ready()

    return {'fn_dl jit': fn_dl_jit, 'jax.jit': jax_jit}


@register('compile_time', unit='ms', rtol=1e-3, atol=1e-5)
def compile_time():
    """ms to the first loss and grads of a freshly jitted MLP training step: trace, lower, compile, run once."""
    params, (x, y) = mlp.init_params(), mlp.batch(128)

    # Each setup first compiles an unrelated function: a framework's first compilation also pays one-time costs
    # (JAX's backend and lowering machinery, inductor's imports), which are not the per-function cost measured
    # here. Every timed call builds a new step function, so no framework's cache can serve it.
    def fn_dl_jit():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        fd.jit(lambda a: a * 2.0)(fnp.ones(8))
        p, xa, ya = {k: fnp.asarray(v) for k, v in params.items()}, fnp.asarray(x), fnp.asarray(y)
        return lambda: mlp.stepper(fd.jit(mlp.sgd_step(fd.value_and_grad, fnp)), p, xa, ya)()

    def jax_jit():
        import jax
        import jax.numpy as jnp
        jax.jit(lambda a: a * 2.0)(jnp.ones(8)).block_until_ready()
        p, xj, yj = {k: jnp.asarray(v) for k, v in params.items()}, jnp.asarray(x), jnp.asarray(y)
        return lambda: jax.block_until_ready(mlp.stepper(jax.jit(mlp.sgd_step(jax.value_and_grad, jnp)), p, xj, yj)())

    def torch_compile_cold():
        import torch
        torch.compile(lambda a: a * 2.0)(torch.ones(8))
        warnings.filterwarnings('ignore', 'dynamo_pgo force disabled')  # said again on every cold compile

        def call():
            torch._dynamo.reset()  # dynamo caches its compiled code on torch_loss's code object
            # cold: inductor's on-disk caches (FX graph, AOTAutograd) would serve every call after the first
            with torch.compiler.config.patch(force_disable_caches=True):
                return mlp.torch_stepper(torch.compile(mlp.torch_loss), params, x, y)()
        return call

    return {'fn_dl jit': fn_dl_jit, 'jax.jit': jax_jit, 'torch.compile cold': torch_compile_cold}

"""Eager overhead: the fixed cost of one op and of one small gradient."""
from functools import partial

import numpy as np

from benchmarks.registry import register


@register('eager_add', unit='us')
def eager_add():
    """µs per eager `a + b` on float32 arrays of shape (8,): the dispatch cost of one op."""
    a, b = np.random.default_rng(0).standard_normal((2, 8), dtype=np.float32)

    def fn_dl():
        import fn_dl.numpy as fnp
        x, y = fnp.asarray(a), fnp.asarray(b)
        return lambda: x + y

    def numpy():
        return lambda: a + b

    def torch_eager():
        import torch
        x, y = torch.from_numpy(a), torch.from_numpy(b)
        return lambda: x + y

    def jax_eager():
        import jax.numpy as jnp
        x, y = jnp.asarray(a), jnp.asarray(b)
        return lambda: (x + y).block_until_ready()

    return {'fn_dl': fn_dl, 'numpy': numpy, 'torch eager': torch_eager, 'jax eager': jax_eager}


def tanh_matmul(xp, w, x):
    return xp.sum(xp.tanh(x @ w))


@register('tiny_grad', unit='us')
def tiny_grad():
    """µs per eager gradient of sum(tanh(x @ w)) w.r.t. w, x 4x3, w 3x2: the fixed cost of grad."""
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((3, 2), dtype=np.float32), rng.standard_normal((4, 3), dtype=np.float32)

    def fn_dl():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        g, wa, xa = fd.grad(partial(tanh_matmul, fnp)), fnp.asarray(w), fnp.asarray(x)
        return lambda: g(wa, xa)

    def hips_autograd():
        import autograd
        import autograd.numpy as anp
        g = autograd.grad(partial(tanh_matmul, anp))
        return lambda: g(w, x)

    def torch_eager():
        import torch
        wt, xt = torch.from_numpy(w).requires_grad_(), torch.from_numpy(x)
        return lambda: torch.autograd.grad(tanh_matmul(torch, wt, xt), wt)[0]

    def jax_eager():
        import jax
        import jax.numpy as jnp
        g, wj, xj = jax.grad(partial(tanh_matmul, jnp)), jnp.asarray(w), jnp.asarray(x)
        return lambda: g(wj, xj).block_until_ready()

    return {'fn_dl': fn_dl, 'autograd': hips_autograd, 'torch eager': torch_eager, 'jax eager': jax_eager}

"""Second order: the full Hessian of a scalar function of 256 variables."""
from functools import partial

import numpy as np

from benchmarks.registry import register

N = 256


def tanh_energy(xp, a, x):
    return xp.sum(xp.tanh(a @ x) ** 2)


@register('hessian', unit='ms', rtol=1e-3, atol=1e-4)
def hessian():
    """ms per Hessian of sum(tanh(A @ x)**2), A 256x256, x in R^256 (fn_dl eager, forward-over-reverse; and
    jitted, against jax.jit)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((N, N), dtype=np.float32) / np.float32(np.sqrt(N))
    x = rng.standard_normal(N, dtype=np.float32)

    def fn_dl():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        h, xa = fd.hessian(partial(tanh_energy, fnp, fnp.asarray(a))), fnp.asarray(x)
        return lambda: h(xa)

    def fn_dl_jit():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        h, xa = fd.jit(fd.hessian(partial(tanh_energy, fnp, fnp.asarray(a)))), fnp.asarray(x)
        return lambda: h(xa).block_until_ready()

    def torch_func():
        import torch
        h = torch.func.hessian(partial(tanh_energy, torch, torch.from_numpy(a)))
        xt = torch.from_numpy(x)
        return lambda: h(xt)

    def hips_autograd():
        import autograd
        import autograd.numpy as anp
        h = autograd.hessian(partial(tanh_energy, anp, a))
        return lambda: h(x)

    def numpy_closed_form():
        # With t = tanh(A x): H = A^T diag(2 (1 - t^2)(1 - 3 t^2)) A.
        def call():
            t2 = np.tanh(a @ x) ** 2
            return a.T @ ((2 * (1 - t2) * (1 - 3 * t2))[:, None] * a)
        return call

    def jax_jit():
        import jax
        import jax.numpy as jnp
        h, xj = jax.jit(jax.hessian(partial(tanh_energy, jnp, jnp.asarray(a)))), jnp.asarray(x)
        return lambda: h(xj).block_until_ready()

    return {'fn_dl': fn_dl, 'fn_dl jit': fn_dl_jit, 'torch.func': torch_func, 'autograd': hips_autograd,
            'numpy closed form': numpy_closed_form, 'jax.jit': jax_jit}

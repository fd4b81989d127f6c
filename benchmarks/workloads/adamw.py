"""An AdamW update over a 10M-parameter pytree: the optimiser's cost in a training step.

Each call takes one step from the previous call's parameters and moments with the same
gradients (memory-bound: read parameters, gradients and two moments, write three), and returns
the parameters. The first call of every framework starts from the same NumPy arrays, so the
check compares one AdamW step. No framework donates its buffers, so all pay the same allocations.
"""
import numpy as np

from benchmarks.registry import register

# a transformer-like mix of matrices and vectors: 9,966,592 float32 parameters
SHAPES = {'embed': (8192, 512), 'w_in': (512, 4096), 'b_in': (4096,), 'w_out': (4096, 512), 'b_out': (512,),
          'norm': (512,), 'head': (512, 3072)}
LR, B1, B2, EPS, WD = 1e-3, 0.9, 0.999, 1e-8, 1e-2


def arrays():
    rng = np.random.default_rng(0)
    params = {k: rng.standard_normal(s, dtype=np.float32) * np.float32(0.02) for k, s in SHAPES.items()}
    grads = {k: rng.standard_normal(s, dtype=np.float32) * np.float32(1e-3) for k, s in SHAPES.items()}
    return params, grads


def jax_adamw_init(p):
    """The state (params, m, v, count) of jax_adamw; m and v are distinct buffers, so both can be donated."""
    import jax.numpy as jnp
    m, v = ({k: jnp.zeros_like(x) for k, x in p.items()} for _ in 'mv')
    return p, m, v, jnp.zeros((), jnp.int32)


def jax_adamw(p, m, v, count, g):
    """Optax-free AdamW in JAX: the same math as fd.optim.adamw and torch.optim.AdamW, written out."""
    import jax
    import jax.numpy as jnp
    count = count + 1
    m = jax.tree.map(lambda m, g: B1 * m + (1 - B1) * g, m, g)
    v = jax.tree.map(lambda v, g: B2 * v + (1 - B2) * g * g, v, g)
    c1, c2 = 1 - B1 ** count, 1 - B2 ** count
    p = jax.tree.map(lambda p, m, v: p - LR * ((m / c1) / (jnp.sqrt(v / c2) + EPS) + WD * p), p, m, v)
    return p, m, v, count


def stepper(step, state, grads):
    """The timed callable: state = step(*state, grads); returns the parameters, state[0]."""
    def call():
        nonlocal state
        state = step(*state, grads)
        return state[0]
    return call


@register('adamw_update', unit='ms', rtol=1e-5, atol=1e-7)
def adamw_update():
    """ms per AdamW update (lr 1e-3, weight decay 1e-2) of a 10M-parameter float32 pytree of 7 leaves."""
    params, grads = arrays()

    def fn_dl_jit():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        opt = fd.optim.adamw(LR, B1, B2, EPS, weight_decay=WD)

        @fd.jit
        def step(p, s, g):
            updates, s = opt.update(g, s, p)
            return fd.optim.apply_updates(p, updates), s
        p = {k: fnp.asarray(v) for k, v in params.items()}
        return stepper(step, (p, opt.init(p)), {k: fnp.asarray(v) for k, v in grads.items()})

    def jax_jit():
        import jax
        import jax.numpy as jnp
        p = {k: jnp.asarray(v) for k, v in params.items()}
        call = stepper(jax.jit(jax_adamw), jax_adamw_init(p), {k: jnp.asarray(v) for k, v in grads.items()})
        return lambda: jax.block_until_ready(call())

    def torch_foreach():
        import torch
        p = {k: torch.from_numpy(v.copy()) for k, v in params.items()}
        for k, t in p.items():
            t.grad = torch.from_numpy(grads[k])
        opt = torch.optim.AdamW(list(p.values()), lr=LR, betas=(B1, B2), eps=EPS, weight_decay=WD, foreach=True)

        def call():
            opt.step()
            return p
        return call

    def fn_dl_eager():
        import fn_dl as fd
        import fn_dl.numpy as fnp
        opt = fd.optim.adamw(LR, B1, B2, EPS, weight_decay=WD)

        def step(p, s, g):
            updates, s = opt.update(g, s, p)
            return fd.optim.apply_updates(p, updates), s
        p = {k: fnp.asarray(v) for k, v in params.items()}
        return stepper(step, (p, opt.init(p)), {k: fnp.asarray(v) for k, v in grads.items()})

    return {'fn_dl jit': fn_dl_jit, 'jax.jit': jax_jit, 'torch foreach': torch_foreach, 'fn_dl eager': fn_dl_eager}

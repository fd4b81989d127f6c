"""Per-example gradients with vmap(grad), and DP-SGD (clip each example's gradient, add Gaussian noise).

Run: python examples/per_sample_gradients.py   (add --quick for a smoke run)
"""
import argparse

import numpy as np

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl import nn


def main(quick=False):
    n, d, steps = (64, 10, 20) if quick else (512, 10, 200)
    rng = np.random.default_rng(0)
    Xn = rng.standard_normal((n, d)).astype(np.float32)
    X = fnp.asarray(Xn)
    Y = fnp.asarray((Xn @ rng.standard_normal(d) > 0).astype(np.int32))  # a learnable rule

    fd.random.seed(0)
    model = nn.Sequential(nn.Linear(d, 32), nn.Tanh(), nn.Linear(32, 2))
    params = nn.params(model)

    def loss_one(p, x, y):                   # the loss of ONE example
        logits = nn.functional_call(model, p, x[None])
        return nn.functional.cross_entropy(logits, y[None])

    # vmap over the batch axis of x and y, not over the parameters
    per_example = fd.vmap(fd.grad(loss_one), in_axes=(None, 0, 0))(params, X[:8], Y[:8])
    for i in range(8):
        g = fd.grad(loss_one)(params, X[i], Y[i])
        for k in params:
            np.testing.assert_allclose(np.asarray(per_example[k][i]), np.asarray(g[k]), rtol=1e-4, atol=1e-6)
    print("per-example gradients from vmap(grad) equal a Python loop of grads:",
          {k: tuple(v.shape) for k, v in per_example.items()})

    clip, noise, lr = 1.0, 0.5, 0.1

    @fd.jit
    def dp_sgd_step(params, key, xb, yb):
        grads = fd.vmap(fd.grad(loss_one), in_axes=(None, 0, 0))(params, xb, yb)
        # clip each example's gradient to norm <= clip
        norms = fnp.sqrt(sum(fnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1) for g in fd.tree.leaves(grads)))
        scale = fnp.minimum(1.0, clip / (norms + 1e-6))
        keys = dict(zip(grads, fd.random.split(key, len(grads))))
        noisy = {k: (fnp.sum(g * scale.reshape((-1,) + (1,) * (g.ndim - 1)), axis=0)
                     + noise * clip * fd.random.normal(keys[k], g.shape[1:])) / xb.shape[0]
                 for k, g in grads.items()}
        return {k: params[k] - lr * noisy[k] for k in params}

    def accuracy(p):
        return float(fnp.mean(fnp.argmax(nn.functional_call(model, p, X), axis=1) == Y))

    key = fd.random.key(42)
    before = accuracy(params)
    for _ in range(steps):
        key, sub = fd.random.split(key)
        params = dp_sgd_step(params, sub, X, Y)
    after = accuracy(params)
    print(f"DP-SGD: accuracy {before:.3f} -> {after:.3f}")
    return before, after


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quick', action='store_true', help='small sizes, for a smoke test')
    main(parser.parse_args().quick)

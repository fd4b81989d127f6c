"""A tour of fn_dl's transformations: grad, jvp/vjp, jacobians, hessian, vmap, control flow.

Run: python examples/transforms_tour.py
"""
import numpy as np

import fn_dl as fd
import fn_dl.numpy as fnp


def piecewise(x):
    # ordinary Python control flow on concrete values: eager grad follows the branch taken
    if x > 0:
        return fnp.sin(x) * x
    return x ** 3


def main():
    print("grad of a Python function with an `if`:")
    for x in (2.0, -1.0):
        print(f"  d/dx piecewise({x}) = {float(fd.grad(piecewise)(x)):.4f}")

    x = fnp.asarray([0.5, -1.0, 2.0])
    y, t = fd.jvp(fnp.tanh, (x,), (fnp.ones(3),))
    print("jvp of tanh along ones:", np.round(np.asarray(t), 4))
    y, f_vjp = fd.vjp(lambda v: fnp.sum(v ** 2), x)
    print("vjp of sum(x**2):", np.asarray(f_vjp(fnp.asarray(1.0))[0]))

    f = lambda v: fnp.stack([v[0] * v[1], fnp.sin(v[2])])  # noqa: E731
    print("jacfwd:\n", np.round(np.asarray(fd.jacfwd(f)(x)), 4))
    print("jacrev agrees:", np.allclose(np.asarray(fd.jacrev(f)(x)), np.asarray(fd.jacfwd(f)(x))))
    A = fnp.asarray(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    h = fd.hessian(lambda v: fnp.sum(fnp.tanh(A @ v) ** 2))(x)
    print("hessian of sum(tanh(A @ x)**2), symmetric:", np.allclose(np.asarray(h), np.asarray(h).T, atol=1e-6))

    # per-example gradients: vmap over the batch, grad inside
    w = fnp.asarray([0.1, -0.2, 0.3])
    X = fnp.asarray(np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32))
    Y = fnp.asarray(np.arange(5.0, dtype=np.float32))
    loss = lambda w, x, y: (x @ w - y) ** 2  # noqa: E731
    per_example = fd.vmap(fd.grad(loss), in_axes=(None, 0, 0))(w, X, Y)
    print("per-example gradient shape:", per_example.shape)

    # structured control flow works eagerly and under every transform
    def cumulative(xs):
        return fd.lax.scan(lambda c, v: (c + v, c * v), 0.0, xs)[1]
    print("grad through scan:", np.asarray(fd.grad(lambda v: fnp.sum(cumulative(v)))(x)))
    print("vmap of cond:", np.asarray(fd.vmap(lambda v: fd.lax.cond(v > 0, fnp.sqrt, fnp.abs, v))(x)))
    print("IR of the tangent tape of sin(x) * x:")
    _, f_jvp = fd.linearize(lambda v: fnp.sin(v) * v, x)
    print(f_jvp.program)

    # jit: trace once into fn_dl's IR, lower to StableHLO, compile with XLA
    def f(v):
        return fnp.sum(fnp.tanh(v) ** 2)
    print("the traced program of f:")
    print(fd.make_ir(f)(x))
    print("its StableHLO (what XLA compiles):")
    print(fd.jit(f).lower(x).as_text())
    print("jit(grad(f)) equals grad(f):", np.allclose(np.asarray(fd.jit(fd.grad(f))(x)), np.asarray(fd.grad(f)(x))))


if __name__ == '__main__':
    main()

"""fd.lax control flow: eager, grad (both modes), vmap and their compositions, against Python loops and JAX."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.testing import check_grads

jax.config.update('jax_enable_x64', True)
rng = np.random.default_rng(1)


def r(*shape):
    return rng.standard_normal(shape)


def rnn(ns, lax, h0, xs, w):
    def step(h, x):
        h = ns.tanh(h @ w + x)
        return h, ns.sum(h ** 2)
    return lax.scan(step, h0, xs)


def test_scan_matches_jax_eager_grad_vmap():
    h0, xs, w = r(3), r(5, 3), r(3, 3) * 0.5
    ours = rnn(fnp, fd.lax, *map(fnp.asarray, (h0, xs, w)))
    theirs = rnn(jnp, jax.lax, h0, xs, w)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(o), t, rtol=1e-12)
    loss = lambda ns, lax: lambda h0, xs, w: rnn(ns, lax, h0, xs, w)[1].sum()  # noqa: E731
    g = fd.grad(loss(fnp, fd.lax), argnums=(0, 1, 2))(*map(fnp.asarray, (h0, xs, w)))
    gj = jax.grad(loss(jnp, jax.lax), argnums=(0, 1, 2))(h0, xs, w)
    for o, t in zip(g, gj):
        np.testing.assert_allclose(np.asarray(o), t, rtol=1e-10)
    # staged path (inside vmap) against the eager path
    H0 = r(4, 3)
    vg = fd.vmap(fd.grad(loss(fnp, fd.lax), argnums=2), in_axes=(0, None, None))(*map(fnp.asarray, (H0, xs, w)))
    vj = jax.vmap(jax.grad(loss(jnp, jax.lax), argnums=2), in_axes=(0, None, None))(H0, xs, w)
    np.testing.assert_allclose(np.asarray(vg), vj, rtol=1e-10)


@pytest.mark.parametrize('reverse', [False, True])
def test_scan_check_grads_staged(reverse):
    def f(c0, xs):
        def body(c, x):
            return c * fnp.sin(x) + x, c ** 2 + x
        # inside vmap the scan is staged as a primitive: this exercises its jvp/transpose/batch rules
        return fd.vmap(lambda c: fd.lax.scan(body, c, xs, reverse=reverse))(c0)
    check_grads(f, (fnp.asarray(r(2)), fnp.asarray(r(4))), order=2)


def test_cond_switch():
    assert float(fd.lax.cond(fnp.asarray(1.0) > 0, lambda x: x + 1, lambda x: x - 1, 1.0)) == 2.0
    x = fnp.asarray(r(6))
    f = lambda x: fd.lax.cond(x > 0, lambda v: fnp.sin(v), lambda v: v ** 3, x)  # noqa: E731
    np.testing.assert_allclose(np.asarray(fd.vmap(f)(x)), np.where(np.asarray(x) > 0, np.sin(x), np.asarray(x) ** 3))
    np.testing.assert_allclose(np.asarray(fd.vmap(fd.grad(f))(x)),
                               np.where(np.asarray(x) > 0, np.cos(x), 3 * np.asarray(x) ** 2))
    g = lambda i, v: fd.lax.switch(i, [lambda v: v * 2, lambda v: fnp.exp(v), lambda v: -v], v)  # noqa: E731
    idx = fnp.asarray([0, 1, 2, 5, -1])
    out = fd.vmap(g)(idx, fnp.ones(5))
    np.testing.assert_allclose(np.asarray(out), [2, np.e, -1, -1, 2])
    check_grads(lambda v: fd.vmap(g, in_axes=(None, 0))(fnp.asarray(1), v), (x,), order=2)


def test_cond_branch_mismatch_error():
    with pytest.raises(TypeError, match="branches must return the same"):
        fd.vmap(lambda p: fd.lax.cond(p > 0, lambda: fnp.ones(2), lambda: fnp.ones(3)))(fnp.ones(2))


def test_while_and_fori():
    assert int(fd.lax.while_loop(lambda i: i < 10, lambda i: i + 3, 0)) == 12
    f = lambda x: fd.lax.while_loop(lambda c: c[1] < 10.0, lambda c: (c[0] + 1, c[1] * 1.7 + 0.1), (0, x))  # noqa
    xs = np.abs(r(5)) + 0.1
    n, v = fd.vmap(f)(fnp.asarray(xs))
    for i, x0 in enumerate(xs):
        k, val = 0, x0
        while val < 10.0:
            k, val = k + 1, val * 1.7 + 0.1
        assert int(n[i]) == k and float(v[i]) == pytest.approx(val)
    body = lambda i, v: v * fnp.sin(v) + i  # noqa: E731
    check_grads(lambda v: fd.vmap(lambda u: fd.lax.fori_loop(0, 4, body, u))(v), (fnp.asarray(r(3)),), order=2)
    assert float(fd.lax.fori_loop(0, 4, body, 0.5)) == pytest.approx(float(jax.lax.fori_loop(
        0, 4, lambda i, v: v * jnp.sin(v) + i, 0.5)))


def test_map():
    out = fd.lax.map(lambda v: fnp.sum(v ** 2), fnp.asarray(np.arange(6.0).reshape(3, 2)))
    np.testing.assert_allclose(np.asarray(out), [1, 13, 41])


def test_carry_type_change_error():
    with pytest.raises(TypeError, match="carry must keep its type"):
        fd.vmap(lambda x: fd.lax.scan(lambda c, v: (c.astype('float64') * v, v), fnp.asarray(1.0), x))(
            fnp.ones((2, 3), dtype='float64'))


def test_zero_length_scan_under_jit():
    carry, ys = fd.jit(lambda xs: fd.lax.scan(lambda c, x: (c + x, x * 2), fnp.ones(3), xs))(fnp.zeros((0, 3)))
    assert carry.tolist() == [1.0, 1.0, 1.0] and ys.shape == (0, 3)

"""Forward and reverse mode: values against JAX and finite differences, composition, errors."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.testing import check_grads

jax.config.update('jax_enable_x64', True)
rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape)


# functions written once against a namespace, run with fn_dl and with JAX
FUNCS = {
    'mlp': (lambda ns, w, x: ns.sum(ns.tanh(x @ w) ** 2), lambda: (r(3, 2), r(4, 3))),
    'prod_max': (lambda ns, x: ns.prod(ns.sin(x), axis=0) * ns.max(x), lambda: (r(3, 4),)),
    'logsumexp_like': (lambda ns, x: ns.log(ns.sum(ns.exp(x), axis=1)), lambda: (r(3, 4),)),
    'slices': (lambda ns, x: x[1:, ::-1] * x[:-1, ::2].sum(), lambda: (r(4, 6),)),
    'division': (lambda ns, x, y: x / (1.5 + y ** 2) - ns.sqrt(1 + x * x), lambda: (r(5), r(5))),
    'where': (lambda ns, x: ns.where(x > 0, ns.exp(x), x ** 3), lambda: (r(6),)),
    'concat_reshape': (lambda ns, x: ns.concatenate([x, 2 * x], axis=0).reshape(-1) ** 2, lambda: (r(2, 3),)),
    'one_element': (lambda ns, x, y: ns.sum(x * ns.sin(y), keepdims=True), lambda: (r(3), r(2, 3))),
}


@pytest.mark.parametrize('name', FUNCS)
def test_jacobians_match_jax(name):
    f, make = FUNCS[name]
    args = make()
    nargs = tuple(range(len(args)))
    ours = fd.jacrev(lambda *a: f(fnp, *a), argnums=nargs)(*map(fnp.asarray, args))
    theirs = jax.jacrev(lambda *a: f(jnp, *a), argnums=nargs)(*args)
    fwd = fd.jacfwd(lambda *a: f(fnp, *a), argnums=nargs)(*map(fnp.asarray, args))
    for o, t, w in zip(ours, theirs, fwd):
        np.testing.assert_allclose(np.asarray(o), np.asarray(t), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np.asarray(w), np.asarray(t), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('name', FUNCS)
def test_check_grads_order2(name):
    f, make = FUNCS[name]
    check_grads(lambda *a: f(fnp, *a), tuple(map(fnp.asarray, make())), order=2)


def test_third_order():
    check_grads(lambda x: fnp.sum(fnp.sin(x) * fnp.exp(x) / (1 + x ** 2)), (fnp.asarray(r(3)),), order=3)
    f = lambda x: x ** 4  # noqa: E731
    assert float(fd.grad(fd.grad(fd.grad(f)))(2.0)) == pytest.approx(48.0)


def test_hessian_matches_jax():
    A = r(6, 5)
    x = r(5)
    ours = fd.hessian(lambda x: fnp.sum(fnp.tanh(fnp.asarray(A) @ x) ** 2))(fnp.asarray(x))
    theirs = jax.hessian(lambda x: jnp.sum(jnp.tanh(A @ x) ** 2))(x)
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-10)


def test_hvp_jvp_of_grad():
    f = lambda x: fnp.sum(fnp.sin(x) * x ** 2)  # noqa: E731
    x, v = fnp.asarray(r(4)), fnp.asarray(r(4))
    hvp = fd.jvp(fd.grad(f), (x,), (v,))[1]
    h = fd.hessian(f)(x)
    np.testing.assert_allclose(np.asarray(hvp), np.asarray(h) @ np.asarray(v), rtol=1e-10)


def test_pytree_value_and_grad_has_aux_argnums():
    params = {'w': fnp.asarray(r(3, 2)), 'b': (fnp.asarray(r(2)), None)}
    x = fnp.asarray(r(5, 3))

    def loss(p, x, scale):
        y = x @ p['w'] + p['b'][0]
        return scale * fnp.mean(y ** 2), {'y': y}

    (val, aux), g = fd.value_and_grad(loss, has_aux=True)(params, x, 2.0)
    assert set(g) == {'w', 'b'} and g['b'][1] is None
    jp = {'w': np.asarray(params['w']), 'b': np.asarray(params['b'][0])}
    jg = jax.grad(lambda p: 2.0 * jnp.mean((np.asarray(x) @ p['w'] + p['b']) ** 2))(jp)
    np.testing.assert_allclose(np.asarray(g['w']), jg['w'], rtol=1e-10)
    np.testing.assert_allclose(np.asarray(g['b'][0]), jg['b'], rtol=1e-10)
    assert aux['y'].shape == (5, 2)
    gx, gs = fd.grad(lambda p, x, s: loss(p, x, s)[0], argnums=(1, 2))(params, x, 2.0)
    assert gx.shape == (5, 3) and gs.shape == ()


def test_vjp_and_linearize():
    x = fnp.asarray(r(3))
    y, f_vjp = fd.vjp(lambda x: fnp.sin(x) * 2, x)
    (ct,) = f_vjp(fnp.ones(3, dtype='float64'))
    np.testing.assert_allclose(np.asarray(ct), 2 * np.cos(np.asarray(x)))
    y2, f_jvp = fd.linearize(lambda x: fnp.sin(x) * 2, x)
    np.testing.assert_allclose(np.asarray(f_jvp(fnp.ones(3, dtype='float64'))), 2 * np.cos(np.asarray(x)))
    np.testing.assert_allclose(np.asarray(y2), np.asarray(y))


def test_python_control_flow_under_eager_grad():
    def f(x):
        total = 0.0
        for i in range(3):
            if x > 0:  # a concrete value under eager grad: plain Python works
                total = total + x ** (i + 1)
            else:
                total = total - x
        return total
    assert float(fd.grad(f)(2.0)) == pytest.approx(1 + 4 + 12)
    assert float(fd.grad(f)(-1.0)) == pytest.approx(-3.0)


def test_stop_gradient_and_integer_outputs():
    f = lambda x: fd.stop_gradient(x) * x + fnp.argmax(x).astype('float64')  # noqa: E731
    x = fnp.asarray([1.0, 3.0, 2.0], dtype='float64')
    np.testing.assert_allclose(np.asarray(fd.grad(lambda x: fnp.sum(f(x)))(x)), np.asarray(x))


def test_grad_errors():
    with pytest.raises(TypeError, match=r"grad requires a scalar output; got shape \(3,\); use vjp or jacrev"):
        fd.grad(lambda x: x * 2)(fnp.ones(3))
    with pytest.raises(TypeError, match="int32.*floating"):
        fd.grad(lambda x: x * 2)(fnp.asarray(3))
    with pytest.raises(ValueError, match="argnums"):
        fd.grad(lambda x: x, argnums=3)(1.0)


def test_leaked_tracer_error_names_origin():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2.0
    fd.grad(f)(1.0)
    with pytest.raises(fd.UnexpectedTracerError, match="test_ad.py"):
        leaked[0] + 1.0


def test_while_loop_reverse_mode_error():
    f = lambda x: fd.lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, x)  # noqa: E731
    assert float(fd.jvp(lambda x: fd.vmap(f)(x), (fnp.asarray([1.5]),), (fnp.asarray([1.0]),))[1][0]) == 8.0
    with pytest.raises(TypeError, match="use fd.lax.scan or fd.lax.fori_loop"):
        fd.grad(lambda x: fnp.sum(fd.vmap(f)(x)))(fnp.asarray([1.5]))

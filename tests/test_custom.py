"""custom_jvp, custom_vjp and checkpoint under grad, vmap and their nesting."""
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.testing import check_grads

rng = np.random.default_rng(2)


@fd.custom_jvp
def log1pexp(x):
    return fnp.log(1.0 + fnp.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * (1.0 - 1.0 / (1.0 + fnp.exp(x)))


def test_custom_jvp_stable_and_composes():
    # the rule stays finite where differentiating the formula gives nan (inf / inf)
    assert float(fd.grad(log1pexp)(1000.0)) == 1.0
    x = fnp.asarray(rng.standard_normal(5))
    check_grads(lambda x: log1pexp(x), (x,), order=2)
    np.testing.assert_allclose(np.asarray(fd.vmap(fd.grad(log1pexp))(x)), 1 / (1 + np.exp(-np.asarray(x))))
    np.testing.assert_allclose(np.asarray(fd.grad(lambda v: fnp.sum(fd.vmap(log1pexp)(v)))(x)),
                               1 / (1 + np.exp(-np.asarray(x))))


def test_custom_vjp_rule_is_used_and_batches():
    @fd.custom_vjp
    def scaled(x, k):
        return x * k

    scaled.defvjp(lambda x, k: (x * k, k), lambda k, g: (g * 100.0, None))
    x = fnp.asarray([1.0, 2.0])
    np.testing.assert_allclose(np.asarray(fd.grad(lambda x: fnp.sum(scaled(x, 3.0)))(x)), [100.0, 100.0])
    per = fd.vmap(fd.grad(lambda x: scaled(x, 3.0)))(x)
    np.testing.assert_allclose(np.asarray(per), [100.0, 100.0])
    with pytest.raises(TypeError, match="no forward-mode derivative"):
        fd.jvp(lambda x: fd.vmap(lambda v: scaled(v, 2.0))(x), (x,), (x,))


def test_custom_vjp_bad_bwd_error():
    @fd.custom_vjp
    def f(x):
        return x

    f.defvjp(lambda x: (x, None), lambda res, g: g)  # not a tuple
    with pytest.raises(TypeError, match="one cotangent per"):
        fd.grad(f)(1.0)


def test_checkpoint_recomputes_and_matches():
    f = lambda x: fnp.sum(fnp.sin(fnp.sin(x)) * x)  # noqa: E731
    cf = fd.checkpoint(f)
    x = fnp.asarray(rng.standard_normal(4))
    np.testing.assert_allclose(np.asarray(fd.grad(cf)(x)), np.asarray(fd.grad(f)(x)), rtol=1e-12)
    check_grads(cf, (x,), order=2)
    X = fnp.asarray(rng.standard_normal((3, 4)))
    np.testing.assert_allclose(np.asarray(fd.vmap(fd.grad(cf))(X)), np.asarray(fd.vmap(fd.grad(f))(X)), rtol=1e-12)
    # the tape holds one remat_lin equation (inputs only), not the primal intermediates
    from fn_dl.transforms.ad import _linearize
    _, _, lin, _ = _linearize(cf, [x], None, False)
    assert [e.prim.name for e in lin.program.eqns] == ['remat_lin']

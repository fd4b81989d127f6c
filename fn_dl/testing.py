"""check_grads: test JVPs and VJPs against finite differences and each other, to any order."""
from __future__ import annotations

import numpy as np

from fn_dl import tree as _tree


def _np64(x):
    return np.asarray(x, dtype=np.complex128 if np.iscomplexobj(np.asarray(x)) else np.float64)


def _is_float(x):
    return np.issubdtype(np.asarray(x).dtype, np.inexact) or str(np.asarray(x).dtype) == 'bfloat16'


def _rand_like(rng, x):
    a = np.asarray(x)
    if not _is_float(a):
        return np.zeros(a.shape, a.dtype)
    return rng.standard_normal(a.shape).astype(a.dtype)


def _vdot(xs, ys):
    return sum(float(np.real(np.vdot(_np64(x), _np64(y)))) for x, y in zip(xs, ys))


def _assert_close(name, a, b, atol, rtol):
    for x, y in zip(a, b):
        np.testing.assert_allclose(_np64(x), _np64(y), atol=atol, rtol=rtol, err_msg=name)


def _numerical_jvp(f, args, tangents, eps):
    """Central finite differences of f along `tangents`, evaluated in float64."""
    from fn_dl.numpy import asarray
    shift = lambda s: _tree.map(  # noqa: E731
        lambda x, t: asarray((_np64(x) + s * _np64(t)).astype(np.asarray(x).dtype)) if _is_float(x) else x,
        args, tangents)
    f_plus, f_minus = f(*shift(eps)), f(*shift(-eps))
    return _tree.map(lambda p, m: (_np64(p) - _np64(m)) / (2 * eps), f_plus, f_minus)


def check_jvp(f, args, atol=1e-3, rtol=1e-3, eps=1e-4, rng=None):
    """fd.jvp(f) along a random direction against central finite differences."""
    from fn_dl.numpy import asarray
    from fn_dl.transforms.ad import jvp
    rng = rng or np.random.default_rng(0)
    tangents = _tree.map(lambda x: asarray(_rand_like(rng, x)), args)
    _, t_out = jvp(f, args, tangents)
    numeric = _numerical_jvp(f, args, tangents, eps)
    _assert_close('jvp vs finite differences', _tree.leaves(t_out), _tree.leaves(numeric), atol, rtol)


def check_vjp(f, args, atol=1e-3, rtol=1e-3, eps=1e-4, rng=None):
    """<vjp(ct), t> == <ct, J t> for random t and ct, with J t by finite differences."""
    from fn_dl.numpy import asarray
    from fn_dl.transforms.ad import vjp
    rng = rng or np.random.default_rng(1)
    tangents = _tree.map(lambda x: asarray(_rand_like(rng, x)), args)
    out, f_vjp = vjp(f, *args)
    cts = _tree.map(lambda o: asarray(_rand_like(rng, o)), out)
    ct_in = f_vjp(cts)
    lhs = _vdot(_tree.leaves(ct_in), _tree.leaves(tangents))
    rhs = _vdot(_tree.leaves(cts), _tree.leaves(_numerical_jvp(f, args, tangents, eps)))
    scale = max(1.0, abs(rhs))
    np.testing.assert_allclose(lhs / scale, rhs / scale, atol=atol, rtol=rtol,
                               err_msg='vjp vs finite differences (inner products)')


def check_grads(f, args, order=1, modes=('fwd', 'rev'), atol=None, rtol=None, eps=1e-4):
    """Check f's derivatives up to `order` in forward ('fwd') and reverse ('rev') mode.

    Both modes are compared with central finite differences (reverse mode
    through inner products <vjp(ct), t> = <ct, J t>). Higher orders check the
    derivative functions themselves, as jax.test_util.check_grads does.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.testing import check_grads
    >>> check_grads(lambda x: fnp.sin(x) * x, (fnp.asarray([0.5, 1.0], dtype='float64'),), order=2)
    """
    from fn_dl.numpy import asarray
    from fn_dl.transforms.ad import jvp, vjp
    args = tuple(_tree.map(asarray, a) for a in args)
    dt = [np.asarray(x).dtype for x in _tree.leaves(args)]
    low = any(d in (np.float32, np.complex64) or str(d) in ('bfloat16', 'float16') for d in dt)
    atol = atol if atol is not None else (5e-2 if low else 1e-5)
    rtol = rtol if rtol is not None else (5e-2 if low else 1e-5)
    eps = eps if not low else max(eps, 1e-3)
    rng = np.random.default_rng(0)

    def check(f, args, order):
        if 'fwd' in modes:
            check_jvp(f, args, atol, rtol, eps, rng)
            if order > 1:
                tangents = _tree.map(lambda x: asarray(_rand_like(rng, x)), args)
                check(lambda *a: jvp(f, a, tangents)[1], args, order - 1)
        if 'rev' in modes:
            check_vjp(f, args, atol, rtol, eps, rng)
            if order > 1:
                out = f(*args)
                cts = _tree.map(lambda o: asarray(_rand_like(rng, o)), out)
                check(lambda *a: vjp(f, *a)[1](cts), args, order - 1)

    check(f, args, order)

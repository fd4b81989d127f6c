"""Linear algebra: the primitives of fn_dl.ops.linalg and the fn_dl.numpy.linalg namespace.

Values against NumPy, derivatives against finite differences (check_grads, and complex
directions below) and JAX, vmap against a Python loop, and the error messages.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.ops import linalg as L
from fn_dl.testing import check_grads

from _seeded import SeededInputs

jax.config.update('jax_enable_x64', True)


r = SeededInputs()


@pytest.fixture(autouse=True)
def _seed():
    r.reset()


def spd(n, batch=(), dtype=np.float64):
    a = r(*batch, n, n, dtype=dtype)
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)).astype(dtype)


def wellcond(*shape, dtype=np.float64):
    """Matrices with well separated singular values 1..2 (derivatives of the SVD and friends are smooth)."""
    m, n = shape[-2:]
    k = min(m, n)
    u = np.linalg.qr(r(*shape[:-2], m, m, dtype=dtype))[0][..., :k]
    v = np.linalg.qr(r(*shape[:-2], n, n, dtype=dtype))[0][..., :k]
    return ((u * np.linspace(2, 1, k)) @ np.conj(np.swapaxes(v, -1, -2))).astype(dtype)


def herm(x):
    return (x + fnp.conj(fnp.matrix_transpose(x))) / 2


def close(a, b, tol=1e-10):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def check_complex(f, args, tol=1e-6, eps=1e-6):
    """Derivatives along complex directions, which check_grads does not take: jvp against central
    differences, and vjp against jvp through JAX's pairing <a, b> = Re(sum(a * b))."""
    args = tuple(fnp.asarray(a) for a in args)
    ts = tuple(fnp.asarray(r(*a.shape, dtype=a.dtype)) for a in args)
    out, t_out = fd.jvp(f, args, ts)
    plus = f(*[fnp.asarray(np.asarray(a) + eps * np.asarray(t)) for a, t in zip(args, ts)])
    minus = f(*[fnp.asarray(np.asarray(a) - eps * np.asarray(t)) for a, t in zip(args, ts)])
    leaves = fd.tree.leaves
    for t, p, m in zip(leaves(t_out), leaves(plus), leaves(minus)):
        close(t, (np.asarray(p) - np.asarray(m)) / (2 * eps), tol)
    cts = fd.tree.map(lambda o: fnp.asarray(r(*o.shape, dtype=o.dtype)), out)
    ct_in = fd.vjp(f, *args)[1](cts)
    pair = lambda xs, ys: sum(np.real(np.sum(np.asarray(x) * np.asarray(y))) for x, y in zip(xs, ys))  # noqa: E731
    np.testing.assert_allclose(pair(leaves(ct_in), ts), pair(leaves(cts), leaves(t_out)), rtol=tol, atol=tol)


# --- primitives ---------------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.complex64, np.complex128])
def test_factorizations_reconstruct(dtype):
    tol = 1e-4 if dtype in (np.float32, np.complex64) else 1e-10
    a = fnp.asarray(spd(4, (2,), dtype))
    chol = L.cholesky(a)
    assert chol.dtype == dtype
    close(chol, np.linalg.cholesky(np.asarray(a)), tol)
    v, w = L.eigh(a)
    assert w.dtype == np.finfo(dtype).dtype and v.dtype == dtype
    close(np.asarray(a) @ np.asarray(v), np.asarray(v) * np.asarray(w)[..., None, :], tol * 10)
    for shape in [(2, 5, 3), (3, 5)]:
        x = r(*shape, dtype=dtype)
        q, rr = L.qr(fnp.asarray(x))
        close(np.asarray(q) @ np.asarray(rr), x, tol)
        s, u, vh = L.svd(fnp.asarray(x))
        close((np.asarray(u) * np.asarray(s)[..., None, :]) @ np.asarray(vh), x, tol)
        close(L.svd(fnp.asarray(x), compute_uv=False)[0], np.linalg.svd(x, compute_uv=False), tol)


@pytest.mark.parametrize('shape', [(3, 3), (2, 3, 3), (4, 3), (3, 4)])
def test_lu(shape):
    a = r(*shape)
    lu, pivots, perm = L.lu(fnp.asarray(a))
    m, n = shape[-2:]
    k = min(m, n)
    lu = np.asarray(lu)
    lower = np.tril(lu[..., :, :k], -1) + np.eye(m, k)
    upper = np.triu(lu[..., :k, :])
    close(lower @ upper, np.take_along_axis(a, np.asarray(perm)[..., None], axis=-2))
    assert pivots.dtype == np.int32 and pivots.shape == shape[:-2] + (k,)
    check_grads(lambda a: L.lu(a)[0], (fnp.asarray(a),), order=2)


def _solve_tri(left_side, lower, transpose_a, unit_diagonal):
    return lambda a, b: L.triangular_solve(a, b, left_side=left_side, lower=lower, transpose_a=transpose_a,
                                           unit_diagonal=unit_diagonal)


def test_triangular_solve_values():
    a = r(2, 4, 4) + 4 * np.eye(4)
    for left_side, lower, transpose_a, unit_diagonal in np.ndindex(2, 2, 2, 2):
        b = r(2, 4, 3) if left_side else r(2, 3, 4)
        x = np.asarray(_solve_tri(left_side, lower, transpose_a, unit_diagonal)(fnp.asarray(a), fnp.asarray(b)))
        t = np.tril(a) if lower else np.triu(a)
        if unit_diagonal:
            t[..., range(4), range(4)] = 1
        op = np.swapaxes(t, -1, -2) if transpose_a else t
        close(op @ x if left_side else x @ op, b)


@pytest.mark.parametrize('n', [3, 40])  # the numpy backend takes another path above 32
def test_triangular_solve_backend_paths(n):
    a = r(2, n, n) + n * np.eye(n)
    b = r(2, n, 2)
    for lower, trans in np.ndindex(2, 2):
        x = L.triangular_solve(fnp.asarray(a), fnp.asarray(b), left_side=True, lower=lower, transpose_a=trans)
        t = np.tril(a) if lower else np.triu(a)
        close((np.swapaxes(t, -1, -2) if trans else t) @ np.asarray(x), b, 1e-8)
    singular = a.copy()
    singular[0, 1, 1] = 0
    x = np.asarray(L.triangular_solve(fnp.asarray(singular), fnp.asarray(b), left_side=True, lower=True))
    assert not np.isfinite(x[0]).all() and np.isfinite(x[1]).all()  # inf/nan, as XLA: no error
    x = L.triangular_solve(fnp.asarray(singular), fnp.asarray(b), left_side=True, lower=True, unit_diagonal=True)
    assert np.isfinite(np.asarray(x)).all()  # the diagonal is not read


# b shapes chosen so the JVP takes both of its product orders
@pytest.mark.parametrize('flags,b_shape,order', [((True, True, True, True), (4, 2), 2),
                                                 ((False, False, False, False), (2, 4), 2),
                                                 ((True, False, False, False), (4, 6), 1),
                                                 ((False, True, True, True), (6, 4), 1)])
def test_triangular_solve_gradients(flags, b_shape, order):
    a = r(4, 4) + 4 * np.eye(4)
    check_grads(_solve_tri(*flags), (fnp.asarray(a), fnp.asarray(r(*b_shape))), order=order)


@pytest.mark.parametrize('transpose_a,left_side', [(True, True), (False, False)])
def test_triangular_solve_complex_conjugate(transpose_a, left_side):
    a = r(3, 3, dtype=np.complex128) + 3 * np.eye(3)
    b = r(3, 2, dtype=np.complex128) if left_side else r(2, 3, dtype=np.complex128)
    f = lambda a, b: L.triangular_solve(a, b, left_side=left_side, lower=True, transpose_a=transpose_a,  # noqa
                                        conjugate_a=True)
    op = np.conj(np.tril(a))
    op = op.T if transpose_a else op
    x = np.asarray(f(fnp.asarray(a), fnp.asarray(b)))
    close(op @ x if left_side else x @ op, b)
    check_complex(f, (a, b))


def test_primitive_gradients():
    a = fnp.asarray(r(3, 3))
    check_grads(lambda a: L.cholesky(herm(a) + 3 * fnp.eye(3, dtype='float64')), (a,), order=2)
    for lower in (True, False):
        check_grads(lambda a: L.eigh(herm(a), lower), (a,), order=2)
        # the primitive alone reads one triangle: its derivative must say so too
        check_grads(lambda a: L.eigh(a, lower), (a,))
    check_grads(lambda a: L.cholesky(a @ a.T + 3 * fnp.eye(3, dtype='float64')), (a,))


@pytest.mark.parametrize('shape,full', [((4, 4), True), ((4, 3), False), ((4, 3), True), ((3, 5), False),
                                        ((2, 3, 5), True)])
def test_qr_gradients(shape, full):
    check_grads(lambda a: L.qr(a, full), (fnp.asarray(wellcond(*shape)),), order=2)


@pytest.mark.parametrize('shape', [(3, 3), (4, 3), (2, 3, 4)])
def test_svd_gradients(shape):
    a = fnp.asarray(wellcond(*shape))
    check_grads(lambda a: L.svd(a), (a,), order=2)
    check_grads(lambda a: L.svd(a, compute_uv=False), (a,), order=2)


def test_complex_derivatives():
    a = r(3, 3, dtype=np.complex128)
    check_complex(lambda a: L.cholesky(herm(a) + 4 * fnp.eye(3, dtype='complex128')), (a,))
    check_complex(lambda a: L.lu(a)[0], (a,))
    # eigenvectors carry a free phase per column: check the phase-invariant |v|^2
    check_complex(lambda a: (fnp.linalg.eigvalsh(a), fnp.real(fnp.linalg.eigh(a)[1] * fnp.conj(fnp.linalg.eigh(a)[1]))),
                  (a,))
    for shape, full in [((3, 3), False), ((4, 3), False), ((4, 2), True), ((2, 4), False)]:
        check_complex(lambda a: L.qr(a, full), (wellcond(*shape, dtype=np.complex128),))
    # singular vectors carry a free phase per column: check phase-invariant products of them
    for shape in [(3, 3), (4, 3), (3, 4)]:
        def f(a):
            s, u, vh = L.svd(a)
            return s, u @ vh, u * fnp.conj(u)
        check_complex(f, (wellcond(*shape, dtype=np.complex128),))


@pytest.mark.parametrize('trans', [0, 1, 2])
def test_lu_solve(trans):
    a, b = r(2, 3, 3, dtype=np.complex128), r(2, 3, 2, dtype=np.complex128)
    lu, _, perm = L.lu(fnp.asarray(a))
    op = [a, np.swapaxes(a, -1, -2), np.conj(np.swapaxes(a, -1, -2))][trans]
    close(L.lu_solve(lu, perm, fnp.asarray(b), trans), np.linalg.solve(op, b))


def test_cholesky_not_positive_definite_is_nan():
    a = np.stack([spd(3), -np.eye(3)])
    out = np.asarray(L.cholesky(fnp.asarray(a)))
    close(out[0], np.linalg.cholesky(a[0]))
    assert np.isnan(out[1][np.tril_indices(3)]).all() and (np.triu(out[1], 1) == 0).all()


def _loop_vs_vmap(f, *args, in_axes=0):
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    size = next(a.shape[ax] for a, ax in zip(args, axes) if ax is not None)
    ours = fd.vmap(f, in_axes=axes)(*map(fnp.asarray, args))
    for i in range(size):
        one = f(*[fnp.asarray(a if ax is None else np.take(a, i, axis=ax)) for a, ax in zip(args, axes)])
        for o, e in zip(fd.tree.leaves(ours), fd.tree.leaves(one)):
            close(np.asarray(o)[i], e)


def test_vmap_primitives():
    a = np.stack([spd(3) for _ in range(4)], axis=1)  # vmapped axis 1
    _loop_vs_vmap(L.cholesky, a, in_axes=1)
    _loop_vs_vmap(L.eigh, a, in_axes=1)
    _loop_vs_vmap(L.lu, r(3, 4, 2), in_axes=2)
    _loop_vs_vmap(lambda x: L.qr(x, True), r(4, 2, 3))
    _loop_vs_vmap(L.svd, r(3, 4, 2), in_axes=1)
    t = r(3, 3) + 3 * np.eye(3)
    for left in (True, False):
        solve = lambda a, b: L.triangular_solve(a, b, left_side=left, lower=True)  # noqa: E731
        bs = r(3, 5, 3)
        _loop_vs_vmap(solve, t, bs, in_axes=(None, 1))      # one matrix, batch folded into b
        _loop_vs_vmap(solve, np.stack([t] * 5), r(3, 3), in_axes=(0, None))
        _loop_vs_vmap(solve, np.stack([t] * 5, 2), bs, in_axes=(2, 1))


def test_vmap_of_gradients():
    a = np.stack([spd(3) for _ in range(3)])
    grad = fd.grad(lambda x: fnp.sum(fnp.linalg.cholesky(x) ** 3))
    _loop_vs_vmap(grad, a)
    _loop_vs_vmap(fd.vmap(grad), a[None], in_axes=1)  # vmap of vmap of grad


def test_jit_matches_eager():
    dtype = np.complex128  # complex: the conjugating variants of the solve differ
    a = fnp.asarray(spd(3, (2,), dtype))
    chol = fd.jit(L.cholesky)
    close(chol(a), L.cholesky(a))
    bad = fnp.asarray(np.diag([1, -1]).astype(dtype))
    for f in (L.cholesky, chol):
        assert np.isnan(np.asarray(f(bad))).any() and np.asarray(f(bad))[0, 1] == 0
    t = fnp.asarray((r(2, 3, 3, dtype=dtype) + 3 * np.eye(3)).astype(dtype))
    b = fnp.asarray(r(2, 3, 2, dtype=dtype))

    def every_solve(t, b):  # one program, one compilation
        return [L.triangular_solve(t, b if left_side else fnp.matrix_transpose(b), left_side=left_side,
                                   lower=lower, transpose_a=transpose_a, conjugate_a=conjugate_a)
                for left_side, lower, transpose_a, conjugate_a in np.ndindex(2, 2, 2, 2)]

    for ours, eager in zip(fd.jit(every_solve)(t, b), every_solve(t, b)):
        close(ours, eager)
    g = fd.grad(lambda a: fnp.sum(fnp.real(fnp.linalg.cholesky(a)) ** 3))
    close(fd.jit(g)(a), g(a))


def test_primitive_errors():
    with pytest.raises(ValueError, match=r'cholesky: expects square matrices.*\(3, 2\)'):
        L.cholesky(fnp.ones((3, 2), dtype='float64'))
    with pytest.raises(TypeError, match=r'eigh: supports float32.*float16.*astype'):
        L.eigh(fnp.ones((2, 2), dtype='float16'))
    with pytest.raises(ValueError, match=r'triangular_solve \(left side\).*\(3, 3\).*\(2, 4\)'):
        L.triangular_solve(fnp.eye(3), fnp.ones((2, 4)), left_side=True)
    with pytest.raises(TypeError, match='operands must share a dtype'):
        L.triangular_solve(fnp.eye(3), fnp.ones((3, 3), dtype='float64'))
    with pytest.raises(NotImplementedError, match='full_matrices=False'):
        fd.jvp(lambda a: L.svd(a, full_matrices=True), (fnp.ones((3, 2)),), (fnp.ones((3, 2)),))


# --- the namespace --------------------------------------------------------------------------------

def test_named_results():
    a = fnp.asarray(spd(3))
    assert type(fnp.linalg.eigh(a)).__name__ == 'EighResult'
    assert fnp.linalg.eigh(a)._fields == ('eigenvalues', 'eigenvectors')
    assert fnp.linalg.qr(a)._fields == ('Q', 'R')
    assert fnp.linalg.slogdet(a)._fields == ('sign', 'logabsdet')
    assert fnp.linalg.svd(a)._fields == ('U', 'S', 'Vh')


@pytest.mark.parametrize('dtype', [np.float64, np.complex128])
def test_values_against_numpy(dtype):
    a, b = r(2, 3, 3, dtype=dtype), r(2, 3, 2, dtype=dtype)
    p = spd(3, (2,), dtype)
    fa, fb, fp = fnp.asarray(a), fnp.asarray(b), fnp.asarray(p)
    la = fnp.linalg
    close(la.cholesky(fp), np.linalg.cholesky(p))
    close(la.cholesky(fp, upper=True), np.linalg.cholesky(p, upper=True))
    close(la.det(fa), np.linalg.det(a))
    sign, logabs = la.slogdet(fa)
    close(sign, np.linalg.slogdet(a).sign)
    close(logabs, np.linalg.slogdet(a).logabsdet)
    close(la.inv(fa), np.linalg.inv(a))
    close(la.solve(fa, fb), np.linalg.solve(a, b))
    close(la.solve(fa[0], fb[0, :, 0]), np.linalg.solve(a[0], b[0, :, 0]))
    close(la.solve(fa, fb[0]), np.linalg.solve(a, b[0]))  # batch axes broadcast
    close(la.eigvalsh(fp), np.linalg.eigvalsh(p))
    w, v = la.eigh(fp)
    close(np.asarray(p) @ np.asarray(v), np.asarray(v) * np.asarray(w)[..., None, :])
    close(la.svdvals(fa), np.linalg.svd(a, compute_uv=False))
    u, s, vh = la.svd(fnp.asarray(r(4, 3, dtype=dtype)))
    assert u.shape == (4, 4) and vh.shape == (3, 3)
    x = r(4, 3, dtype=dtype) @ r(3, 5, dtype=dtype)
    close(la.pinv(fnp.asarray(x)), np.linalg.pinv(x))
    assert int(la.matrix_rank(fnp.asarray(x))) == 3
    close(la.matrix_rank(fa), np.linalg.matrix_rank(a))
    for mode in ('reduced', 'complete'):
        q, rr = la.qr(fa, mode=mode)
        close(np.asarray(q) @ np.asarray(rr), a)
    close(la.qr(fa, mode='r'), np.linalg.qr(a, mode='r'))
    close(la.matrix_power(fa, 3), np.linalg.matrix_power(a, 3))
    close(la.matrix_power(fa, -2), np.linalg.matrix_power(a, -2), 1e-8)
    close(la.matrix_power(fa, 0), np.broadcast_to(np.eye(3), a.shape))
    close(la.trace(fa, offset=1), np.trace(a, offset=1, axis1=-2, axis2=-1))
    close(la.diagonal(fa, offset=-1), np.diagonal(a, offset=-1, axis1=-2, axis2=-1))
    close(la.outer(fa[0, 0], fb[0, 0]), np.outer(a[0, 0], b[0, 0]))
    close(la.cross(fa, fa[:, ::-1], axis=-2), np.cross(a, a[:, ::-1], axis=-2))
    close(la.vecdot(fa, fa[::-1]), np.sum(np.conj(a) * a[::-1], axis=-1))
    close(la.matmul(fa, fb), a @ b)
    close(la.tensordot(fa, fb, axes=([0, 1], [0, 1])), np.tensordot(a, b, axes=([0, 1], [0, 1])))
    close(la.matrix_transpose(fa), np.swapaxes(a, -1, -2))
    close(la.cond(fa), np.linalg.cond(a), 1e-8)
    for p_ in (1, -1, np.inf, -np.inf, 'fro', -2):
        close(la.cond(fa, p_), np.linalg.cond(a, p_), 1e-8)


def test_rank_deficient():
    x = r(2, 4, 3) @ r(2, 3, 5)  # rank 3
    close(fnp.linalg.pinv(fnp.asarray(x)), np.linalg.pinv(x))
    close(fnp.linalg.pinv(fnp.asarray(x), rtol=0.5), np.linalg.pinv(x, rtol=0.5))
    close(fnp.linalg.matrix_rank(fnp.asarray(x), rtol=fnp.asarray([1e-3, 0.5])),
          np.linalg.matrix_rank(x, rtol=np.array([1e-3, 0.5])))
    sign, logabsdet = fnp.linalg.slogdet(fnp.asarray([[1.0, 2.0], [2.0, 4.0]]))
    assert float(sign) == 0 and float(logabsdet) == -np.inf
    assert float(fnp.linalg.cond(fnp.asarray([[1.0, 2.0], [2.0, 4.0]]), 1)) == np.inf
    # singular systems give inf/nan, as XLA, rather than an error that would fail a whole batch
    assert not np.isfinite(np.asarray(fnp.linalg.inv(fnp.asarray([[1.0, 2.0], [2.0, 4.0]])))).any()


def test_lstsq():
    a, b = r(5, 3), r(5, 2)
    sol, res, rank, s = fnp.linalg.lstsq(fnp.asarray(a), fnp.asarray(b))
    e_sol, e_res, e_rank, e_s = np.linalg.lstsq(a, b)
    close(sol, e_sol)
    close(res, e_res)
    assert int(rank) == e_rank
    close(s, e_s)
    close(fnp.linalg.lstsq(fnp.asarray(a), fnp.asarray(b[:, 0]))[0], np.linalg.lstsq(a, b[:, 0])[0])


def test_norms():
    x = r(3, 4)
    la = fnp.linalg
    for ord_ in (None, 'fro', 'nuc', 1, -1, 2, -2, np.inf, -np.inf):
        close(la.norm(fnp.asarray(x), ord=ord_), np.linalg.norm(x, ord=ord_))
        close(la.norm(fnp.asarray(x), ord=ord_, axis=(1, 0), keepdims=True),
              np.linalg.norm(x, ord=ord_, axis=(1, 0), keepdims=True))
    for ord_ in (None, 0, 1, 2, 3, 0.5, np.inf, -np.inf, -1):
        close(la.norm(fnp.asarray(x), ord=ord_, axis=1), np.linalg.norm(x, ord=ord_, axis=1))
    for ord_ in ('fro', 'nuc', 1, 2, np.inf):
        close(la.matrix_norm(fnp.asarray(x), ord=ord_, keepdims=True),
              np.linalg.matrix_norm(x, ord=ord_, keepdims=True))
    y = r(2, 3, 4)
    for ord_ in (2, 1, np.inf, 0, 3):
        close(la.vector_norm(fnp.asarray(y), ord=ord_, axis=(0, 2), keepdims=True),
              np.linalg.vector_norm(y, ord=ord_, axis=(0, 2), keepdims=True))
        close(la.vector_norm(fnp.asarray(y), ord=ord_), np.linalg.vector_norm(y, ord=ord_))
    z = r(5, dtype=np.complex128)
    close(la.vector_norm(fnp.asarray(z)), np.linalg.norm(z))
    assert la.vector_norm(fnp.asarray(z.astype(np.complex64))).dtype == np.float32


def test_multi_dot():
    a, b, c, d = r(4), r(4, 6), r(6, 2), r(2)
    close(fnp.linalg.multi_dot([fnp.asarray(a), fnp.asarray(b), fnp.asarray(c), fnp.asarray(d)]),
          np.linalg.multi_dot([a, b, c, d]))
    m = [r(10, 3), r(3, 8), r(8, 2), r(2, 7)]
    close(fnp.linalg.multi_dot([fnp.asarray(x) for x in m]), np.linalg.multi_dot(m))


def test_dtypes():
    a32 = fnp.asarray(spd(3).astype(np.float32))
    for f in (fnp.linalg.inv, fnp.linalg.det, fnp.linalg.cholesky, fnp.linalg.eigvalsh, fnp.linalg.svdvals,
              fnp.linalg.pinv):
        assert f(a32).dtype == np.float32
    assert fnp.linalg.det(fnp.asarray([[1, 2], [3, 4]])).dtype == np.float32
    assert fnp.linalg.eigvalsh(fnp.asarray(spd(3, (), np.complex64))).dtype == np.float32
    assert fnp.linalg.matrix_power(fnp.asarray([[1, 1], [0, 1]]), 2).dtype == np.int32


# --- namespace derivatives -------------------------------------------------------------------------

JAX_CASES = {
    'det': (lambda ns, a: ns.linalg.det(a), (3, 3)),
    'solve': (lambda ns, a: ns.sum(ns.linalg.solve(a, ns.sin(a[:, :2])) ** 3), (3, 3)),
    'eigh': (lambda ns, a: ns.sum(ns.linalg.eigh(a)[1] ** 4) + ns.sum(ns.linalg.eigh(a)[0] ** 3), (3, 3)),
    'svd': (lambda ns, a: ns.sum(ns.linalg.svd(a, full_matrices=False)[1] ** 3)
            + ns.sum(ns.abs(ns.linalg.svd(a, full_matrices=False)[0])), (4, 3)),
}


def test_gradients_match_jax():
    args = {name: r(*shape) for name, (_, shape) in JAX_CASES.items()}
    # one compiled JAX program for all the references: JAX's op-by-op mode is slow to start
    theirs = jax.jit(lambda args: {name: jax.grad(lambda a: JAX_CASES[name][0](jnp, a))(x)
                                   for name, x in args.items()})(args)
    for name, x in args.items():
        ours = fd.grad(lambda a: JAX_CASES[name][0](fnp, a))(fnp.asarray(x))
        np.testing.assert_allclose(np.asarray(ours), theirs[name], rtol=1e-8, atol=1e-10, err_msg=name)


def test_det_gradient_batched_and_second_order():
    a = r(4, 3, 3)
    ours = fd.grad(lambda a: fnp.sum(fnp.linalg.det(a)))(fnp.asarray(a))
    # d det / dA = det(A) A^-T
    close(ours, np.linalg.det(a)[:, None, None] * np.swapaxes(np.linalg.inv(a), -1, -2), 1e-8)
    second = fd.grad(lambda a: fnp.sum(fd.grad(lambda b: fnp.linalg.det(b))(a) ** 2))(fnp.asarray(a[0]))
    close(second, jax.jit(jax.grad(lambda a: jnp.sum(jax.grad(jnp.linalg.det)(a) ** 2)))(a[0]), 1e-8)
    check_grads(fnp.linalg.det, (fnp.asarray(a[0]),), order=2)


def test_namespace_check_grads():
    a = fnp.asarray(r(3, 3))
    b = fnp.asarray(r(3, 2))
    check_grads(lambda a, b: fnp.linalg.solve(a, b), (a, b))
    check_grads(lambda a: fnp.linalg.slogdet(a).logabsdet, (a,))
    check_grads(lambda a: fnp.linalg.lstsq(a, b)[0], (fnp.asarray(wellcond(3, 3)),))
    check_grads(lambda a: fnp.linalg.cross(a[0], a[1]), (a,))
    check_grads(lambda a: fnp.linalg.vector_norm(a, ord=3, axis=0), (a,))
    check_grads(lambda a: fnp.linalg.matrix_power(a, -3), (a,))
    check_grads(lambda a: fnp.linalg.norm(a, ord='nuc'), (fnp.asarray(wellcond(3, 4)),))
    check_grads(fnp.linalg.pinv, (fnp.asarray(wellcond(3, 4)),))
    check_grads(lambda a: fnp.linalg.qr(a), (fnp.asarray(wellcond(4, 3)),))
    check_grads(lambda a: fnp.linalg.eigh(a), (a,))


COMPLEX_CASES = {
    'det': lambda ns, a, b: ns.linalg.det(a),
    'solve': lambda ns, a, b: ns.linalg.solve(a, b),
    'slogdet': lambda ns, a, b: tuple(ns.linalg.slogdet(a)),
}


def test_complex_namespace_against_jax():
    a, b, t = (r(3, 3, dtype=np.complex128), r(3, 2, dtype=np.complex128), r(3, 3, dtype=np.complex128))
    outs = {name: f(fnp, fnp.asarray(a), fnp.asarray(b)) for name, f in COMPLEX_CASES.items()}
    cts = fd.tree.map(lambda o: r(*o.shape, dtype=o.dtype), outs)

    @jax.jit
    def reference(a, t, cts):
        res = {}
        for name, f in COMPLEX_CASES.items():
            out, t_out = jax.jvp(lambda a: f(jnp, a, b), (a,), (t,))
            res[name] = out, t_out, jax.vjp(lambda a: f(jnp, a, b), a)[1](cts[name])[0]
        return res

    theirs = reference(a, t, cts)
    for name, f in COMPLEX_CASES.items():
        out, t_out = fd.jvp(lambda a: f(fnp, a, fnp.asarray(b)), (fnp.asarray(a),), (fnp.asarray(t),))
        ct_in = fd.vjp(lambda a: f(fnp, a, fnp.asarray(b)), fnp.asarray(a))[1](fd.tree.map(fnp.asarray, cts[name]))[0]
        e_out, e_t, e_ct = theirs[name]
        for ours, expected in [(out, e_out), (t_out, e_t), (ct_in, e_ct)]:
            for o, e in zip(fd.tree.leaves(ours), jax.tree.leaves(expected)):
                np.testing.assert_allclose(np.asarray(o), np.asarray(e), rtol=1e-8, atol=1e-10, err_msg=name)


def test_vmap_namespace():
    a, b = r(4, 3, 3), r(4, 3)
    _loop_vs_vmap(fnp.linalg.det, a)
    _loop_vs_vmap(fnp.linalg.solve, a, b)
    _loop_vs_vmap(fnp.linalg.solve, a[0], b, in_axes=(None, 0))
    _loop_vs_vmap(fnp.linalg.inv, a)
    _loop_vs_vmap(fnp.linalg.slogdet, a)
    _loop_vs_vmap(fnp.linalg.eigh, a + np.swapaxes(a, -1, -2))
    _loop_vs_vmap(lambda x: fnp.linalg.norm(x, ord='nuc'), a)
    g = fd.vmap(fd.grad(fnp.linalg.det))(fnp.asarray(a))
    close(g, np.linalg.det(a)[:, None, None] * np.swapaxes(np.linalg.inv(a), -1, -2), 1e-8)


def test_namespace_errors():
    with pytest.raises(ValueError, match=r'linalg.det: expects square matrices.*\(2, 3\)'):
        fnp.linalg.det(fnp.ones((2, 3)))
    with pytest.raises(ValueError, match=r'linalg.inv: expects a matrix.*\(3,\)'):
        fnp.linalg.inv(fnp.ones(3))
    with pytest.raises(ValueError, match=r'linalg.solve: x2 of shape \(4,\) does not fit x1 of shape \(3, 3\)'):
        fnp.linalg.solve(fnp.eye(3), fnp.ones(4))
    with pytest.raises(ValueError, match="mode must be 'reduced', 'complete' or 'r'"):
        fnp.linalg.qr(fnp.eye(3), mode='raw')
    with pytest.raises(ValueError, match='axis -1 must have size 3'):
        fnp.linalg.cross(fnp.ones(2), fnp.ones(2))
    with pytest.raises(ValueError, match='expects 1-d arrays'):
        fnp.linalg.outer(fnp.ones((2, 2)), fnp.ones(2))
    with pytest.raises(TypeError, match='exponent must be an integer'):
        fnp.linalg.matrix_power(fnp.eye(2), 1.5)
    with pytest.raises(ValueError, match='invalid ord'):
        fnp.linalg.norm(fnp.eye(2), ord=3)

"""lu, qr, eigh and svd under jit, lowered to jaxlib's LAPACK custom calls, and the fnp.linalg functions
built on them: jit agrees with eager on values (float32 and float64, single and batched matrices) and on
jit(grad).

Each group of cases is traced into one jitted program (one compile) by a module fixture, and the tests
compare it case by case."""
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.backends.xla import _pjrt
from fn_dl.ops import linalg as L

pytestmark = pytest.mark.skipif(not _pjrt.available(), reason=f"no XLA: {_pjrt.unavailable_reason()}")

DTYPES = [np.float32, np.float64]


def close(out, ref):
    out, ref = np.asarray(out), np.asarray(ref)
    assert out.shape == ref.shape and out.dtype == ref.dtype, (out.shape, out.dtype, ref.shape, ref.dtype)
    if not np.issubdtype(ref.dtype, np.floating):
        np.testing.assert_array_equal(out, ref)
        return
    # XLA's LAPACK build and NumPy's may round differently: relative to the case's largest magnitude
    tol = 2e-5 if ref.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol * max(np.abs(ref).max(initial=0), 1))


def _rank2(*batch):
    """(..., 4, 4) matrices of rank 2."""
    rng = np.random.default_rng(1)
    return rng.standard_normal(batch + (4, 2)) @ rng.standard_normal(batch + (2, 4))


def _flat(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _column_signs(u, k):
    """+-1 per column of u's first k columns, making each column's largest entry positive."""
    u = u[..., :k]
    big = np.take_along_axis(u, np.abs(u).argmax(axis=-2)[..., None, :], axis=-2)
    return np.where(big < 0, -1, 1).astype(u.dtype)


def eigh_signs(v, w):
    """Eigenvectors are unique up to sign (two LAPACK builds may pick either): fix the signs."""
    return [v * _column_signs(v, v.shape[-1]), w]


def svd_signs(s, u, vh):
    """Singular vector pairs are unique up to a shared sign: fix it on u's columns and vh's rows."""
    d = _column_signs(u, s.shape[-1])
    k = s.shape[-1]
    return [s, np.concatenate([u[..., :k] * d, u[..., k:]], axis=-1),
            np.concatenate([vh[..., :k, :] * np.swapaxes(d, -1, -2), vh[..., k:, :]], axis=-2)]


def same(outs):
    return outs


# (id, function of the arguments, argument shapes or arrays, what makes its outputs unique)
PRIM_CASES = (
    [(f"lu-{s}", L.lu, [s], same) for s in [(4, 3), (3, 5), (2, 5, 3)]] +
    [(f"qr-{'complete' if full else 'reduced'}-{s}", lambda x, full=full: L.qr(x, full), [s], same)
     for full in (False, True) for s in [(4, 3), (3, 5), (2, 4, 4), (2, 5, 3), (2, 3, 5)]] +
    [(f"eigh-{'lower' if low else 'upper'}-{s}", lambda x, low=low: L.eigh(x, low), [s], lambda o: eigh_signs(*o))
     for low in (True, False) for s in [(4, 4), (2, 3, 3)]] +
    [(f"svd-uv-{'full' if full else 'thin'}-{s}", lambda x, full=full: L.svd(x, full), [s], lambda o: svd_signs(*o))
     for full in (False, True) for s in [(4, 3), (3, 5), (2, 4, 4), (2, 5, 3)]] +
    [(f"svd-s-{s}", lambda x: L.svd(x, compute_uv=False), [s], same) for s in [(4, 3), (3, 5), (2, 5, 3)]] +
    [('lu-empty', L.lu, [(2, 0, 3)], same), ('svd-full-empty', lambda x: L.svd(x, True, True), [(0, 3)], same)]
)
LINALG_CASES = [
    ('det', fnp.linalg.det, [(2, 4, 4)], same),
    ('det-singular', fnp.linalg.det, [_rank2(2)], same),
    ('slogdet', lambda x: list(fnp.linalg.slogdet(x)), [(2, 4, 4)], same),
    ('solve-vector', fnp.linalg.solve, [(4, 4), (4,)], same),
    ('solve-batched', fnp.linalg.solve, [(2, 4, 4), (2, 4, 3)], same),
    ('inv', fnp.linalg.inv, [(2, 4, 4)], same),
    ('pinv', fnp.linalg.pinv, [(2, 5, 3)], same),
    ('pinv-rank2', fnp.linalg.pinv, [_rank2(2)], same),
    ('lstsq', lambda a, b: list(fnp.linalg.lstsq(a, b)), [(5, 3), (5,)], same),
    ('lstsq-matrix', lambda a, b: list(fnp.linalg.lstsq(a, b)), [(5, 3), (5, 2)], same),
    ('matrix_rank', fnp.linalg.matrix_rank, [(2, 5, 3)], same),
    ('matrix_rank-rank2', fnp.linalg.matrix_rank, [_rank2(3)], same),
    ('norm2', lambda x: fnp.linalg.norm(x, ord=2), [(5, 3)], same),
    ('norm2-batched', lambda x: fnp.linalg.norm(x, ord=2, axis=(1, 2)), [(2, 5, 3)], same),
    ('svd-api', lambda x: list(fnp.linalg.svd(x)), [(2, 3, 5)], lambda o: svd_signs(o[1], o[0], o[2])),
    ('eigh-api', lambda x: list(fnp.linalg.eigh(x)), [(2, 4, 4)], lambda o: eigh_signs(o[1], o[0])),
]
CASES = PRIM_CASES + LINALG_CASES
IDS = [c[0] for c in CASES]


def _args(dtype, specs, seed):
    rng = np.random.default_rng(seed)
    return [fnp.asarray((rng.standard_normal(s) if isinstance(s, tuple) else s).astype(dtype)) for s in specs]


def _sym_loss(v, w, c):
    # eigenvectors are unique up to sign: the loss sees them through v * v only
    return fnp.sum(w * c[..., 0, :]) + fnp.sum(v * v * c)


# (id, loss of the arguments, argument shapes): gradients with respect to every argument
GRAD_CASES = [
    ('det', lambda x: fnp.sum(fnp.linalg.det(x)), [(2, 4, 4)]),
    ('solve', lambda a, b: fnp.sum(fnp.linalg.solve(a, b) ** 2), [(2, 4, 4), (2, 4, 3)]),
    ('eigh', lambda x, c: _sym_loss(*L.eigh(x + fnp.matrix_transpose(x)), c), [(2, 4, 4), (2, 4, 4)]),
    ('eigh-api', lambda x, c: fnp.sum(fnp.linalg.eigvalsh(x) * c[..., 0, :]), [(2, 3, 3), (2, 3, 3)]),
    ('svdvals', lambda x: fnp.sum(fnp.linalg.svdvals(x) ** 3), [(2, 5, 3)]),
]
GRAD_IDS = [c[0] for c in GRAD_CASES]


@pytest.fixture(scope='module', params=DTYPES, ids=lambda d: np.dtype(d).name)
def results(request):
    """Per case: (eager, jit) outputs, forward and grad, each group one jitted program."""
    dtype = request.param
    args = [_args(dtype, c[2], i) for i, c in enumerate(CASES)]
    grad_args = [_args(dtype, c[2], 100 + i) for i, c in enumerate(GRAD_CASES)]

    def forward(args):
        return [_flat(f(*a)) for (_, f, _, _), a in zip(CASES, args)]

    def grads(args):
        return [list(fd.grad(f, argnums=tuple(range(len(a))))(*a)) for (_, f, _), a in zip(GRAD_CASES, args)]
    return {'forward': (forward(args), fd.jit(forward)(args)), 'grad': (grads(grad_args), fd.jit(grads)(grad_args))}


@pytest.mark.parametrize('case', range(len(CASES)), ids=IDS)
def test_linalg_jit_matches_eager(results, case):
    eager, jitted = results['forward']
    unique = CASES[case][3]
    outs, refs = (unique([np.asarray(o) for o in outs]) for outs in (jitted[case], eager[case]))
    assert len(outs) == len(refs)
    for out, ref in zip(outs, refs):
        close(out, ref)


@pytest.mark.parametrize('case', range(len(GRAD_CASES)), ids=GRAD_IDS)
def test_linalg_jit_grad_matches_eager(results, case):
    eager, jitted = results['grad']
    for out, ref in zip(jitted[case], eager[case]):
        close(out, ref)


def test_lapack_custom_call_text():
    """The custom calls JAX emits on CPU: typed FFI, column-major matrices, results in the operand's buffer."""
    x = fnp.ones((2, 4, 3), fnp.float32)
    text = fd.jit(lambda x: [L.lu(x), L.qr(x, True), L.svd(x, False, True)]).lower(x).as_text()
    for target in ['lapack_sgetrf_ffi', 'lapack_sgeqrf_ffi', 'lapack_sorgqr_ffi', 'lapack_sgesdd_ffi']:
        assert f'call_target_name = "{target}", api_version = 4 : i32' in text
    assert ('operand_layouts = [dense<[1, 2, 0]> : tensor<3xindex>], result_layouts = [dense<[1, 2, 0]> : '
            'tensor<3xindex>, dense<[1, 0]> : tensor<2xindex>, dense<[0]> : tensor<1xindex>]') in text
    assert 'backend_config = {mode = 83 : ui8}' in text  # 'S': the thin singular vectors
    assert ('output_operand_aliases = [#stablehlo.output_operand_alias<output_tuple_indices = [0], '
            'operand_index = 0, operand_tuple_indices = []>]') in text
    e = fd.jit(lambda x: L.eigh(x, lower=False)).lower(fnp.ones((3, 3), fnp.float64)).as_text()
    assert '"lapack_dsyevd_ffi"' in e and 'backend_config = {mode = 86 : ui8, uplo = 85 : ui8}' in e


def test_lapack_jit_complex_and_vmap():
    rng = np.random.default_rng(3)
    x = fnp.asarray((rng.standard_normal((2, 4, 3)) + 1j * rng.standard_normal((2, 4, 3))).astype(np.complex64))

    def f(x):
        h = fnp.matmul(fnp.conj(fnp.matrix_transpose(x)), x)
        return [*L.qr(x, True), *L.eigh(h), *L.svd(x), *L.lu(x)]
    for out, ref in zip(fd.jit(f)(x), f(x)):
        np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-4, atol=1e-4)
    for out, ref in zip(fd.jit(fd.vmap(f, in_axes=1))(x), fd.vmap(f, in_axes=1)(x)):
        np.testing.assert_allclose(np.asarray(out), np.asarray(ref), rtol=1e-4, atol=1e-4)


def test_lapack_failure_is_nan_under_jit():
    """A factorization LAPACK reports as failed gives NaNs (as JAX does), the batch's other matrices are kept."""
    x = np.stack([np.eye(3), np.full((3, 3), np.nan)]).astype(np.float32)
    s = np.asarray(fd.jit(lambda x: L.svd(x, compute_uv=False)[0])(fnp.asarray(x)))
    np.testing.assert_array_equal(s[0], np.ones(3, np.float32))
    assert np.isnan(s[1]).all()

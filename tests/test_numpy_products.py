"""fn_dl.numpy's products against NumPy: matmul, tensordot, vecdot, dot, inner, outer, vdot, kron over
their shapes (vectors, batches, broadcasting, empty), dtypes and errors, and under vmap."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.core import dtypes

from _fnp_checks import ALL, assert_close, sample, to64

rng = np.random.default_rng(9)
NUMERIC = [d for d in ALL if not dtypes.is_bool(d)]


def reference(f, *arrays, dtype):
    """NumPy's f in float64/complex128 (exact for our small integers), cast to the result dtype."""
    wide = [to64(a) if dtypes.is_inexact(dtype) else a.astype(np.int64) for a in arrays]
    out = f(*wide)
    return np.asarray(out).astype(dtype) if not dtypes.is_inexact(dtype) else np.asarray(out)


MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                 ((2, 3), (5, 3, 4)), ((2, 1, 2, 3), (4, 3, 2)), ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((3,), (2, 3, 1))]


@pytest.mark.parametrize('dtype', NUMERIC, ids=str)
def test_matmul(dtype):
    for s1, s2 in MATMUL_SHAPES:
        a, b = sample(rng, dtype, s1, -3, 3), sample(rng, dtype, s2, -3, 3)
        got = fnp.matmul(fnp.asarray(a), fnp.asarray(b))
        assert_close(got, reference(np.matmul, a, b, dtype=dtype), dtype, scale=30, err_msg=f'{s1} @ {s2}')
    a, b = sample(rng, dtype, (4, 2, 3)), sample(rng, dtype, (4, 3))
    out = fd.vmap(fnp.matmul)(fnp.asarray(a), fnp.asarray(b))
    assert_close(out, reference(lambda x, y: np.einsum('bij,bj->bi', x, y), a, b, dtype=dtype), dtype, scale=30)


def test_matmul_promotes_and_errors():
    assert fnp.matmul(fnp.ones((2, 2), dtype=fnp.int8), fnp.ones((2, 2), dtype=fnp.uint8)).dtype == np.int16
    assert fnp.matmul(fnp.ones((2, 2)), np.ones((2, 2))).dtype == np.float64
    with pytest.raises(ValueError, match=r'matmul: \(3, 4\) @ \(5, 6\): contracting dimensions 4 and 5 differ'):
        fnp.matmul(fnp.ones((3, 4)), fnp.ones((5, 6)))
    with pytest.raises(ValueError, match=r'\(4,\) @ \(3,\)'):
        fnp.matmul(fnp.ones(4), fnp.ones(3))
    with pytest.raises(ValueError, match='cannot be broadcast'):
        fnp.matmul(fnp.ones((2, 3, 4)), fnp.ones((5, 4, 2)))
    with pytest.raises(ValueError, match='at least 1-d'):
        fnp.matmul(fnp.ones(()), fnp.ones(3))
    with pytest.raises(TypeError, match='boolean'):
        fnp.matmul(fnp.ones((2, 2), dtype=fnp.bool), fnp.ones((2, 2), dtype=fnp.bool))


@pytest.mark.parametrize('dtype', NUMERIC, ids=str)
def test_tensordot(dtype):
    for s1, s2, axes in [((2, 3, 4), (3, 4, 5), 2), ((2, 3, 4), (4, 5), 1), ((2, 3), (2,), 0), ((3,), (3,), 1),
                         ((2, 3, 4), (3, 4, 5), ((1, 2), (0, 1))), ((2, 3, 4), (4, 3, 5), ([2, 1], [0, 1])),
                         ((2, 3), (3, 2), (1, 0)), ((2, 3), (3, 2), ((0,), (1,))), ((0, 3), (3, 2), 1)]:
        a, b = sample(rng, dtype, s1, -2, 2), sample(rng, dtype, s2, -2, 2)
        got = fnp.tensordot(fnp.asarray(a), fnp.asarray(b), axes=axes)
        want = reference(lambda p, q: np.tensordot(p, q, axes=axes), a, b, dtype=dtype)
        assert_close(got, want, dtype, scale=30, err_msg=str(axes))


def test_tensordot_errors():
    with pytest.raises(ValueError, match='tensordot: axis 1 of .* differ in size'):
        fnp.tensordot(fnp.ones((2, 3)), fnp.ones((4, 2)), axes=((1,), (0,)))
    with pytest.raises(ValueError, match='equal lengths'):
        fnp.tensordot(fnp.ones((2, 3)), fnp.ones((2, 3)), axes=((0, 1), (0,)))


@pytest.mark.parametrize('dtype', NUMERIC, ids=str)
def test_vecdot(dtype):
    for s1, s2, axis in [((3,), (3,), -1), ((2, 3), (3,), -1), ((4, 1, 3), (2, 3), -1), ((3, 2), (3, 2), 0),
                         ((0, 3), (3,), -1), ((2, 0), (2, 0), -1)]:
        a, b = sample(rng, dtype, s1, -2, 2), sample(rng, dtype, s2, -2, 2)
        want = reference(lambda p, q: np.sum(np.conj(p) * q, axis=axis), a, b, dtype=dtype)
        assert_close(fnp.vecdot(fnp.asarray(a), fnp.asarray(b), axis=axis), want, dtype, scale=30)


@pytest.mark.parametrize('name', ['dot', 'inner', 'outer', 'vdot', 'kron'])
@pytest.mark.parametrize('dtype', NUMERIC, ids=str)
def test_dot_inner_outer_vdot_kron(name, dtype):
    f, ref = getattr(fnp, name), getattr(np, name)
    shapes = {
        'dot': [((), (3,)), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 3), (4, 3, 5))],
        'inner': [((), (2, 3)), ((3,), (3,)), ((2, 3), (4, 3)), ((2, 2, 3), (3,))],
        'outer': [((3,), (4,)), ((2, 2), (3,)), ((), (2,))],
        'vdot': [((3,), (3,)), ((2, 3), (3, 2))],
        'kron': [((2,), (3,)), ((2, 2), (3, 1)), ((2,), (2, 3)), ((), (2,))],
    }[name]
    for s1, s2 in shapes:
        a, b = sample(rng, dtype, s1, -2, 2), sample(rng, dtype, s2, -2, 2)
        assert_close(f(fnp.asarray(a), fnp.asarray(b)), reference(ref, a, b, dtype=dtype), dtype, scale=30,
                     err_msg=f'{s1} {s2}')


@pytest.mark.parametrize('dtype', NUMERIC, ids=str)
def test_matvec_vecmat(dtype):
    for s1, s2 in [((2, 3), (3,)), ((4, 2, 3), (3,)), ((2, 3), (5, 3)), ((1, 2, 3), (4, 1, 3))]:
        m, v = sample(rng, dtype, s1, -2, 2), sample(rng, dtype, s2, -2, 2)
        want = reference(lambda p, q: np.einsum('...ij,...j->...i', p, q), m, v, dtype=dtype)
        assert_close(fnp.matvec(fnp.asarray(m), fnp.asarray(v)), want, dtype, scale=30)
        mt = np.swapaxes(m, -1, -2)
        want = reference(lambda q, p: np.einsum('...j,...ji->...i', np.conj(q), p), v, mt, dtype=dtype)
        assert_close(fnp.vecmat(fnp.asarray(v), fnp.asarray(mt)), want, dtype, scale=30)
    with pytest.raises(ValueError, match='matvec: needs matrices'):
        fnp.matvec(fnp.ones(3), fnp.ones(3))
    with pytest.raises(ValueError, match='vecmat: needs vectors'):
        fnp.vecmat(fnp.ones(3), fnp.ones(3))


@settings(max_examples=20, derandomize=True, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(signature='(m,n),(n,p)->(m,p)', max_dims=3,
                                                max_side=4),
       dtype=st.sampled_from([np.dtype(np.float64), np.dtype(np.int32)]))
def test_property_matmul_broadcasting(shapes, dtype):
    a, b = (sample(rng, dtype, s, -3, 3) for s in shapes.input_shapes)
    got = fnp.matmul(fnp.asarray(a), fnp.asarray(b))
    want = np.matmul(a, b)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12)

"""einsum and einsum_path against NumPy: subscripts, ellipses, implicit outputs, diagonals, the interleaved form,
contraction orders, one dot_general per pair, gradients and vmap."""
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.core.aval import ShapedArray
from fn_dl.core.staging import stage
from fn_dl.testing import check_grads

rng = np.random.default_rng(0)


def r(*shape, dtype=np.float64):
    if np.issubdtype(dtype, np.integer):
        return rng.integers(-3, 4, shape).astype(dtype)
    x = rng.standard_normal(shape)
    if np.issubdtype(dtype, np.complexfloating):
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


CASES = [
    ('ij,jk->ik', [(3, 4), (4, 5)]),
    ('ij,jk', [(3, 4), (4, 5)]),                   # implicit output
    ('ij,jk,kl->il', [(3, 4), (4, 5), (5, 2)]),
    ('ij,jk,ki->', [(3, 4), (4, 5), (5, 3)]),
    ('ii->i', [(4, 4)]),
    ('ii', [(4, 4)]),                              # trace
    ('iii->i', [(3, 3, 3)]),
    ('iij->j', [(3, 3, 2)]),
    ('iij,jk->ik', [(3, 3, 4), (4, 2)]),
    ('ii,i->i', [(3, 3), (3,)]),
    ('ij->ji', [(3, 4)]),
    ('ij', [(3, 4)]),
    ('ba', [(3, 4)]),                              # implicit output is alphabetical: a transpose
    ('ijk->', [(2, 3, 4)]),
    ('i,i', [(5,), (5,)]),
    ('i,j->ij', [(3,), (4,)]),
    ('ij,ij->ij', [(3, 4), (3, 4)]),
    ('ij,kl->', [(2, 3), (4, 5)]),
    ('bij,bjk->bik', [(2, 3, 4), (2, 4, 5)]),
    ('bij,bjk->kib', [(2, 3, 4), (2, 4, 5)]),
    ('...ij,...jk->...ik', [(2, 3, 4), (1, 4, 5)]),  # broadcasting ellipsis
    ('...ij,jk', [(6, 3, 4), (4, 5)]),
    ('i...->...', [(2, 3, 4)]),
    ('...', [(3, 4)]),
    ('a...,...b->...ab', [(2, 3, 4), (3, 4, 5)]),
    (',->', [(), ()]),
    ('i,->i', [(3,), ()]),
    ('ij,jk->ik', [(0, 4), (4, 5)]),               # empty free axis
    ('ij,jk->ik', [(3, 0), (0, 5)]),               # empty contraction: zeros
    ('abcd,dcbe->ae', [(2, 3, 4, 5), (5, 4, 3, 2)]),
    ('ij,jk,kl,lm,mi->', [(2, 3), (3, 4), (4, 5), (5, 6), (6, 2)]),
]


@pytest.mark.parametrize('subscripts,shapes', CASES)
@pytest.mark.parametrize('dtype', [np.float64, np.float32, np.int32, np.complex128])
def test_einsum_matches_numpy(subscripts, shapes, dtype):
    ops = [r(*s, dtype=dtype) for s in shapes]
    out = fnp.einsum(subscripts, *ops)
    ref = np.einsum(subscripts, *ops)
    assert out.shape == ref.shape and out.dtype == dtype
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-5)


def test_interleaved_form_and_mixed_dtypes():
    a, b = r(3, 4), r(4, 5)
    np.testing.assert_allclose(np.asarray(fnp.einsum(a, [0, 1], b, [1, 2], [0, 2])), a @ b, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(fnp.einsum(a, [0, 1], b, [1, 2])), a @ b, rtol=1e-12)
    c = r(4, 3)
    np.testing.assert_allclose(np.asarray(fnp.einsum(a, [Ellipsis, 1], c, [1, Ellipsis])),
                               np.einsum(a, [Ellipsis, 1], c, [1, Ellipsis]), rtol=1e-12)
    out = fnp.einsum('ij,j->i', a.astype(np.float32), np.arange(4, dtype=np.int32))
    assert out.dtype == np.float32
    assert fnp.einsum('ij,jk->ik', a, b, dtype='float32').dtype == np.float32
    assert fnp.einsum('i,i->', np.arange(3, dtype=np.int8), np.arange(3, dtype=np.int8),
                      preferred_element_type=np.int32).dtype == np.int32


@pytest.mark.parametrize('optimize', [False, True, 'greedy', 'optimal', 'auto', 'path'])
def test_contraction_orders_agree(optimize):
    ops = [r(2, 3), r(3, 4), r(4, 5), r(5, 2)]
    spec = 'ij,jk,kl,li->'
    if optimize == 'path':
        optimize, report = fnp.einsum_path(spec, *ops, optimize='optimal')
        assert optimize[0] == 'einsum_path' and 'Complete contraction' in report
    np.testing.assert_allclose(np.asarray(fnp.einsum(spec, *ops, optimize=optimize)), np.einsum(spec, *ops),
                               rtol=1e-12)


def test_einsum_path_matches_numpy():
    ops = [r(8, 2), r(2, 30), r(30, 3)]
    path, _ = fnp.einsum_path('ij,jk,kl->il', *ops)
    assert path == np.einsum_path('ij,jk,kl->il', *ops, optimize='greedy')[0]


def _count(fun, *shapes):
    prog = stage(lambda *xs: [fun(*xs)], [ShapedArray(s, np.dtype('float64')) for s in shapes])
    return [e.prim.name for e in prog.eqns].count('dot_general')


def test_one_dot_general_per_pair():
    assert _count(lambda a, b, c: fnp.einsum('ij,jk,kl->il', a, b, c), (2, 3), (3, 4), (4, 5)) == 2
    assert _count(lambda a, b: fnp.einsum('bij,bjk->bik', a, b), (2, 3, 4), (2, 4, 5)) == 1
    assert _count(lambda a: fnp.einsum('ii->i', a), (3, 3)) == 0  # a strided slice, no identity matrix


@pytest.mark.parametrize('subscripts,shapes', [c for c in CASES if c[0] in (
    'ij,jk,kl->il', 'ii->i', 'ii', 'iij,jk->ik', 'ii,i->i', 'ij,ij->ij', 'bij,bjk->kib', '...ij,...jk->...ik',
    'a...,...b->...ab', ',->', 'ij,kl->')])
def test_einsum_gradients(subscripts, shapes):
    ops = tuple(fnp.asarray(r(*s)) for s in shapes)
    check_grads(lambda *xs: fnp.einsum(subscripts, *xs), ops, order=2)


def test_einsum_vmap_matches_loop():
    a, b = r(5, 3, 4), r(4, 2)
    f = lambda x, y: fnp.einsum('ij,jk->ki', x, y)  # noqa: E731
    out = fd.vmap(f, in_axes=(0, None))(fnp.asarray(a), fnp.asarray(b))
    np.testing.assert_allclose(np.asarray(out), np.stack([np.einsum('ij,jk->ki', x, b) for x in a]), rtol=1e-12)
    d = r(5, 3, 3)
    out = fd.vmap(lambda x: fnp.einsum('ii->i', x), in_axes=2)(fnp.asarray(np.moveaxis(d, 0, 2)))
    np.testing.assert_allclose(np.asarray(out), np.stack([np.diagonal(x) for x in d]), rtol=1e-12)
    v = r(2, 5)
    out = fd.vmap(lambda x, y: fnp.einsum('ij,jk,k->i', x, b, y), in_axes=(0, 1))(fnp.asarray(a), fnp.asarray(v))
    np.testing.assert_allclose(np.asarray(out), np.einsum('nij,jk,kn->ni', a, b, v), rtol=1e-12)


def test_jit_matches_eager():
    ops = [fnp.asarray(r(3, 3, 4)), fnp.asarray(r(4, 5)), fnp.asarray(r(5, 3))]
    for spec in ('iij,jk,ki->j', 'iij->ij', 'ijk,kl->lji'):
        f = lambda *xs: fnp.einsum(spec, *xs)  # noqa: E731
        n = spec.split('->')[0].count(',') + 1
        np.testing.assert_allclose(np.asarray(fd.jit(f)(*ops[:n])), np.asarray(f(*ops[:n])), rtol=1e-12)


def test_einsum_errors():
    with pytest.raises(ValueError, match="einsum: subscripts 'ij,jk->ik' do not fit operands of shapes"):
        fnp.einsum('ij,jk->ik', fnp.ones((2, 3)), fnp.ones((4, 5)))
    with pytest.raises(ValueError, match='einsum'):
        fnp.einsum('ij->k', fnp.ones((2, 3)))
    with pytest.raises(ValueError, match="einsum: subscripts 'a,a' do not fit"):
        fnp.einsum(fnp.ones(2), [0], fnp.ones(3), [0])
    with pytest.raises(TypeError, match='boolean'):
        fnp.einsum('i,i', fnp.asarray([True]), fnp.asarray([False]))
    with pytest.raises(TypeError, match='out='):
        fnp.einsum('i', fnp.ones(2), out=fnp.ones(2))
    with pytest.raises(ValueError, match='in pairs'):
        fnp.einsum('i,i,i', fnp.ones(2), fnp.ones(2), fnp.ones(2), optimize=['einsum_path', (0, 1, 2)])

"""Sorting: the sort and top_k primitives (values, JVP, vmap) and fnp's sort/argsort/lexsort/searchsorted/
partition/unique, against NumPy."""
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.core.trace import ConcretizationError
from fn_dl.ops.sort import sort as sort_op
from fn_dl.ops.sort import take_along_axis, top_k
from fn_dl.testing import check_grads

rng = np.random.default_rng(0)
DTYPES = [np.float32, np.float64, np.int32, np.uint8, np.int64, np.bool_]


def data(shape, dtype):
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 5, shape).astype(dtype)  # many ties: stability matters
    return rng.standard_normal(shape).astype(dtype)


def distinct(*shape):
    """float64 values far apart, so sort is differentiable and finite differences do not reorder them."""
    return fnp.asarray(rng.permutation(int(np.prod(shape))).reshape(shape) + 0.1 * rng.random(shape))


def loop(f, x, axis=0):
    return np.stack([np.asarray(f(fnp.asarray(np.take(x, i, axis)))) for i in range(x.shape[axis])])


# --- sort / argsort -----------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', DTYPES)
@pytest.mark.parametrize('shape,axis', [((7,), -1), ((3, 5), 0), ((3, 5), 1), ((2, 3, 4), None), ((0,), -1),
                                        ((3, 0), 1), ((), None)])
def test_sort_argsort_match_numpy(dtype, shape, axis):
    x = data(shape, dtype)
    np.testing.assert_array_equal(np.asarray(fnp.sort(x, axis=axis)), np.sort(x, axis=axis))
    np.testing.assert_array_equal(np.asarray(fnp.argsort(x, axis=axis)), np.argsort(x, axis=axis, kind='stable'))


def test_sort_nans_last_and_signed_zeros():
    x = np.array([3.0, np.nan, -np.inf, -0.0, 0.0, np.inf, -np.nan, 1.0])
    np.testing.assert_array_equal(np.asarray(fnp.sort(x)), np.sort(x))
    np.testing.assert_array_equal(np.asarray(fnp.argsort(x)), np.argsort(x, kind='stable'))


@pytest.mark.parametrize('dtype', [np.float64, np.int32])
def test_descending_keeps_ties_in_order(dtype):
    x = data((4, 9), dtype)
    np.testing.assert_array_equal(np.asarray(fnp.sort(x, descending=True)), -np.sort(-x))
    np.testing.assert_array_equal(np.asarray(fnp.argsort(x, axis=0, descending=True)),
                                  np.argsort(-x, axis=0, kind='stable'))


def test_sort_methods_on_arrays():
    x = data((3, 4), np.float32)
    np.testing.assert_array_equal(np.asarray(fnp.asarray(x).sort(axis=0)), np.sort(x, axis=0))
    np.testing.assert_array_equal(np.asarray(fnp.asarray(x).argsort()), np.argsort(x, kind='stable'))


def test_sort_primitive_several_operands_and_keys():
    k1, k2 = data((4, 6), np.int32), data((4, 6), np.int32)
    v = rng.standard_normal((4, 6))
    out = sort_op([fnp.asarray(k1), fnp.asarray(k2), fnp.asarray(v)], 1, num_keys=2)
    perm = np.lexsort((k2, k1), axis=1)
    for o, ref in zip(out, (k1, k2, v)):
        np.testing.assert_array_equal(np.asarray(o), np.take_along_axis(ref, perm, 1))


def test_sort_gradients():
    x, y = distinct(3, 4), distinct(3, 4)
    check_grads(lambda a: sort_op(a, 1), (x,), order=2)
    check_grads(lambda a: sort_op(a, 0), (x,), order=2)
    check_grads(lambda a, b: sort_op([a, b], 1), (x, y), order=2)
    check_grads(lambda a: fnp.sort(a, axis=None, descending=True), (x,), order=2)
    # the gradient routes each cotangent back to where its element came from
    g = fd.grad(lambda a: fnp.sum(fnp.sort(a) * fnp.arange(4.0, dtype='float64')))(x)
    np.testing.assert_array_equal(np.asarray(g), np.argsort(np.argsort(np.asarray(x), 1), 1))


def test_sort_vmap_matches_loop():
    x = rng.standard_normal((5, 3, 4))
    for axis, out_axis in ((0, 0), (1, 1), (2, 0)):
        f = lambda a: fnp.sort(a, axis=out_axis)  # noqa: E731
        np.testing.assert_array_equal(np.asarray(fd.vmap(f, in_axes=axis)(fnp.asarray(x))), loop(f, x, axis))
    keys = rng.integers(0, 3, (5, 6))
    vals = rng.standard_normal(6)
    out = fd.vmap(lambda k, v: sort_op([k, v], 0)[1], in_axes=(0, None))(fnp.asarray(keys), fnp.asarray(vals))
    np.testing.assert_array_equal(np.asarray(out), np.stack([vals[np.argsort(k, kind='stable')] for k in keys]))
    g = fd.vmap(fd.grad(lambda a: fnp.sum(fnp.sort(a)[:2] ** 2)))(distinct(4, 5))
    assert g.shape == (4, 5)


def test_sort_errors():
    with pytest.raises(ValueError, match='sort: operands must have equal shapes'):
        sort_op([fnp.ones(3), fnp.ones(4)])
    with pytest.raises(ValueError, match='num_keys'):
        sort_op([fnp.ones(3)], num_keys=2)
    with pytest.raises(ValueError, match='0-d'):
        sort_op(fnp.asarray(1.0))
    with pytest.raises(ValueError, match='out of bounds'):
        fnp.sort(fnp.ones((2, 3)), axis=2)


def test_take_along_axis_helper():
    x = rng.standard_normal((3, 5))
    idx = rng.integers(0, 5, (3, 2))
    np.testing.assert_array_equal(np.asarray(take_along_axis(fnp.asarray(x), fnp.asarray(idx), 1)),
                                  np.take_along_axis(x, idx, 1))


# --- top_k ---------------------------------------------------------------------------------------

def top_k_reference(x, k):
    """Descending values, ties to the lower index (as XLA), row by row in plain Python."""
    rows = x.reshape(-1, x.shape[-1])
    idx = np.array([sorted(range(len(r)), key=lambda i: (-float(r[i]), i))[:k] for r in rows], dtype=np.int64)
    idx = idx.reshape(x.shape[:-1] + (k,))
    return np.take_along_axis(x, idx, -1), idx


@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int32, np.uint8])
@pytest.mark.parametrize('shape,k', [((7,), 3), ((3, 6), 6), ((2, 3, 4), 1), ((4,), 0)])
def test_top_k_values_and_indices(dtype, shape, k):
    x = data(shape, dtype)
    vals, idx = top_k(fnp.asarray(x), k)
    ref_vals, ref_idx = top_k_reference(x, k)
    np.testing.assert_array_equal(np.asarray(vals), ref_vals)
    np.testing.assert_array_equal(np.asarray(idx), ref_idx)
    assert idx.dtype == np.int32 and vals.dtype == dtype


def test_top_k_nan_first_and_exposed_in_fnp():
    vals, idx = fnp.top_k(fnp.asarray([1.0, np.nan, 3.0, 3.0]), 3)
    np.testing.assert_array_equal(np.asarray(vals), [np.nan, 3.0, 3.0])
    np.testing.assert_array_equal(np.asarray(idx), [1, 2, 3])


def test_top_k_gradients_and_vmap():
    x = distinct(3, 6)
    check_grads(lambda a: top_k(a, 2)[0], (x,), order=2)
    xs = np.asarray(distinct(4, 3, 6))
    out = fd.vmap(lambda a: top_k(a, 2)[0], in_axes=1)(fnp.asarray(xs))
    np.testing.assert_array_equal(np.asarray(out), loop(lambda a: top_k(a, 2)[0], xs, 1))
    with pytest.raises(ValueError, match='top_k: k=7'):
        top_k(fnp.ones(6), 7)
    with pytest.raises(TypeError, match='top_k: needs integer or floating'):
        top_k(fnp.asarray([True, False]), 1)


# --- lexsort / searchsorted / partition ---------------------------------------------------------------

def test_lexsort():
    a, b = data((10,), np.int32), data((10,), np.int32)
    np.testing.assert_array_equal(np.asarray(fnp.lexsort((a, b))), np.lexsort((a, b)))
    m = data((3, 2, 5), np.int32)
    np.testing.assert_array_equal(np.asarray(fnp.lexsort(fnp.asarray(m))), np.lexsort(m))
    np.testing.assert_array_equal(np.asarray(fnp.lexsort((m[0], m[1]), axis=0)), np.lexsort((m[0], m[1]), axis=0))


@pytest.mark.parametrize('method', ['sort', 'compare_all'])
@pytest.mark.parametrize('side', ['left', 'right'])
@pytest.mark.parametrize('dtype', [np.float32, np.int32])
def test_searchsorted(method, side, dtype):
    a = np.sort(data((12,), dtype))
    v = data((3, 4), dtype)
    out = fnp.searchsorted(a, v, side=side, method=method)
    np.testing.assert_array_equal(np.asarray(out), np.searchsorted(a, v, side=side))
    s = rng.permutation(12)
    unsorted = a[np.argsort(s)]
    np.testing.assert_array_equal(np.asarray(fnp.searchsorted(unsorted, v, side=side, sorter=np.argsort(unsorted))),
                                  np.searchsorted(unsorted, v, side=side, sorter=np.argsort(unsorted)))


def test_searchsorted_edges():
    a = np.array([1.0, 2.0, np.nan])
    v = np.array([np.nan, 0.0, 2.0, 5.0])
    np.testing.assert_array_equal(np.asarray(fnp.searchsorted(a, v)), np.searchsorted(a, v))
    assert int(fnp.searchsorted(np.array([], np.float32), 1.0)) == 0
    assert fnp.searchsorted(a, 1.5).shape == ()
    vs = rng.standard_normal((4, 3))
    out = fd.vmap(lambda q: fnp.searchsorted(fnp.asarray(np.sort(vs[0])), q))(fnp.asarray(vs))
    np.testing.assert_array_equal(np.asarray(out), [np.searchsorted(np.sort(vs[0]), q) for q in vs])
    with pytest.raises(ValueError, match='1-d'):
        fnp.searchsorted(fnp.ones((2, 2)), 1.0)


def test_partition_and_argpartition():
    x = data((4, 7), np.float64)
    for kth in (0, 3, -1):
        p = np.asarray(fnp.partition(x, kth, axis=1))
        np.testing.assert_array_equal(p[:, kth], np.partition(x, kth, axis=1)[:, kth])
        ip = np.asarray(fnp.argpartition(x, kth, axis=0))
        np.testing.assert_array_equal(np.take_along_axis(x, ip, 0)[kth], np.partition(x, kth, axis=0)[kth])
    with pytest.raises(ValueError, match='kth 9'):
        fnp.partition(x, 9)


# --- unique -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', [np.float32, np.int32, np.bool_])
@pytest.mark.parametrize('shape', [(12,), (3, 4), (1,), (0,)])
def test_unique_matches_numpy(dtype, shape):
    x = data(shape, dtype)
    got = fnp.unique(x, return_index=True, return_inverse=True, return_counts=True)
    ref = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(np.asarray(g), r)
    np.testing.assert_array_equal(np.asarray(fnp.unique(x)), np.unique(x))


def test_unique_axis_and_nans():
    x = rng.integers(0, 2, (6, 3))
    for g, r in zip(fnp.unique(x, axis=0, return_index=True, return_inverse=True, return_counts=True),
                    np.unique(x, axis=0, return_index=True, return_inverse=True, return_counts=True)):
        np.testing.assert_array_equal(np.asarray(g), r)
    np.testing.assert_array_equal(np.asarray(fnp.unique(x, axis=1)), np.unique(x, axis=1))
    y = np.array([np.nan, 1.0, np.nan, 1.0])
    for eq in (True, False):
        got, ref = fnp.unique(y, return_counts=True, equal_nan=eq), np.unique(y, return_counts=True, equal_nan=eq)
        for g, r in zip(got, ref):
            np.testing.assert_array_equal(np.asarray(g), r)


def test_unique_array_api_functions():
    x = np.array([[3.0, 1.0], [np.nan, 3.0], [np.nan, 2.0]])
    np.testing.assert_array_equal(np.asarray(fnp.unique_values(x)), np.unique_values(x))
    for name in ('unique_counts', 'unique_inverse', 'unique_all'):
        got, ref = getattr(fnp, name)(x), getattr(np, name)(x)
        assert got._fields == ref._fields
        for g, r in zip(got, ref):
            np.testing.assert_array_equal(np.asarray(g), r)


def test_unique_with_size_under_vmap_and_jax_padding():
    x = np.array([[3, 1, 3, 2, 1], [5, 5, 5, 5, 5]])
    f = lambda v: fnp.unique(v, size=4, return_index=True, return_counts=True)  # noqa: E731
    got = fd.vmap(f)(fnp.asarray(x))
    # what jax.numpy.unique(row, size=4, return_index=True, return_counts=True) gives for each row
    expected = ([[1, 2, 3, 1], [5, 5, 5, 5]], [[1, 3, 0, 1], [0, 0, 0, 0]], [[2, 1, 2, 0], [5, 0, 0, 0]])
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(np.asarray(g), e)
    np.testing.assert_array_equal(np.asarray(fnp.unique(x[0], size=2)), [1, 2])
    np.testing.assert_array_equal(np.asarray(fnp.unique(x[0], size=6, fill_value=-1)), [1, 2, 3, -1, -1, -1])
    with pytest.raises(ConcretizationError, match='size='):
        fd.vmap(fnp.unique)(fnp.asarray(x))


def test_unique_values_are_differentiable():
    x = fnp.asarray(np.array([2.0, 1.0, 2.0, 3.0]))
    g = fd.grad(lambda v: fnp.sum(fnp.unique(v) * fnp.asarray([1.0, 10.0, 100.0], dtype='float64')))(x)
    np.testing.assert_array_equal(np.asarray(g), [10.0, 1.0, 0.0, 100.0])  # the first occurrence is kept


def test_jit_matches_eager():
    x = np.array([[3.0, np.nan, -np.inf, -0.0, 0.0, np.inf, -np.nan, 1.0, 3.0]])
    c = np.array([1 + 1j, 1 - 1j, 5j, 1 + 0j, 1 + 1j, np.nan])
    k1, k2 = rng.integers(0, 2, 7), rng.integers(0, 3, 7).astype(np.float32)
    cases = [(lambda a: fnp.sort(a, axis=1), x), (lambda a: fnp.argsort(a, descending=True), x),
             (lambda a: top_k(a, 9), x), (lambda a: fnp.argsort(a), c),
             (lambda a: fnp.unique(a, size=9, return_index=True, return_inverse=True, return_counts=True), x[0]),
             (lambda a: fnp.lexsort((a, fnp.asarray(k1))), k2), (lambda a: fnp.searchsorted(np.sort(x[0]), a), x),
             (lambda a: fnp.argsort(a), rng.random(5) < 0.5)]
    for f, arg in cases:
        for e, j in zip(fd.tree.leaves(f(fnp.asarray(arg))), fd.tree.leaves(fd.jit(f)(fnp.asarray(arg)))):
            np.testing.assert_array_equal(np.asarray(j), np.asarray(e))


def test_top_k_total_order_as_xla():
    x = np.array([-0.0, 0.0, 1.0, -np.nan, np.nan, -np.inf, 1.0])
    vals, idx = top_k(fnp.asarray(x), 7)
    np.testing.assert_array_equal(np.asarray(idx), [4, 2, 6, 1, 0, 5, 3])  # what jax.lax.top_k gives
    for dt in (np.float16, np.float32):
        np.testing.assert_array_equal(np.asarray(top_k(fnp.asarray(x.astype(dt)), 7)[1]), [4, 2, 6, 1, 0, 5, 3])

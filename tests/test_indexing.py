"""Indexing: gather/scatter/dynamic_slice primitives (vs JAX), x[idx] and x.at[idx] (vs NumPy), index functions,
gradients, vmap vs a Python loop, out-of-bounds behaviour and errors."""
import jax
import numpy as np
import pytest
from jax import lax

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.core.ad_util import UndefinedPrimal
from fn_dl.core.trace import ConcretizationError
from fn_dl.ops import indexing as ix
from fn_dl.testing import check_grads

jax.config.update('jax_enable_x64', True)
rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape)


def close(a, b, **kw):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), **kw)


def to_fn(idx):
    """An index with its NumPy arrays turned into fn_dl arrays (lists stay lists)."""
    if isinstance(idx, tuple):
        return tuple(to_fn(i) for i in idx)
    return fnp.asarray(idx) if isinstance(idx, np.ndarray) else idx


X = np.arange(60.).reshape(3, 4, 5)
MASK = np.array([True, False, True])
BASIC = [0, -1, (1, 2), (1, 2, 3), slice(None), slice(1, 3), slice(None, None, -1), slice(None, None, 2),
         (Ellipsis, 1), (None, 0), (slice(1, None), None, -2), (Ellipsis, None), (slice(5, 1, -2), 1, slice(0, 0)),
         (), (Ellipsis, slice(-2, None, -1))]
ADVANCED = [[0, 2], [[0, 1], [2, 2]], ([0, 2], [1, 3]), (slice(None), [1, 0]), ([0, 1], slice(None), [2, 3]),
            (0, slice(None), [1, 2]), (slice(None), 0, [1, 2]), ([-1, 0],), (Ellipsis, [0, -1]),
            ([[0], [1]], [1, 2]), ([0], None, [0]), (slice(None, None, -1), [0, 1]),
            (slice(None, None, 2), [0, 1], slice(1, 4)), [], np.array([2, 0]), (np.array([[1]]), 2),
            (slice(1, 3), np.array([0, 3]), slice(None, None, -2)), ([0, 1], [1, 2], [3, 4])]
MASKS = [MASK, (slice(None), np.array([True, False, True, True])), X > 30, (MASK, 0), (0, X[0] > 7),
         True, False, (Ellipsis, True), ([0, 1], True), np.bool_(True)]


@pytest.mark.parametrize('idx', BASIC + ADVANCED + MASKS, ids=repr)
def test_getitem_matches_numpy(idx):
    x = fnp.asarray(X)
    close(x[to_fn(idx)], X[idx])
    close(x[idx], X[idx])  # host (NumPy / list) indices too


def test_getitem_fast_paths_and_dtypes():
    x = fnp.asarray(X.astype(np.float32))
    assert x[1, :, 2].dtype == np.float32
    idx = fnp.asarray(np.array([2, 0], np.int64))
    close(x[idx], X[[2, 0]])
    close(x[fnp.asarray(np.array([1], np.uint8))], X[[1]])
    close(x[fnp.asarray(2)], X[2])  # a concrete 0-d integer array is a static index


@pytest.mark.parametrize('idx', [0, (1, slice(1, 3)), slice(None, None, 2), (slice(None), [1, 1, 3]),
                                 ([0, 2, 0], slice(None), [4, 4, 4]), (Ellipsis, [0, -1]), MASK,
                                 (slice(None, None, -1), 1), (None, 2, [0, 0]), ([[0], [2]], [1, 1])], ids=repr)
@pytest.mark.parametrize('mode', ['set', 'add', 'mul', 'min', 'max'])
def test_index_update_matches_numpy(idx, mode):
    y = r(*X[idx].shape)
    out = getattr(fnp.asarray(X).at[to_fn(idx)], {'mul': 'multiply'}.get(mode, mode))(fnp.asarray(y))
    ref = X.copy()
    if mode == 'set':
        ref[idx] = y
    else:
        getattr(np, {'add': 'add', 'mul': 'multiply', 'min': 'minimum', 'max': 'maximum'}[mode]).at(ref, idx, y)
    close(out, ref)


def test_index_update_broadcasts_and_casts():
    x = fnp.zeros((3, 4), dtype=fnp.int32)
    out = x.at[:, 1].set(2.7)
    assert out.dtype == np.int32 and out.tolist() == [[0, 2, 0, 0]] * 3
    close(fnp.zeros((2, 3)).at[0].set(fnp.ones((1, 3))), [[1, 1, 1], [0, 0, 0]])
    close(fnp.zeros((2, 3)).at[:, None, 0].add(fnp.asarray([[1.], [2.]])), [[1, 0, 0], [2, 0, 0]])
    close(fnp.zeros(4).at[fnp.asarray([1, 1, 2])].subtract(1.0), [0, -2, -1, 0])
    close(fnp.ones(3).at[fnp.asarray([0, 0])].divide(2.0), [0.25, 1, 1])
    close(fnp.asarray(X).at[1:3, 2].get(), X[1:3, 2])


def test_scatter_add_duplicates_and_out_of_bounds_updates_are_dropped():
    x = fnp.zeros(5)
    idx = fnp.asarray([0, 0, 4, -1, 7, -9])
    out = x.at[idx].add(fnp.asarray([1., 2., 3., 4., 100., 100.]))
    close(out, [3, 0, 0, 0, 7])  # -1 wraps to 4; 7 and -9 are out of bounds and dropped
    close(x.at[idx].set(1.0), [1, 0, 0, 0, 1])
    close(fd.vmap(lambda i: x.at[i].set(1.0))(fnp.asarray([1, 7])), [[0, 1, 0, 0, 0], [0] * 5])  # traced: dropped
    close(fnp.ones(3).at[fnp.asarray([0, 0, 2])].multiply(fnp.asarray([2., 3., 4.])), [6, 1, 4])
    close(fnp.zeros(3).at[fnp.asarray([1, 1])].min(fnp.asarray([-1., -3.])), [0, -3, 0])


def test_out_of_bounds_reads_clamp_and_static_indices_raise():
    x = fnp.asarray([1., 2., 3.])
    close(x[fnp.asarray([5, -7])], [3, 1])  # array values: clamped, as XLA/JAX
    with pytest.raises(IndexError, match='out of bounds'):
        x[3]
    with pytest.raises(IndexError, match='out of bounds'):
        x[[0, 3]]
    with pytest.raises(IndexError, match='out of bounds'):
        x.at[-4].set(0.0)
    close(ix.dynamic_slice(x, [fnp.asarray(2)], [2]), [2, 3])
    close(ix.dynamic_slice(x, [fnp.asarray(-5)], [2]), [1, 2])
    close(ix.dynamic_update_slice(x, fnp.asarray([9., 9.]), [fnp.asarray(7)]), [1, 9, 9])


# --- primitives against a literal reading of the StableHLO spec, and against jax.lax ---------------------

def _start_vector(idx, batch_idx, ivd):
    if ivd == idx.ndim:
        return [idx[tuple(batch_idx)]]
    return list(idx[tuple(batch_idx[:ivd]) + (slice(None),) + tuple(batch_idx[ivd:])])


def _ivd(dn, idx):
    return idx.ndim - 1 if dn.index_vector_dim is None else dn.index_vector_dim


def ref_gather(x, idx, dn, sizes, mode, fill=np.nan):
    """stablehlo.gather, element by element, as the spec words it (plus the 'fill' mode)."""
    ivd = _ivd(dn, idx)
    batch_shape = [s for i, s in enumerate(idx.shape) if i != ivd]
    windows = [d for d in range(x.ndim) if d not in dn.collapsed_slice_dims + dn.operand_batching_dims]
    it_b, it_w = iter(batch_shape), iter(sizes[d] for d in windows)
    out_shape = [next(it_w) if i in dn.offset_dims else next(it_b) for i in range(len(batch_shape) + len(windows))]
    out = np.empty(out_shape, x.dtype)
    for o in np.ndindex(*out_shape):
        b = [o[i] for i in range(len(o)) if i not in dn.offset_dims]
        start, ok = [0] * x.ndim, True
        for s, d in zip(_start_vector(idx, b, ivd), dn.start_index_map):
            ok &= 0 <= s <= x.shape[d] - sizes[d]
            start[d] = min(max(s, 0), x.shape[d] - sizes[d])
        for od, sd in zip(dn.operand_batching_dims, dn.start_indices_batching_dims):
            start[od] += b[sd if sd < ivd else sd - 1]
        for d, k in zip(windows, [o[i] for i in dn.offset_dims]):
            start[d] += k
        out[o] = x[tuple(start)] if ok or mode == 'clip' else fill
    return out


def ref_scatter(x, idx, upd, dn, combine, mode):
    """stablehlo.scatter, one update element at a time in order (so with repeats, the last 'set' wins)."""
    ivd = _ivd(dn, idx)
    windows = [d for d in range(x.ndim) if d not in dn.inserted_window_dims + dn.input_batching_dims]
    wsize = dict(zip(windows, [upd.shape[u] for u in dn.update_window_dims]))
    out = x.copy()
    for u in np.ndindex(*upd.shape):
        b = [u[i] for i in range(len(u)) if i not in dn.update_window_dims]
        pos, ok = [0] * x.ndim, True
        for s, d in zip(_start_vector(idx, b, ivd), dn.scatter_dims_to_operand_dims):
            hi = x.shape[d] - wsize.get(d, 1)
            ok &= 0 <= s <= hi
            pos[d] = min(max(s, 0), hi) if mode == 'clip' else s
        for od, sd in zip(dn.input_batching_dims, dn.scatter_indices_batching_dims):
            pos[od] += b[sd if sd < ivd else sd - 1]
        for d, k in zip(windows, [u[i] for i in dn.update_window_dims]):
            pos[d] += k
        if ok or mode == 'clip':
            out[tuple(pos)] = combine(out[tuple(pos)], upd[u])
    return out


GATHERS = [  # operand shape, indices shape, dnums, slice sizes
    ((5, 6, 7), (4, 3, 2), ix.GatherDimensionNumbers((2, 3), (0,), (0, 2)), (1, 6, 3)),
    ((5, 6, 7), (4, 1), ix.GatherDimensionNumbers((0, 1, 2), (), (1,)), (5, 2, 7)),
    ((5, 6, 7), (6, 3, 1), ix.GatherDimensionNumbers((2,), (0,), (0,), (1,), (0,)), (1, 1, 7)),
    ((4, 5), (2, 4, 1), ix.GatherDimensionNumbers((), (1,), (1,), (0,), (1,)), (1, 1)),
    ((4, 5), (2, 3), ix.GatherDimensionNumbers((1,), (0,), (0, 1), index_vector_dim=0), (1, 2)),
    ((4, 5), (2, 3), ix.GatherDimensionNumbers((2,), (0,), (0,), index_vector_dim=2), (1, 5)),
    ((4, 5, 2), (3, 2, 4), ix.GatherDimensionNumbers((1,), (2,), (1, 2), (0,), (2,), index_vector_dim=1), (1, 3, 1)),
    ((), (3, 0), ix.GatherDimensionNumbers((), (), ()), ()),
]


@pytest.mark.parametrize('case', range(len(GATHERS)))
@pytest.mark.parametrize('mode', ['clip', 'fill'])
def test_gather_matches_spec(case, mode):
    xs, ishape, dn, sizes = GATHERS[case]
    x = r(*xs)
    idx = rng.integers(-2, max(xs, default=1) + 2, ishape)
    out = ix.gather(fnp.asarray(x), fnp.asarray(idx), dn, sizes, mode=mode)
    close(out, ref_gather(x, idx, dn, sizes, mode))


SCATTERS = [  # operand, indices, updates shapes, dnums
    ((5, 6, 7), (4, 2), (4, 6, 3), ix.ScatterDimensionNumbers((1, 2), (0,), (0, 2))),
    ((5, 6, 7), (6, 3, 1), (6, 3, 7), ix.ScatterDimensionNumbers((2,), (0,), (0,), (1,), (0,))),
    ((6,), (8, 1), (8,), ix.ScatterDimensionNumbers((), (0,), (0,))),
    ((4, 5), (2, 3), (3, 2), ix.ScatterDimensionNumbers((1,), (0,), (0, 1), index_vector_dim=0)),
    ((4, 5, 2), (3, 2, 4), (3, 3, 4), ix.ScatterDimensionNumbers((1,), (2,), (1, 2), (0,), (2,), index_vector_dim=1)),
]
COMBINE = {'scatter': lambda a, b: b, 'scatter_add': np.add, 'scatter_mul': np.multiply, 'scatter_min': np.minimum,
           'scatter_max': np.maximum}


@pytest.mark.parametrize('name', list(COMBINE))
@pytest.mark.parametrize('case', range(len(SCATTERS)))
@pytest.mark.parametrize('mode', ['drop', 'clip'])
def test_scatter_matches_spec(name, case, mode):
    xs, ishape, us, dn = SCATTERS[case]
    x, upd = r(*xs), r(*us)
    idx = rng.integers(-2, max(xs) + 2, ishape)
    out = getattr(ix, name)(fnp.asarray(x), fnp.asarray(idx), fnp.asarray(upd), dn, mode=mode)
    close(out, ref_scatter(x, idx, upd, dn, COMBINE[name], mode))


def test_gather_and_scatter_match_lax():
    xs, ishape, dn, sizes = GATHERS[2]
    x, idx = r(*xs), rng.integers(0, 5, ishape)
    jdn = lax.GatherDimensionNumbers(dn.offset_dims, dn.collapsed_slice_dims, dn.start_index_map,
                                     dn.operand_batching_dims, dn.start_indices_batching_dims)
    close(ix.gather(fnp.asarray(x), fnp.asarray(idx), dn, sizes), lax.gather(x, idx, jdn, sizes, mode='clip'))
    xs, ishape, us, dn = SCATTERS[0]
    x, idx, upd = r(*xs), rng.integers(-1, 6, ishape), r(*us)
    jdn = lax.ScatterDimensionNumbers(dn.update_window_dims, dn.inserted_window_dims, dn.scatter_dims_to_operand_dims,
                                      dn.input_batching_dims, dn.scatter_indices_batching_dims)
    close(ix.scatter_add(fnp.asarray(x), fnp.asarray(idx), fnp.asarray(upd), dn),
          lax.scatter_add(x, idx, upd, jdn, mode='drop'))


def test_primitive_errors_name_the_op():
    x, idx = fnp.ones((3, 4)), fnp.asarray([[0], [1]])
    with pytest.raises(ValueError, match='gather: offset_dims'):
        ix.gather(x, idx, ix.GatherDimensionNumbers((2,), (0,), (0,)), (1, 4))
    with pytest.raises(ValueError, match='gather: collapsed_slice_dims'):
        ix.gather(x, idx, ix.GatherDimensionNumbers((1,), (0,), (0,)), (2, 4))
    with pytest.raises(TypeError, match='gather: indices must be integers'):
        ix.gather(x, fnp.asarray([[0.]]), ix.GatherDimensionNumbers((1,), (0,), (0,)), (1, 4))
    dn = ix.ScatterDimensionNumbers((1,), (0,), (0,))
    with pytest.raises(TypeError, match="scatter_add: updates must have the operand's dtype"):
        ix.scatter_add(x, idx, fnp.ones((2, 4), dtype=fnp.int32), dn)
    with pytest.raises(ValueError, match='scatter: the scatter axes of updates'):
        ix.scatter(x, idx, fnp.ones((3, 4)), dn)
    with pytest.raises(TypeError, match='dynamic_slice: start indices must be integer scalars'):
        ix.dynamic_slice(x, [fnp.asarray(0.), 0], [1, 1])


# --- index functions against NumPy ------------------------------------------------------------

def test_take():
    a = r(3, 4)
    idx = np.array([[0, -1], [2, 1]])
    for axis in (None, 0, 1, -1):
        close(fnp.take(fnp.asarray(a), fnp.asarray(idx), axis=axis), np.take(a, idx, axis=axis))
    oob = np.array([0, 5, -6])
    close(fnp.take(fnp.asarray(a), fnp.asarray(oob), axis=1, mode='clip'), np.take(a, oob, axis=1, mode='clip'))
    close(fnp.take(fnp.asarray(a), fnp.asarray(oob), axis=1, mode='wrap'), np.take(a, oob, axis=1, mode='wrap'))
    filled = fnp.take(fnp.asarray(a), fnp.asarray(oob), axis=1)
    assert np.isnan(np.asarray(filled)[:, 1:]).all()
    close(fnp.take(fnp.asarray([1, 2]), fnp.asarray([0, 2]), fill_value=-1), [1, -1])
    assert fnp.asarray(a).take(fnp.asarray([1]), axis=0).shape == (1, 4)


def test_take_and_put_along_axis():
    a = r(3, 4, 5)
    for axis in (0, 1, 2, -1):
        i = rng.integers(-3, 3, tuple(2 if d == axis % 3 else s for d, s in enumerate(a.shape)))
        close(fnp.take_along_axis(fnp.asarray(a), fnp.asarray(i), axis), np.take_along_axis(a, i, axis))
    bcast = rng.integers(0, 4, (1, 2, 5))
    close(fnp.take_along_axis(fnp.asarray(a), fnp.asarray(bcast), 1), np.take_along_axis(a, bcast, 1))
    close(fnp.take_along_axis(fnp.asarray(a), fnp.asarray([3, -1]), None), np.take_along_axis(a, np.array([3, -1]),
                                                                                            None))
    put = rng.permutation(4)[:2][None, :, None] * np.ones((3, 1, 5), int)
    vals = r(3, 2, 5)
    ref = a.copy()
    np.put_along_axis(ref, put, vals, 1)
    close(fnp.put_along_axis(fnp.asarray(a), fnp.asarray(put), fnp.asarray(vals), 1), ref)
    ref = a.copy()
    np.put_along_axis(ref, put[:1], 7.0, 1)
    close(fnp.put_along_axis(fnp.asarray(a), fnp.asarray(put[:1]), 7.0, 1), ref)
    close(fnp.put_along_axis(fnp.zeros(3), fnp.asarray([1, 5]), 1.0, None), [0, 1, 0])  # 5: dropped


def test_nonzero_family():
    a = np.array([[0, 1, 0], [2, 0, 3]])
    for got, want in zip(fnp.nonzero(fnp.asarray(a)), np.nonzero(a)):
        close(got, want)
    close(fnp.argwhere(fnp.asarray(a)), np.argwhere(a))
    close(fnp.flatnonzero(fnp.asarray(a)), np.flatnonzero(a))
    close(fnp.argwhere(fnp.asarray(5)), np.argwhere(np.array(5)))
    assert fnp.argwhere(fnp.asarray(0)).shape == (0, 0)
    rows, cols = fnp.nonzero(fnp.asarray(a), size=5, fill_value=(-1, -2))
    assert rows.tolist() == [0, 1, 1, -1, -1] and cols.tolist() == [1, 0, 2, -2, -2]
    assert fnp.nonzero(fnp.asarray(a), size=2)[1].tolist() == [1, 0]
    assert fnp.nonzero(fnp.zeros(0))[0].shape == (0,)
    assert fnp.where(fnp.asarray([0, 1]))[0].tolist() == [1]
    with pytest.raises(ValueError, match='0-d'):
        fnp.nonzero(fnp.asarray(1))


def test_compress_extract_select_choose():
    a = r(3, 4)
    c = np.array([True, False, True])
    close(fnp.compress(fnp.asarray(c), fnp.asarray(a), axis=0), np.compress(c, a, axis=0))
    close(fnp.compress(fnp.asarray([0, 1]), fnp.asarray(a)), np.compress([0, 1], a))
    close(fnp.compress(fnp.asarray([1, 0, 1, 0, 0]), fnp.asarray(a), axis=1), np.compress([1, 0, 1, 0, 0], a, 1))
    with pytest.raises(IndexError):
        fnp.compress(fnp.asarray([0, 0, 0, 0, 1]), fnp.asarray(a), axis=1)
    close(fnp.compress(fnp.asarray(c), fnp.asarray(a), axis=0, size=3, fill_value=0), np.r_[a[c], np.zeros((1, 4))])
    close(fnp.extract(fnp.asarray(a > 0), fnp.asarray(a)), np.extract(a > 0, a))
    x = np.arange(10)
    close(fnp.select([fnp.asarray(x < 3), fnp.asarray(x > 5)], [fnp.asarray(x), fnp.asarray(x ** 2)], 42),
          np.select([x < 3, x > 5], [x, x ** 2], 42))
    choices = [np.arange(4), np.arange(4) * 10, np.full(4, -1)]
    ai = np.array([0, 2, 1, 2])
    close(fnp.choose(fnp.asarray(ai), [fnp.asarray(ch) for ch in choices]), np.choose(ai, choices))
    for mode in ('wrap', 'clip'):
        ao = np.array([3, -1, 5, 1])
        close(fnp.choose(fnp.asarray(ao), [fnp.asarray(ch) for ch in choices], mode=mode),
              np.choose(ao, choices, mode=mode))
    with pytest.raises(ValueError, match='invalid entry'):
        fnp.choose(fnp.asarray([3]), choices)
    many = [np.full(2, k) for k in range(70)]  # more choices than np.choose takes
    assert fnp.choose(fnp.asarray([69, 3]), [fnp.asarray(m) for m in many]).tolist() == [69, 3]


def test_index_grids():
    close(fnp.indices((2, 3)), np.indices((2, 3)))
    for got, want in zip(fnp.indices((2, 3), sparse=True), np.indices((2, 3), sparse=True)):
        close(got, want)
    rows, cols = fnp.ix_(fnp.asarray([0, 2]), fnp.asarray([True, False, True, True, False]))
    close(fnp.asarray(X[0])[rows, cols], X[0][np.ix_([0, 2], [True, False, True, True, False])])
    for got, want in zip(fnp.diag_indices(3, 3), np.diag_indices(3, 3)):
        close(got, want)
    for fn, k, m in [('tril_indices', 0, None), ('tril_indices', -1, 5), ('triu_indices', 1, 3)]:
        for got, want in zip(getattr(fnp, fn)(4, k, m), getattr(np, fn)(4, k, m)):
            close(got, want)


def test_unravel_and_ravel_multi_index():
    flat = np.array([0, 7, 11, 5])
    for got, want in zip(fnp.unravel_index(fnp.asarray(flat), (3, 4)), np.unravel_index(flat, (3, 4))):
        close(got, want)
    assert [c.tolist() for c in fnp.unravel_index(fnp.asarray([-1, 99]), (3, 4))] == [[2, 2], [3, 3]]  # JAX's clip
    coords = (np.array([0, 2, 1]), np.array([3, 0, 1]))
    close(fnp.ravel_multi_index(tuple(map(fnp.asarray, coords)), (3, 4)), np.ravel_multi_index(coords, (3, 4)))
    close(fnp.ravel_multi_index(tuple(map(fnp.asarray, coords)), (3, 4), order='F'),
          np.ravel_multi_index(coords, (3, 4), order='F'))
    bad = (np.array([0, 5]), np.array([-1, 1]))
    for mode in ('wrap', 'clip', ('clip', 'wrap')):
        close(fnp.ravel_multi_index(tuple(map(fnp.asarray, bad)), (3, 4), mode=mode),
              np.ravel_multi_index(bad, (3, 4), mode=mode))
    with pytest.raises(ValueError, match='invalid entry'):
        fnp.ravel_multi_index(tuple(map(fnp.asarray, bad)), (3, 4))


# --- gradients ---------------------------------------------------------------------------------

def f64(*shape):
    return fnp.asarray(r(*shape))


@pytest.mark.parametrize('idx', [(1, slice(None, None, -1)), ([0, 2, 0], slice(1, 3)), (slice(None), [1, 1]),
                                 (MASK,), (None, Ellipsis, [3, -1])], ids=repr)
def test_grad_getitem(idx):
    check_grads(lambda x: fnp.sin(x[idx]) * 2, (f64(3, 4),), order=2)


@pytest.mark.parametrize('mode', ['set', 'add', 'mul', 'min', 'max'])
@pytest.mark.parametrize('idx', [np.array([2, 0, 2, 3]), (slice(None, None, 2),), np.array([1, 3]), (1, slice(1, 3))],
                         ids=['dup', 'strided', 'unique', 'window'])
def test_grad_index_update(mode, idx):
    x = f64(5, 3)
    v = fnp.asarray(np.asarray(r(*np.zeros((5, 3))[idx].shape)) + 3.0 * (mode == 'max'))
    idx = to_fn(idx) if isinstance(idx, np.ndarray) else idx
    method = {'mul': 'multiply'}.get(mode, mode)
    check_grads(lambda x, v: fnp.tanh(getattr(x.at[idx], method)(v)), (x, v), order=2)


def test_grad_set_with_duplicates_goes_to_the_winner():
    g_x, g_v = fd.grad(lambda x, v: fnp.sum(x.at[fnp.asarray([1, 1, 2])].set(v) * fnp.arange(4.)),
                       argnums=(0, 1))(fnp.ones(4), fnp.asarray([5., 6., 7.]))
    assert g_x.tolist() == [0, 0, 0, 3]
    assert g_v.tolist() == [0, 1, 2]  # the last of the repeated updates wins, and gets the gradient


def test_grad_scatter_mul_with_repeated_indices_and_zeros():
    idx = fnp.asarray([0, 0, 0, 2])
    v = fnp.asarray([2.0, 0.0, 3.0, 0.5])
    check_grads(lambda x, v: x.at[idx].multiply(v), (f64(4), v), order=2)
    g = fd.grad(lambda v: fnp.sum(fnp.ones(3).at[idx[:3]].multiply(v[:3])))(v)
    assert g.tolist() == [0, 6, 0, 0]  # d(a*b*c)/db = a*c where b == 0


def test_grad_scatter_extremal_ties_split():
    g = fd.grad(lambda v: fnp.sum(fnp.zeros(2).at[fnp.asarray([0, 0, 1])].max(v)))(fnp.asarray([1.0, 1.0, -1.0]))
    assert g.tolist() == [0.5, 0.5, 0.0]


@pytest.mark.parametrize('name', ['scatter', 'scatter_add', 'scatter_mul', 'scatter_min', 'scatter_max'])
@pytest.mark.parametrize('mode', ['drop', 'clip'])
def test_grad_scatter_primitives_out_of_bounds(name, mode):
    dn = ix.ScatterDimensionNumbers((1,), (0,), (0,))
    idx = fnp.asarray([[0], [4], [-1], [1], [0]])
    check_grads(lambda x, u: getattr(ix, name)(x, idx, u, dn, mode=mode), (f64(3, 2), f64(5, 2)), order=2)


@pytest.mark.parametrize('mode', ['clip', 'fill'])
def test_grad_gather_and_dynamic_slices(mode):
    dn = ix.GatherDimensionNumbers((1,), (0,), (0,))
    idx = fnp.asarray([[0], [3], [-1], [0]])
    check_grads(lambda x: ix.gather(x, idx, dn, (1, 2), mode=mode, fill_value=0.5), (f64(3, 2),), order=2)
    s = [fnp.asarray(2), fnp.asarray(-1)]
    check_grads(lambda x: ix.dynamic_slice(x, s, (2, 2)), (f64(3, 3),), order=2)
    check_grads(lambda x, u: ix.dynamic_update_slice(x, u, s), (f64(3, 3), f64(2, 2)), order=2)


def test_grad_index_functions():
    a = f64(3, 4)
    i = fnp.asarray(rng.integers(0, 4, (3, 2)))
    check_grads(lambda a: fnp.take(a, fnp.asarray([0, 3, 3]), axis=1), (a,), order=2)
    check_grads(lambda a: fnp.take_along_axis(a, i, 1), (a,), order=2)
    check_grads(lambda a, v: fnp.put_along_axis(a, fnp.asarray([[1], [0], [3]]), v, 1), (a, f64(3, 1)), order=2)
    check_grads(lambda a: fnp.compress(fnp.asarray([True, False, True]), a, axis=0), (a,), order=2)
    check_grads(lambda a: fnp.choose(fnp.asarray([0, 1, 0, 1]), [a[0], a[1]]), (a,), order=2)
    check_grads(lambda a: fnp.select([a > 0], [a * a], -a), (a,), order=2)


def test_scatter_set_transpose_with_duplicates_is_the_adjoint():
    dn = ix.ScatterDimensionNumbers((), (0,), (0,), index_vector_dim=1)
    idx = fnp.asarray([[1], [3], [1], [0], [9]])
    x_av, u_av = fnp.ones(4).aval, fnp.ones(5).aval
    params = dict(dimension_numbers=dn, unique_indices=False, mode='drop')
    for _ in range(3):
        tx, tu, ct = r(4), r(5), r(4)
        fwd = ix.scatter_p.bind(fnp.asarray(tx), idx, fnp.asarray(tu), **params)
        ct_x, _, ct_u = ix.scatter_p.transpose(fnp.asarray(ct), UndefinedPrimal(x_av), idx, UndefinedPrimal(u_av),
                                               **params)
        close(np.dot(ct, np.asarray(fwd)), np.dot(np.asarray(ct_x), tx) + np.dot(np.asarray(ct_u), tu))


# --- vmap against a Python loop -----------------------------------------------------------------------

def loop(f, *args, in_axes):
    n = next(np.shape(a)[ax] for a, ax in zip(args, in_axes) if ax is not None)
    outs = [f(*[a if ax is None else np.take(np.asarray(a), k, axis=ax) for a, ax in zip(args, in_axes)])
            for k in range(n)]
    return np.stack([np.asarray(o) for o in outs])


def check_vmap(f, *args, in_axes):
    args = [np.asarray(a) for a in args]
    out = fd.vmap(f, in_axes=in_axes)(*[fnp.asarray(a) for a in args])
    close(out, loop(lambda *a: f(*[fnp.asarray(v) for v in a]), *args, in_axes=in_axes))


@pytest.mark.parametrize('in_axes', [(0, None), (None, 0), (1, 0), (0, 1)])
def test_vmap_getitem_with_arrays(in_axes):
    x = r(4, 3, 5) if in_axes[0] != 1 else r(3, 4, 5)
    i = rng.integers(-3, 3, (4, 2) if in_axes[1] != 1 else (2, 4))
    x = x if in_axes[0] is not None else x[0]
    i = i if in_axes[1] is not None else i[0]
    check_vmap(lambda x, i: x[i, 1:, None], x, i, in_axes=in_axes)
    check_vmap(lambda x, i: x[::-1, i], x, i, in_axes=in_axes)


@pytest.mark.parametrize('in_axes', [(0, 0), (None, 0), (0, None)])
def test_vmap_traced_scalar_index(in_axes):
    x = r(6, 3, 4) if in_axes[0] == 0 else r(3, 4)
    i = rng.integers(-3, 3, 6) if in_axes[1] == 0 else np.array(1)
    check_vmap(lambda x, i: x[i], x, i, in_axes=in_axes)
    check_vmap(lambda x, i: x[1:, i] * 2, x, i, in_axes=in_axes)
    check_vmap(lambda x, i: x[i, [0, 2]], x, i, in_axes=in_axes)


@pytest.mark.parametrize('mode', ['set', 'add', 'min'])
@pytest.mark.parametrize('in_axes', [(0, None, None), (None, 0, None), (None, None, 0), (0, 0, 0), (1, 0, None)])
def test_vmap_index_update(mode, in_axes):
    n = 4
    x = r(n, 5, 3) if in_axes[0] == 0 else (r(5, n, 3) if in_axes[0] == 1 else r(5, 3))
    i = rng.integers(-5, 5, (n, 2)) if in_axes[1] == 0 else np.array([1, -1])
    v = r(n, 2, 3) if in_axes[2] == 0 else r(2, 3)
    check_vmap(lambda x, i, v: getattr(x.at[i], mode)(v), x, i, v, in_axes=in_axes)
    j = rng.integers(-5, 5, n) if in_axes[1] == 0 else np.array(2)  # a traced scalar index: a dynamic update
    w = v[..., 0, :]
    check_vmap(lambda x, j, w: getattr(x.at[j], mode)(w), x, j, w, in_axes=in_axes)


@pytest.mark.parametrize('in_axes', [(0, None, None), (None, 0, 0), (0, 0, None), (1, None, 0)])
def test_vmap_dynamic_slices(in_axes):
    n = 5
    x = r(n, 6, 4) if in_axes[0] == 0 else (r(6, n, 4) if in_axes[0] == 1 else r(6, 4))
    s = rng.integers(-2, 7, n) if in_axes[1] == 0 else np.array(3)
    u = r(n, 2, 3) if in_axes[2] == 0 else r(2, 3)
    check_vmap(lambda x, s, u: ix.dynamic_slice(x, [s, 1], (3, 2)), x, s, u, in_axes=in_axes)
    check_vmap(lambda x, s, u: ix.dynamic_update_slice(x, u, [s, s]), x, s, u, in_axes=in_axes)


def test_vmap_of_primitives_with_batching_dims_and_grad():
    x, i = r(3, 4, 5), rng.integers(-1, 4, (2, 5, 4))
    check_vmap(lambda x, i: fnp.take_along_axis(x, i, 0), x, i, in_axes=(2, 1))
    check_vmap(lambda x, i: fnp.put_along_axis(x, i, 1.0, 0), x, i, in_axes=(2, 1))
    dn = ix.GatherDimensionNumbers((), (0,), (0,), (1,), (1,))  # per example: out[j, k] = x[i[j, k], k]
    check_vmap(lambda x, i: ix.gather(x, i[..., None], dn, (1, 1), mode='fill'), x, i, in_axes=(2, 1))
    i = rng.integers(0, 4, (3, 5, 2))
    per_example = fd.vmap(fd.grad(lambda x, i: fnp.sum(x[i] ** 2)), in_axes=(None, 0))(fnp.asarray(x[0]),
                                                                                     fnp.asarray(i[:, :, 0]))
    close(per_example, loop(lambda i: fd.grad(lambda x: fnp.sum(x[i] ** 2))(fnp.asarray(x[0])), i[:, :, 0],
                            in_axes=(0,)))
    check_vmap(lambda a: fnp.nonzero(a > 0, size=4, fill_value=-1)[0], r(3, 6), in_axes=(0,))
    check_vmap(lambda a: fnp.compress(a > 0, a, size=3), r(3, 6), in_axes=(0,))


def test_vmap_of_grad_of_updates_with_repeated_indices():
    i = rng.integers(0, 3, (4, 5))  # five updates into three slots: repeats in every example
    v, x = r(4, 5), r(3)
    f = lambda v, i: fnp.sum(fnp.sin(fnp.asarray(x).at[i].set(v)) ** 2)  # noqa: E731
    check_vmap(fd.grad(f), v, i, in_axes=(0, 0))
    g = lambda x, v, i: fnp.sum(fnp.cos(x.at[i].max(v)))  # noqa: E731
    check_vmap(fd.grad(g, argnums=1), r(4, 3), v, i, in_axes=(0, 0, 0))


def test_under_jit():
    jit = fd.jit
    x = r(3, 4)
    close(jit(lambda x, i: x[i, 1:] * x[fnp.asarray([0, 2]), :0:-1])(fnp.asarray(x), fnp.asarray(-1)),
          x[-1, 1:] * x[[0, 2], :0:-1])
    close(jit(lambda x, i, v: x.at[i].add(v))(fnp.asarray(x), fnp.asarray([0, 0, 2]), fnp.ones((3, 4))),
          x + np.array([[2.], [0.], [1.]]))
    rows, cols = jit(lambda a: fnp.nonzero(a > 0, size=12, fill_value=-1))(fnp.asarray(x))
    k = int((x > 0).sum())
    close(rows[:k], np.nonzero(x > 0)[0])
    assert (np.asarray(cols)[k:] == -1).all()
    close(jit(fd.grad(lambda x: fnp.sum(x[fnp.asarray([1, 1, 2])] ** 2)))(fnp.asarray(x)),
          2 * x * np.array([[0.], [2.], [1.]]))
    with pytest.raises(ConcretizationError, match='boolean mask'):
        jit(lambda x: x[x > 0])(fnp.asarray(x))


# --- errors ------------------------------------------------------------------------------------------

def test_errors():
    x = fnp.asarray(X)
    with pytest.raises(TypeError, match=r'x.at\[idx\].set'):
        x[0] = 1.0
    with pytest.raises(ConcretizationError, match='fnp.where'):
        fd.vmap(lambda x: x[x > 0])(x)
    with pytest.raises(ConcretizationError, match='size='):
        fd.vmap(lambda x: fnp.nonzero(x))(x)
    with pytest.raises(ConcretizationError, match="mode='wrap'"):
        fd.vmap(lambda a: fnp.choose(a, [fnp.ones(2), fnp.zeros(2)]))(fnp.asarray([[0, 1]]))
    with pytest.raises(IndexError, match='too many indices'):
        x[0, 0, 0, 0]
    with pytest.raises(IndexError, match='single ellipsis'):
        x[..., 0, ...]
    with pytest.raises(IndexError, match='integer or boolean'):
        x[fnp.asarray([0.5])]
    with pytest.raises(IndexError, match='valid indices'):
        x['a']
    with pytest.raises(IndexError, match='boolean index'):
        x[np.array([True, False])]
    with pytest.raises(IndexError, match='slice bounds must be static'):
        fd.vmap(lambda i: x[i:])(fnp.asarray([0, 1]))
    with pytest.raises(ValueError, match='cannot broadcast'):
        x.at[0].set(fnp.ones((5, 4)))
    with pytest.raises(ValueError, match="mode='raise'"):
        fnp.take(x, fnp.asarray([0]), mode='raise')
    with pytest.raises(ValueError, match='same number of dimensions'):
        fnp.take_along_axis(x, fnp.asarray([0]), 0)

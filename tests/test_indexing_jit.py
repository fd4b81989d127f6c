"""The XLA lowering of the indexing primitives: fd.jit(f) agrees with f run eagerly (NumPy) for gather,
the scatter family, dynamic_slice and dynamic_update_slice (every dimension-numbers layout, index dtype,
out-of-bounds mode and combiner), for fnp's indexing paths, and under grad and vmap.

Each XLA compile costs ~0.1 s, so a test bundles its cases into one jitted function returning them all.
"""
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl import tree
from fn_dl.core import dtypes
from fn_dl.ops import indexing as ix

rng = np.random.default_rng(0)
G, S = ix.GatherDimensionNumbers, ix.ScatterDimensionNumbers


def same(got, want):
    """Equal trees of arrays: shapes, dtypes and values (floats to rounding: XLA may sum in another order)."""
    got, want = tree.leaves(got), tree.leaves(want)
    assert len(got) == len(want)
    for k, (a, b) in enumerate(zip(got, want)):
        a, b = np.asarray(a), np.asarray(b)
        assert (a.shape, a.dtype) == (b.shape, b.dtype), f"output {k}: {a.shape} {a.dtype} != {b.shape} {b.dtype}"
        if a.dtype.kind == 'f' or a.dtype == dtypes.bfloat16:
            rtol = 1e-2 if a.dtype == dtypes.bfloat16 else 1e-5
            np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=rtol,
                                       err_msg=f"output {k}")
        else:
            np.testing.assert_array_equal(a, b, err_msg=f"output {k}")


def check_jit(f, *args):
    same(fd.jit(f)(*args), f(*args))


def arr(shape, dtype=np.float32):
    return fnp.asarray((rng.standard_normal(shape) * 3).astype(dtype))


def indices(shape, hi, dtype):
    """Random indices of `dtype` in [-2, hi + 2) where it can hold them, so some are out of bounds whatever the
    window; unsigned ones also hold their dtype's largest value."""
    info = np.iinfo(dtype)
    out = rng.integers(max(-2, info.min), min(hi + 2, info.max), shape, dtype=dtype, endpoint=True)
    if info.min == 0 and out.size:
        out.flat[0] = info.max
    return fnp.asarray(out)


# --- the primitives --------------------------------------------------------------------------------------

GATHERS = [  # operand shape, indices shape, dnums, slice sizes
    ((5, 6, 7), (4, 3, 2), G((2, 3), (0,), (0, 2)), (1, 6, 3)),
    ((5, 6, 7), (4, 1), G((0, 1, 2), (), (1,)), (5, 2, 7)),
    ((5, 6, 7), (6, 3, 1), G((2,), (0,), (0,), (1,), (0,)), (1, 1, 7)),
    ((4, 5), (2, 4, 1), G((), (1,), (1,), (0,), (1,)), (1, 1)),
    ((4, 5), (2, 3), G((1,), (0,), (0, 1), index_vector_dim=0), (1, 2)),
    ((4, 5), (2, 3), G((2,), (0,), (0,), index_vector_dim=2), (1, 5)),
    ((4, 5, 2), (3, 2, 4), G((1,), (2,), (1, 2), (0,), (2,), index_vector_dim=1), (1, 3, 1)),
    ((), (3, 0), G((), (), ()), ()),
    ((4, 5), (0, 1), G((1,), (0,), (0,)), (1, 5)),
]
OPERAND_DTYPES = [np.float32, np.int16, np.bool_, dtypes.bfloat16, np.uint32]
INDEX_DTYPES = [np.int32, np.int8, np.uint64]


@pytest.mark.parametrize('case', range(len(GATHERS)))
def test_gather(case):
    """Both modes, the default fill value and another, for indices of several dtypes."""
    xs, ishape, dn, sizes = GATHERS[case]
    x = arr(xs, OPERAND_DTYPES[case % len(OPERAND_DTYPES)])
    idx = [indices(ishape, max(xs, default=1), dt) for dt in INDEX_DTYPES]

    def f(x, *idx):
        return [[ix.gather(x, i, dn, sizes, mode='clip'), ix.gather(x, i, dn, sizes, mode='fill'),
                 ix.gather(x, i, dn, sizes, mode='fill', fill_value=1)] for i in idx]
    check_jit(f, x, *idx)


SCATTERS = [  # operand, indices, updates shapes, dnums
    ((5, 6, 7), (4, 2), (4, 6, 3), S((1, 2), (0,), (0, 2))),
    ((5, 6, 7), (6, 3, 1), (6, 3, 7), S((2,), (0,), (0,), (1,), (0,))),
    ((6,), (8, 1), (8,), S((), (0,), (0,))),
    ((6,), (8,), (8,), S((), (0,), (0,), index_vector_dim=1)),
    ((4, 5), (2, 3), (3, 2), S((1,), (0,), (0, 1), index_vector_dim=0)),
    ((4, 5, 2), (3, 2, 4), (3, 3, 4), S((1,), (2,), (1, 2), (0,), (2,), index_vector_dim=1)),
    ((4, 5), (0, 1), (0, 5), S((1,), (0,), (0,))),
    ((4, 5), (3, 0), (3, 4, 5), S((1, 2), (), ())),
    ((300, 2), (5, 1), (5, 2), S((1,), (0,), (0,))),  # bounds past int8's range
]
SCATTER_FNS = [ix.scatter, ix.scatter_add, ix.scatter_mul, ix.scatter_min, ix.scatter_max]


@pytest.mark.parametrize('case', range(len(SCATTERS)))
def test_scatter(case):
    """Every combiner in both modes; the random indices repeat, and some are out of bounds.

    'drop' is XLA's own, whatever the index dtype; 'clip' clamps in the indices' dtype, so it gets int8 ones too,
    checked against the same indices as int32: the result must not depend on their dtype.
    """
    xs, ishape, us, dn = SCATTERS[case]
    dt = OPERAND_DTYPES[case % len(OPERAND_DTYPES)]
    x, u = arr(xs, dt), arr(us, dt)
    i32 = indices(ishape, max(xs), np.int32)
    i8 = np.clip(np.asarray(i32), -128, 127)

    def f(x, u, i, j):
        return [[s(x, i, u, dn, mode='drop'), s(x, i, u, dn, mode='clip'), s(x, j, u, dn, mode='clip')]
                for s in SCATTER_FNS]
    same(fd.jit(f)(x, u, i32, fnp.asarray(i8.astype(np.int8))), f(x, u, i32, fnp.asarray(i8)))


def test_scatter_unique_indices_and_attributes():
    dn = S((), (0,), (0,))
    x, u, idx = arr(6), arr(3), fnp.asarray([[4], [0], [9]])
    f = lambda x, i, u: ix.scatter(x, i, u, dn, unique_indices=True)  # noqa: E731
    check_jit(f, x, idx, u)
    text = fd.jit(f).lower(x, idx, u).as_text()
    assert text.count('"stablehlo.scatter"') == 1 and 'unique_indices = true' in text
    assert 'update_window_dims = [], inserted_window_dims = [0]' in text
    # clip needs no more than XLA's gather; fill adds the in-bounds mask and a select
    dn = G((), (0,), (0,))
    clip = fd.jit(lambda x, i: ix.gather(x, i, dn, (1,))).lower(x, idx).as_text()
    assert clip.count('"stablehlo.gather"') == 1 and 'stablehlo.select' not in clip
    fill = fd.jit(lambda x, i: ix.gather(x, i, dn, (1,), mode='fill')).lower(x, idx).as_text()
    assert fill.count('"stablehlo.gather"') == 1 and 'stablehlo.select' in fill


def test_dynamic_slices_clamp_out_of_range_starts_of_any_dtype():
    x, u = arr((300, 6)), arr((2, 3))
    starts = [(np.int32(299), np.int32(5)), (np.int32(-4), np.int32(2)), (np.int8(127), np.int64(2)),
              (np.int8(-5), np.uint64(2 ** 64 - 1)), (np.uint8(255), np.int32(-3)), (np.uint64(2 ** 63), np.uint32(4)),
              (np.int64(-2 ** 40), np.int16(1))]

    def f(x, u, *s):
        return [[ix.dynamic_slice(x, [a, b], (2, 3)), ix.dynamic_update_slice(x, u, [a, b])]
                for a, b in zip(s[::2], s[1::2])]
    check_jit(f, x, u, *[fnp.asarray(s) for pair in starts for s in pair])
    s = arr(())
    check_jit(lambda s: [ix.dynamic_slice(s, [], ()), ix.dynamic_update_slice(s, s * 2, [])], s)


# --- fnp's indexing paths -----------------------------------------------------------------------------

def test_getitem():
    x, mask = arr((4, 5, 3)), fnp.asarray(rng.random((4, 5)) > 0.5)
    i, j = fnp.asarray([3, -1, 0, 7, -9]), fnp.asarray([[1], [4]])

    def f(x, i, j, k):
        return [x[i], x[i, 1:, ::-1], x[::2, j], x[j, i], x[..., i[:3]], x[k], x[1:, k, None], x[k, [0, 2]]]
    jitted = fd.jit(f)
    for k in (2, -1):  # a traced scalar: a dynamic slice (eagerly, a static int: in bounds)
        k = fnp.asarray(k)
        same(jitted(x, i, j, k), f(x, i, j, k))
    # a boolean mask needs its size on the host: eagerly x[mask], traced x[the nonzero indices, padded]
    n = int(np.asarray(mask).sum())
    masked = fd.jit(lambda x, m: x[fnp.nonzero(m, size=n)])(x, mask)
    same(masked, x[mask])


def test_index_update_with_duplicates():
    x = arr((5, 4))
    i = fnp.asarray([3, 0, 3, -1, 3, 0])  # repeats: 'set' keeps the last update, as NumPy
    v, w = arr((6, 4)), arr(6)

    def f(x, i, v, w):
        return [[getattr(x.at[i], op)(v), getattr(x.at[i, 1], op)(w), getattr(x.at[2:, i[0]], op)(w[:3]),
                 getattr(x.at[i[1]], op)(v[0])] for op in ('set', 'add', 'multiply', 'min', 'max')]
    check_jit(f, x, i, v, w)


def test_take_and_take_along_axis():
    a = arr((4, 6))
    i = fnp.asarray([[0, 5, -2], [8, -7, 1]])
    j = fnp.asarray(rng.integers(-6, 9, (4, 3)))

    def f(a, i, j):
        return [fnp.take(a, i, axis=1), fnp.take(a, i, axis=1, mode='fill', fill_value=-1.0),
                fnp.take(a, i, axis=0, mode='clip'), fnp.take(a, i, axis=1, mode='wrap'), fnp.take(a, i),
                fnp.take_along_axis(a, j, 1), fnp.take_along_axis(a, j, 1, mode='fill', fill_value=0.5),
                fnp.take_along_axis(a[:, :3], j[:1], 0, mode='clip'), fnp.put_along_axis(a, j, 2.0, 1)]
    check_jit(f, a, i, j)


# --- under grad and vmap ---------------------------------------------------------------------------------

X, V = arr((5, 4), np.float64), arr((6, 4), np.float64)
DUP = fnp.asarray([3, 0, 3, -1, 3, 0])
STARTS = [fnp.asarray(3), fnp.asarray(-2)]
DN = G((1,), (0,), (0,))
IDX = fnp.asarray([[1], [6], [-1], [1]])
FNS = {  # each a function of (x, v) with some indexing in it
    'getitem': lambda x, v: fnp.sin(x[DUP]) * v,
    'set': lambda x, v: fnp.sin(x.at[DUP].set(v)),
    'add': lambda x, v: fnp.sin(x.at[DUP, 1:].add(v[:, 1:] * x[0, 1:])),
    'multiply': lambda x, v: x.at[DUP].multiply(v),
    'min': lambda x, v: x.at[DUP].min(v),
    'max': lambda x, v: x.at[DUP].max(v * x[0]),
    'gather_fill': lambda x, v: ix.gather(x, IDX, DN, (1, 3), mode='fill', fill_value=2.0) * v[:4, :3],
    'take_along_axis': lambda x, v: fnp.take_along_axis(x[:2], fnp.asarray([[3, 0, 3], [1, 2, 2]]), 1) * v[:2, :3],
    'dynamic_slices': lambda x, v: ix.dynamic_update_slice(x, ix.dynamic_slice(v, STARTS, (2, 3)) * x[:2, :3],
                                                           STARTS[::-1]),
}


@pytest.mark.parametrize('name', list(FNS))
def test_grad_under_jit(name):
    f = FNS[name]
    check_jit(fd.grad(lambda x, v: fnp.sum(f(x, v) ** 2), argnums=(0, 1)), X, V)


@pytest.mark.parametrize('name', list(FNS))
def test_vmap_under_jit(name):
    """Batched operands and indices make gathers and scatters with batching dimensions."""
    f = FNS[name]
    xs, vs = arr((3, 5, 4), np.float64), arr((6, 4, 3), np.float64)
    check_jit(fd.vmap(f, in_axes=(0, 2)), xs, vs)
    check_jit(fd.vmap(f, in_axes=(None, 2)), X, vs)


@pytest.mark.parametrize('in_axes', [(0, 0), (None, 0), (0, None)])
def test_vmap_of_traced_indices_under_jit(in_axes):
    xs, ix_ = arr((3, 5, 4)), fnp.asarray(rng.integers(-5, 5, (3, 4)))
    x, i = (xs if in_axes[0] == 0 else xs[0]), (ix_ if in_axes[1] == 0 else ix_[0])

    def f(x, i):  # unbatched scalar indices are static ints under vmap: in bounds; arrays may not be
        return [x[2 * i], x[i[0]], x.at[2 * i].add(1.0), x.at[i[1], 2:].set(x[0, :2]), fnp.take(x, i, 1, mode='fill'),
                ix.dynamic_slice(x, [i[2], i[3]], (2, 2)), ix.dynamic_update_slice(x, x[:2, :2], [i[2], i[3]])]
    check_jit(fd.vmap(f, in_axes=in_axes), x, i)


# --- fnp functions built on gather and scatter ---------------------------------------------------------------

def test_numpy_functions_that_gather_and_scatter():
    a = arr((5, 7))
    q = fnp.asarray([0.0, 0.1, 0.5, 0.93, 1.0])
    w = arr(7)

    def f(a, q):
        return [fnp.quantile(a, q, axis=1), fnp.quantile(a, q, method='nearest'), fnp.median(a, axis=0),
                fnp.median(a), fnp.interp(a, fnp.asarray([-1.0, 0.0, 2.0]), fnp.asarray([3.0, 1.0, 5.0])),
                fnp.interp(a, fnp.sort(a[0]), a[1], left=-9.0, right=9.0)]
    check_jit(f, a, q)
    check_jit(fd.grad(lambda x: fnp.sum(fnp.sort(x) * w)), a)
    check_jit(fd.grad(lambda a: fnp.sum(fnp.quantile(a, q, axis=0) ** 2) + fnp.median(a)), a)

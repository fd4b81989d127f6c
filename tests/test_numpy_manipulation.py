"""fn_dl.numpy's shape manipulation against NumPy: every function, every dtype, 0-d and empty arrays,
negative axes, the errors, vmap; and hypothesis property tests."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import fn_dl as fd
import fn_dl.numpy as fnp

from _fnp_checks import ALL, check_vmap, sample

rng = np.random.default_rng(5)


def same(got, want):
    """Exactly NumPy's result: values, shape and dtype."""
    assert isinstance(got, fnp.ndarray), type(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    np.testing.assert_array_equal(np.asarray(got), want)


def same_list(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        same(g, w)


# name -> list of (arguments after the array, as fn_dl and NumPy take them); `None` marks NumPy's equal
CASES = {
    'reshape': [((6, 4),), ((-1,),), ((2, -1, 3),), ((24,),)],
    'ravel': [()], 'flatten': [()],
    'transpose': [(), ((1, 0, 2),), ((-1, 0, 1),)],
    'permute_dims': [((2, 0, 1),)],
    'matrix_transpose': [()],
    'moveaxis': [(0, -1), ((0, 1), (2, 0)), (-1, 1)],
    'swapaxes': [(0, 2), (-1, 1), (1, 1)],
    'expand_dims': [(0,), (-1,), ((0, 3),), (2,)],
    'squeeze': [(), (0,), ((0, 2),)],
    'flip': [(), (0,), ((0, 2),), (-1,)],
    'roll': [(1,), (-7,), (2, 1), ((1, -2), (0, 2)), (25, None)],
    'tile': [(2,), ((2, 1),), ((1, 2, 1, 2),), (0,)],
    'repeat': [(2,), (2, 1), (0, 0), ([1, 0, 2, 1], 2)],
    # NumPy's diagonal defaults to axes (0, 1); fnp's to the last two (see test_diagonal_default_axes)
    'diagonal': [(0, 0, 1), (1, 0, 1), (-1, 0, 2), (0, 2, 1), (2, -1, -2)],
}
NUMPY_NAME = {'permute_dims': 'transpose', 'matrix_transpose': None, 'flatten': 'ravel'}
SHAPE = {'squeeze': (1, 4, 1), 'matrix_transpose': (2, 3, 4)}


def numpy_call(name, a, args):
    if name == 'matrix_transpose':
        return np.swapaxes(a, -1, -2)
    return getattr(np, NUMPY_NAME.get(name, name))(a, *args)


@pytest.mark.parametrize('name', sorted(CASES))
def test_shape_functions_on_every_dtype(name):
    f = getattr(fnp, name)
    for dtype in ALL:
        a = sample(rng, dtype, SHAPE.get(name, (2, 3, 4)))
        for args in CASES[name]:
            same(f(fnp.asarray(a), *args), numpy_call(name, a, args))
    check_vmap(lambda v: f(v, *CASES[name][0]), fnp.asarray(sample(rng, 'float32', (2,) + SHAPE.get(name, (2, 3, 4)))))


@pytest.mark.parametrize('shape', [(), (0,), (3, 0, 2), (1,)], ids=str)
def test_shape_functions_on_0d_and_empty_arrays(shape):
    a = sample(rng, 'float32', shape)
    x = fnp.asarray(a)
    same(fnp.reshape(x, (-1,)), a.reshape(-1))
    same(fnp.ravel(x), a.ravel())
    same(fnp.transpose(x), a.T)
    same(fnp.expand_dims(x, 0), np.expand_dims(a, 0))
    same(fnp.squeeze(x), np.squeeze(a))
    same(fnp.flip(x), np.flip(a))
    same(fnp.roll(x, 1), np.roll(a, 1))
    same(fnp.tile(x, 2), np.tile(a, 2))
    same(fnp.repeat(x, 2), np.repeat(a, 2))
    same(fnp.broadcast_to(x, (2,) + shape), np.broadcast_to(a, (2,) + shape))
    same(fnp.concat([x, x], axis=None), np.concatenate([a, a], axis=None))
    same(fnp.stack([x, x]), np.stack([a, a]))
    same(fnp.atleast_1d(x), np.atleast_1d(a))


def test_reshape_method_forms_and_errors():
    x = fnp.arange(6)
    assert x.reshape(2, 3).shape == x.reshape((2, 3)).shape == (2, 3)
    with pytest.raises(ValueError, match=r'reshape: cannot reshape an array of 6 elements into shape \(4, -1\)'):
        fnp.reshape(x, (4, -1))
    with pytest.raises(ValueError, match='at most one -1'):
        fnp.reshape(x, (-1, -1))
    with pytest.raises(ValueError, match="only order='C'"):
        fnp.reshape(x, (2, 3), order='F')


def test_axis_errors_are_value_and_index_errors():
    x = fnp.ones((2, 3))
    for call in (lambda: fnp.expand_dims(x, 3), lambda: fnp.squeeze(x, 2), lambda: fnp.flip(x, axis=-3),
                 lambda: fnp.moveaxis(x, 0, 2), lambda: fnp.stack([x, x], axis=3), lambda: fnp.concat([x], axis=2)):
        with pytest.raises(ValueError, match='out of bounds') as e:
            call()
        assert isinstance(e.value, IndexError)
    with pytest.raises(ValueError, match='squeeze: dimension 1 of float32\\(2, 3\\) has size 3'):
        fnp.squeeze(x, 1)
    with pytest.raises(ValueError, match='not a permutation'):
        fnp.permute_dims(x, (0, 0))
    with pytest.raises(ValueError, match='repeated axis'):
        fnp.expand_dims(x, (0, 0))
    with pytest.raises(ValueError, match='repeated axis'):
        fnp.moveaxis(x, (0, 0), (0, 1))


def test_broadcast_to_and_arrays():
    a, b, c = sample(rng, 'int8', (3, 1)), sample(rng, 'float32', (4,)), sample(rng, 'bool', ())
    same(fnp.broadcast_to(fnp.asarray(a), (2, 3, 5)), np.broadcast_to(a, (2, 3, 5)))
    same(fnp.broadcast_to(fnp.asarray(b), 4), np.broadcast_to(b, 4))
    same_list(fnp.broadcast_arrays(*map(fnp.asarray, (a, b, c))), np.broadcast_arrays(a, b, c))
    assert fnp.broadcast_shapes((3, 1), 4, ()) == np.broadcast_shapes((3, 1), 4, ()) == (3, 4)
    with pytest.raises(ValueError, match=r'broadcast_shapes: shapes \(2,\), \(3,\) cannot be broadcast'):
        fnp.broadcast_shapes((2,), (3,))
    with pytest.raises(ValueError, match='broadcast_to'):
        fnp.broadcast_to(fnp.asarray(b), (4, 3))
    with pytest.raises(ValueError, match=r'broadcast_to: cannot broadcast shape \(3, 1\) to \(3,\)'):
        fnp.broadcast_to(fnp.asarray(a), (3,))


@pytest.mark.parametrize('name', ['concat', 'concatenate', 'stack', 'vstack', 'hstack', 'dstack', 'column_stack',
                                  'row_stack'])
def test_joining(name):
    f = getattr(fnp, name)
    np_f = getattr(np, {'concat': 'concatenate', 'row_stack': 'vstack'}.get(name, name))
    kwargs = [{}, {'axis': -1}, {'axis': 1}] if name in ('concat', 'concatenate', 'stack') else [{}]
    for dtype in ALL:
        for shapes in ([(2, 3), (2, 3)], [(3,), (3,), (3,)], [(1, 3), (1, 3)]):
            arrs = [sample(rng, dtype, s) for s in shapes]
            for kw in kwargs:
                if kw.get('axis') == 1 and len(shapes[0]) == 1 and name != 'stack':
                    continue
                same(f([fnp.asarray(a) for a in arrs], **kw), np_f(arrs, **kw))
    with pytest.raises(ValueError, match='at least one array'):
        f([])


def test_concat_promotes_and_checks_shapes():
    out = fnp.concat([fnp.ones(2, dtype=fnp.int8), fnp.ones(3, dtype=fnp.uint8)])
    assert out.dtype == np.int16 and out.shape == (5,)
    assert fnp.concat([fnp.zeros(2), fnp.ones(3, dtype=fnp.int64)]).dtype == np.float32
    assert fnp.concatenate([fnp.zeros(2), fnp.zeros(1)], dtype=fnp.float64).dtype == np.float64
    same(fnp.concat([fnp.zeros((2, 0)), fnp.ones((2, 3))], axis=1), np.concatenate([np.zeros((2, 0)),
                                                                                      np.ones((2, 3))], axis=1)
         .astype(np.float32))
    with pytest.raises(ValueError, match='concat'):
        fnp.concat([fnp.zeros((2, 3)), fnp.zeros((3, 3))], axis=1)
    with pytest.raises(ValueError, match=r'stack: all arrays must have the same shape'):
        fnp.stack([fnp.zeros(2), fnp.zeros(3)])


@pytest.mark.parametrize('name', ['atleast_1d', 'atleast_2d', 'atleast_3d'])
def test_atleast(name):
    f, ref = getattr(fnp, name), getattr(np, name)
    for shape in [(), (2,), (2, 3), (2, 3, 4)]:
        a = sample(rng, 'int16', shape)
        same(f(fnp.asarray(a)), ref(a))
    arrs = [sample(rng, 'float32', s) for s in [(), (3,)]]
    same_list(f(*map(fnp.asarray, arrs)), ref(*arrs))


@pytest.mark.parametrize('name', ['split', 'array_split'])
def test_split(name):
    f, ref = getattr(fnp, name), getattr(np, name)
    for dtype in ALL:
        a = sample(rng, dtype, (6, 4))
        for args in [(2,), (3, 0), (2, 1), ([1, 4],), ([2, 10], 0), ([5, 3],), ([-2],), ([],)]:
            same_list(f(fnp.asarray(a), *args), ref(a, *args))
    same_list(fnp.array_split(fnp.arange(10), 3), np.array_split(np.arange(10, dtype=np.int32), 3))
    same_list(fnp.array_split(fnp.arange(2), 4), np.array_split(np.arange(2, dtype=np.int32), 4))
    if name == 'split':
        with pytest.raises(ValueError, match='use array_split'):
            fnp.split(fnp.arange(10), 3)


def test_unstack():
    a = sample(rng, 'complex64', (2, 3, 4))
    for axis in (0, 1, -1):
        same_list(fnp.unstack(fnp.asarray(a), axis=axis), list(np.moveaxis(a, axis, 0)))
    assert fnp.unstack(fnp.zeros((0, 2))) == ()


def test_flips_and_roll_extras():
    a = sample(rng, 'uint16', (3, 4))
    same(fnp.fliplr(fnp.asarray(a)), np.fliplr(a))
    same(fnp.flipud(fnp.asarray(a)), np.flipud(a))
    same(fnp.roll(fnp.asarray(a), 2, axis=(0, 1)), np.roll(a, 2, axis=(0, 1)))
    same(fnp.roll(fnp.zeros((0, 3)), 1, axis=0), np.roll(np.zeros((0, 3), np.float32), 1, axis=0))
    with pytest.raises(ValueError, match='same length'):
        fnp.roll(fnp.asarray(a), (1, 2, 3), axis=(0, 1))


def test_repeat_counts_and_errors():
    a = sample(rng, 'float64', (3, 2))
    x = fnp.asarray(a)
    same(fnp.repeat(x, fnp.asarray([1, 0, 2]), axis=0), np.repeat(a, [1, 0, 2], axis=0))
    same(fnp.repeat(x, [3], axis=1), np.repeat(a, [3], axis=1))  # one count for all
    same(fnp.repeat(x, np.int64(2)), np.repeat(a, 2))
    same(fnp.repeat(fnp.zeros((4, 0)), fnp.asarray([], dtype=fnp.int32), axis=1), np.zeros((4, 0), np.float32))
    with pytest.raises(ValueError, match='one per element along axis 0'):
        fnp.repeat(x, [1, 2], axis=0)
    with pytest.raises(ValueError, match='non-negative'):
        fnp.repeat(x, -1)


@pytest.mark.parametrize('mode', ['constant', 'edge', 'reflect', 'symmetric', 'wrap'])
def test_pad(mode):
    for dtype in ALL:
        a = sample(rng, dtype, (3, 4))
        for width in [1, (2, 1), ((1, 0), (3, 2)), ((0, 0), (5, 7)), (4,)]:
            same(fnp.pad(fnp.asarray(a), width, mode=mode), np.pad(a, width, mode=mode))
    same(fnp.pad(fnp.asarray(np.arange(3.0)), 8, mode=mode), np.pad(np.arange(3.0), 8, mode=mode))
    same(fnp.pad(fnp.asarray(np.ones(1)), 3, mode=mode), np.pad(np.ones(1), 3, mode=mode))


def test_pad_constant_values():
    a = np.arange(6).reshape(2, 3)
    for values in (7, (1, 2), ((1, 2), (3, 4)), 2.7):
        same(fnp.pad(fnp.asarray(a), ((1, 2), (2, 1)), constant_values=values),
             np.pad(a, ((1, 2), (2, 1)), constant_values=values))
    same(fnp.pad(fnp.zeros(2), 1, constant_values=fnp.asarray(3.0)), np.array([3, 0, 0, 3], np.float32))
    with pytest.raises(ValueError, match='negative pad widths'):
        fnp.pad(fnp.zeros(2), -1)
    with pytest.raises(ValueError, match=r'pad_width of shape \(3,\)'):
        fnp.pad(fnp.zeros((2, 2)), (1, 2, 3))
    with pytest.raises(ValueError, match='unknown mode'):
        fnp.pad(fnp.zeros(2), 1, mode='mean')
    with pytest.raises(ValueError, match='cannot pad an empty axis'):
        fnp.pad(fnp.zeros(0), 1, mode='edge')


def test_diag_diagflat_trace():
    for dtype in ALL:
        v, m = sample(rng, dtype, (4,)), sample(rng, dtype, (3, 5))
        for k in (-2, 0, 1, 6):
            same(fnp.diag(fnp.asarray(v), k), np.diag(v, k))
            same(fnp.diag(fnp.asarray(m), k), np.diag(m, k))
            same(fnp.diagflat(fnp.asarray(m[:2, :2]), k), np.diagflat(m[:2, :2], k))
    a = sample(rng, 'int8', (2, 3, 4))
    same(fnp.trace(fnp.asarray(a[0])), np.trace(a[0]).astype(np.int32))  # the Array API's int32 sum
    same(fnp.trace(fnp.asarray(a), 1, 1, 2, dtype=fnp.int64), np.trace(a, 1, 1, 2, dtype=np.int64))
    with pytest.raises(ValueError, match='1-d or 2-d'):
        fnp.diag(fnp.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match='must differ'):
        fnp.diagonal(fnp.zeros((2, 2)), 0, 1, 1)


def test_diagonal_default_axes():
    a = sample(rng, 'float32', (2, 3, 4))
    same(fnp.diagonal(fnp.asarray(a)), np.diagonal(a, axis1=-2, axis2=-1))
    same(fnp.diagonal(fnp.asarray(a[0])), np.diagonal(a[0]))


def test_rot90_rollaxis_append():
    a = sample(rng, 'int16', (2, 3, 4))
    x = fnp.asarray(a)
    for k in range(-2, 6):
        for axes in [(0, 1), (1, 0), (2, 0), (-1, 1)]:
            same(fnp.rot90(x, k, axes), np.rot90(a, k, axes))
    for axis in range(3):
        for start in range(-3, 4):
            same(fnp.rollaxis(x, axis, start), np.rollaxis(a, axis, start))
    same(fnp.append(x, x[:1], axis=0), np.append(a, a[:1], axis=0))
    same(fnp.append(fnp.asarray([1, 2]), fnp.asarray([[3.5]])), np.append([1, 2], [[3.5]]).astype(np.float32))
    with pytest.raises(ValueError, match='must differ'):
        fnp.rot90(x, 1, (1, 1))
    with pytest.raises(ValueError, match='start 5 is out of bounds'):
        fnp.rollaxis(x, 0, 5)


@pytest.mark.parametrize('name', ['vsplit', 'hsplit', 'dsplit'])
def test_vsplit_hsplit_dsplit(name):
    a = sample(rng, 'float32', (4, 6, 2))
    for sections in (2, [1, 3]):
        same_list(getattr(fnp, name)(fnp.asarray(a), sections), getattr(np, name)(a, sections))
    if name == 'hsplit':
        same_list(fnp.hsplit(fnp.arange(6), 3), np.hsplit(np.arange(6, dtype=np.int32), 3))
    with pytest.raises(ValueError, match=f'{name}: needs an array of at least'):
        getattr(fnp, name)(fnp.asarray(7), 1)


def test_resize_and_block():
    for shape in [(2, 4), 7, (0,), (3, 0), (), (2, 2, 2)]:
        same(fnp.resize(fnp.asarray([1, 2, 3]), shape), np.resize(np.array([1, 2, 3], np.int32), shape))
    same(fnp.resize(fnp.zeros(0), (2,)), np.resize(np.zeros(0, np.float32), (2,)))
    a, b, c = sample(rng, 'float32', (2, 2)), sample(rng, 'float32', (2, 1)), sample(rng, 'float32', (1, 3))
    for blocks in ([[a, b], [c]], [a[0], b[0]], [[[a]], [[a]]], a):
        to_fd = (lambda v: [to_fd(e) for e in v] if isinstance(v, list) else fnp.asarray(v))
        same(fnp.block(to_fd(blocks)), np.block(blocks))
    with pytest.raises(ValueError, match='same depth'):
        fnp.block([fnp.ones(2), [fnp.ones(2)]])
    with pytest.raises(ValueError, match='must not be empty'):
        fnp.block([])


def test_introspection():
    x = fnp.zeros((2, 3))
    assert fnp.shape(x) == (2, 3) and fnp.ndim(x) == 2 and fnp.size(x) == 6 and fnp.size(x, 1) == 3
    assert fnp.shape([[1, 2]]) == (1, 2)
    assert fnp.copy(x).tolist() == x.tolist()


def test_functions_under_vmap_with_in_axes():
    a = sample(rng, 'float32', (3, 4, 2))
    x = fnp.asarray(a)
    out = fd.vmap(lambda v: fnp.concat([v, v[:1]], axis=0), in_axes=1)(x)
    np.testing.assert_array_equal(np.asarray(out), np.stack([np.concatenate([a[:, i], a[:1, i]]) for i in range(4)]))
    out = fd.vmap(lambda v: fnp.pad(v, (1, 2), mode='reflect'))(x)
    np.testing.assert_array_equal(np.asarray(out), np.stack([np.pad(r, (1, 2), mode='reflect') for r in a]))
    out = fd.vmap(lambda v: fnp.split(v, [1], axis=1)[1], in_axes=2)(x)
    np.testing.assert_array_equal(np.asarray(out), np.moveaxis(a[:, 1:], 2, 0))


# --- hypothesis properties -----------------------------------------------------------------------------

PROPERTY = settings(max_examples=20, derandomize=True, deadline=None)


@PROPERTY
@given(a=hnp.arrays(np.int16, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4)),
       data=st.data())
def test_property_transpose_and_moveaxis(a, data):
    perm = data.draw(st.permutations(range(a.ndim)))
    same(fnp.permute_dims(fnp.asarray(a), tuple(perm)), np.transpose(a, perm))
    src = data.draw(st.integers(-a.ndim, a.ndim - 1))
    dst = data.draw(st.integers(-a.ndim, a.ndim - 1))
    same(fnp.moveaxis(fnp.asarray(a), src, dst), np.moveaxis(a, src, dst))


@PROPERTY
@given(a=hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
       shift=st.integers(-10, 10), reps=st.lists(st.integers(0, 3), min_size=0, max_size=4))
def test_property_roll_tile(a, shift, reps):
    same(fnp.roll(fnp.asarray(a), shift), np.roll(a, shift))
    if a.ndim:
        same(fnp.roll(fnp.asarray(a), shift, axis=-1), np.roll(a, shift, axis=-1))
    same(fnp.tile(fnp.asarray(a), tuple(reps)), np.tile(a, tuple(reps)))


@PROPERTY
@given(a=hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)),
       data=st.data())
def test_property_pad_and_split(a, data):
    widths = [tuple(data.draw(st.lists(st.integers(0, 6), min_size=2, max_size=2))) for _ in range(a.ndim)]
    mode = data.draw(st.sampled_from(['constant', 'edge', 'reflect', 'symmetric', 'wrap']))
    same(fnp.pad(fnp.asarray(a), widths, mode=mode), np.pad(a, widths, mode=mode))
    cuts = sorted(data.draw(st.lists(st.integers(0, a.shape[0]), max_size=3)))
    same_list(fnp.split(fnp.asarray(a), cuts), np.split(a, cuts))

"""conv_general_dilated, conv_transpose, reduce_window_* and fnp.convolve/correlate against JAX and NumPy:
values, gradients (check_grads, order 2) and vmap (against a Python loop)."""
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.ops import conv as C
from fn_dl.ops import windowed as W
from fn_dl.testing import check_grads

jax = pytest.importorskip('jax')
lax = jax.lax

rng = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def distinct(*shape):
    """float64 values at least 0.01 apart: no near-ties for finite differences of max/min to trip over."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * (0.01 + 2.0 / n) - 1.0).reshape(shape)


def close(a, b, tol=1e-4):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a.astype(np.complex128), b.astype(np.complex128), rtol=tol, atol=tol)


# --- conv_general_dilated values ------------------------------------------------------------------

# (lhs shape, rhs shape, strides, padding, extra kwargs)
CONV_CASES = [
    ((2, 3, 11), (4, 3, 3), (2,), 'SAME', {}),
    ((2, 3, 11), (4, 3, 4), (3,), 'SAME_LOWER', {}),
    ((2, 3, 9, 8), (4, 3, 3, 2), (2, 3), 'SAME', {}),
    ((2, 3, 9, 8), (4, 3, 3, 3), (1, 2), ((2, 1), (0, 3)), {}),
    ((2, 3, 9, 8), (4, 3, 3, 2), (2, 1), ((1, 2), (-1, 0)), dict(lhs_dilation=(2, 1), rhs_dilation=(1, 2))),
    ((2, 6, 9, 8), (4, 3, 3, 2), (1, 1), 'SAME', dict(feature_group_count=2)),
    ((2, 6, 9, 8), (12, 1, 3, 3), (1, 2), 'SAME', dict(feature_group_count=6)),  # depthwise, multiplier 2
    ((4, 3, 9, 8), (6, 3, 3, 3), (1, 1), 'VALID', dict(batch_group_count=2)),
    ((2, 7, 5, 3), (3, 5, 3, 4), (1, 1), 'SAME', dict(dimension_numbers=('NHWC', 'HWIO', 'NHWC'))),
    ((2, 7, 5, 6), (3, 3, 3, 4), (2, 1), 'SAME',
     dict(dimension_numbers=('NWHC', 'HWIO', 'CNHW'), feature_group_count=2)),
    ((2, 3, 6, 5, 4), (4, 3, 3, 2, 2), (1, 2, 1), 'SAME', dict(rhs_dilation=(1, 1, 2))),
    ((1, 2, 5, 6, 7), (2, 1, 2, 3, 2), (2, 1, 3), ((1, 0), (1, 1), (0, 2)),
     dict(feature_group_count=2, lhs_dilation=(1, 2, 1))),
    ((2, 5, 7, 6), (5, 1, 3, 2), (2, 1), ((1, 1), (0, 1)), dict(feature_group_count=5, rhs_dilation=(1, 2))),
    # lhs dilation (the col2im path) with strides sharing a factor or not, negative padding, batch groups
    ((2, 3, 6, 5), (2, 3, 3, 4), (2, 3), ((-1, 2), (3, -2)), dict(lhs_dilation=(3, 2), rhs_dilation=(2, 1))),
    ((2, 3, 6, 5), (2, 3, 2, 2), (4, 1), ((2, 3), (1, 1)), dict(lhs_dilation=(2, 3))),
    ((4, 3, 5, 4), (4, 3, 3, 2), (1, 2), ((2, 2), (1, 0)), dict(lhs_dilation=(2, 2), batch_group_count=2)),
]


@pytest.fixture(scope='module')
def conv_refs():
    """Inputs and JAX's results for all CONV_CASES, computed by one jitted program (one compile, not 12)."""
    inputs = [(randn(*ls), randn(*rs)) for ls, rs, *_ in CONV_CASES]

    def all_convs(inputs):
        return [lax.conv_general_dilated(x, w, strides, padding, **kw)
                for (x, w), (_, _, strides, padding, kw) in zip(inputs, CONV_CASES)]
    return inputs, jax.jit(all_convs)(inputs)


@pytest.mark.parametrize('case', range(len(CONV_CASES)))
def test_conv_matches_jax(conv_refs, case):
    (x, w), ref = conv_refs[0][case], conv_refs[1][case]
    _, _, strides, padding, kw = CONV_CASES[case]
    close(C.conv_general_dilated(fnp.asarray(x), fnp.asarray(w), strides, padding, **kw), ref)


def test_conv_dtypes():
    x, w = randn(2, 3, 8, 8), randn(4, 3, 3, 3)
    xi, wi = (x * 4).astype(np.int32), (w * 4).astype(np.int32)
    out = C.conv_general_dilated(fnp.asarray(xi), fnp.asarray(wi), (1, 1), 'SAME')
    assert out.dtype == np.int32
    close(out, lax.conv_general_dilated(xi, wi, (1, 1), 'SAME'), 0)
    # low precision accumulates in float32: compare with the float32 convolution (checked above)
    ref = C.conv_general_dilated(fnp.asarray(x), fnp.asarray(w), (1, 1), 'SAME')
    out = C.conv_general_dilated(fnp.asarray(x).astype(fnp.bfloat16), fnp.asarray(w).astype(fnp.bfloat16),
                                 (1, 1), 'SAME', preferred_element_type=fnp.float32)
    assert out.dtype == np.float32
    close(out, ref, 1e-1)
    out = C.conv_general_dilated(fnp.asarray(x).astype(fnp.float16), fnp.asarray(w).astype(fnp.float16),
                                 (1, 1), 'SAME')
    assert out.dtype == np.float16
    close(out, ref, 2e-2)


def test_conv_in_slices_of_the_batch(monkeypatch):
    """Large batches go through im2col / col2im in slices of examples: same result."""
    x, w = fnp.asarray(randn(5, 4, 7, 6)), fnp.asarray(randn(6, 2, 3, 2))
    kws = [dict(feature_group_count=2), dict(feature_group_count=2, lhs_dilation=(2, 1))]
    full = [C.conv_general_dilated(x, w, (1, 2), ((1, 1), (0, 1)), **kw) for kw in kws]
    monkeypatch.setattr(C, '_BUFFER_ELEMENTS', 700)
    for kw, ref in zip(kws, full):
        close(C.conv_general_dilated(x, w, (1, 2), ((1, 1), (0, 1)), **kw), ref, 1e-6)


def test_conv_empty_output():
    out = C.conv_general_dilated(fnp.ones((2, 3, 2, 2)), fnp.ones((4, 3, 3, 3)), (1, 1), 'VALID')
    assert out.shape == (2, 4, 0, 0)


def test_conv_errors():
    x = fnp.ones((2, 3, 8, 8))
    with pytest.raises(ValueError, match=r'conv_general_dilated: lhs has 3 features.*feature_group_count=1'):
        C.conv_general_dilated(x, fnp.ones((4, 2, 3, 3)), (1, 1), 'SAME')
    with pytest.raises(TypeError, match='share a numeric dtype.*astype'):
        C.conv_general_dilated(x, fnp.ones((4, 3, 3, 3), dtype=fnp.float64), (1, 1), 'SAME')
    with pytest.raises(ValueError, match='window_strides has 1 entries for 2 spatial'):
        C.conv_general_dilated(x, fnp.ones((4, 3, 3, 3)), (1,), 'SAME')
    with pytest.raises(ValueError, match="layout 'NHWW'"):
        C.conv_general_dilated(x, fnp.ones((4, 3, 3, 3)), (1, 1), 'SAME', dimension_numbers=('NHWW', 'OIHW', 'NCHW'))
    with pytest.raises(ValueError, match='string padding'):
        C.conv_general_dilated(x, fnp.ones((4, 3, 3, 3)), (1, 1), 'SAME', lhs_dilation=(2, 2))


# --- conv_transpose ------------------------------------------------------------------------------------

@pytest.mark.parametrize('strides, padding, kw', [
    ((2, 2), 'SAME', {}),
    ((2, 1), 'VALID', {}),
    ((3, 2), ((1, 2), (0, 1)), {}),
    ((2, 2), ((1, 1), (0, 1)), dict(use_consistent_padding=True)),
    ((2, 2), 'SAME', dict(transpose_kernel=True)),
    ((1, 2), 'VALID', dict(rhs_dilation=(2, 1))),
])
def test_conv_transpose_matches_jax(strides, padding, kw):
    x, w = randn(2, 5, 6, 3), randn(3, 4, 3, 3)  # NHWC, HWIO
    ref = lax.conv_transpose(x, w, strides, padding, **kw)
    close(C.conv_transpose(fnp.asarray(x), fnp.asarray(w), strides, padding, **kw), ref)


def test_conv_transpose_is_the_gradient():
    x, w = randn(2, 3, 7, 6, dtype=np.float64), randn(4, 3, 3, 3, dtype=np.float64)
    dn = ('NCHW', 'OIHW', 'NCHW')
    y, f_vjp = fd.vjp(lambda x: C.conv_general_dilated(x, fnp.asarray(w), (2, 2), ((1, 1), (1, 1)),
                                                      dimension_numbers=dn), fnp.asarray(x))
    g = randn(*y.shape, dtype=np.float64)
    (ct,) = f_vjp(fnp.asarray(g))
    out = C.conv_transpose(fnp.asarray(g), fnp.asarray(w), (2, 2), ((1, 1), (1, 1)), dimension_numbers=dn,
                           transpose_kernel=True, use_consistent_padding=True)
    # PyTorch's output_padding would add the last column, which the forward conv's stride reached
    assert out.shape == (2, 3, 7, 5)
    close(out, ct[:, :, :, :5], 1e-10)


# --- conv gradients and vmap ------------------------------------------------------------------------

GRAD_CASES = [
    ((2, 3, 7), (2, 3, 3), (2,), 'SAME', {}),
    ((2, 2, 5, 6), (3, 2, 3, 2), (2, 1), ((1, 0), (-1, 2)), dict(lhs_dilation=(1, 2), rhs_dilation=(2, 1))),
    ((2, 4, 5, 5), (4, 2, 3, 3), (1, 2), 'SAME', dict(feature_group_count=2)),
    ((4, 2, 5, 5), (4, 2, 2, 3), (1, 1), 'VALID', dict(batch_group_count=2)),
    ((1, 4, 3, 5, 2), (2, 2, 2, 2, 3), (1, 1, 1), ((0, 0), (1, 1), (0, 1)),
     dict(dimension_numbers=('NHWDC', 'HWDIO', 'NCHWD'))),
]


@pytest.mark.parametrize('ls, rs, strides, padding, kw', GRAD_CASES)
def test_conv_grads(ls, rs, strides, padding, kw):
    x, w = fnp.asarray(randn(*ls, dtype=np.float64)), fnp.asarray(randn(*rs, dtype=np.float64))
    check_grads(lambda x, w: C.conv_general_dilated(x, w, strides, padding, **kw), (x, w), order=2)


def test_conv_grad_matches_jax():
    x, w = randn(2, 4, 8, 7), randn(6, 2, 3, 3)
    kw = dict(feature_group_count=2, rhs_dilation=(1, 2))

    def loss_j(x, w):
        return (lax.conv_general_dilated(x, w, (2, 1), 'SAME', **kw) ** 2).sum()

    def loss_f(x, w):
        return fnp.sum(C.conv_general_dilated(x, w, (2, 1), 'SAME', **kw) ** 2)
    gx, gw = fd.grad(loss_f, argnums=(0, 1))(fnp.asarray(x), fnp.asarray(w))
    rx, rw = jax.jit(jax.grad(loss_j, argnums=(0, 1)))(x, w)
    close(gx, rx, 1e-3)
    close(gw, rw, 1e-3)


def _loop(f, in_axes, *args):
    size = next(a.shape[ax] for a, ax in zip(args, in_axes) if ax is not None)
    outs = [f(*[a if ax is None else np.take(a, i, axis=ax) for a, ax in zip(args, in_axes)]) for i in range(size)]
    return np.stack([np.asarray(o) for o in outs])


VMAP_CASES = [  # lhs shape, rhs shape, kwargs
    ((4, 4, 5, 6), (3, 4, 3, 3), {}),
    ((4, 4, 5, 6), (4, 2, 3, 3), dict(feature_group_count=2)),
    ((4, 4, 5, 6), (4, 4, 3, 3), dict(batch_group_count=2)),
    ((4, 5, 6, 4), (3, 3, 4, 2), dict(dimension_numbers=('NHWC', 'HWIO', 'NHWC'))),
]


def _insert(shape, axis, size=3):
    return shape if axis is None else shape[:axis] + (size,) + shape[axis:]


@pytest.mark.parametrize('ls, rs, kw', VMAP_CASES)
@pytest.mark.parametrize('in_axes', [(0, None), (None, 0), (0, 0), (2, 1)])
def test_conv_vmap(ls, rs, kw, in_axes):
    xs, ws = randn(*_insert(ls, in_axes[0])), randn(*_insert(rs, in_axes[1]))

    def f(x, w):
        return C.conv_general_dilated(fnp.asarray(x), fnp.asarray(w), (1, 2), 'SAME', **kw)
    out = fd.vmap(f, in_axes=in_axes)(fnp.asarray(xs), fnp.asarray(ws))
    close(out, _loop(f, in_axes, xs, ws))


def test_per_example_grads():
    x, w = randn(5, 2, 6, 6, dtype=np.float64), randn(3, 2, 3, 3, dtype=np.float64)

    def loss(w, x):
        return fnp.sum(fnp.tanh(C.conv_general_dilated(x[None], w, (1, 1), 'SAME')))
    g = fd.vmap(fd.grad(loss), in_axes=(None, 0))(fnp.asarray(w), fnp.asarray(x))
    close(g, _loop(lambda xi: fd.grad(loss)(fnp.asarray(w), fnp.asarray(xi)), (0,), x), 1e-10)


# --- reduce_window -------------------------------------------------------------------------------------

WINDOW_CASES = [
    ((2, 3, 8, 8), (1, 1, 2, 2), (1, 1, 2, 2), 'VALID', {}),
    ((2, 3, 9, 7), (1, 1, 3, 3), (1, 1, 2, 2), ((0, 0), (0, 0), (1, 1), (1, 1)), {}),
    ((2, 3, 9, 7), (1, 1, 3, 2), (1, 1, 2, 1), 'SAME', {}),
    ((10, 7), (3, 2), (2, 1), ((1, 2), (-1, 1)), dict(base_dilation=(2, 1))),
    ((10, 7), (2, 3), (1, 2), ((0, 1), (2, 0)), dict(window_dilation=(3, 2))),
    ((3, 4, 5, 6), (1, 2, 2, 3), (1, 1, 2, 1), ((0, 0), (1, 0), (0, 1), (1, 1)),
     dict(base_dilation=(1, 2, 1, 1), window_dilation=(1, 1, 2, 1))),
    ((12,), (4,), (3,), 'SAME', {}),
]

_JAX_REDUCERS = {'sum': (0.0, lax.add), 'max': (-np.inf, lax.max), 'min': (np.inf, lax.min)}
_OURS = {'sum': W.reduce_window_sum, 'max': W.reduce_window_max, 'min': W.reduce_window_min}


@pytest.fixture(scope='module')
def window_refs():
    """Inputs and JAX's sum/max/min for all WINDOW_CASES, from one jitted program."""
    inputs = [randn(*case[0]) for case in WINDOW_CASES]

    def all_windows(inputs):
        return [{kind: lax.reduce_window(x, np.float32(init), op, window, strides, padding, **kw)
                 for kind, (init, op) in _JAX_REDUCERS.items()}
                for x, (_, window, strides, padding, kw) in zip(inputs, WINDOW_CASES)]
    return inputs, jax.jit(all_windows)(inputs)


@pytest.mark.parametrize('kind', ['sum', 'max', 'min'])
@pytest.mark.parametrize('case', range(len(WINDOW_CASES)))
def test_reduce_window_matches_jax(window_refs, kind, case):
    x, ref = window_refs[0][case], window_refs[1][case][kind]
    _, window, strides, padding, kw = WINDOW_CASES[case]
    close(_OURS[kind](fnp.asarray(x), window, strides, padding, **kw), ref)


def test_reduce_window_int_and_bool():
    x = rng.integers(-50, 50, (4, 9)).astype(np.int32)
    inits = {'sum': 0, 'max': np.iinfo(np.int32).min, 'min': np.iinfo(np.int32).max}
    refs = jax.jit(lambda x: {kind: lax.reduce_window(x, np.int32(inits[kind]), op, (2, 3), (1, 2), 'SAME')
                              for kind, (_, op) in _JAX_REDUCERS.items()})(x)
    for kind, ref in refs.items():
        out = _OURS[kind](fnp.asarray(x), (2, 3), (1, 2), 'SAME')
        assert out.dtype == np.int32
        close(out, ref, 0)
    b = fnp.asarray([False, True, False, False])
    assert W.reduce_window_max(b, (2,), (1,), 'VALID').tolist() == [True, True, False]


@pytest.mark.parametrize('kind', ['sum', 'max', 'min'])
@pytest.mark.parametrize('shape, window, strides, padding, kw', WINDOW_CASES[1:])
def test_reduce_window_grads(kind, shape, window, strides, padding, kw):
    x = fnp.asarray(distinct(*shape))
    check_grads(lambda x: _OURS[kind](x, window, strides, padding, **kw), (x,), order=2)


def test_max_pool_grad_matches_jax():
    x, c = randn(2, 3, 9, 8), randn(2, 3, 5, 4)
    args = ((1, 1, 3, 3), (1, 1, 2, 2), ((0, 0), (0, 0), (1, 1), (1, 0)))
    rx = jax.jit(jax.grad(lambda x: (lax.reduce_window(x, -np.inf, lax.max, *args) * c).sum()))(x)
    gx = fd.grad(lambda x: fnp.sum(W.reduce_window_max(x, *args) * fnp.asarray(c)))(fnp.asarray(x))
    close(gx, rx)


def test_max_pool_ties_go_to_the_first():
    x = fnp.asarray([[1.0, 3.0, 3.0], [3.0, 0.0, 2.0]])
    g = fd.grad(lambda x: fnp.sum(W.reduce_window_max(x, (2, 2), (1, 1), 'VALID')))(x)
    assert g.tolist() == [[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]


def test_select_primitives_are_transposes():
    x = fnp.asarray(distinct(4, 7))
    args = ('max', (2, 3), (2, 1), ((1, 0), (1, 1)))
    kw = dict(base_dilation=(1, 2), window_dilation=(2, 1))
    t = fnp.asarray(randn(4, 7, dtype=np.float64))
    y = W.select_and_gather_add(t, x, *args, **kw)
    s = fnp.asarray(randn(*y.shape, dtype=np.float64))
    lhs = float(fnp.sum(y * s))
    rhs = float(fnp.sum(W.select_and_scatter_add(s, x, *args, **kw) * t))
    assert abs(lhs - rhs) < 1e-10


@pytest.mark.parametrize('kind', ['sum', 'max'])
@pytest.mark.parametrize('in_axis', [0, 2])
def test_reduce_window_vmap(kind, in_axis):
    xs = randn(*(3, 4, 5)[:in_axis], 6, *(3, 4, 5)[in_axis:])

    def f(x):
        return _OURS[kind](fnp.asarray(x), (1, 2, 3), (1, 2, 1), 'SAME', window_dilation=(1, 1, 2))
    close(fd.vmap(f, in_axes=in_axis)(fnp.asarray(xs)), _loop(f, (in_axis,), xs))

    def g(x):
        return fd.grad(lambda x: fnp.sum(f(x) ** 2))(fnp.asarray(x))
    close(fd.vmap(g, in_axes=in_axis)(fnp.asarray(xs)), _loop(g, (in_axis,), xs))


# --- fnp.convolve / fnp.correlate ---------------------------------------------------------------

@pytest.mark.parametrize('name', ['convolve', 'correlate'])
@pytest.mark.parametrize('mode', ['full', 'same', 'valid'])
@pytest.mark.parametrize('n, m', [(7, 3), (3, 7), (4, 4), (6, 1)])
def test_convolve_matches_numpy(name, mode, n, m):
    a = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    v = rng.standard_normal(m) + 1j * rng.standard_normal(m)
    close(getattr(fnp, name)(fnp.asarray(a), fnp.asarray(v), mode), getattr(np, name)(a, v, mode), 1e-10)
    close(getattr(fnp, name)(fnp.asarray(a.real), fnp.asarray(v.real), mode),
          getattr(np, name)(a.real, v.real, mode), 1e-10)


def test_convolve_ints_grads_errors():
    out = fnp.convolve([1, 2, 3], [0, 1, 1])
    assert out.dtype == np.int32 and out.tolist() == np.convolve([1, 2, 3], [0, 1, 1]).tolist()
    a, v = fnp.asarray(randn(6, dtype=np.float64)), fnp.asarray(randn(3, dtype=np.float64))
    check_grads(lambda a, v: fnp.correlate(a, v, 'same'), (a, v), order=2)
    with pytest.raises(ValueError, match='convolve: a and v must be 1-d'):
        fnp.convolve(fnp.ones((2, 2)), fnp.ones(2))
    with pytest.raises(ValueError, match="mode must be 'full', 'same' or 'valid'"):
        fnp.correlate(fnp.ones(3), fnp.ones(2), 'wrap')


_KERNEL = fnp.asarray(randn(2, 1, 2, 3, dtype=np.float64))


@pytest.mark.parametrize('f', [
    lambda x: W.reduce_window_max(x, (2, 3), (1, 2), 'SAME', window_dilation=(2, 1)),
    lambda x: W.reduce_window_sum(x, (2, 2), (2, 1), ((1, 0), (0, 1)), base_dilation=(1, 2)),
    lambda x: C.conv_general_dilated(x[None, None], _KERNEL, (2, 1), 'SAME')[0],
], ids=['max', 'sum', 'conv'])
def test_jacobians_by_vmap(f):
    """Rows by vmap over vjp's cotangents, columns by vmap over jvp's tangents: only one operand batched."""
    x = fnp.asarray(distinct(5, 6))
    y, f_vjp = fd.vjp(f, x)
    rows = fd.vmap(lambda ct: f_vjp(ct)[0])(fnp.eye(y.size, dtype=fnp.float64).reshape((y.size,) + y.shape))
    cols = fd.vmap(lambda t: fd.jvp(f, (x,), (t,))[1])(fnp.eye(x.size, dtype=fnp.float64).reshape((x.size,) + x.shape))
    close(rows.reshape(y.size, x.size), cols.reshape(x.size, y.size).T, 1e-12)


def test_reduce_window_errors():
    x = fnp.ones((2, 3))
    with pytest.raises(ValueError, match=r'reduce_window_max: window_dimensions \(2,\) must be 2 positive'):
        W.reduce_window_max(x, (2,), (1,), 'VALID')
    with pytest.raises(TypeError, match='reduce_window_sum: does not accept bool'):
        fd.vmap(lambda b: W.reduce_window_sum(b, (1,), (1,), 'VALID'))(fnp.ones((2, 3), dtype=bool))
    with pytest.raises(ValueError, match='reduce_window_min: padding must be'):
        W.reduce_window_min(x, (1, 1), (1, 1), 'FULL')

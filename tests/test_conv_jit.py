"""The StableHLO lowerings of conv_general_dilated, reduce_window_* and the max/min-pooling derivatives:
jit agrees with eager on values, on jit(grad) and on jit(vmap).

An XLA compile of a convolution costs a few tenths of a second on CPU, so each group of cases is traced
into one jitted program (one compile) by a module fixture, and the tests compare it case by case."""
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.backends.xla import _pjrt
from fn_dl.ops import conv as C
from fn_dl.ops import windowed as W

pytestmark = pytest.mark.skipif(not _pjrt.available(), reason=f"no XLA: {_pjrt.unavailable_reason()}")

rng = np.random.default_rng(7)


def randn(*shape):
    return fnp.asarray(rng.standard_normal(shape).astype(np.float32))


def distinct(*shape):
    """float32 values at least 0.01 apart: no ties, so max/min pick the same position in eager and jit."""
    n = int(np.prod(shape))
    return fnp.asarray((rng.permutation(n) * (0.01 + 2.0 / n) - 1.0).reshape(shape).astype(np.float32))


def close(out, ref):
    out, ref = np.asarray(out), np.asarray(ref)
    assert out.shape == ref.shape and out.dtype == ref.dtype, (out.shape, out.dtype, ref.shape, ref.dtype)
    # summation order differs between XLA and NumPy: relative to the case's largest magnitude
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * max(np.abs(ref).max(initial=0), 1))


def conv(strides, padding, **kw):
    return lambda x, w: C.conv_general_dilated(x, w, strides, padding, **kw)


def tconv(strides, padding, **kw):
    return lambda x, w: C.conv_transpose(x, w, strides, padding, **kw)


# (id, lhs shape, rhs shape, function)
CONV_CASES = [
    ('1d-same-stride', (2, 3, 11), (4, 3, 3), conv((2,), 'SAME')),
    ('1d-same_lower-rhs_dil', (2, 3, 11), (4, 3, 4), conv((3,), 'SAME_LOWER', rhs_dilation=(2,))),
    ('2d-same-strides', (2, 3, 9, 8), (4, 3, 3, 2), conv((2, 3), 'SAME')),
    ('2d-neg_pad-dilations', (2, 3, 9, 8), (4, 3, 3, 2),
     conv((2, 1), ((1, 2), (-1, 0)), lhs_dilation=(2, 1), rhs_dilation=(1, 2))),
    ('2d-groups', (2, 6, 9, 8), (4, 3, 3, 2), conv((1, 1), 'SAME', feature_group_count=2)),
    ('2d-depthwise', (2, 6, 9, 8), (12, 1, 3, 3), conv((1, 2), 'SAME', feature_group_count=6)),
    ('2d-batch_groups', (4, 3, 9, 8), (6, 3, 3, 3), conv((1, 1), 'VALID', batch_group_count=2)),
    ('2d-nhwc', (2, 7, 5, 3), (3, 5, 3, 4), conv((1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))),
    ('2d-odd_layouts-groups', (2, 7, 5, 6), (3, 3, 3, 4),
     conv((2, 1), 'SAME', dimension_numbers=('NWHC', 'HWIO', 'CNHW'), feature_group_count=2)),
    ('3d-rhs_dil', (2, 3, 6, 5, 4), (4, 3, 3, 2, 2), conv((1, 2, 1), 'SAME', rhs_dilation=(1, 1, 2))),
    ('3d-groups-lhs_dil', (1, 2, 5, 6, 7), (2, 1, 2, 3, 2),
     conv((2, 1, 3), ((1, 0), (1, 1), (0, 2)), feature_group_count=2, lhs_dilation=(1, 2, 1))),
    ('transpose-same', (2, 5, 6, 3), (3, 4, 3, 3), tconv((2, 2), 'SAME')),
    ('transpose-valid-rhs_dil', (2, 5, 6, 3), (3, 4, 3, 3), tconv((1, 2), 'VALID', rhs_dilation=(2, 1))),
    ('transpose-kernel', (2, 5, 6, 3), (3, 4, 3, 3), tconv((2, 2), 'SAME', transpose_kernel=True)),
]
CONV_IDS = [c[0] for c in CONV_CASES]
_CONV_FNS = [c[3] for c in CONV_CASES]
# vmap over the lhs, the kernel, both, or axes inside, in turn: every branch of the batching rule
_CONV_AXES = [[(0, 0), (0, None), (None, 0), (1, 2)][i % 4] for i in range(len(CONV_CASES))]


def _insert(shape, axis, size=3):
    return shape if axis is None else shape[:axis] + (size,) + shape[axis:]


@pytest.fixture(scope='module')
def conv_results():
    """Per case: (eager, jit) forward values, gradients of <f(x, w), ct> and vmapped values."""
    xs = [randn(*c[1]) for c in CONV_CASES]
    ws = [randn(*c[2]) for c in CONV_CASES]
    cts = [randn(*f(x, w).shape) for f, x, w in zip(_CONV_FNS, xs, ws)]
    bxs = [randn(*_insert(c[1], a)) for c, (a, _) in zip(CONV_CASES, _CONV_AXES)]
    bws = [randn(*_insert(c[2], b)) for c, (_, b) in zip(CONV_CASES, _CONV_AXES)]

    def forward(xs, ws):
        return [f(x, w) for f, x, w in zip(_CONV_FNS, xs, ws)]

    def grads(xs, ws, cts):
        return [fd.grad(lambda x, w, f=f, ct=ct: fnp.sum(f(x, w) * ct), argnums=(0, 1))(x, w)
                for f, x, w, ct in zip(_CONV_FNS, xs, ws, cts)]

    def vmaps(xs, ws):
        return [fd.vmap(f, in_axes=axes)(x, w) for f, axes, x, w in zip(_CONV_FNS, _CONV_AXES, xs, ws)]
    return {'forward': (forward(xs, ws), fd.jit(forward)(xs, ws)),
            'grad': (grads(xs, ws, cts), fd.jit(grads)(xs, ws, cts)),
            'vmap': (vmaps(bxs, bws), fd.jit(vmaps)(bxs, bws))}


@pytest.mark.parametrize('what', ['forward', 'grad', 'vmap'])
@pytest.mark.parametrize('case', range(len(CONV_CASES)), ids=CONV_IDS)
def test_conv_jit_matches_eager(conv_results, what, case):
    eager, jitted = conv_results[what]
    out, ref = jitted[case], eager[case]
    for o, r in (zip(out, ref) if what == 'grad' else [(out, ref)]):
        close(o, r)


def test_conv_stablehlo_text():
    x, w = fnp.ones((2, 7, 5, 3)), fnp.ones((3, 5, 3, 4))
    f = conv((2, 1), ((1, 0), (2, -1)), rhs_dilation=(1, 2), dimension_numbers=('NHWC', 'HWIO', 'NCHW'))
    text = fd.jit(f).lower(x, w).as_text()
    assert '#stablehlo.conv<[b, 0, 1, f]x[0, 1, i, o]->[b, f, 0, 1]>' in text
    assert 'padding = dense<[[1, 0], [2, -1]]> : tensor<2x2xi64>' in text
    assert 'rhs_dilation = array<i64: 1, 2>' in text and 'window_strides = array<i64: 2, 1>' in text


def test_conv_jit_preferred_element_type_and_ints():
    x, w = randn(2, 3, 8, 8), randn(4, 3, 3, 3)
    f = conv((1, 1), 'SAME', preferred_element_type=fnp.float32)
    out = fd.jit(f)(x.astype(fnp.bfloat16), w.astype(fnp.bfloat16))
    assert out.dtype == np.float32
    np.testing.assert_allclose(np.asarray(out), np.asarray(f(x, w)), rtol=0.1, atol=0.1)
    xi, wi = (x * 4).astype(fnp.int32), (w * 4).astype(fnp.int32)
    assert (np.asarray(fd.jit(conv((2, 1), 'SAME'))(xi, wi)) == np.asarray(conv((2, 1), 'SAME')(xi, wi))).all()


# --- pooling -------------------------------------------------------------------------------------------

# (shape, window, strides, padding, dilations)
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
POOLS = {'sum': W.reduce_window_sum, 'max': W.reduce_window_max, 'min': W.reduce_window_min}
_POOL_CASES = [(kind, i) for i in range(len(WINDOW_CASES)) for kind in POOLS]
_POOL_IDS = [f"{kind}-{i}" for kind, i in _POOL_CASES]


def _pool(kind, case):
    _, window, strides, padding, kw = WINDOW_CASES[case]
    return lambda x: POOLS[kind](x, window, strides, padding, **kw)


_POOL_FNS = [_pool(kind, case) for kind, case in _POOL_CASES]
# vmap(grad) of every other (kind, case): each kind and each window case at least once, at half the compile time;
# over the leading axis or the second one, in turn
_VMAPPED = range(0, len(_POOL_CASES), 2)
_POOL_AXES = {i: k % 2 for k, i in enumerate(_VMAPPED)}


@pytest.fixture(scope='module')
def pool_results():
    """Per (kind, case): (eager, jit) values, gradients of <f(x), ct>, and vmap of the value and gradient."""
    xs = [distinct(*WINDOW_CASES[case][0]) for _, case in _POOL_CASES]
    cts = [randn(*f(x).shape) for f, x in zip(_POOL_FNS, xs)]
    bxs = [distinct(*_insert(xs[i].shape, _POOL_AXES[i])) for i in _VMAPPED]

    def forward(xs):
        return [f(x) for f, x in zip(_POOL_FNS, xs)]

    def grads(xs, cts):
        return [fd.grad(lambda x, f=f, ct=ct: fnp.sum(f(x) * ct))(x) for f, x, ct in zip(_POOL_FNS, xs, cts)]

    def vmaps(bxs):
        # per-example gradients of a nonlinear loss: jit(vmap(grad)) over the select_and_* primitives
        return {i: fd.vmap(lambda x, f=_POOL_FNS[i]: (f(x), fd.grad(lambda x: fnp.sum(f(x) ** 2))(x)),
                           in_axes=_POOL_AXES[i])(x) for i, x in zip(_VMAPPED, bxs)}
    return {'forward': (forward(xs), fd.jit(forward)(xs)), 'grad': (grads(xs, cts), fd.jit(grads)(xs, cts)),
            'vmap': (vmaps(bxs), fd.jit(vmaps)(bxs))}


@pytest.mark.parametrize('what', ['forward', 'grad'])
@pytest.mark.parametrize('case', range(len(_POOL_CASES)), ids=_POOL_IDS)
def test_pool_jit_matches_eager(pool_results, what, case):
    eager, jitted = pool_results[what]
    close(jitted[case], eager[case])


@pytest.mark.parametrize('case', _VMAPPED, ids=[_POOL_IDS[i] for i in _VMAPPED])
def test_pool_jit_vmap_matches_eager(pool_results, case):
    eager, jitted = pool_results['vmap']
    for out, ref in zip(jitted[case], eager[case]):
        close(out, ref)


def test_select_primitives_jit():
    """The two selection primitives on their own: with base and window dilation (the latter has no
    select_and_scatter form and takes a path of its own), on operands whose values tie with the identity
    (+-inf next to padding), and on int and bool operands."""
    dist, inf = distinct(5, 8), np.float32(np.inf)
    rows = np.array([[-inf, -inf, 1, inf, inf, -inf, 2, -inf]] * 2 + [[inf, 0, -inf, 3, inf, inf, 0, 1]] * 3,
                    np.float32)
    ties, ints, bools = fnp.asarray(rows), fnp.asarray(np.clip(rows, -9, 9).astype(np.int32)), fnp.asarray(rows > 0)
    padding = ((1, 0), (2, 2))
    configs = [(dist, 'max', dict(base_dilation=(2, 1))), (dist, 'min', dict(window_dilation=(1, 3))),
               (dist, 'max', dict(base_dilation=(1, 2), window_dilation=(2, 1))), (ties, 'max', {}), (ties, 'min', {}),
               (ties, 'max', dict(window_dilation=(1, 2))), (ties, 'min', dict(base_dilation=(1, 2))),
               (ints, 'max', {}), (bools, 'min', dict(base_dilation=(2, 1)))]
    t = randn(5, 8)
    sources = [randn(*W.select_and_gather_add(t, x, select, (2, 3), (2, 1), padding, **kw).shape)
               for x, select, kw in configs]

    def both(t, xs, sources):
        return [(W.select_and_gather_add(t, x, select, (2, 3), (2, 1), padding, **kw),
                 W.select_and_scatter_add(s, x, select, (2, 3), (2, 1), padding, **kw))
                for x, (_, select, kw), s in zip(xs, configs, sources)]
    xs = [x for x, _, _ in configs]
    for outs, refs in zip(fd.jit(both)(t, xs, sources), both(t, xs, sources)):
        for out, ref in zip(outs, refs):
            close(out, ref)


def test_pool_jit_ties_ints_bools_and_empty_windows():
    # ties go to the first position in the window, as in eager (and PyTorch)
    x = fnp.asarray([[1.0, 3.0, 3.0], [3.0, 0.0, 2.0]])
    for kw in ({}, dict(window_dilation=(1, 2))):
        g = fd.grad(lambda x: fnp.sum(W.reduce_window_max(x, (2, 2), (1, 1), 'VALID', **kw)))
        assert fd.jit(g)(x).tolist() == g(x).tolist()
    xi = fnp.asarray(rng.integers(-50, 50, (4, 9)).astype(np.int32))
    xb = fnp.asarray(rng.integers(0, 2, (4, 9)).astype(bool))

    def pools(xi, xb):
        return [pool(v, (2, 3), (1, 2), 'SAME') for kind, pool in POOLS.items()
                for v in ((xi, xb) if kind != 'sum' else (xi,))]
    for out, ref in zip(fd.jit(pools)(xi, xb), pools(xi, xb)):
        assert out.dtype == ref.dtype and out.tolist() == ref.tolist()
    # a window larger than the operand: no windows, a zero gradient
    g = fd.grad(lambda x: fnp.sum(W.reduce_window_max(x, (4,), (1,), 'VALID')))
    assert fd.jit(g)(fnp.ones(3)).tolist() == [0.0, 0.0, 0.0]


def test_pool_stablehlo_text():
    f = fd.grad(lambda x: fnp.sum(W.reduce_window_max(x, (1, 1, 3, 3), (1, 1, 2, 2), 'SAME')))
    text = fd.jit(f).lower(fnp.ones((2, 3, 9, 8))).as_text()
    assert 'stablehlo.select_and_scatter' in text
    assert 'window_dimensions = array<i64: 1, 1, 3, 3>' in text

"""vmap: axes specs, nesting, composition with grad, per-sample gradients, errors."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp

jax.config.update('jax_enable_x64', True)
rng = np.random.default_rng(0)


def r(*shape):
    return rng.standard_normal(shape)


def loop(f, *args, in_axes):
    n = next(np.shape(a)[ax] for a, ax in zip(args, in_axes) if ax is not None)
    outs = [f(*[a if ax is None else np.take(np.asarray(a), i, axis=ax) for a, ax in zip(args, in_axes)])
            for i in range(n)]
    return np.stack([np.asarray(o) for o in outs])


@pytest.mark.parametrize('in_axes', [(0, None), (1, None), (0, 0), (-1, 0), (None, 1)])
def test_in_axes_matmul_and_ops(in_axes):
    f = lambda a, b: fnp.tanh(a @ b) * fnp.sum(b)  # noqa: E731
    shapes = {(0, None): ((5, 4, 3), (3, 2)), (1, None): ((4, 5, 3), (3, 2)), (0, 0): ((5, 4, 3), (5, 3, 2)),
              (-1, 0): ((4, 3, 5), (5, 3, 2)), (None, 1): ((4, 3), (3, 5, 2))}[in_axes]
    a, b = r(*shapes[0]), r(*shapes[1])
    out = fd.vmap(f, in_axes=in_axes)(fnp.asarray(a), fnp.asarray(b))
    np.testing.assert_allclose(np.asarray(out), loop(lambda x, y: f(fnp.asarray(x), fnp.asarray(y)), a, b,
                                                     in_axes=in_axes), rtol=1e-12)


def _batched(make, axis, n=5):
    """n examples from make() stacked along `axis`, or one example when axis is None (unbatched)."""
    return make() if axis is None else np.stack([make() for _ in range(n)], axis)


# per-example shapes and dimension numbers: matrix products, a batched matmul, an outer product, a transposed lhs
_DOTS = [((4, 3), (3, 2), (((1,), (0,)), ((), ()))),
         ((2, 4, 3), (2, 3, 5), (((2,), (1,)), ((0,), (0,)))),
         ((4, 1), (1, 3), (((1,), (0,)), ((), ()))),
         ((3, 4), (3, 2), (((0,), (0,)), ((), ()))),
         ((4, 3), (3,), (((1,), (0,)), ((), ())))]


@pytest.mark.parametrize('in_axes', [(0, None), (None, 0), (0, 0), (1, None), (None, -1), (-1, 1)])
@pytest.mark.parametrize('case', range(len(_DOTS)))
def test_dot_general_batch_axes(case, in_axes):
    # the batch rule keeps each batch axis where it is: every placement must give the per-example products
    ls, rs, dn = _DOTS[case]
    a, b = (_batched(lambda: r(*s), ax) for s, ax in zip((ls, rs), in_axes))
    f = lambda x, y: fd.lax.dot_general(x, y, dn)  # noqa: E731
    out = fd.vmap(f, in_axes=in_axes)(fnp.asarray(a), fnp.asarray(b))
    np.testing.assert_allclose(np.asarray(out), loop(lambda x, y: f(fnp.asarray(x), fnp.asarray(y)), a, b,
                                                     in_axes=in_axes), rtol=1e-12)


@pytest.mark.parametrize('in_axes', [(0, None, 1), (None, 1, 0), (1, 1, None), (None, None, 1)])
def test_elementwise_and_select_batch_axes(in_axes):
    # operands batched along different axes, or not at all, are lined up without changing the values
    p, x, y = (_batched(make, ax) for make, ax in zip((lambda: r(3, 4) > 0, lambda: r(3, 4), lambda: r(3, 4)),
                                                      in_axes))
    f = lambda p, x, y: fnp.where(p, x * y, x + y)  # noqa: E731
    out = fd.vmap(f, in_axes=in_axes)(fnp.asarray(p), fnp.asarray(x), fnp.asarray(y))
    np.testing.assert_allclose(np.asarray(out), loop(lambda *v: f(*map(fnp.asarray, v)), p, x, y,
                                                     in_axes=in_axes), rtol=1e-12)


_SHAPE_OPS = {  # per-example operand (3, 4, 5)
    'reduce_sum': lambda x: fd.lax.reduce_sum(x, (0, 2)),
    'reduce_max': lambda x: fd.lax.reduce_max(x, (1,)),
    'argmax': lambda x: fd.lax.argmax(x, 1),
    'broadcast_in_dim': lambda x: fd.lax.broadcast_in_dim(x, (3, 2, 4, 5), (0, 2, 3)),
    'transpose': lambda x: fd.lax.transpose(x, (2, 0, 1)),
    'slice': lambda x: fd.lax.slice(x, (1, 0, 1), (3, 4, 5), (1, 2, 2)),
    'rev': lambda x: fd.lax.rev(x, (0, 2)),
    'pad': lambda x: fd.lax.pad(x, fnp.asarray(np.float64(0.5)), ((1, 0, 1), (0, 2, 0), (-1, 1, 0))),
    'concatenate': lambda x: fd.lax.concatenate([x, fnp.sin(x)], 1),
}


@pytest.mark.parametrize('in_axis', [0, 1, 3])
@pytest.mark.parametrize('name', sorted(_SHAPE_OPS))
def test_shape_and_reduction_batch_axes(name, in_axis):
    # these rules keep the batch axis where it is, or move it once: every placement gives the per-example result
    x = _batched(lambda: r(3, 4, 5), in_axis)
    f = _SHAPE_OPS[name]
    out = fd.vmap(f, in_axes=in_axis)(fnp.asarray(x))
    np.testing.assert_allclose(np.asarray(out), loop(lambda v: f(fnp.asarray(v)), x, in_axes=(in_axis,)),
                               rtol=1e-12)


@pytest.mark.parametrize('in_axes', [(1, None), (None, 2), (0, 2)])
def test_concatenate_mixed_batch_axes(in_axes):
    x, y = (_batched(lambda: r(3, 4), ax) for ax in in_axes)
    f = lambda a, b: fd.lax.concatenate([a, b, a], 0)  # noqa: E731
    out = fd.vmap(f, in_axes=in_axes)(fnp.asarray(x), fnp.asarray(y))
    np.testing.assert_allclose(np.asarray(out), loop(lambda a, b: f(fnp.asarray(a), fnp.asarray(b)), x, y,
                                                     in_axes=in_axes), rtol=1e-12)


@pytest.mark.parametrize('shape', [(1, 1100, 1000), (50, 150, 140)])
def test_large_outer_products_split_across_threads(shape, monkeypatch):
    # per-example weight gradients are outer products; large ones are split across threads (by rows when
    # there are fewer examples than threads): the parts must tile the result exactly
    from concurrent.futures import ThreadPoolExecutor
    from fn_dl.ops import dot
    b, m, n = shape
    x, y = r(b, m).astype(np.float32), r(b, n).astype(np.float32)
    monkeypatch.setattr(dot, '_xla_kernels_ready', lambda: False)  # NumPy's path, as without jaxlib
    with ThreadPoolExecutor(3) as pool:
        monkeypatch.setattr(dot, '_threads', lambda pid: (pool, 3))
        out = fd.vmap(fnp.outer)(fnp.asarray(x), fnp.asarray(y))
    np.testing.assert_array_equal(np.asarray(out), x[:, :, None] * y[:, None, :])


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_large_outer_products_by_xla(dtype):
    # with jaxlib (and the malloc settings that keep its output blocks mapped), a large batch of outer
    # products runs as a compiled XLA kernel: the same products, exactly, also for views and reused calls
    from fn_dl.ops import dot
    if not dot._xla_kernels_ready():
        pytest.skip('XLA kernels are not used here (no jaxlib, or FN_DL_MALLOC=default)')
    x, y = r(40, 300, 200).astype(dtype), r(200, 40).astype(dtype)
    for xs, ys in ((x[:, 0], y.T), (x[:, 1], y.T[:, ::-1])):  # strided views: copied on the way in
        out = fd.vmap(fnp.outer)(fnp.asarray(xs), fnp.asarray(ys))
        assert out.dtype == dtype
        np.testing.assert_array_equal(np.asarray(out), xs[:, :, None] * ys[:, None, :])
    assert dot._outer_kernel.cache_info().currsize >= 1


@pytest.mark.filterwarnings('ignore:os.fork:RuntimeWarning')  # JAX's warning (imported by other tests): the point
def test_forked_child_keeps_outer_products_on_numpy():
    # a fork inherits the XLA client but not its threads: eager code there must not run XLA kernels
    import os
    from fn_dl.ops import dot
    from _fork import in_forked_child
    if not hasattr(os, 'fork') or not dot._xla_kernels_ready():
        pytest.skip('needs fork and the XLA kernel path')
    x, y = r(40, 200).astype(np.float32), r(40, 200).astype(np.float32)

    def check():
        out = np.asarray(fd.vmap(fnp.outer)(fnp.asarray(x), fnp.asarray(y)))
        return b'1' if not dot._xla_kernels_ready() and np.array_equal(out, x[:, :, None] * y[:, None, :]) else b'0'
    assert in_forked_child(check) == b'1'


def test_out_axes_pytrees_and_nesting():
    x = r(3, 4, 5)
    f = lambda x: {'s': fnp.sum(x), 'v': x * 2}  # noqa: E731
    out = fd.vmap(fd.vmap(f), out_axes={'s': 0, 'v': 1})(fnp.asarray(x))
    assert out['s'].shape == (3, 4) and out['v'].shape == (4, 3, 5)
    np.testing.assert_allclose(np.asarray(out['v']), np.moveaxis(2 * x, 0, 1))
    np.testing.assert_allclose(np.asarray(out['s']), x.sum(-1))
    y = fd.vmap(lambda d: d['a'] + d['b'], in_axes=({'a': 0, 'b': None},))({'a': fnp.ones((4, 2)), 'b': fnp.ones(2)})
    assert y.shape == (4, 2)


def test_unbatched_output_broadcast_and_axis_size():
    out = fd.vmap(lambda x: fnp.ones(3), axis_size=4, in_axes=None)(fnp.ones(2))
    assert out.shape == (4, 3)


def test_chunk_size_same_result():
    x = r(10, 3)
    f = lambda v: fnp.sin(v) @ fnp.ones(3, dtype='float64')  # noqa: E731
    np.testing.assert_allclose(np.asarray(fd.vmap(f, chunk_size=3)(fnp.asarray(x))),
                               np.asarray(fd.vmap(f)(fnp.asarray(x))))


def test_against_jax_on_reductions_and_indexing():
    x = r(4, 5, 6)
    ours = fd.vmap(lambda v: fnp.max(v, axis=0) - v[1:3, ::2].sum() + fnp.argmax(v, axis=0), in_axes=2)(
        fnp.asarray(x))
    theirs = jax.vmap(lambda v: jnp.max(v, axis=0) - v[1:3, ::2].sum() + jnp.argmax(v, axis=0), in_axes=2)(x)
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-12)


def _mlp_loss(params, x, y):
    h = fnp.tanh(x @ params['w1'] + params['b1'])
    out = h @ params['w2'] + params['b2']
    return fnp.mean((out - y) ** 2)


def test_per_sample_gradients_equal_loop():
    params = {'w1': fnp.asarray(r(6, 8)), 'b1': fnp.asarray(r(8)), 'w2': fnp.asarray(r(8, 2)),
              'b2': fnp.asarray(r(2))}
    X, Y = fnp.asarray(r(7, 6)), fnp.asarray(r(7, 2))
    per = fd.vmap(fd.grad(_mlp_loss), in_axes=(None, 0, 0))(params, X, Y)
    for i in range(7):
        gi = fd.grad(_mlp_loss)(params, X[i], Y[i])
        for k in params:
            np.testing.assert_allclose(np.asarray(per[k][i]), np.asarray(gi[k]), rtol=1e-10, atol=1e-12)


def test_grad_of_vmap_and_vmap_of_grad():
    x = fnp.asarray(r(5, 3))
    f = lambda v: fnp.sum(fnp.sin(v) ** 2)  # noqa: E731
    g1 = fd.grad(lambda x: fnp.sum(fd.vmap(f)(x)))(x)
    g2 = fd.vmap(fd.grad(f))(x)
    np.testing.assert_allclose(np.asarray(g1), np.asarray(g2), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(g1), np.sin(2 * np.asarray(x)), rtol=1e-12)


def test_errors():
    with pytest.raises(ValueError, match=r"inconsistent sizes(.|\n)*size 3(.|\n)*size 4"):
        fd.vmap(lambda a, b: a + b)(fnp.ones(3), fnp.ones(4))
    with pytest.raises(ValueError, match="in_axes has 1 entries but the function was called with 2"):
        fd.vmap(lambda a, b: a + b, in_axes=(0,))(fnp.ones(3), fnp.ones(3))
    with pytest.raises(ValueError, match="all in_axes are None"):
        fd.vmap(lambda a: a, in_axes=None)(fnp.ones(3))
    with pytest.raises(ValueError, match="out of range"):
        fd.vmap(lambda a: a, in_axes=2)(fnp.ones((3, 3)))
    with pytest.raises(TypeError, match="different value for each example"):
        fd.vmap(lambda a: a * 2 if a > 0 else a)(fnp.ones(3))

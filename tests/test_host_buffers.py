"""The cache of large eager output buffers: reused once free, never while an array still refers to them."""
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.backends import _host_buffers as hb

F32 = np.dtype(np.float32)
BIG = (-(-hb.MIN_BYTES // 4),)  # float32 elements: just large enough to be pooled


def _pooled_size(nbytes):
    return -(-(nbytes + hb._ALIGN) // hb._PAGE) * hb._PAGE


@pytest.fixture(autouse=True)
def empty_cache():
    hb.clear()
    yield
    hb.clear()


def test_small_outputs_are_left_to_numpy():
    assert hb.output_buffer((1000,), F32) is None


def test_buffers_are_cache_line_aligned():
    for dtype in (np.float32, np.float64, np.int8):
        a = hb.output_buffer((-(-hb.MIN_BYTES // np.dtype(dtype).itemsize),), np.dtype(dtype))
        assert a.__array_interface__['data'][0] % 64 == 0


def test_a_freed_buffer_is_handed_out_again():
    a = hb.output_buffer(BIG, F32)
    address = a.__array_interface__['data'][0]
    del a
    b = hb.output_buffer(BIG, F32)
    assert b.__array_interface__['data'][0] == address


def test_a_buffer_in_use_is_not_handed_out():
    a = hb.output_buffer(BIG, F32)
    view = a[10:]  # a view keeps the buffer in use after `a` goes
    del a
    b = hb.output_buffer(BIG, F32)
    assert not np.shares_memory(view, b)


def test_the_cache_stays_within_its_limit(monkeypatch):
    monkeypatch.setattr(hb, 'MAX_BYTES', 2 * _pooled_size(BIG[0] * 4))  # room for two
    held = [hb.output_buffer(BIG, F32) for _ in range(2)]
    assert hb.output_buffer(BIG, F32) is None  # all in use and no room: NumPy allocates
    del held[0]
    assert hb.output_buffer(BIG, F32) is not None


def test_per_example_gradients_keep_their_values_across_calls(monkeypatch):
    # the outer products of vmap(grad) of a linear layer are large enough to come from the cache (on NumPy's
    # path; where jaxlib is there, an XLA kernel makes them: tests/test_vmap.py)
    from fn_dl.ops import dot
    monkeypatch.setattr(dot, '_xla_kernels_ready', lambda: False)
    rng = np.random.default_rng(0)
    b, m, n = 64, 512, 512
    assert b * m * n * 4 >= hb.MIN_BYTES
    w = fnp.asarray(rng.standard_normal((m, n), dtype=np.float32))
    per_example = fd.vmap(fd.grad(lambda w, x: fnp.sum(x @ w)), in_axes=(None, 0))
    x1, x2 = (rng.standard_normal((b, m), dtype=np.float32) for _ in range(2))
    g1 = per_example(w, fnp.asarray(x1))
    g2 = per_example(w, fnp.asarray(x2))  # must not reuse g1's memory: g1 is alive
    np.testing.assert_allclose(np.asarray(g1), np.broadcast_to(x1[:, :, None], (b, m, n)), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g2), np.broadcast_to(x2[:, :, None], (b, m, n)), rtol=1e-6)
    address = np.asarray(g1).__array_interface__['data'][0]
    del g1
    g3 = per_example(w, fnp.asarray(x1))  # g1's buffer is free now, and is reused
    assert np.asarray(g3).__array_interface__['data'][0] == address
    np.testing.assert_allclose(np.asarray(g2), np.broadcast_to(x2[:, :, None], (b, m, n)), rtol=1e-6)


def _address(a):
    return np.asarray(a).__array_interface__['data'][0]


def test_elementwise_outputs_reuse_freed_buffers_and_keep_their_values():
    rng = np.random.default_rng(1)
    x, y = (rng.standard_normal((256, 256), dtype=np.float32) for _ in range(2))
    fx, fy = fnp.asarray(x), fnp.asarray(y)
    a = fx * fy
    address = _address(a)
    b = fnp.tanh(fx)  # a is alive: b gets other memory
    assert not np.shares_memory(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(a), x * y)
    del a
    c = fx - 2.0  # a weak scalar: the array fixes the shape
    assert _address(c) == address
    np.testing.assert_array_equal(np.asarray(c), x - np.float32(2))
    np.testing.assert_array_equal(np.asarray(b), np.tanh(x))
    np.testing.assert_array_equal(np.asarray(2.0 - fx), np.float32(2) - x)


def test_large_comparisons_casts_selects_and_squares_match_numpy():
    rng = np.random.default_rng(2)
    x, y = (rng.standard_normal((300, 300)) for _ in range(2))  # float64: 720 KB
    fx, fy = fnp.asarray(x), fnp.asarray(y)
    for _ in range(2):  # the second round runs in reused buffers
        np.testing.assert_array_equal(np.asarray(fx > fy), x > y)
        np.testing.assert_array_equal(np.asarray(fx.astype(fnp.float32)), x.astype(np.float32))
        np.testing.assert_array_equal(np.asarray(fx.astype(fnp.int32)), x.astype(np.int32))
        np.testing.assert_array_equal(np.asarray(fnp.where(fx > 0, fx, fy)), np.where(x > 0, x, y))
        np.testing.assert_array_equal(np.asarray(fx ** 2), x * x)


def test_a_full_pool_falls_back_to_numpy(monkeypatch):
    monkeypatch.setattr(hb, 'MAX_BYTES', 0)
    x = np.arange(100_000, dtype=np.float32)
    fx = fnp.asarray(x)
    np.testing.assert_array_equal(np.asarray(fx.astype(fnp.float64)), x.astype(np.float64))
    np.testing.assert_array_equal(np.asarray(fnp.exp(fx / 1e5)), np.exp(x / np.float32(1e5)))
    np.testing.assert_array_equal(np.asarray(fnp.where(fx > 5, fx, -fx)), np.where(x > 5, x, -x))


def test_large_concatenations_match_numpy():
    rng = np.random.default_rng(3)
    parts = [rng.standard_normal((64, n), dtype=np.float32) for n in (300, 500, 200)]
    for _ in range(2):
        np.testing.assert_array_equal(np.asarray(fnp.concatenate([fnp.asarray(p) for p in parts], axis=1)),
                                      np.concatenate(parts, axis=1))


@pytest.mark.parametrize('fill', [0.0, -0.0, np.nan, np.inf, 3.5])
def test_large_selects_against_a_broadcast_scalar_match_numpy_bit_for_bit(fill):
    # the backend's branch-free select reads a broadcast scalar (a ReLU's 0) without materialising it
    from fn_dl.backends.numpy_backend import namespace
    rng = np.random.default_rng(4)
    cond = rng.random((256, 300)) > 0.5
    x = rng.standard_normal((256, 300)).astype(np.float32)
    s = np.broadcast_to(np.float32(fill), x.shape)
    for a, b in ((x, s), (s, x)):
        np.testing.assert_array_equal(namespace.where(cond, a, b).view(np.int32), np.where(cond, a, b).view(np.int32))
    relu_grad = fd.grad(lambda v: fnp.sum(fnp.where(v > 0, v, fill) * 2.0))(fnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(relu_grad), np.where(x > 0, 2.0, 0.0).astype(np.float32))

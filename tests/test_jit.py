"""jit: caching, static arguments, composition with grad/vmap, the IR and StableHLO text, errors."""
import logging

import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl import nn

rng = np.random.default_rng(4)


def test_cache_hits_do_not_retrace():
    traces = []

    @fd.jit
    def f(x, y):
        traces.append(1)
        return fnp.sin(x) * y

    x = fnp.ones(3)
    for _ in range(3):
        f(x, 2.0)
    assert len(traces) == 1 and f._cache_size() == 1
    f(fnp.ones(4), 2.0)          # new shape
    f(x, fnp.asarray(2.0))       # strong float32 array instead of a weak Python float
    f(x.astype('float64'), 2.0)  # new dtype
    assert len(traces) == 4 and f._cache_size() == 4


def test_weak_python_scalars_keep_array_dtype():
    out = fd.jit(lambda x, s: x * s)(fnp.ones(2, dtype='float16'), 3.0)
    assert out.dtype == np.float16


def test_static_args_and_errors():
    f = fd.jit(lambda x, n, mode='a': x * n if mode == 'a' else x - n, static_argnums=1, static_argnames='mode')
    assert f(fnp.ones(2), 3).tolist() == [3.0, 3.0]
    assert f(fnp.ones(2), 3, mode='b').tolist() == [-2.0, -2.0]
    assert f._cache_size() == 2
    with pytest.raises(TypeError, match="static argument 1 of type list is not hashable"):
        f(fnp.ones(2), [1, 2])

    @fd.jit
    def g(x, n):
        return x * n if n > 0 else x
    with pytest.raises(fd.ConcretizationError, match="argument 'n'.*static_argnums"):
        g(fnp.ones(2), 3)


def test_matches_eager_on_a_program_with_everything():
    x = fnp.asarray(rng.standard_normal((4, 3)).astype(np.float32))

    def f(x):
        y = fnp.tanh(x @ x.T) + fnp.max(x, axis=1, keepdims=True)
        z = fd.lax.scan(lambda c, r: (c + r, c * r), fnp.zeros(3), x)[1]
        return fnp.sum(y) + fnp.sum(z) + fd.lax.cond(x[0, 0] > 0, lambda v: v.sum(), lambda v: -v.sum(), x)
    np.testing.assert_allclose(np.asarray(fd.jit(f)(x)), np.asarray(f(x)), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(fd.jit(fd.grad(f))(x)), np.asarray(fd.grad(f)(x)), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(fd.grad(fd.jit(f))(x)), np.asarray(fd.grad(f)(x)), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(fd.vmap(fd.jit(f))(fnp.stack([x, 2 * x]))),
                               [float(f(x)), float(f(2 * x))], rtol=1e-5)


def test_nested_jit_and_jit_under_transforms_compile_once():
    inner = fd.jit(lambda v: fnp.exp(v) * 2.0)
    outer = fd.jit(lambda v: inner(v) + 1.0)
    x = fnp.asarray([0.0, 1.0])
    np.testing.assert_allclose(np.asarray(outer(x)), 2 * np.exp([0.0, 1.0]) + 1, rtol=1e-6)
    g = fd.grad(lambda v: fnp.sum(inner(v)))
    for _ in range(3):
        np.testing.assert_allclose(np.asarray(g(x)), 2 * np.exp([0.0, 1.0]), rtol=1e-6)
    prog = inner._cache[next(iter(inner._cache))].program
    # the JVP and transpose programs are derived once and cached on the traced program
    assert any(k[0] == 'linearize' for k in prog.cache if isinstance(k, tuple))


def test_make_ir_and_stablehlo_text():
    f = lambda x: fnp.sum(fnp.exp(x) * 2.0)  # noqa: E731
    ir = fd.make_ir(f)(fnp.ones((2, 3)))
    text = str(ir)
    assert 'exp' in text and 'reduce_sum' in text and 'float32[2,3]' in text
    hlo = fd.jit(f).lower(fnp.ones((2, 3))).as_text()
    assert 'stablehlo.exponential' in hlo and 'stablehlo.reduce' in hlo and 'tensor<2x3xf32>' in hlo


def _prims(program):
    return [e.prim.name for e in program.eqns]


def test_simplify_merges_repeats_folds_scalar_constants_and_drops_dead_code():
    def f(x):
        unused = fnp.tanh(x)  # noqa: F841  (dead)
        scale = fnp.sqrt(fnp.asarray(16.0)) * 0.5  # scalars known at trace time: 2.0
        return fnp.exp(x) * fnp.exp(x) * scale
    x = fnp.asarray([0.5, -1.0, 2.0])
    prims = _prims(fd.make_ir(f)(x))
    assert prims.count('exp') == 1 and 'sqrt' not in prims and 'tanh' not in prims, prims
    np.testing.assert_allclose(np.asarray(fd.jit(f)(x)), np.exp(np.asarray(x)) ** 2 * 2, rtol=1e-6)


def test_simplify_keeps_the_sign_of_zero_and_unequal_calls_apart():
    f = lambda x: (x * 0.0, x * -0.0, fnp.sum(x, axis=0), fnp.sum(x, axis=1))  # noqa: E731
    x = fnp.asarray([[1.0, -2.0], [3.0, 4.0]])
    assert _prims(fd.make_ir(f)(x)).count('reduce_sum') == 2
    for got, want in zip(fd.jit(f)(x), f(x)):
        np.testing.assert_array_equal(np.signbit(np.asarray(got)), np.signbit(np.asarray(want)))
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_the_transpose_of_a_split_becomes_one_concatenation():
    def tiled(x):  # q, k, v of a fused projection: the cotangents of all three parts tile the last axis
        q, k, v = fnp.split(x, 3, axis=-1)
        return fnp.sum(fnp.sin(q) * fnp.cos(k) + v ** 2)

    def gapped(x):  # the middle part is unused: its zeros stay, as padding
        a, _, c = fnp.split(x, 3, axis=0)
        return fnp.sum(fnp.sin(a) * 3.0 + fnp.exp(c))
    x = fnp.asarray(rng.standard_normal((6, 6)).astype(np.float32))
    prims = _prims(fd.make_ir(fd.grad(tiled))(x))
    assert prims.count('concatenate') == 1 and 'pad' not in prims and 'add' not in prims, prims
    assert 'concatenate' not in _prims(fd.make_ir(fd.grad(gapped))(x))
    for f in (tiled, gapped):
        np.testing.assert_allclose(np.asarray(fd.jit(fd.grad(f))(x)), np.asarray(fd.grad(f)(x)), rtol=1e-6)


def test_checkpoint_recomputation_survives_simplification():
    f = fd.checkpoint(lambda x: fnp.exp(fnp.exp(x)))
    vg = fd.value_and_grad(lambda x: fnp.sum(f(x)))
    x = fnp.asarray([0.1, 0.2, 0.3])
    # the forward pass and the backward pass's recomputation each compute exp(exp(x)), behind a barrier
    prims = _prims(fd.make_ir(vg)(x))
    assert prims.count('exp') == 4 and 'optimization_barrier' in prims, prims
    assert 'stablehlo.optimization_barrier' in fd.jit(vg).lower(x).as_text()
    (v, g), (v_eager, g_eager) = fd.jit(vg)(x), vg(x)
    e = np.exp(np.asarray(x, np.float64))
    np.testing.assert_allclose(np.asarray(v), np.exp(e).sum(), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g), np.exp(e) * e, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(g_eager), np.asarray(g), rtol=1e-6)


def _line_of(fn, text):
    import inspect
    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


def _tanh_then_double(x):
    y = fnp.tanh(x)
    return y * 2.0


def test_stablehlo_ops_carry_the_users_source_line_through_grad():
    tanh_line = _line_of(_tanh_then_double, 'fnp.tanh')
    mul_line = _line_of(_tanh_then_double, 'y * 2.0')
    text = fd.jit(fd.grad(lambda x: fnp.sum(_tanh_then_double(x)))).lower(fnp.ones(3)).as_text()
    ops = {}
    for line in text.splitlines():
        if 'loc(' in line and '"stablehlo.' in line:
            ops.setdefault(line.split('"stablehlo.')[1].split('"')[0], set()).add(line.rsplit(':', 2)[-2])
    # the backward pass's ops point at the forward lines they differentiate
    assert ops['tanh'] == {str(tanh_line)} and str(tanh_line) in ops['subtract'], ops
    assert str(mul_line) in ops['multiply'] and __file__ in text


def test_compile_error_names_the_users_lines_not_the_module_text(monkeypatch):
    from fn_dl.backends.xla._pjrt import CompileError
    from fn_dl.ops import elementwise as ew
    # a broken lowering: tanh claims a result of the wrong shape
    monkeypatch.setattr(ew.tanh_p, 'lower', lambda ctx, x: ctx.op1('stablehlo.tanh', [x], ctx.avals_in,
                                                                      ctx.avals_out[0].update(shape=(7,))))
    with pytest.raises(CompileError) as err:
        fd.jit(_tanh_then_double)(fnp.ones(3))
    message = str(err.value)
    assert f"{__file__}:{_line_of(_tanh_then_double, 'fnp.tanh')} (stablehlo.tanh)" in message, message
    assert '_tanh_then_double' in message and 'module @' not in message


def test_interpreter_backend_agrees():
    f = lambda x: fnp.cumsum(x) if hasattr(fnp, 'cumsum') else x * 2  # noqa: E731
    x = fnp.asarray([1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.asarray(fd.jit(f, backend='interpreter')(x)), np.asarray(fd.jit(f)(x)))


def test_explain_cache_misses_and_log_compiles(caplog):
    f = fd.jit(lambda x: x + 1)
    fd.config.explain_cache_misses = fd.config.log_compiles = True
    try:
        with caplog.at_level(logging.WARNING, logger='fn_dl.jit'):
            f(fnp.ones(2))
            f(fnp.ones(3))
    finally:
        fd.config.explain_cache_misses = fd.config.log_compiles = False
    assert any('leaf 0' in r.message and '(2,)' in r.message and '(3,)' in r.message for r in caplog.records)
    assert any('compiled' in r.message for r in caplog.records)


def test_canonical_training_step_and_outputs_stay_on_device():
    fd.random.seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Linear(8, 1))
    params = nn.params(model)
    X = fnp.asarray(rng.standard_normal((32, 5)).astype(np.float32))
    Y = X @ fnp.ones((5, 1))

    @fd.jit
    def step(params, xb, yb):
        def loss_fn(p):
            return fnp.mean((nn.functional_call(model, p, xb) - yb) ** 2)
        loss, grads = fd.value_and_grad(loss_fn)(params)
        return fd.tree.map(lambda p, g: p - 0.05 * g, params, grads), loss

    losses = []
    for _ in range(20):
        params, loss = step(params, X, Y)
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0] and step._cache_size() == 1
    # jit outputs keep their device buffers, so feeding them back transfers nothing
    assert all(hasattr(p, '_buf') for p in params.values())


def test_donation_updates_in_place_and_invalidates_the_input():
    step = fd.jit(lambda p, g: {k: v - 0.5 * g[k] for k, v in p.items()}, donate_argnums=0)
    p = {'w': fnp.ones(4), 'b': fnp.zeros(2)}
    g = {'w': fnp.ones(4), 'b': fnp.ones(2)}
    p1 = step(p, g)
    p2 = step(p1, g)
    assert p2['w'].tolist() == [0.0] * 4 and p2['b'].tolist() == [-1.0, -1.0]
    with pytest.raises(RuntimeError, match="donated to jitted function"):
        p1['w'] + 1.0
    assert g['w'].tolist() == [1.0] * 4  # not donated: untouched
    assert 'tf.aliasing_output' in step._cache[next(iter(step._cache))].executable.text


def test_jit_outputs_make_their_host_view_lazily():
    f = fd.jit(lambda v: v * 2.0)
    out = f(fnp.ones(3))
    with pytest.raises(AttributeError):
        object.__getattribute__(out, '_value')  # no host view yet
    chained = f(out)  # feeding a jit output back needs no host view
    assert chained.tolist() == [4.0, 4.0, 4.0] and out.shape == (3,) and out.dtype == np.float32
    b = fd.jit(lambda v: v * 2)(fnp.ones(2, dtype='bfloat16'))
    assert b.dtype == fnp.bfloat16 and b.tolist() == [2.0, 2.0]


def test_cache_hits_on_device_arrays_take_the_fast_path():
    f = fd.jit(lambda p, z: ({'s': p['a'] + p['b'] * z}, z - 1))
    p = {'a': fnp.ones(2), 'b': fnp.full(2, 2.0)}
    out, z = f(p, fnp.asarray(3.0))  # traces, compiles; its arrays now hold their device buffers

    def no_general_path(*args):
        raise AssertionError("a cache hit on device arrays went through the general path")
    f._entry = no_general_path
    sums, zs = [], []
    for _ in range(3):
        out, z = f(p, z)  # the outputs are fed back as they are
        sums.append(out['s'].tolist())
        zs.append(float(z))
    assert sums == [[5.0, 5.0], [3.0, 3.0], [1.0, 1.0]] and zs == [1.0, 0.0, -1.0]
    del f._entry
    # host values and new shapes take the general path: the same entry, or a new one
    out, _ = f({'a': np.ones(2, np.float32), 'b': fnp.full(2, 2.0)}, 1.5)
    assert out['s'].tolist() == [4.0, 4.0] and f._cache_size() == 2  # a weak Python float is a new signature
    out, _ = f({'a': fnp.ones(3), 'b': fnp.ones(3)}, z)
    assert out['s'].tolist() == [0.0, 0.0, 0.0] and f._cache_size() == 3

    g = fd.jit(lambda v: v * 2)  # all-array arguments: keyed without flattening
    b = g(fnp.ones(2, dtype='bfloat16'))
    b = g(g(b))
    assert b.dtype == fnp.bfloat16 and b.tolist() == [8.0, 8.0] and g._cache_size() == 1


def test_donation_on_the_fast_path():
    step = fd.jit(lambda p, g: {k: v - 0.5 * g[k] for k, v in p.items()}, donate_argnums=0)
    g = {'w': fnp.ones(4), 'b': fnp.ones(2)}
    ps = [{'w': fnp.ones(4), 'b': fnp.zeros(2)}]
    for _ in range(4):
        ps.append(step(ps[-1], g))
    assert ps[-1]['w'].tolist() == [-1.0] * 4 and ps[-1]['b'].tolist() == [-2.0, -2.0]
    for donated in ps[:-1]:
        with pytest.raises(RuntimeError, match="donated to jitted function"):
            step(donated, g)
    assert g['w'].tolist() == [1.0] * 4 and step._cache_size() == 1


def test_a_captured_array_donated_elsewhere_raises_clearly():
    c = fd.jit(lambda v: v * 3.0)(fnp.ones(3))
    add_c = fd.jit(lambda v: v + c)  # c is captured: its buffer is looked up once, at compile time
    x = fnp.ones(3)
    assert add_c(x).tolist() == [4.0, 4.0, 4.0]
    old = c._buf
    assert fd.jit(lambda a: a * 2, donate_argnums=0)(c).tolist() == [6.0, 6.0, 6.0]
    if not old.is_deleted():
        old.delete()  # XLA may copy instead of reusing a donated buffer; make it reuse it
    with pytest.raises(RuntimeError, match="donated to jitted function"):
        add_c(x)


def test_keyword_arguments_are_dynamic_unless_static(caplog):
    f = fd.jit(lambda x, *, scale, shift=0.0: x * scale + shift)
    x = fnp.ones(2)
    for _ in range(2):
        assert f(x, scale=fnp.asarray(3.0)).tolist() == [3.0, 3.0]
    assert f._cache_size() == 1
    fd.config.explain_cache_misses = True
    try:
        with caplog.at_level(logging.WARNING, logger='fn_dl.jit'):
            assert f(x, scale=fnp.asarray(3.0), shift=fnp.asarray(1.0)).tolist() == [4.0, 4.0]
    finally:
        fd.config.explain_cache_misses = False
    assert f._cache_size() == 2
    assert any('keyword argument structure changed' in r.message and "'shift'" in r.message for r in caplog.records)


def test_interpreter_backend_caches_its_trace():
    traces = []

    def f(x):
        traces.append(1)
        return x * 2.0
    g = fd.jit(f, backend='interpreter')
    x = fnp.asarray([1.0, 2.0])
    assert [g(x).tolist() for _ in range(3)] == [[2.0, 4.0]] * 3
    assert len(traces) == 1 and g._cache_size() == 1


def test_size_one_contractions_and_transposed_dots_match_eager():
    # a contraction of size 1 lowers as a broadcast multiply, and a transposed dot_general is re-emitted in the
    # transposed order (the outer product's broadcasts permuted, or the dot with its operands exchanged)
    from fn_dl.lax import dot_general
    a = fnp.asarray(rng.standard_normal((5, 1, 3, 2)).astype(np.float32))
    b = fnp.asarray(rng.standard_normal((2, 5, 4, 1)).astype(np.float32))
    ints = fnp.asarray(rng.integers(-3, 3, (5, 1, 3, 2)).astype(np.int8))
    dn = (((1,), (3,)), ((0, 3), (1, 0)))
    cases = [
        lambda a, b: dot_general(a, b, dn),
        lambda a, b: dot_general(a, b, dn).transpose(3, 1, 2, 0),
        lambda a, b: dot_general(ints, ints.astype('int8'), (((1,), (1,)), ((0,), (0,))),
                                 preferred_element_type=np.int32).transpose(0, 3, 4, 1, 2),
        lambda a, b: fnp.outer(a[0, 0, :, 0], b[0, 0, :, 0]).T,
        lambda a, b: dot_general(a[:, 0], b[:, :, :, 0], (((2,), (0,)), ((0,), (1,)))).transpose(0, 2, 1),
        lambda a, b: dot_general(a[:, 0], b[:, :, :, 0], (((2,), (0,)), ((0,), (1,)))).transpose(1, 0, 2),
    ]
    for f in cases:
        want = np.asarray(f(a, b))
        got = np.asarray(fd.jit(f)(a, b))
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    per_example = fd.vmap(fd.grad(lambda w, x: fnp.sum(fnp.tanh(x @ w))), in_axes=(None, 0))
    w, x = fnp.asarray(rng.standard_normal((3, 4)).astype(np.float32)), a[:, 0, :, 0]
    np.testing.assert_allclose(np.asarray(fd.jit(per_example)(w, x)), np.asarray(per_example(w, x)), rtol=1e-4,
                               atol=1e-6)


@pytest.mark.parametrize('name', ['sin', 'cos', 'tan'])
def test_float32_trigonometry_is_within_an_ulp_over_the_whole_range(name):
    # lowered as vector code (exact Payne-Hanek reduction, float64 polynomials), not XLA's libm calls
    bits = np.random.default_rng(0).integers(0, 2 ** 32, 200_000, dtype=np.uint64).astype(np.uint32)
    x = np.concatenate([bits.view(np.float32), rng.standard_normal(1000).astype(np.float32),
                        (np.arange(1, 2000) * np.pi / 2).astype(np.float32),  # near the multiples of pi/2
                        np.float32([0.0, -0.0, np.inf, -np.inf, np.nan, np.pi / 4, 3.4e38, -1e-30])])
    got = np.asarray(fd.jit(getattr(fnp, name))(fnp.asarray(x)))
    with np.errstate(invalid='ignore'):
        want = getattr(np, name)(x.astype(np.float64))
    normal = np.abs(want) >= np.finfo(np.float32).tiny  # XLA CPU flushes subnormal results to zero
    ulps = np.abs(got[normal] - want[normal]) / np.spacing(np.abs(want[normal]).astype(np.float32))
    assert ulps.max() <= 0.6
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.signbit(got[x == 0]), np.signbit(want[x == 0]))
    for dtype in ('float16', 'bfloat16', 'float64'):
        small = fnp.asarray(x[200_000:201_000]).astype(dtype)
        np.testing.assert_allclose(np.asarray(fd.jit(getattr(fnp, name))(small)).astype(np.float64),
                                   np.asarray(getattr(fnp, name)(small)).astype(np.float64), rtol=1e-2, atol=1e-3)


def test_wide_vectors_only_for_big_compute_heavy_elementwise_ops():
    # 512-bit vectors cost compile time over every kernel: asked for only where a transcendental is big enough
    from fn_dl.backends.xla.lowering import WIDE_VECTOR_MIN_ELEMENTS, prefers_wide_vectors
    big, small = fnp.ones(WIDE_VECTOR_MIN_ELEMENTS), fnp.ones(1000)
    loop = lambda x: fd.lax.fori_loop(0, 2, lambda i, c: fnp.exp(c), x)  # noqa: E731 - nested in a body
    assert prefers_wide_vectors(fd.make_ir(loop)(big))
    assert prefers_wide_vectors(fd.make_ir(fd.vmap(fnp.sin))(big.reshape(256, -1)))
    assert not prefers_wide_vectors(fd.make_ir(loop)(small))
    assert not prefers_wide_vectors(fd.make_ir(lambda x: x * 2 + 1)(big))  # memory-bound: nothing to gain
    np.testing.assert_allclose(np.asarray(fd.jit(loop)(big))[:2], np.exp(np.exp(np.float32(1))), rtol=1e-6)


_EXIT_SCRIPT = '''
import numpy as np
import fn_dl as fd, fn_dl.numpy as fnp
rng = np.random.default_rng(0)
params = {'w1': fnp.asarray(rng.standard_normal((784, 512), dtype=np.float32)),
          'w2': fnp.asarray(rng.standard_normal((512, 10), dtype=np.float32))}
x = fnp.asarray(rng.standard_normal((128, 784), dtype=np.float32))
def loss(p, x):
    return fnp.mean(fnp.tanh(fnp.maximum(x @ p['w1'], 0) @ p['w2']) ** 2)
step = fd.jit(lambda p, x: fd.tree.map(lambda w, g: w - 0.1 * g, p, fd.grad(loss)(p, x)), donate_argnums=0)
params = step(params, x)  # still running, and alive, when the interpreter exits
print('done')
'''


def test_process_exits_after_jitted_work():
    # Left to module teardown, destroying the PJRT client hung four exits in five of this very script
    # (its thread pool's destructor waited forever); _pjrt releases it from an atexit hook instead.
    import subprocess
    import sys
    for _ in range(3):
        run = subprocess.run([sys.executable, '-c', _EXIT_SCRIPT], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and run.stdout.strip() == 'done', run.stderr[-2000:]


@pytest.mark.filterwarnings('ignore:os.fork:RuntimeWarning')  # JAX's warning (imported by other tests): the point
def test_compiling_in_a_forked_child_raises_instead_of_hanging():
    # XLA's worker threads do not survive a fork: compiling in the child hung (measured: no answer in 60 s)
    import os
    from _fork import in_forked_child
    if not hasattr(os, 'fork'):
        pytest.skip('needs fork')
    fd.jit(lambda x: x + 1)(fnp.asarray(1.0))  # the parent has a client

    def check():
        try:
            fd.jit(lambda x: x * 3)(fnp.asarray(2.0))
            return b'ran'
        except RuntimeError as e:
            return b'clear' if "'spawn'" in str(e) and 'forked' in str(e) else b'other'
    assert in_forked_child(check) == b'clear'

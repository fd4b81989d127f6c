"""Table-driven tests over the primitive registry: every primitive has its rules, and they are right.

Each primitive gets a case: a function that applies it and example inputs.
For every case, JVP and VJP are checked against finite differences to order 2
(differentiable primitives), and vmap against a Python loop. A registered
primitive without a case fails `test_every_primitive_has_a_case`.
"""
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl import lax
from fn_dl.core.primitive import PRIMITIVES
from fn_dl.testing import check_grads

rng = np.random.default_rng(3)


def f64(*shape, lo=None):
    x = rng.standard_normal(shape)
    return np.abs(x) + lo if lo is not None else x


def unit(*shape):
    return rng.uniform(-0.9, 0.9, shape)


def ints(*shape):
    return rng.integers(-5, 6, shape).astype(np.int32)


def u32(*shape):
    return rng.integers(0, 2 ** 32, shape, dtype=np.uint64).astype(np.uint32)


def bools(*shape):
    return rng.random(shape) > 0.5


# name -> (function of arrays, input maker, differentiable)
CASES = {}


def case(name, fn, make, diff=True):
    CASES.setdefault(name, []).append((fn, make, diff))


for _n in ['exp', 'exp2', 'expm1', 'sin', 'cos', 'tan', 'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'logistic', 'erf',
           'erfc', 'abs', 'sign', 'floor', 'ceil', 'round', 'round_toward_zero', 'is_finite', 'stop_gradient', 'neg']:
    case(_n, getattr(lax, _n, None) or (lambda x, p=PRIMITIVES[_n]: p.bind(x)), lambda: (f64(3, 2),),
         PRIMITIVES[_n].differentiable)
for _n in ['log', 'log1p', 'sqrt', 'rsqrt', 'cbrt', 'lgamma', 'acosh']:
    case(_n, lambda x, p=PRIMITIVES[_n]: p.bind(x), lambda n=_n: (f64(3, 2, lo=1.1 if n == 'acosh' else 0.5),))
for _n in ['asin', 'acos', 'atanh', 'erf_inv']:
    case(_n, lambda x, p=PRIMITIVES[_n]: p.bind(x), lambda: (unit(3, 2),))
case('polygamma', lambda x: lax.polygamma(1, x), lambda: (f64(3, lo=0.5),))
for _n in ['add', 'sub', 'mul', 'max', 'min', 'atan2']:
    case(_n, lambda x, y, p=PRIMITIVES[_n]: p.bind(x, y), lambda: (f64(3, 2), f64(3, 2)))
case('max_weight', lambda x, y: PRIMITIVES['max_weight'].bind(x, y),  # ties (1/2) in the first and third places
     lambda: (np.array([1.0, -2.0, 3.0, 0.5]), np.array([1.0, 4.0, 3.0, -1.0])), False)
case('div', lambda x, y: lax.div(x, y), lambda: (f64(3, 2), f64(3, 2, lo=0.5)))
case('rem', lambda x, y: lax.rem(x, y), lambda: (f64(3, 2), f64(3, 2, lo=0.5)))
case('pow', lambda x, y: lax.pow(x, y), lambda: (f64(3, 2, lo=0.5), f64(3, 2)))
case('integer_pow', lambda x: lax.integer_pow(x, 3), lambda: (f64(4),))
case('nextafter', lambda x, y: lax.nextafter(x, y), lambda: (f64(3), f64(3)), False)
for _n in ['eq', 'ne', 'lt', 'le', 'gt', 'ge']:
    case(_n, lambda x, y, p=PRIMITIVES[_n]: p.bind(x, y), lambda: (f64(4), f64(4)), False)
for _n in ['and', 'or', 'xor']:
    case(_n, lambda x, y, p=PRIMITIVES[_n]: p.bind(x, y), lambda: (ints(4), ints(4)), False)
case('not', lambda x: lax.bitwise_not(x), lambda: (bools(4),), False)
case('population_count', lambda x: lax.population_count(x), lambda: (u32(4),), False)
for _n in ['shift_left', 'shift_right_logical', 'shift_right_arithmetic']:
    case(_n, lambda x, y, p=PRIMITIVES[_n]: p.bind(x, y),
         lambda: (u32(5), np.array([0, 1, 13, 31, 40], np.uint32)), False)
case('real', lambda x: lax.real(lax.complex(x, x * 2.0)), lambda: (f64(3),))
case('imag', lambda x: lax.imag(lax.complex(x, x * 2.0)), lambda: (f64(3),))
case('conj', lambda x: lax.real(lax.conj(lax.complex(x, x)) * lax.complex(x, x)), lambda: (f64(3),))
case('complex', lambda x, y: lax.imag(lax.complex(x, y)) + lax.real(lax.complex(x, y)), lambda: (f64(3), f64(3)))
case('select_n', lambda p, x, y: lax.select_n(p, x, y), lambda: (bools(4), f64(4), f64(4)))
case('convert_element_type', lambda x: lax.convert_element_type(x, np.float64) ** 2,
     lambda: (f64(3).astype(np.float32),))
case('bitcast_convert_type', lambda x: lax.bitcast_convert_type(x, np.int32), lambda: (f64(3).astype(np.float32),),
     False)
case('broadcast_in_dim', lambda x: lax.broadcast_in_dim(x, (2, 3, 4), (1, 2)), lambda: (f64(3, 1),))
case('reshape', lambda x: lax.reshape(x, (3, 2)), lambda: (f64(2, 3),))
case('transpose', lambda x: lax.transpose(x, (2, 0, 1)), lambda: (f64(2, 3, 4),))
case('concatenate', lambda x, y: lax.concatenate([x, y], 1), lambda: (f64(2, 3), f64(2, 2)))
case('pad', lambda x, v: lax.pad(x, v, [(1, -1, 1), (0, 2, 0)]), lambda: (f64(3, 2), f64()))
case('slice', lambda x: lax.slice(x, (1, 0), (4, 3), (2, 2)), lambda: (f64(5, 3),))
case('rev', lambda x: lax.rev(x, (0,)), lambda: (f64(3, 2),))
case('iota', lambda x: lax.iota(np.int32, (3,)) * 0 + x, lambda: (ints(3),), False)
for _n in ['reduce_sum', 'reduce_max', 'reduce_min', 'reduce_prod']:
    case(_n, lambda x, p=PRIMITIVES[_n]: p.bind(x, axes=(0, 2)), lambda: (f64(2, 3, 4),))
for _n in ['reduce_and', 'reduce_or']:
    case(_n, lambda x, p=PRIMITIVES[_n]: p.bind(x, axes=(1,)), lambda: (bools(3, 4),), False)
for _n in ['argmax', 'argmin']:
    case(_n, lambda x, p=PRIMITIVES[_n]: p.bind(x, axis=1, index_dtype=np.dtype(np.int32)), lambda: (f64(3, 4),),
         False)
case('dot_general', lambda x, y: lax.dot_general(x, y, (((2,), (1,)), ((0,), (0,)))),
     lambda: (f64(2, 3, 4), f64(2, 4, 5)))
case('dot_general', lambda x, y: lax.dot_general(x, y, (((0,), (0,)), ((), ()))), lambda: (f64(3, 2), f64(3, 4)))
case('dot_general', lambda x, y: lax.dot_general(x, y, (((1,), (1,)), ((), ()))), lambda: (f64(3, 2), f64(4, 2)))
case('dot_general', lambda x, y: lax.dot_general(x, y, (((2,), (1,)), ((), ()))), lambda: (f64(2, 3, 4), f64(5, 4)))
case('dot_general', lambda x, y: lax.dot_general(x, y, (((1,), (0,)), ((0,), (1,)))), lambda: (f64(3, 1), f64(1, 3, 2)))


def _scan_fn(c, xs):
    return lax.scan(lambda c, x: (c * fnp.sin(x) + x, c ** 2), c, xs)


case('scan', lambda c, xs: _scan_fn(c, xs), lambda: (f64(), f64(4)))
case('cond', lambda i, x: lax.switch(i, [lambda v: fnp.sin(v), lambda v: v ** 2], x), lambda: (np.int32(1), f64(3)))
case('while', lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, fnp.sin(c[1]) * 2.0), (0, x))[1],
     lambda: (f64(3),), 'fwd')


@fd.custom_jvp
def _cj(x):
    return fnp.sin(x)


_cj.defjvp(lambda p, t: (_cj(p[0]), fnp.cos(p[0]) * t[0]))


@fd.custom_vjp
def _cv(x):
    return fnp.sin(x)


_cv.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (fnp.cos(x) * g,))
case('custom_jvp_call', lambda x: _cj(x), lambda: (f64(3),))
case('custom_vjp_call', lambda x: _cv(x), lambda: (f64(3),), 'rev')
case('custom_lin', lambda x: _cv(x) * 2.0, lambda: (f64(3),), 'rev')
case('remat', fd.checkpoint(lambda x: fnp.sin(fnp.sin(x))), lambda: (f64(3),))
case('remat_lin', fd.checkpoint(lambda x: fnp.exp(fnp.sin(x))), lambda: (f64(3),))
case('optimization_barrier', lambda x, y: PRIMITIVES['optimization_barrier'].bind(x, y)[0] * 2.0,
     lambda: (f64(3), f64(2)))
case('jit', fd.jit(lambda x, y: fnp.sin(x) * y + x ** 2), lambda: (f64(3), f64(3)))

# primitives whose rules (derivatives to order 2, vmap, jit) are tested family by family elsewhere
ELSEWHERE = {
    **dict.fromkeys(['gather', 'scatter', 'scatter_add', 'scatter_mul', 'scatter_min', 'scatter_max',
                     'dynamic_slice', 'dynamic_update_slice'], 'tests/test_indexing.py, tests/test_indexing_jit.py'),
    **dict.fromkeys(['sort', 'top_k'], 'tests/test_sorting.py'),
    **dict.fromkeys(['cumsum', 'cumprod', 'cummax', 'cummin', 'cumlogsumexp'], 'tests/test_statistics.py'),
    **dict.fromkeys(['conv_general_dilated', 'reduce_window_sum', 'reduce_window_max', 'reduce_window_min',
                     'select_and_gather_add', 'select_and_scatter_add'], 'tests/test_conv.py'),
    **dict.fromkeys(['cholesky', 'triangular_solve', 'lu', 'qr', 'eigh', 'svd'], 'tests/test_linalg.py'),
    'fft': 'tests/test_fft.py',
}


def _params():
    for name, cases in CASES.items():
        for i, c in enumerate(cases):
            yield pytest.param(name, c, id=f"{name}-{i}")


def test_every_primitive_has_a_case():
    missing = sorted(set(PRIMITIVES) - set(CASES) - set(ELSEWHERE))
    assert not missing, f"primitives without a test case: {missing}"


@pytest.mark.parametrize('name', sorted(PRIMITIVES))
def test_every_primitive_has_its_rules(name):
    p = PRIMITIVES[name]
    assert p.impl is not None and p.abstract_eval is not None, name
    assert p.jvp is not None, f"{name}: no JVP rule"
    assert p.batch is not None or name == 'iota', f"{name}: no batching rule"
    assert p.lower is not None, f"{name}: no lowering"


@pytest.mark.parametrize('name,c', list(_params()))
def test_derivatives(name, c):
    fn, make, diff = c
    if not diff:
        return
    args = tuple(fnp.asarray(a) for a in make())
    float_args = [i for i, a in enumerate(args) if np.issubdtype(np.asarray(a).dtype, np.floating)]

    def g(*fargs):
        full = list(args)
        for i, v in zip(float_args, fargs):
            full[i] = v
        return fn(*full)
    modes = ('fwd', 'rev') if diff is True else (diff,)
    check_grads(g, tuple(args[i] for i in float_args), order=2, modes=modes)


@pytest.mark.parametrize('name,c', list(_params()))
def test_vmap_matches_loop(name, c):
    fn, make, _ = c
    batch = [make() for _ in range(3)]
    stacked = [fnp.asarray(np.stack([b[k] for b in batch])) for k in range(len(batch[0]))]
    out = fd.vmap(fn)(*stacked)
    for i, b in enumerate(batch):
        ref = fn(*map(fnp.asarray, b))
        np.testing.assert_allclose(np.asarray(fd.tree.leaves(out)[0][i], dtype=np.float64),
                                   np.asarray(fd.tree.leaves(ref)[0], dtype=np.float64), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('name,c', list(_params()))
def test_jit_matches_eager(name, c):
    fn, make, _ = c
    args = [fnp.asarray(a) for a in make()]
    eager = fd.tree.leaves(fn(*args))
    jitted = fd.tree.leaves(fd.jit(fn)(*args))
    for e, j in zip(eager, jitted):
        assert e.dtype == j.dtype and e.shape == j.shape
        np.testing.assert_allclose(np.asarray(j, dtype=np.float64), np.asarray(e, dtype=np.float64),
                                   rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize('n', [4, 300_000])  # the small path and the pooled-buffer path
def test_max_weight_splits_ties_and_zeroes_nans(n):
    x = np.resize(np.array([1.0, -2.0, 3.0, np.nan], np.float32), n)
    y = np.resize(np.array([1.0, 4.0, 0.0, 0.0], np.float32), n)
    want = np.resize(np.array([0.5, 0.0, 1.0, 0.0], np.float32), n)
    w = PRIMITIVES['max_weight'].bind(fnp.asarray(x), fnp.asarray(y))
    np.testing.assert_array_equal(np.asarray(w), want)
    np.testing.assert_array_equal(np.asarray(fd.jit(lambda a, b: PRIMITIVES['max_weight'].bind(a, b))(x, y)), want)
    # the derivatives of maximum and minimum are built from it, as in JAX
    gx, gy = fd.grad(lambda a, b: fnp.sum(fnp.maximum(a, b)), argnums=(0, 1))(fnp.asarray(x), fnp.asarray(y))
    np.testing.assert_array_equal(np.asarray(gx), want)
    np.testing.assert_array_equal(np.asarray(gy), np.resize(np.array([0.5, 1.0, 0.0, 0.0], np.float32), n))
    gmin = fd.grad(lambda a: fnp.sum(fnp.minimum(a, fnp.asarray(y))))(fnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(gmin), np.resize(np.array([0.5, 1.0, 0.0, 0.0], np.float32), n))

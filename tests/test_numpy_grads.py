"""Derivatives of every differentiable fn_dl.numpy function in the elementwise, reduction, manipulation,
product and creation modules: forward and reverse mode to second order against finite differences
(fn_dl.testing.check_grads), on float64 inputs inside each function's smooth domain."""
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.numpy import _creation, _elementwise, _manipulation, _products, _reductions
from fn_dl.testing import check_grads

rng = np.random.default_rng(1)


def x(*shape, lo=-2.0, hi=2.0):
    return fnp.asarray(rng.uniform(lo, hi, shape))


def away(*shape, gap=0.3, lo=-2.0, hi=2.0):
    """Random values at least `gap` from 0 and from each other: kinks (abs, max, sort) stay out of reach."""
    n = int(np.prod(shape))
    vals = np.linspace(lo, hi, n * 4 + 1)
    vals = vals[np.abs(vals) > gap]
    return fnp.asarray(rng.permutation(vals)[:n].reshape(shape))


def pos(*shape, lo=0.5, hi=2.0):
    return x(*shape, lo=lo, hi=hi)


def cplx(*shape):
    return fnp.asarray(rng.uniform(-2, 2, shape) + 1j * rng.uniform(-2, 2, shape))


# name -> (function of the arguments, argument makers); the function is fnp.<name> unless given
CASES = {
    # elementwise, one argument
    **{n: (None, lambda: (x(2, 3),)) for n in [
        'exp', 'exp2', 'expm1', 'sin', 'cos', 'atan', 'arctan', 'sinh', 'cosh', 'tanh', 'asinh', 'arcsinh',
        'cbrt', 'deg2rad', 'rad2deg', 'radians', 'degrees', 'negative', 'positive', 'square', 'real', 'conj',
        'conjugate', 'sinc', 'imag']},
    **{n: (None, lambda: (pos(2, 3),)) for n in ['log', 'log1p', 'log2', 'log10', 'sqrt', 'reciprocal']},
    **{n: (None, lambda: (x(2, 3, lo=-0.8, hi=0.8),)) for n in ['asin', 'arcsin', 'acos', 'arccos', 'atanh',
                                                                'arctanh']},
    'tan': (None, lambda: (x(2, 3, lo=-1.2, hi=1.2),)),
    'acosh': (None, lambda: (pos(2, 3, lo=1.2, hi=3),)), 'arccosh': (None, lambda: (pos(2, 3, lo=1.2, hi=3),)),
    **{n: (None, lambda: (away(2, 3),)) for n in ['abs', 'absolute', 'fabs', 'sign']},
    **{n: (None, lambda: (away(2, 3) + 0.25,)) for n in ['floor', 'ceil', 'trunc', 'fix', 'rint', 'round',
                                                          'around']},
    'angle': (None, lambda: (cplx(2, 3),)),
    'abs_complex': (fnp.abs, lambda: (cplx(2, 3),)),
    # elementwise, two arguments (broadcast against each other)
    **{n: (None, lambda: (x(2, 3), x(3))) for n in ['add', 'subtract', 'multiply', 'atan2', 'arctan2',
                                                    'logaddexp', 'logaddexp2', 'hypot']},
    **{n: (None, lambda: (x(2, 3), away(3))) for n in ['divide', 'true_divide', 'copysign']},
    **{n: (None, lambda: (away(2, 3) * 3 + 0.05, away(3))) for n in ['floor_divide', 'remainder', 'mod',
                                                                       'fmod']},
    **{n: (None, lambda: (pos(2, 3), x(3))) for n in ['power', 'pow', 'float_power']},
    **{n: (None, lambda: (away(2, 3, gap=0.1), away(1, 3, gap=0.1) + 0.05)) for n in [
        'maximum', 'minimum', 'fmax', 'fmin']},
    'heaviside': (None, lambda: (away(2, 3), x(3))),
    'power_int': (lambda a: fnp.power(a, 3) + fnp.power(a, -2), lambda: (away(2, 3),)),
    'ldexp': (lambda a: fnp.ldexp(a, fnp.asarray([1, -2, 0])), lambda: (x(2, 3),)),
    'divmod': (None, lambda: (away(2, 3) * 3 + 0.05, away(3))),
    'modf': (None, lambda: (away(2, 3) * 3 + 0.05,)),
    'frexp': (lambda a: fnp.frexp(a)[0], lambda: (away(2, 3) * 3 + 0.05,)),
    'nan_to_num': (None, lambda: (x(2, 3),)),
    'where': (lambda a, b: fnp.where(fnp.asarray([True, False, True]), a, b), lambda: (x(2, 3), x(3))),
    'clip': (lambda a, lo, hi: fnp.clip(a, lo, hi), lambda: (away(2, 3, gap=0.5), x(3, lo=-0.2, hi=-0.1),
                                                             x(1, lo=0.1, hi=0.2))),
    # reductions
    **{n: (lambda a, f=n: getattr(fnp, f)(a, axis=1), lambda: (x(2, 3, 4),)) for n in [
        'sum', 'mean', 'var', 'std', 'logsumexp']},
    'sum_where': (lambda a: fnp.sum(a, axis=0, where=fnp.asarray([True, False, True])), lambda: (x(2, 3),)),
    'mean_where': (lambda a: fnp.mean(a, where=fnp.asarray([[True, False, True]] * 2)), lambda: (x(2, 3),)),
    'var_correction': (lambda a: fnp.var(a, axis=(0, 2), correction=1, keepdims=True), lambda: (x(2, 3, 4),)),
    'prod': (lambda a: fnp.prod(a, axis=(0, 2)), lambda: (x(2, 3, 4),)),
    'prod_with_zero': (lambda a: fnp.prod(a * fnp.asarray([1.0, 0.0, 1.0])), lambda: (x(3),)),
    **{n: (lambda a, f=n: getattr(fnp, f)(a, axis=-1), lambda: (away(2, 5),)) for n in [
        'max', 'min', 'amax', 'amin', 'ptp']},
    'average': (lambda a, w: fnp.average(a, axis=1, weights=w), lambda: (x(2, 3), pos(3))),
    'logsumexp_b': (lambda a, b: fnp.logsumexp(a, b=b), lambda: (x(2, 3), pos(3))),
    # shape manipulation
    'reshape': (lambda a: fnp.reshape(a, (3, -1)), lambda: (x(2, 3, 2),)),
    **{n: (None, lambda: (x(2, 3, 2),)) for n in ['ravel', 'flatten', 'transpose', 'matrix_transpose', 'squeeze',
                                                  'flip', 'fliplr', 'flipud', 'copy', 'atleast_1d', 'atleast_2d',
                                                  'atleast_3d']},
    'permute_dims': (lambda a: fnp.permute_dims(a, (2, 0, 1)), lambda: (x(2, 3, 2),)),
    'moveaxis': (lambda a: fnp.moveaxis(a, 0, -1), lambda: (x(2, 3, 2),)),
    'swapaxes': (lambda a: fnp.swapaxes(a, 0, 2), lambda: (x(2, 3, 2),)),
    'expand_dims': (lambda a: fnp.expand_dims(a, (0, -1)), lambda: (x(2, 3),)),
    'broadcast_to': (lambda a: fnp.broadcast_to(a, (2, 4, 3)), lambda: (x(4, 1),)),
    'broadcast_arrays': (lambda a, b: fnp.broadcast_arrays(a, b), lambda: (x(4, 1), x(3))),
    **{n: (lambda a, b, f=n: getattr(fnp, f)([a, b]), lambda: (x(2, 3), x(2, 3))) for n in [
        'concat', 'concatenate', 'stack', 'vstack', 'hstack', 'dstack', 'column_stack', 'row_stack']},
    'split': (lambda a: fnp.split(a, [1, 3], axis=1), lambda: (x(2, 4),)),
    'array_split': (lambda a: fnp.array_split(a, 3, axis=1), lambda: (x(2, 4),)),
    'unstack': (lambda a: fnp.unstack(a, axis=1), lambda: (x(2, 3),)),
    'roll': (lambda a: fnp.roll(a, (1, -2), axis=(0, 1)), lambda: (x(3, 4),)),
    'tile': (lambda a: fnp.tile(a, (2, 1, 2)), lambda: (x(2, 3),)),
    'repeat': (lambda a: fnp.repeat(a, 2, axis=0), lambda: (x(2, 3),)),
    'repeat_counts': (lambda a: fnp.repeat(a, [2, 0, 1], axis=1), lambda: (x(2, 3),)),
    **{f'pad_{m}': (lambda a, m=m: fnp.pad(a, ((1, 2), (3, 0)), mode=m), lambda: (x(3, 4),)) for m in [
        'constant', 'edge', 'reflect', 'symmetric', 'wrap']},
    'pad': (lambda a, v: fnp.pad(a, 1, constant_values=v), lambda: (x(2, 3), x())),
    'diagonal': (lambda a: fnp.diagonal(a, 1), lambda: (x(3, 4),)),
    'trace': (lambda a: fnp.trace(a, -1), lambda: (x(4, 3),)),
    'diag': (lambda a: fnp.diag(a, 1), lambda: (x(3),)),
    'diagflat': (lambda a: fnp.diagflat(a, -1), lambda: (x(2, 2),)),
    'rot90': (lambda a: fnp.rot90(a, 3, (2, 0)), lambda: (x(2, 3, 4),)),
    'rollaxis': (lambda a: fnp.rollaxis(a, 2, 1), lambda: (x(2, 3, 4),)),
    'append': (None, lambda: (x(2, 3), x(4))),
    **{n: (lambda a, f=n: getattr(fnp, f)(a, 2), lambda: (x(2, 4, 2),)) for n in ['vsplit', 'hsplit', 'dsplit']},
    'resize': (lambda a: fnp.resize(a, (3, 3)), lambda: (x(2, 2),)),
    'block': (lambda a, b: fnp.block([[a, b], [b, a]]), lambda: (x(2, 2), x(2, 2))),
    # products
    'matmul': (None, lambda: (x(2, 3, 4), x(4, 2))),
    'matmul_vectors': (fnp.matmul, lambda: (x(4), x(2, 4, 3))),
    'tensordot': (lambda a, b: fnp.tensordot(a, b, axes=((1, 2), (0, 1))), lambda: (x(2, 3, 4), x(3, 4, 2))),
    'vecdot': (None, lambda: (x(2, 3), x(3))),
    'vecdot_complex': (fnp.vecdot, lambda: (cplx(2, 3), cplx(3))),
    'dot': (None, lambda: (x(2, 3), x(3, 2))),
    'inner': (None, lambda: (x(2, 3), x(4, 3))),
    'outer': (None, lambda: (x(3), x(2))),
    'vdot': (None, lambda: (x(2, 3), x(3, 2))),
    'kron': (None, lambda: (x(2, 2), x(3, 1))),
    'matvec': (None, lambda: (x(4, 2, 3), x(3))),
    'vecmat': (None, lambda: (x(3), x(4, 3, 2))),
    # creation functions with array arguments
    'tril': (lambda a: fnp.tril(a, -1), lambda: (x(2, 3, 3),)),
    'triu': (lambda a: fnp.triu(a, 1), lambda: (x(3, 4),)),
    'linspace': (lambda a, b: fnp.linspace(a, b, 5), lambda: (x(), x(2))),
    'logspace': (lambda a, b: fnp.logspace(a, b, 4), lambda: (x(), x())),
    'geomspace': (lambda a, b: fnp.geomspace(a, b, 4), lambda: (pos(), pos())),
    'full': (lambda v: fnp.full((2, 3), v), lambda: (x(),)),
}

# the public functions of these modules that have no derivative to check (integer, boolean or shape results)
NOT_DIFFERENTIABLE = {
    'argmax', 'argmin', 'all', 'any', 'count_nonzero', 'equal', 'not_equal', 'less', 'less_equal', 'greater',
    'greater_equal', 'logical_and', 'logical_or', 'logical_xor', 'logical_not', 'isfinite', 'isnan', 'isinf',
    'signbit', 'bitwise_and', 'bitwise_or', 'bitwise_xor', 'bitwise_invert', 'bitwise_not', 'invert',
    'bitwise_left_shift', 'bitwise_right_shift', 'left_shift', 'right_shift', 'bitwise_count', 'nextafter',
    'spacing', 'gcd', 'lcm', 'isposinf', 'isneginf', 'iscomplex', 'isreal',
    'shape', 'ndim', 'size', 'broadcast_shapes', 'zeros', 'ones', 'empty', 'zeros_like', 'ones_like', 'empty_like',
    'full_like', 'arange', 'logspace', 'eye', 'identity', 'tri', 'meshgrid', 'from_dlpack', 'frombuffer',
}


def test_every_function_is_covered():
    public = set()
    for module in (_elementwise, _reductions, _manipulation, _products, _creation):
        public |= {n for n in module.__all__ if callable(getattr(module, n))}
    missing = public - set(CASES) - NOT_DIFFERENTIABLE
    assert not missing, f'no gradient case for {sorted(missing)}'


@pytest.mark.parametrize('name', sorted(CASES))
def test_grads(name):
    f, make = CASES[name]
    check_grads(f or getattr(fnp, name), make(), order=2)


def test_grad_through_methods_and_operators():
    def loss(w, b, a):
        return ((a @ w + b) ** 2).mean() - (a.sum(0) @ w * b).max()
    check_grads(loss, (x(3, 2), x(2), x(4, 3)), order=2)
    g = fd.grad(lambda v: fnp.sum(v[::2] * 3.0))(x(5))
    assert g.tolist() == [3.0, 0.0, 3.0, 0.0, 3.0]


def test_grad_at_kinks_is_symmetric():
    # ties split the derivative evenly, as JAX does
    assert fd.grad(lambda v: fnp.max(v))(fnp.asarray([1.0, 3.0, 3.0])).tolist() == [0.0, 0.5, 0.5]
    assert fd.grad(lambda a: fnp.maximum(a, 1.0))(fnp.asarray(1.0)).item() == 0.5
    assert fd.grad(lambda v: fnp.sum(fnp.log2(v)))(fnp.asarray([8.0])).item() == pytest.approx(1 / (8 * np.log(2)))

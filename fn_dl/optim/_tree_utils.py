"""Tree arithmetic shared by the optimisers: the one place for zeros, norms, moments, step counts and casts.

>>> import fn_dl.numpy as fnp
>>> from fn_dl.optim import _tree_utils as tu
>>> float(tu.global_norm({'a': fnp.asarray([3.0]), 'b': fnp.asarray([[4.0]])}))
5.0
"""
from __future__ import annotations

import numpy as np

from fn_dl import numpy as fnp
from fn_dl import tree

_INT32_MAX = 2 ** 31 - 1


def zeros_like(t, dtype=None):
    """A tree of zeros shaped like t (dtype: each leaf's own unless given).

    >>> import fn_dl.numpy as fnp
    >>> zeros_like({'w': fnp.ones(2)})['w'].tolist()
    [0.0, 0.0]
    """
    return tree.map(lambda x: fnp.zeros_like(x, dtype=dtype), t)


def full_like(t, value, dtype=None):
    """A tree of arrays shaped like t's leaves, all equal to value.

    >>> import fn_dl.numpy as fnp
    >>> full_like([fnp.zeros(2)], 0.5)[0].tolist()
    [0.5, 0.5]
    """
    return tree.map(lambda x: fnp.full_like(x, value, dtype=dtype), t)


def cast_like(t, ref):
    """t with each leaf cast to the dtype of the matching leaf of ref.

    >>> import fn_dl.numpy as fnp
    >>> cast_like([fnp.ones(1)], [fnp.zeros(1, dtype=fnp.float16)])[0].dtype
    dtype('float16')
    """
    return tree.map(lambda x, r: fnp.astype(x, r.dtype), t, ref)


def scalar_like(s, x):
    """The scalar s in x's dtype, so that `x * s` keeps x's dtype.

    Python numbers are weakly typed and already do; arrays and NumPy scalars (schedule values, injected
    hyperparameters, the float64 step coefficients) are cast, or a float32 leaf would be
    promoted by a float64 coefficient and a bfloat16 leaf by a float32 learning rate.

    >>> import fn_dl.numpy as fnp
    >>> scalar_like(fnp.asarray(2.0, dtype=fnp.float64), fnp.ones(1)).dtype
    dtype('float32')
    """
    weak = isinstance(s, (int, float)) and not isinstance(s, np.generic)
    return s if weak else fnp.astype(s, x.dtype)


def scale(t, s):
    """Every leaf of t times the scalar s, in the leaf's dtype.

    >>> import fn_dl.numpy as fnp
    >>> scale({'w': fnp.asarray([2.0])}, 0.5)['w'].tolist()
    [1.0]
    """
    return tree.map(lambda x: x * scalar_like(s, x), t)


def _sum_of_squares(x):
    # accumulate half-precision leaves in at least float32: a bfloat16 sum of a million squares is noise
    x = fnp.astype(x, fnp.promote_types(x.dtype, fnp.float32))
    return fnp.sum(x * x)


def global_norm(t):
    """The L2 norm of all of t's leaves taken together, as one vector.

    >>> import fn_dl.numpy as fnp
    >>> float(global_norm([fnp.asarray([3.0]), fnp.asarray([4.0])]))
    5.0
    """
    return fnp.sqrt(sum((_sum_of_squares(x) for x in tree.leaves(t)), fnp.zeros((), fnp.float32)))


def norm(x):
    """The L2 norm of one array, all its elements taken as one vector.

    >>> import fn_dl.numpy as fnp
    >>> float(norm(fnp.asarray([[3.0], [4.0]])))
    5.0
    """
    return fnp.sqrt(_sum_of_squares(x))


def rms(x):
    """The root mean square of one array's elements.

    >>> import fn_dl.numpy as fnp
    >>> float(rms(fnp.asarray([3.0, -3.0])))
    3.0
    """
    return fnp.sqrt(_sum_of_squares(x) / max(x.size, 1))


def all_finite(t):
    """A boolean scalar: no leaf of t holds a NaN or an infinity.

    >>> import fn_dl.numpy as fnp
    >>> bool(all_finite([fnp.asarray([1.0]), fnp.asarray([fnp.inf])]))
    False
    """
    flags = [fnp.all(fnp.isfinite(x)) for x in tree.leaves(t)]
    return fnp.all(fnp.stack(flags)) if flags else fnp.asarray(True)


def update_moment(g, m, decay, order):
    """The exponential moving average `decay * m + (1 - decay) * g**order`, leafwise, in m's dtype.

    >>> import fn_dl.numpy as fnp
    >>> update_moment([fnp.asarray([2.0])], [fnp.asarray([0.0])], 0.75, 2)[0].tolist()
    [1.0]
    """
    def one(g, m):
        return fnp.astype(decay * m + (1 - decay) * (g * g if order == 2 else g), m.dtype)
    return tree.map(one, g, m)


def safe_increment(count):
    """count + 1, saturating at the int32 maximum instead of wrapping to a negative step.

    >>> import fn_dl.numpy as fnp
    >>> int(safe_increment(fnp.asarray(2 ** 31 - 1, dtype=fnp.int32)))
    2147483647
    """
    return fnp.where(count < _INT32_MAX, count + 1, count)


def as_float64(count):
    """The step count as a float64 scalar.

    Per-step coefficients (bias corrections, RAdam's rectifier, NAdam's momentum schedule) are
    scalars computed the way torch.optim computes them, in double precision: in float32,
    1 - 0.999**t carries a relative error near 1e-5 after 50 steps, and RAdam's
    rho_inf - 2 t b2**t / (1 - b2**t) cancels two numbers near 2000. They cost nothing.

    >>> import fn_dl.numpy as fnp
    >>> as_float64(fnp.asarray(3, dtype=fnp.int32)).dtype
    dtype('float64')
    """
    return fnp.astype(count, fnp.float64)


def bias_correction(decay, count):
    """1 - decay**count in float64: what Adam divides its moving averages by after count steps.

    >>> import fn_dl.numpy as fnp
    >>> float(bias_correction(0.5, fnp.asarray(2, dtype=fnp.int32)))
    0.75
    """
    return 1 - decay ** as_float64(count)


def require_params(params, who):
    """Raise a clear error when a transformation that needs the parameters was not given them.

    >>> require_params(None, 'add_decayed_weights')
    Traceback (most recent call last):
    ...
    ValueError: add_decayed_weights needs the parameters: call update(grads, state, params)
    """
    if params is None:
        raise ValueError(f"{who} needs the parameters: call update(grads, state, params)")


def map_with_params(f, updates, params, who):
    """tree.map(f, updates, params), with an error naming both structures when they differ.

    >>> import fn_dl.numpy as fnp
    >>> map_with_params(lambda u, p: u + p, {'w': 1.0}, {'v': 2.0}, 'apply_updates')
    Traceback (most recent call last):
    ...
    ValueError: apply_updates: the updates and the parameters must be trees of the same structure; \
updates: PyTreeSpec({'w': *}), parameters: PyTreeSpec({'v': *})
    """
    require_params(params, who)
    try:
        return tree.map(f, updates, params)
    except ValueError:
        su, sp = tree.structure(updates), tree.structure(params)
        if su != sp:
            raise ValueError(f"{who}: the updates and the parameters must be trees of the same structure; "
                             f"updates: {su}, parameters: {sp}") from None
        raise

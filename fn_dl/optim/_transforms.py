"""The building blocks the optimisers are chained from: scalings, moments, momentum, weight decay.

Where torch.optim has the algorithm, the formula is torch's (where eps sits, how the first
momentum step is taken, which second moment AMSGrad keeps), so the chains in `_alias.py`
match torch.optim step for step. Per-step scalar coefficients are computed in float64, as torch
does in Python floats, and cast to each leaf's dtype (`_tree_utils.as_float64` says why).

>>> import fn_dl.numpy as fnp
>>> from fn_dl import optim
>>> tx = optim.chain(optim.scale_by_adam(), optim.scale_by_learning_rate(0.1))
>>> u, state = tx.update({'w': fnp.asarray([3.0])}, tx.init({'w': fnp.zeros(1)}))
>>> [round(x, 6) for x in u['w'].tolist()]  # Adam's first step is lr * sign(g)
[-0.1]
"""
from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

from fn_dl import numpy as fnp
from fn_dl import tree
from fn_dl.optim import _tree_utils as tu
from fn_dl.optim._base import GradientTransformation, stateless
from fn_dl.optim._wrappers import masked

_cast = tu.scalar_like


def _is_zero(x):
    """A literal 0 switches a feature off; an array (an injected hyperparameter) can change, so never is."""
    return isinstance(x, (int, float)) and x == 0


def _zero_count():
    return fnp.zeros((), fnp.int32)


# --- learning rates and plain scaling ---------------------------------------------------------


class ScaleByScheduleState(NamedTuple):
    count: Any  # updates done so far: the schedule's argument


def scale(step_size):
    """Multiply the updates by a fixed scalar.

    >>> import fn_dl.numpy as fnp
    >>> tx = scale(-2.0)
    >>> tx.update(fnp.asarray([1.0]), tx.init(None))[0].tolist()
    [-2.0]
    """
    return stateless(lambda updates, params: tu.scale(updates, step_size))


def scale_by_schedule(step_size_fn):
    """Multiply the updates by `step_size_fn(count)`, count being the number of earlier updates.

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_schedule(lambda count: 1.0 / (count + 1))
    >>> state = tx.init(None)
    >>> u1, state = tx.update(fnp.asarray([1.0]), state)
    >>> u2, state = tx.update(fnp.asarray([1.0]), state)
    >>> u1.tolist(), u2.tolist()
    ([1.0], [0.5])
    """
    def init(params):
        return ScaleByScheduleState(_zero_count())

    def update(updates, state, params=None):
        return tu.scale(updates, step_size_fn(state.count)), ScaleByScheduleState(tu.safe_increment(state.count))
    return GradientTransformation(init, update)


def _is_scalar(x):
    if isinstance(x, (bool, np.bool_)):
        return False
    return isinstance(x, numbers.Real) or getattr(x, 'shape', None) == ()


def scale_by_learning_rate(learning_rate, *, flip_sign=True):
    """Multiply the updates by -learning_rate (by +learning_rate with flip_sign=False).

    learning_rate is a number, a scalar array, or a schedule: a function of the step count.

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_learning_rate(0.5)
    >>> tx.update(fnp.asarray([2.0]), tx.init(None))[0].tolist()
    [-1.0]
    >>> scale_by_learning_rate('fast')
    Traceback (most recent call last):
    ...
    TypeError: learning_rate must be a number or a schedule (a function of the step count), got str 'fast'
    """
    sign = -1 if flip_sign else 1
    if callable(learning_rate):
        return scale_by_schedule(lambda count: sign * learning_rate(count))
    if _is_scalar(learning_rate):
        return scale(sign * learning_rate)
    raise TypeError(f"learning_rate must be a number or a schedule (a function of the step count), got "
                    f"{type(learning_rate).__name__} {learning_rate!r}")


# --- weight decay and momentum ----------------------------------------------------------------


def add_decayed_weights(weight_decay=0.0, mask=None):
    """Add weight_decay * params to the updates.

    Before an adaptive scaling this is L2 regularisation (torch's `weight_decay`); after it,
    decoupled weight decay (AdamW). `mask` (a tree of bools like params, a prefix of it, or a
    function of the params returning one) limits the decay to the leaves marked True, e.g. not
    to biases and norm scales.

    >>> import fn_dl.numpy as fnp
    >>> params = {'w': fnp.asarray([[1.0]]), 'b': fnp.asarray([1.0])}
    >>> tx = add_decayed_weights(0.1, mask=lambda p: {k: v.ndim > 1 for k, v in p.items()})
    >>> u, _ = tx.update({'w': fnp.zeros((1, 1)), 'b': fnp.zeros(1)}, tx.init(params), params)
    >>> [round(x, 6) for x in u['w'][0].tolist()], u['b'].tolist()
    ([0.1], [0.0])
    """
    def decay(updates, params):
        return tu.map_with_params(lambda u, p: u + _cast(weight_decay, p) * p, updates, params,
                                  'add_decayed_weights')
    tx = stateless(decay)
    return tx if mask is None else masked(tx, mask)


class TraceState(NamedTuple):
    count: Any
    trace: Any


def trace(decay, nesterov=False, dampening=0.0):
    """Momentum as torch.optim.SGD takes it: buf = decay * buf + (1 - dampening) * g.

    The first step sets buf = g (no dampening), as torch does; nesterov returns
    g + decay * buf instead of buf.

    >>> import fn_dl.numpy as fnp
    >>> tx = trace(0.9)
    >>> state = tx.init(fnp.zeros(1))
    >>> u, state = tx.update(fnp.asarray([1.0]), state)
    >>> u, state = tx.update(fnp.asarray([1.0]), state)
    >>> [round(x, 6) for x in u.tolist()]
    [1.9]
    """
    def init(params):
        return TraceState(_zero_count(), tu.zeros_like(params))

    def update(updates, state, params=None):
        if _is_zero(dampening):
            new = tree.map(lambda g, t: fnp.astype(g + decay * t, t.dtype), updates, state.trace)
        else:
            g_coef = 1 - dampening * fnp.astype(state.count > 0, fnp.float64)  # float64, as the other coefficients
            new = tree.map(lambda g, t: fnp.astype(decay * t + _cast(g_coef, g) * g, t.dtype), updates, state.trace)
        out = tree.map(lambda g, t: g + decay * t, updates, new) if nesterov else new
        return out, TraceState(tu.safe_increment(state.count), new)
    return GradientTransformation(init, update)


class EmaState(NamedTuple):
    count: Any
    ema: Any


def ema(decay, debias=True):
    """An exponential moving average of the updates, divided by 1 - decay**t when debias.

    >>> import fn_dl.numpy as fnp
    >>> tx = ema(0.5, debias=False)
    >>> tx.update(fnp.asarray([2.0]), tx.init(fnp.zeros(1)))[0].tolist()
    [1.0]
    """
    def init(params):
        return EmaState(_zero_count(), tu.zeros_like(params))

    def update(updates, state, params=None):
        avg = tu.update_moment(updates, state.ema, decay, 1)
        count = tu.safe_increment(state.count)
        out = tu.scale(avg, 1 / tu.bias_correction(decay, count)) if debias else avg
        return out, EmaState(count, avg)
    return GradientTransformation(init, update)


# --- adaptive scalings ------------------------------------------------------------------------


class ScaleByAdamState(NamedTuple):
    count: Any
    mu: Any  # first moment
    nu: Any  # second moment


def _adam_direction(mu, nu, count, b1, b2, eps):
    """(mu / c1) / (sqrt(nu / c2) + eps) with c = 1 - b**count: torch's and the paper's Adam step."""
    inv_c1, inv_c2 = 1 / tu.bias_correction(b1, count), 1 / tu.bias_correction(b2, count)
    return tree.map(lambda m, v: m * _cast(inv_c1, m) / (fnp.sqrt(v * _cast(inv_c2, v)) + eps), mu, nu)


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8):
    """Scale by Adam's bias-corrected moments (Kingma and Ba, 2014; torch.optim.Adam's formula).

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_adam()
    >>> u, _ = tx.update(fnp.asarray([-4.0]), tx.init(fnp.zeros(1)))
    >>> [round(x, 6) for x in u.tolist()]
    [-1.0]
    """
    def init(params):
        return ScaleByAdamState(_zero_count(), tu.zeros_like(params), tu.zeros_like(params))

    def update(updates, state, params=None):
        mu = tu.update_moment(updates, state.mu, b1, 1)
        nu = tu.update_moment(updates, state.nu, b2, 2)
        count = tu.safe_increment(state.count)
        return _adam_direction(mu, nu, count, b1, b2, eps), ScaleByAdamState(count, mu, nu)
    return GradientTransformation(init, update)


class ScaleByAmsgradState(NamedTuple):
    count: Any
    mu: Any
    nu: Any
    nu_max: Any  # the largest second moment seen, before bias correction


def scale_by_amsgrad(b1=0.9, b2=0.999, eps=1e-8):
    """Adam with the running maximum of the second moment (Reddi et al., 2018).

    As torch.optim.Adam(amsgrad=True): the maximum is taken over the raw second moments and
    divided by the current bias correction.

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_amsgrad()
    >>> state = tx.init(fnp.zeros(1))
    >>> _, state = tx.update(fnp.asarray([10.0]), state)
    >>> _, state = tx.update(fnp.asarray([0.1]), state)
    >>> bool(state.nu_max[0] > state.nu[0])
    True
    """
    def init(params):
        return ScaleByAmsgradState(_zero_count(), *(tu.zeros_like(params) for _ in range(3)))

    def update(updates, state, params=None):
        mu = tu.update_moment(updates, state.mu, b1, 1)
        nu = tu.update_moment(updates, state.nu, b2, 2)
        nu_max = tree.map(fnp.maximum, state.nu_max, nu)
        count = tu.safe_increment(state.count)
        return _adam_direction(mu, nu_max, count, b1, b2, eps), ScaleByAmsgradState(count, mu, nu, nu_max)
    return GradientTransformation(init, update)


def scale_by_adamax(b1=0.9, b2=0.999, eps=1e-8):
    """Scale by the bias-corrected first moment over an infinity-norm second moment (Adamax).

    As torch.optim.Adamax: u = max(b2 * u, |g| + eps), update = (m / (1 - b1**t)) / u.

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_adamax()
    >>> u, _ = tx.update(fnp.asarray([2.0]), tx.init(fnp.zeros(1)))
    >>> [round(x, 6) for x in u.tolist()]
    [1.0]
    """
    def init(params):
        return ScaleByAdamState(_zero_count(), tu.zeros_like(params), tu.zeros_like(params))

    def update(updates, state, params=None):
        mu = tu.update_moment(updates, state.mu, b1, 1)
        nu = tree.map(lambda g, u: fnp.astype(fnp.maximum(b2 * u, fnp.abs(g) + eps), u.dtype), updates, state.nu)
        count = tu.safe_increment(state.count)
        inv_c1 = 1 / tu.bias_correction(b1, count)
        return tree.map(lambda m, u: m * _cast(inv_c1, m) / u, mu, nu), ScaleByAdamState(count, mu, nu)
    return GradientTransformation(init, update)


class ScaleByNadamState(NamedTuple):
    count: Any
    mu_product: Any  # product of the momentum schedule so far (float64)
    mu: Any
    nu: Any


def scale_by_nadam(b1=0.9, b2=0.999, eps=1e-8, momentum_decay=4e-3):
    """Nesterov-accelerated Adam with Dozat's momentum schedule, as torch.optim.NAdam.

    The momentum coefficient at step t is b1 * (1 - 0.5 * 0.96**(t * momentum_decay)).

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_nadam()
    >>> u, _ = tx.update(fnp.asarray([1.0]), tx.init(fnp.zeros(1)))
    >>> round(u.tolist()[0], 4)
    1.0565
    """
    def init(params):
        return ScaleByNadamState(_zero_count(), fnp.ones((), fnp.float64), tu.zeros_like(params),
                                 tu.zeros_like(params))

    def update(updates, state, params=None):
        count = tu.safe_increment(state.count)
        t = tu.as_float64(count)
        mu_t = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        mu_product = state.mu_product * mu_t
        mu = tu.update_moment(updates, state.mu, b1, 1)
        nu = tu.update_moment(updates, state.nu, b2, 2)
        inv_c2 = 1 / tu.bias_correction(b2, count)
        g_coef = (1 - mu_t) / (1 - mu_product)
        m_coef = mu_next / (1 - mu_product * mu_next)

        def one(g, m, v):
            return (_cast(g_coef, g) * g + _cast(m_coef, m) * m) / (fnp.sqrt(v * _cast(inv_c2, v)) + eps)
        return tree.map(one, updates, mu, nu), ScaleByNadamState(count, mu_product, mu, nu)
    return GradientTransformation(init, update)


def scale_by_radam(b1=0.9, b2=0.999, eps=1e-8, threshold=5.0):
    """Rectified Adam (Liu et al., 2020), as torch.optim.RAdam.

    While the length of the approximated simple moving average rho_t is at most `threshold`,
    the step is the bias-corrected momentum alone; after, it is rectified Adam.

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_radam()
    >>> u, _ = tx.update(fnp.asarray([3.0]), tx.init(fnp.zeros(1)))
    >>> [round(x, 4) for x in u.tolist()]  # the first steps are plain momentum
    [3.0]
    """
    rho_inf = 2 / (1 - b2) - 1

    def init(params):
        return ScaleByAdamState(_zero_count(), tu.zeros_like(params), tu.zeros_like(params))

    def update(updates, state, params=None):
        mu = tu.update_moment(updates, state.mu, b1, 1)
        nu = tu.update_moment(updates, state.nu, b2, 2)
        count = tu.safe_increment(state.count)
        t = tu.as_float64(count)
        c2 = tu.bias_correction(b2, count)
        rho = rho_inf - 2 * t * b2 ** t / c2
        rectify = rho > threshold
        # clamped at 0: for rho <= 4 the ratio is negative, and that branch is never taken
        r = fnp.sqrt(fnp.maximum((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho), 0.0))
        inv_c1, adaptive = 1 / tu.bias_correction(b1, count), r * fnp.sqrt(c2)

        def one(m, v):
            m_hat = m * _cast(inv_c1, m)
            return fnp.where(rectify, m_hat * _cast(adaptive, m) / (fnp.sqrt(v) + eps), m_hat)
        return tree.map(one, mu, nu), ScaleByAdamState(count, mu, nu)
    return GradientTransformation(init, update)


class ScaleByRmsState(NamedTuple):
    nu: Any  # mean square of the gradients
    mu: Any  # mean of the gradients (centered only, else None)


def scale_by_rms(decay=0.99, eps=1e-8, centered=False):
    """Divide by the root mean square of past gradients (RMSprop), as torch.optim.RMSprop.

    centered divides by an estimate of their standard deviation instead: sqrt(nu - mu**2).
    eps is added after the square root.

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_rms(decay=0.75)
    >>> u, _ = tx.update(fnp.asarray([1.0]), tx.init(fnp.zeros(1)))
    >>> [round(x, 6) for x in u.tolist()]
    [2.0]
    """
    def init(params):
        return ScaleByRmsState(tu.zeros_like(params), tu.zeros_like(params) if centered else None)

    def update(updates, state, params=None):
        nu = tu.update_moment(updates, state.nu, decay, 2)
        if centered:
            mu = tu.update_moment(updates, state.mu, decay, 1)
            out = tree.map(lambda g, n, m: g / (fnp.sqrt(n - m * m) + eps), updates, nu, mu)
        else:
            mu, out = None, tree.map(lambda g, n: g / (fnp.sqrt(n) + eps), updates, nu)
        return out, ScaleByRmsState(nu, mu)
    return GradientTransformation(init, update)


class ScaleByRssState(NamedTuple):
    sum_of_squares: Any


def scale_by_rss(initial_accumulator_value=0.0, eps=1e-10):
    """Divide by the root of the sum of all past squared gradients (Adagrad), as torch.optim.Adagrad.

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_rss()
    >>> u, _ = tx.update(fnp.asarray([-3.0]), tx.init(fnp.zeros(1)))
    >>> [round(x, 6) for x in u.tolist()]
    [-1.0]
    """
    def init(params):
        return ScaleByRssState(tu.full_like(params, initial_accumulator_value))

    def update(updates, state, params=None):
        acc = tree.map(lambda g, s: s + g * g, updates, state.sum_of_squares)
        return tree.map(lambda g, s: g / (fnp.sqrt(s) + eps), updates, acc), ScaleByRssState(acc)
    return GradientTransformation(init, update)


class ScaleByAdadeltaState(NamedTuple):
    e_g: Any  # mean square of the gradients
    e_x: Any  # mean square of the steps


def scale_by_adadelta(rho=0.9, eps=1e-6):
    """Adadelta's unit-corrected step (Zeiler, 2012), as torch.optim.Adadelta.

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_adadelta()
    >>> u, _ = tx.update(fnp.asarray([1.0]), tx.init(fnp.zeros(1)))
    >>> round(u.tolist()[0], 6)  # sqrt(eps) / sqrt(0.1 + eps)
    0.003162
    """
    def init(params):
        return ScaleByAdadeltaState(tu.zeros_like(params), tu.zeros_like(params))

    def update(updates, state, params=None):
        e_g = tu.update_moment(updates, state.e_g, rho, 2)
        step = tree.map(lambda g, eg, ex: fnp.sqrt(ex + eps) / fnp.sqrt(eg + eps) * g, updates, e_g, state.e_x)
        return step, ScaleByAdadeltaState(e_g, tu.update_moment(step, state.e_x, rho, 2))
    return GradientTransformation(init, update)


class ScaleByLionState(NamedTuple):
    mu: Any


def scale_by_lion(b1=0.9, b2=0.99):
    """The sign of an interpolation of momentum and gradient (Lion; Chen et al., 2023).

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_lion()
    >>> tx.update(fnp.asarray([0.3, -2.0]), tx.init(fnp.zeros(2)))[0].tolist()
    [1.0, -1.0]
    """
    def init(params):
        return ScaleByLionState(tu.zeros_like(params))

    def update(updates, state, params=None):
        out = tree.map(lambda g, m: fnp.sign((1 - b1) * g + b1 * m), updates, state.mu)
        return out, ScaleByLionState(tu.update_moment(updates, state.mu, b2, 1))
    return GradientTransformation(init, update)


def scale_by_trust_ratio(min_norm=0.0, trust_coefficient=1.0, eps=0.0):
    """Scale each leaf's update by ||param|| / ||update|| (LARS/LAMB; You et al., 2020).

    The ratio is 1 where either norm is zero.

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_trust_ratio()
    >>> tx.update(fnp.asarray([3.0, 4.0]), tx.init(None), fnp.asarray([0.0, 10.0]))[0].tolist()
    [6.0, 8.0]
    """
    def one(u, p):
        p_norm, u_norm = fnp.maximum(tu.norm(p), min_norm), fnp.maximum(tu.norm(u), min_norm)
        ratio = fnp.where((p_norm == 0) | (u_norm == 0), 1.0, trust_coefficient * p_norm / (u_norm + eps))
        return u * _cast(ratio, u)
    return stateless(lambda updates, params: tu.map_with_params(one, updates, params, 'scale_by_trust_ratio'))


def scale_by_param_block_rms(min_scale=1e-3):
    """Scale each leaf's update by the root mean square of its parameter (at least min_scale).

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_param_block_rms()
    >>> tx.update(fnp.asarray([1.0, 1.0]), tx.init(None), fnp.asarray([2.0, -2.0]))[0].tolist()
    [2.0, 2.0]
    """
    def one(u, p):
        return u * _cast(fnp.maximum(tu.rms(p), min_scale), u)
    return stateless(lambda updates, params: tu.map_with_params(one, updates, params, 'scale_by_param_block_rms'))


class FactoredRmsState(NamedTuple):
    count: Any
    # per parameter: (row, col) second-moment factors of a factored matrix, else the full second moment
    v: Any


def _factored_dims(shape, factored, min_dim_size_to_factor):
    """The (second largest, largest) axes of a leaf to factor over, or None to keep its full second moment."""
    if not factored or len(shape) < 2:
        return None
    order = np.argsort(shape, kind='stable')
    if shape[order[-2]] < min_dim_size_to_factor:
        return None
    return int(order[-2]), int(order[-1])


def scale_by_factored_rms(factored=True, decay_rate=0.8, step_offset=0, min_dim_size_to_factor=128, eps=1e-30):
    """Adafactor's scaling (Shazeer and Stern, 2018): a second moment stored as row and column factors.

    A matrix of shape (n, m) keeps n + m statistics instead of n * m (the means of the squared
    gradients over its largest and over its second largest axis); smaller or 1-D leaves keep the
    full second moment. The decay at step t is 1 - (t + 1)**-decay_rate.

    >>> import fn_dl.numpy as fnp
    >>> tx = scale_by_factored_rms(min_dim_size_to_factor=2)
    >>> state = tx.init(fnp.ones((2, 3)))
    >>> [s.shape for s in state.v]
    [(2,), (3,)]
    >>> u, _ = tx.update(fnp.ones((2, 3)), state, fnp.ones((2, 3)))
    >>> u.tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    def init_one(p):
        dims = _factored_dims(p.shape, factored, min_dim_size_to_factor)
        if dims is None:
            return fnp.zeros_like(p)
        small, large = dims
        return (fnp.zeros(tuple(np.delete(p.shape, large)), p.dtype),
                fnp.zeros(tuple(np.delete(p.shape, small)), p.dtype))

    def init(params):
        return FactoredRmsState(_zero_count(), tree.map(init_one, params))

    def update_one(g, v, decay):
        g_sq = g * g + eps
        dims = _factored_dims(g.shape, factored, min_dim_size_to_factor)
        if dims is None:
            v = fnp.astype(decay * v + (1 - decay) * g_sq, v.dtype)
            return g / fnp.sqrt(v), v
        small, large = dims
        v_row, v_col = v
        v_row = fnp.astype(decay * v_row + (1 - decay) * fnp.mean(g_sq, axis=large), v_row.dtype)
        v_col = fnp.astype(decay * v_col + (1 - decay) * fnp.mean(g_sq, axis=small), v_col.dtype)
        # the second moment is estimated as outer(v_row, v_col) / mean(v_row): the rank-1 fit that
        # minimises the I-divergence; `small` is this axis of v_row
        small_in_row = small - 1 if small > large else small
        row_factor = 1 / fnp.sqrt(v_row / fnp.mean(v_row, axis=small_in_row, keepdims=True))
        col_factor = 1 / fnp.sqrt(v_col)
        return g * fnp.expand_dims(row_factor, large) * fnp.expand_dims(col_factor, small), (v_row, v_col)

    def update(updates, state, params=None):
        t = tu.as_float64(state.count - step_offset) + 1
        decay = fnp.astype(1 - t ** -decay_rate, fnp.float32)
        leaves, treedef = tree.flatten(updates)
        pairs = [update_one(g, v, _cast(decay, g)) for g, v in zip(leaves, treedef.flatten_up_to(state.v))]
        return (tree.unflatten(treedef, [u for u, _ in pairs]),
                FactoredRmsState(tu.safe_increment(state.count), tree.unflatten(treedef, [v for _, v in pairs])))
    return GradientTransformation(init, update)


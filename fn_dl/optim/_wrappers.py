"""Transformations of transformations: masks, parameter groups, gradient accumulation, NaN guards and
hyperparameters carried in the state.

Masking works through `None`, which fn_dl pytrees treat as an empty subtree: the leaves a
transformation does not own are replaced by None, so its state covers only its own leaves and
every `tree.map` inside it skips the rest.

>>> import fn_dl.numpy as fnp
>>> from fn_dl import optim
>>> params = {'w': fnp.ones((2, 2)), 'b': fnp.ones(2)}
>>> opt = optim.multi_transform({'decay': optim.adamw(0.1), 'plain': optim.adam(0.1)},
...                             lambda p: {k: 'decay' if v.ndim > 1 else 'plain' for k, v in p.items()})
>>> sorted(opt.init(params).inner_states)
['decay', 'plain']
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, NamedTuple

import numpy as np

from fn_dl import lax
from fn_dl import numpy as fnp
from fn_dl import tree
from fn_dl.optim import _tree_utils as tu
from fn_dl.optim._base import GradientTransformation

# --- masks and parameter groups -----------------------------------------------------------------


def _per_leaf(spec, t, who, what):
    """One entry per leaf of t from spec: a tree like t, a prefix of it, or a function of t returning one."""
    spec = spec(t) if callable(spec) else spec
    try:
        return tree.broadcast_prefix(spec, t)
    except ValueError:
        nested = any(x is None for x in tree.leaves(t, is_leaf=lambda x: x is None))
        hint = (" (inside multi_transform or masked, a transformation sees the whole tree, with None for the "
                "leaves it does not own: give the whole tree, or a function of it)") if nested else ""
        raise ValueError(f"{who}: the {what} must be a tree shaped like the parameters, or a prefix of it; "
                         f"{what}: {tree.structure(spec)}, parameters: {tree.structure(t)}{hint}") from None


def _mask_flags(mask, t, who):
    flags = _per_leaf(mask, t, who, 'mask')
    bad = next((f for f in flags if not isinstance(f, (bool, np.bool_))), None)
    if bad is not None:
        raise TypeError(f"{who}: mask leaves must be Python bools (True where the transformation applies), got "
                        f"{type(bad).__name__}; a mask is decided from names and shapes, not from values")
    return flags


def _select(t, flags):
    """t with the leaves not flagged replaced by None (an empty subtree)."""
    if t is None:
        return None
    leaves, treedef = tree.flatten(t)
    return tree.unflatten(treedef, [x if f else None for x, f in zip(leaves, flags)])


def _merge(t, parts):
    """t with each leaf replaced by the one a part holds in its place (parts come from `_select`)."""
    leaves, treedef = tree.flatten(t)
    for part in parts:
        for i, x in enumerate(treedef.flatten_up_to(part)):
            if x is not None:
                leaves[i] = x
    return tree.unflatten(treedef, leaves)


class MaskedState(NamedTuple):
    inner_state: Any  # covers only the masked-in leaves


def masked(inner, mask):
    """Apply `inner` to the leaves where mask is True; pass the others through unchanged.

    mask is a tree of bools like the parameters, a prefix of it, or a function of the
    parameters returning one.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import optim
    >>> tx = masked(optim.scale(10.0), {'w': True, 'b': False})
    >>> u, _ = tx.update({'w': fnp.ones(1), 'b': fnp.ones(1)}, tx.init({'w': fnp.ones(1), 'b': fnp.ones(1)}))
    >>> u['w'].tolist(), u['b'].tolist()
    ([10.0], [1.0])
    """
    def init(params):
        return MaskedState(inner.init(_select(params, _mask_flags(mask, params, 'masked'))))

    def update(updates, state, params=None):
        flags = _mask_flags(mask, updates, 'masked')
        new, inner_state = inner.update(_select(updates, flags), state.inner_state, _select(params, flags))
        return _merge(updates, [new]), MaskedState(inner_state)
    return GradientTransformation(init, update)


class MultiTransformState(NamedTuple):
    inner_states: dict  # label -> that group's state


def multi_transform(transforms, param_labels):
    """A different transformation per group of parameters (torch's parameter groups).

    transforms maps a label to a transformation; param_labels is a tree of labels like the
    parameters (or a prefix of it), or a function of the parameters returning one.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import optim
    >>> params = {'w': fnp.ones(1), 'b': fnp.ones(1)}
    >>> opt = multi_transform({'fast': optim.sgd(1.0), 'frozen': optim.scale(0.0)}, {'w': 'fast', 'b': 'frozen'})
    >>> u, _ = opt.update({'w': fnp.ones(1), 'b': fnp.ones(1)}, opt.init(params), params)
    >>> u['w'].tolist(), u['b'].tolist()
    ([-1.0], [0.0])
    """
    def labels_of(t):
        labels = _per_leaf(param_labels, t, 'multi_transform', 'labels')
        unknown = sorted({repr(label) for label in labels if label not in transforms})
        if unknown:
            raise ValueError(f"multi_transform: no transformation for the labels {', '.join(unknown)}; "
                             f"transforms has {', '.join(map(repr, transforms))}")
        return labels

    def init(params):
        labels = labels_of(params)
        return MultiTransformState({k: tx.init(_select(params, [lab == k for lab in labels]))
                                    for k, tx in transforms.items()})

    def update(updates, state, params=None):
        labels = labels_of(updates)
        parts, states = [], {}
        for k, tx in transforms.items():
            flags = [lab == k for lab in labels]
            part, states[k] = tx.update(_select(updates, flags), state.inner_states[k], _select(params, flags))
            parts.append(part)
        return _merge(updates, parts), MultiTransformState(states)
    return GradientTransformation(init, update)


# --- gradient accumulation and NaN guards -------------------------------------------------------


class MultiStepsState(NamedTuple):
    mini_step: Any  # gradients accumulated since the last real update
    gradient_step: Any  # real updates done
    inner_state: Any
    acc_grads: Any  # the mean (or sum) of the gradients accumulated so far


class MultiSteps:
    """Gradient accumulation: call the inner optimiser once every k calls, on the mean gradient.

    The k - 1 calls in between return zero updates. every_k_schedule is an int or a function of
    the number of real updates done so far (to grow the batch during training). Usable wherever a
    GradientTransformation is: it has `init` and `update`.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import optim
    >>> opt = MultiSteps(optim.sgd(1.0), every_k_schedule=2)
    >>> state = opt.init(fnp.zeros(1))
    >>> u1, state = opt.update(fnp.asarray([1.0]), state)
    >>> u2, state = opt.update(fnp.asarray([3.0]), state)
    >>> u1.tolist(), u2.tolist(), bool(opt.has_updated(state))
    ([0.0], [-2.0], True)
    """

    def __init__(self, opt, every_k_schedule, use_grad_mean=True):
        if isinstance(every_k_schedule, (int, np.integer)) and not isinstance(every_k_schedule, bool):
            if every_k_schedule < 1:
                raise ValueError(f"MultiSteps: every_k_schedule must be at least 1, got {every_k_schedule}")
            self._every_k = lambda gradient_step: every_k_schedule
        elif callable(every_k_schedule):
            self._every_k = every_k_schedule
        else:
            raise TypeError(f"MultiSteps: every_k_schedule must be an int or a function of the update count, got "
                            f"{type(every_k_schedule).__name__}")
        self.opt, self.use_grad_mean = opt, use_grad_mean

    def init(self, params):
        """The state: two counters, the inner optimiser's state and the accumulated gradients."""
        zero = fnp.zeros((), fnp.int32)
        return MultiStepsState(zero, zero, self.opt.init(params), tu.zeros_like(params))

    def update(self, updates, state, params=None):
        """Accumulate; on every k-th call, update with the inner optimiser and reset."""
        n = state.mini_step
        if self.use_grad_mean:
            # a running mean (Welford) rather than a sum divided at the end: no overflow in float16
            inv = 1 / tu.as_float64(n + 1)
            acc = tree.map(lambda g, a: fnp.astype(a + (g - a) * tu.scalar_like(inv, a), a.dtype),
                           updates, state.acc_grads)
        else:
            acc = tree.map(lambda g, a: fnp.astype(a + g, a.dtype), updates, state.acc_grads)

        def emit(acc, inner_state, params):
            new, inner_state = self.opt.update(tu.cast_like(acc, updates), inner_state, params)
            return tu.cast_like(new, updates), inner_state, tu.zeros_like(acc)

        def hold(acc, inner_state, params):
            return tu.zeros_like(updates), inner_state, acc

        last = n >= self._every_k(state.gradient_step) - 1
        new, inner_state, acc = lax.cond(last, emit, hold, acc, state.inner_state, params)
        return new, MultiStepsState(fnp.where(last, 0, n + 1),
                                    fnp.where(last, tu.safe_increment(state.gradient_step), state.gradient_step),
                                    inner_state, acc)

    def has_updated(self, state):
        """A boolean scalar: whether the last call updated the parameters."""
        return (state.mini_step == 0) & (state.gradient_step > 0)

    def gradient_transformation(self):
        """This wrapper as a plain GradientTransformation pair."""
        return GradientTransformation(self.init, self.update)


class ApplyIfFiniteState(NamedTuple):
    notfinite_count: Any  # consecutive non-finite gradients, reset by a finite one
    last_finite: Any
    total_notfinite: Any
    inner_state: Any


def apply_if_finite(inner, max_consecutive_errors):
    """Skip updates whose gradients hold a NaN or an infinity (zero update, state unchanged).

    After more than max_consecutive_errors such steps in a row the update is applied anyway,
    so a run that diverged for good shows it.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import optim
    >>> opt = apply_if_finite(optim.sgd(1.0), max_consecutive_errors=2)
    >>> u, state = opt.update(fnp.asarray([fnp.nan]), opt.init(fnp.zeros(1)))
    >>> u.tolist(), int(state.total_notfinite)
    ([0.0], 1)
    """
    def init(params):
        zero = fnp.zeros((), fnp.int32)
        return ApplyIfFiniteState(zero, fnp.asarray(True), zero, inner.init(params))

    def update(updates, state, params=None):
        finite = tu.all_finite(updates)
        notfinite_count = fnp.where(finite, 0, tu.safe_increment(state.notfinite_count))

        def apply(inner_state, params):
            new, inner_state = inner.update(updates, inner_state, params)
            return tu.cast_like(new, updates), inner_state

        def skip(inner_state, params):
            return tu.zeros_like(updates), inner_state

        new, inner_state = lax.cond(finite | (notfinite_count > max_consecutive_errors), apply, skip,
                                    state.inner_state, params)
        total = fnp.where(finite, state.total_notfinite, tu.safe_increment(state.total_notfinite))
        return new, ApplyIfFiniteState(notfinite_count, finite, total, inner_state)
    return GradientTransformation(init, update)


# --- hyperparameters in the state ---------------------------------------------------------------


class InjectHyperparamsState(NamedTuple):
    count: Any
    hyperparams: dict  # name -> the scalar used by the last update (or to be used by the next)
    inner_state: Any


def _is_float(v):
    if isinstance(v, (bool, np.bool_)):
        return False
    if isinstance(v, float):
        return True
    return getattr(v, 'shape', None) == () and fnp.issubdtype(v.dtype, fnp.floating)


def _hyperparam_dtype(t):
    # the widest float dtype of the tree, and at least float32: in bfloat16, 0.999 rounds to 1.0
    dts = [fnp.asarray(x).dtype for x in tree.leaves(t)]
    return functools.reduce(fnp.promote_types, [d for d in dts if fnp.issubdtype(d, fnp.floating)], fnp.float32)


def inject_hyperparams(inner_factory, static_args=()):
    """Make an optimiser's float hyperparameters part of its state, so they can change mid-run.

    `inject_hyperparams(optim.adam)(learning_rate=0.1)` returns an optimiser whose state's
    `hyperparams` dict holds the learning rate as an array: set it between steps (also under
    jit: it is an argument, not a constant). A hyperparameter given as a schedule (a function of
    the step count) is evaluated each step and recorded there. The float hyperparameters passed
    are injected; the ones left at their defaults, bools, ints, None and other callables (masks)
    are passed through as they are, and so is any name in static_args.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import optim
    >>> opt = inject_hyperparams(optim.sgd)(learning_rate=1.0)
    >>> state = opt.init(fnp.zeros(1))
    >>> state.hyperparams['learning_rate'] = fnp.asarray(0.5)
    >>> u, state = opt.update(fnp.asarray([1.0]), state)
    >>> u.tolist()
    [-0.5]
    """
    static = {static_args} if isinstance(static_args, str) else set(static_args)
    signature = inspect.signature(inner_factory)
    unknown = static - set(signature.parameters)
    if unknown:
        raise ValueError(f"inject_hyperparams: static_args {sorted(unknown)} are not parameters of "
                         f"{inner_factory.__name__}{signature}")

    def schedulable(name):
        # a callable is a schedule where the parameter takes numbers (learning_rate, b1, ...), not a mask
        default = signature.parameters[name].default
        return default is inspect.Parameter.empty or isinstance(default, (int, float))

    @functools.wraps(inner_factory)
    def make(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)  # defaults stay Python values: 0.0 can still switch a block off
        schedules, numeric, fixed = {}, {}, {}
        for name, value in bound.arguments.items():
            if name in static:
                fixed[name] = value
            elif callable(value) and schedulable(name):
                schedules[name] = value
            elif _is_float(value):
                numeric[name] = value
            else:
                fixed[name] = value

        def current(values, count, dtype):
            hp = {k: fnp.astype(fnp.asarray(values[k]), dtype) for k in numeric}
            hp.update({k: fnp.astype(fnp.asarray(f(count)), dtype) for k, f in schedules.items()})
            return hp

        def init(params):
            count = fnp.zeros((), fnp.int32)
            hp = current(numeric, count, _hyperparam_dtype(params))
            return InjectHyperparamsState(count, hp, inner_factory(**fixed, **hp).init(params))

        def update(updates, state, params=None):
            hp = current(state.hyperparams, state.count, _hyperparam_dtype(updates))
            new, inner_state = inner_factory(**fixed, **hp).update(updates, state.inner_state, params)
            return new, InjectHyperparamsState(tu.safe_increment(state.count), hp, inner_state)
        return GradientTransformation(init, update)
    return make

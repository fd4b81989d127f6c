"""The protocol: a gradient transformation is a pair of pure functions, and chains of them compose.

>>> import fn_dl.numpy as fnp
>>> from fn_dl import optim
>>> tx = optim.chain(optim.clip(1.0), optim.scale(-0.1))
>>> updates, state = tx.update({'w': fnp.asarray([5.0])}, tx.init(None))
>>> [round(x, 6) for x in optim.apply_updates({'w': fnp.asarray([1.0])}, updates)['w'].tolist()]
[0.9]
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

from fn_dl import numpy as fnp
from fn_dl.optim import _tree_utils as tu

# A schedule maps the step count (an int32 scalar, 0 at the first update) to a value.
Schedule = Callable[[Any], Any]


class GradientTransformation(NamedTuple):
    """A pair of pure functions over pytrees.

    `init(params) -> state` builds the state (a pytree of arrays: jittable and savable);
    `update(updates, state, params=None) -> (updates, state)` transforms the gradients
    (or the updates of an earlier transformation) and returns the next state.

    >>> import fn_dl.numpy as fnp
    >>> double = GradientTransformation(lambda params: EmptyState(),
    ...                                 lambda u, state, params=None: (2 * u, state))
    >>> double.update(fnp.asarray(1.5), double.init(None))[0].tolist()
    3.0
    """
    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


class EmptyState(NamedTuple):
    """The state of a transformation that keeps none.

    >>> EmptyState()
    EmptyState()
    """


def stateless(f):
    """A transformation with no state from `f(updates, params) -> updates`.

    >>> import fn_dl.numpy as fnp
    >>> neg = stateless(lambda u, params: -u)
    >>> neg.update(fnp.asarray(2.0), neg.init(None))[0].tolist()
    -2.0
    """
    def init(params):
        return EmptyState()

    def update(updates, state, params=None):
        return f(updates, params), state
    return GradientTransformation(init, update)


def identity():
    """The transformation that leaves the updates as they are.

    >>> import fn_dl.numpy as fnp
    >>> identity().update(fnp.asarray(2.0), EmptyState())[0].tolist()
    2.0
    """
    return stateless(lambda updates, params: updates)


def chain(*transforms):
    """Apply the transformations in order; the state is the tuple of their states.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import optim
    >>> tx = chain(optim.scale(2.0), optim.scale(3.0))
    >>> tx.update(fnp.asarray(1.0), tx.init(None))[0].tolist()
    6.0
    """
    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state, params=None):
        if len(state) != len(transforms):
            raise ValueError(f"chain: the state holds {len(state)} states for {len(transforms)} transformations; "
                             f"was it made by this chain's init?")
        states = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            states.append(s)
        return updates, tuple(states)
    return GradientTransformation(init, update)


def apply_updates(params, updates):
    """params + updates, leafwise, each result in its parameter's dtype.

    An update computed in a wider dtype (a float32 learning rate times bfloat16 gradients) is
    cast back, so parameters keep their dtype and a jitted step keeps its signature.

    >>> import fn_dl.numpy as fnp
    >>> apply_updates({'w': fnp.asarray([1.0, 2.0])}, {'w': fnp.asarray([0.5, -1.0])})['w'].tolist()
    [1.5, 1.0]
    """
    return tu.map_with_params(lambda u, p: fnp.astype(p + u, fnp.asarray(p).dtype), updates, params,
                              'apply_updates')

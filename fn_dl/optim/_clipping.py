"""Bounding the updates: elementwise, per leaf, over the whole tree, and replacing NaNs.

>>> import fn_dl.numpy as fnp
>>> from fn_dl import optim
>>> tx = optim.clip_by_global_norm(1.0)
>>> u, _ = tx.update([fnp.asarray([3.0]), fnp.asarray([4.0])], tx.init(None))
>>> [round(x.tolist()[0], 6) for x in u]
[0.6, 0.8]
"""
from __future__ import annotations

from typing import Any, NamedTuple

from fn_dl import numpy as fnp
from fn_dl import tree
from fn_dl.optim import _tree_utils as tu
from fn_dl.optim._base import GradientTransformation, stateless


def clip(max_delta):
    """Clip every element of the updates to [-max_delta, max_delta].

    >>> import fn_dl.numpy as fnp
    >>> tx = clip(1.0)
    >>> tx.update(fnp.asarray([-3.0, 0.5, 2.0]), tx.init(None))[0].tolist()
    [-1.0, 0.5, 1.0]
    """
    return stateless(lambda updates, params: tree.map(lambda u: fnp.clip(u, -max_delta, max_delta), updates))


def clip_by_block_rms(threshold):
    """Scale each leaf down so that its root mean square is at most threshold (Adafactor's update clipping).

    >>> import fn_dl.numpy as fnp
    >>> tx = clip_by_block_rms(1.0)
    >>> tx.update(fnp.asarray([4.0, -4.0]), tx.init(None))[0].tolist()
    [1.0, -1.0]
    """
    def one(u):
        return u / tu.scalar_like(fnp.maximum(1.0, tu.rms(u) / threshold), u)
    return stateless(lambda updates, params: tree.map(one, updates))


def clip_by_global_norm(max_norm):
    """Scale all updates by max_norm / ||updates|| when their global L2 norm exceeds max_norm.

    Like torch.nn.utils.clip_grad_norm_, with no epsilon added to the norm.

    >>> import fn_dl.numpy as fnp
    >>> tx = clip_by_global_norm(10.0)
    >>> tx.update({'a': fnp.asarray([3.0, 4.0])}, tx.init(None))[0]['a'].tolist()  # under the bound: as is
    [3.0, 4.0]
    """
    def clip_all(updates, params):
        g_norm = tu.global_norm(updates)
        # a select, not max_norm / max(g_norm, max_norm): its gradient at the boundary is the identity's
        return tu.scale(updates, fnp.where(g_norm < max_norm, 1.0, max_norm / g_norm))
    return stateless(clip_all)


class ZeroNansState(NamedTuple):
    found_nan: Any  # per leaf: whether the last update held a NaN


def zero_nans():
    """Replace NaNs in the updates by zeros, and record per leaf whether there were any.

    >>> import fn_dl.numpy as fnp
    >>> tx = zero_nans()
    >>> u, state = tx.update({'w': fnp.asarray([fnp.nan, 1.0])}, tx.init({'w': fnp.zeros(2)}))
    >>> u['w'].tolist(), bool(state.found_nan['w'])
    ([0.0, 1.0], True)
    """
    def init(params):
        return ZeroNansState(tree.map(lambda p: fnp.asarray(False), params))

    def update(updates, state, params=None):
        found = tree.map(lambda u: fnp.any(fnp.isnan(u)), updates)
        return tree.map(lambda u: fnp.where(fnp.isnan(u), fnp.zeros_like(u), u), updates), ZeroNansState(found)
    return GradientTransformation(init, update)

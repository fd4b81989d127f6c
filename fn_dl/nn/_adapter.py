"""The parameter-tree adapter: a stateful module, run as a pure function of its arrays.

`functional_call(model, {name: array}, *args)` runs the same module with the
given parameters/buffers swapped in for the call (as torch.func does), in a
try/finally, so the module is never left changed; buffer updates the forward
makes (BatchNorm's running stats) are returned instead of kept. Randomness
comes from an explicit key that layers draw from in call order.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from fn_dl.core.array import Array
from fn_dl.nn._module import Module


def params(model: Module) -> dict:
    """Trainable parameters by PyTorch's dotted names (frozen ones, requires_grad=False, are left out).

    >>> from fn_dl import nn
    >>> sorted(nn.params(nn.Linear(3, 2)))
    ['bias', 'weight']
    """
    return {n: p for n, p in model.named_parameters() if getattr(p, 'requires_grad', True)}


def buffers(model: Module) -> dict:
    """Buffers (running statistics and the like) by dotted name."""
    return dict(model.named_buffers())


class _RngState(threading.local):
    key = None
    count = 0


class _CallState(threading.local):
    depth = 0


_rng = _RngState()
_calls = _CallState()


def in_functional_call():
    """Whether a functional_call is running: a layer must then leave its module's stored arrays alone (an
    eager Embedding(max_norm=) call renormalises its weight in place, as PyTorch, but not in here)."""
    return _calls.depth > 0


@contextmanager
def rng_scope(key):
    """Within the block, layers that need randomness (Dropout) draw keys derived from `key`."""
    prev = (_rng.key, _rng.count)
    _rng.key, _rng.count = key, 0
    try:
        yield
    finally:
        _rng.key, _rng.count = prev


def next_rng_key(what):
    """A fresh key for one random layer call: from functional_call's rng if given, else the global stream."""
    from fn_dl import random
    from fn_dl.core.trace import in_transform
    if _rng.key is not None:
        k = random.fold_in(_rng.key, _rng.count)
        _rng.count += 1
        return k
    if in_transform():
        raise ValueError(f"{what} needs randomness inside a transform (grad/vmap/jit): pass a key, e.g. "
                         f"nn.functional_call(model, params, x, rng=key); under vmap pass one key per example "
                         f"(rng=fd.random.split(key, batch_size) mapped with in_axes=0)")
    return random.next_key()


def functional_call(model: Module, tree, *args, rng=None, train=None, return_buffers=False, strict=False,
                    **kwargs):
    """Run `model` with the arrays in `tree` (dotted name -> array) in place of its own, purely.

    Names missing from `tree` keep the module's values. rng: the key Dropout and
    other random layers use. train: run in train (True) or eval (False) mode for
    this call only. return_buffers: also return the buffers as the call left
    them (updated running statistics), as `(out, new_buffers)`.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> lin = nn.Linear(2, 1)
    >>> p = {'weight': fnp.ones((1, 2)), 'bias': fnp.zeros(1)}
    >>> nn.functional_call(lin, p, fnp.asarray([[1.0, 2.0]])).tolist()
    [[3.0]]
    >>> fd.grad(lambda p: nn.functional_call(lin, p, fnp.ones((1, 2))).sum())(p)['weight'].tolist()
    [[1.0, 1.0]]
    """
    if not isinstance(model, Module):
        raise TypeError(f"functional_call: expected an nn.Module, got {type(model).__name__}")
    tree = dict(tree)
    targets = {}
    state = model.state_dict()
    all_names = set(state) | {n for n, _ in model.named_buffers()} | {n for n, _ in model.named_parameters()}
    unknown = [k for k in tree if k not in all_names]
    if unknown:
        raise KeyError(f"functional_call: {type(model).__name__} has no parameters or buffers named {unknown}")
    if strict:
        missing = [k for k in state if k not in tree]
        if missing:
            raise KeyError(f"functional_call(strict=True): missing {missing}")
    for name in tree:
        m, attr = model._owner(name)
        store = m._parameters if attr in m._parameters else m._buffers
        targets[name] = (store, attr, store[attr])
    buffer_slots = {n: model._owner(n) for n, _ in model.named_buffers()}
    saved_buffers = {n: m._buffers[a] for n, (m, a) in buffer_slots.items()}
    modes = [(m, m.training) for m in model.modules()] if train is not None else []
    _calls.depth += 1
    try:
        for name, value in tree.items():
            store, attr, _ = targets[name]
            store[attr] = value if isinstance(value, Array) else _to_array(value)
        for m, _ in modes:
            object.__setattr__(m, 'training', bool(train))
        if rng is not None:
            with rng_scope(rng):
                out = model(*args, **kwargs)
        else:
            out = model(*args, **kwargs)
        new_buffers = {n: m._buffers[a] for n, (m, a) in buffer_slots.items()}
    finally:
        _calls.depth -= 1
        for name, (store, attr, old) in targets.items():
            store[attr] = old
        for n, (m, a) in buffer_slots.items():
            m._buffers[a] = saved_buffers[n]
        for m, mode in modes:
            object.__setattr__(m, 'training', mode)
    return (out, new_buffers) if return_buffers else out


def _to_array(v):
    from fn_dl.numpy import asarray
    return asarray(v)




"""Collation: a list of samples (pytrees) into one batch (the same pytree, leaves stacked)."""
from __future__ import annotations

from fn_dl import numpy as fnp
from fn_dl import tree


def default_collate(samples):
    """Stack a list of samples leafwise into one batch with a new leading axis.

    Every sample must be a pytree of the same structure (dicts, lists, tuples,
    NamedTuples...). Array and number leaves are stacked into an `fd.Array`
    (Python floats become float32, ints int32, as in `fnp.asarray`); string leaves
    are gathered into a list, so a dataset can carry names or paths along.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.data import default_collate
    >>> batch = default_collate([{'x': fnp.zeros(3), 'y': 0}, {'x': fnp.ones(3), 'y': 1}])
    >>> batch['x'].shape, batch['y'].tolist()
    ((2, 3), [0, 1])
    """
    if not samples:
        raise ValueError("default_collate: got no samples; a batch needs at least one")
    first = tree.structure(samples[0])
    for i, sample in enumerate(samples[1:], 1):
        if tree.structure(sample) != first:
            raise ValueError(f"default_collate: sample {i} has structure {tree.structure(sample)}, but sample 0 "
                             f"has {first}; make every sample the same pytree, or pass DataLoader(collate_fn=...)")
    return tree.map(_stack, *samples)


def _stack(*leaves):
    if isinstance(leaves[0], (str, bytes)):
        return list(leaves)
    return fnp.stack(list(leaves))

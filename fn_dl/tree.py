"""Pytrees: nested containers of arrays, on optree.

Dicts, lists, tuples, namedtuples and None are containers; so are classes
registered with `register` (and `nn.Module`). `None` is an empty subtree, as
in JAX.

>>> import fn_dl as fd
>>> fd.tree.map(lambda x: x * 2, {'a': 1, 'b': (2, 3)})
{'a': 2, 'b': (4, 6)}
>>> fd.tree.leaves({'a': 1, 'b': (2, None)})
[1, 2]
"""
from __future__ import annotations

import optree

NAMESPACE = 'fn_dl'

_kw = dict(none_is_leaf=False, namespace=NAMESPACE)


def flatten(tree, is_leaf=None):
    """(leaves, treedef)."""
    return optree.tree_flatten(tree, is_leaf=is_leaf, **_kw)


def unflatten(treedef, leaves):
    return optree.tree_unflatten(treedef, leaves)


def leaves(tree, is_leaf=None):
    return optree.tree_leaves(tree, is_leaf=is_leaf, **_kw)


def structure(tree, is_leaf=None):
    return optree.tree_structure(tree, is_leaf=is_leaf, **_kw)


def map(f, tree, *rest, is_leaf=None):  # noqa: A001
    """Apply f leafwise over one or more trees of the same structure."""
    return optree.tree_map(f, tree, *rest, is_leaf=is_leaf, **_kw)


def map_with_path(f, tree, *rest, is_leaf=None):
    return optree.tree_map_with_path(f, tree, *rest, is_leaf=is_leaf, **_kw)


def leaves_with_path(tree, is_leaf=None):
    paths, leaves_, _ = optree.tree_flatten_with_path(tree, is_leaf=is_leaf, **_kw)
    return list(zip(paths, leaves_))


def reduce(f, tree, initializer=None, is_leaf=None):
    import functools
    xs = leaves(tree, is_leaf=is_leaf)
    return functools.reduce(f, xs) if initializer is None else functools.reduce(f, xs, initializer)


def all(tree):  # noqa: A001
    import builtins
    return builtins.all(leaves(tree))


def transpose(outer_treedef, inner_treedef, tree):
    return optree.tree_transpose(outer_treedef, inner_treedef, tree)


def register(cls, flatten_fn, unflatten_fn):
    """Register `cls` as a container: flatten_fn(obj) -> (children, aux); unflatten_fn(aux, children) -> obj."""
    optree.register_pytree_node(cls, flatten_fn, unflatten_fn, namespace=NAMESPACE)
    return cls


def register_dataclass(cls):
    """Register a dataclass: its fields are children."""
    import dataclasses
    names = [f.name for f in dataclasses.fields(cls)]
    return register(cls, lambda obj: ([getattr(obj, n) for n in names], None),
                    lambda aux, children: cls(**dict(zip(names, children))))


def treedef_children(treedef):
    return optree.treespec_children(treedef)


def is_leaf_treedef(treedef) -> bool:
    return optree.treespec_is_leaf(treedef)


def broadcast_prefix(prefix, full_tree, is_leaf=None):
    """Repeat each leaf of `prefix` (None counts as a leaf) over its subtree of `full_tree`; a flat list.

    >>> broadcast_prefix((0, None), ([1, 2], 3))
    [0, 0, None]
    """
    pleaves, pdef = optree.tree_flatten(prefix, none_is_leaf=True, namespace=NAMESPACE)
    out = []
    for p, sub in zip(pleaves, pdef.flatten_up_to(full_tree)):
        out.extend([p] * len(leaves(sub, is_leaf=is_leaf)))
    return out

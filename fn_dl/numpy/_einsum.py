"""einsum: NumPy's subscript notation, contracted pairwise, one dot_general per pair.

opt_einsum parses the subscripts (ellipses, implicit outputs, the interleaved
form) and picks the contraction order. Each step then reduces to primitives:
a label that occurs in only one operand and not in the step's output is
summed away first; a label repeated within an operand ('ii') becomes a
strided slice of the flattened axes, the diagonal; the two operands are
contracted by one dot_general whose batch axes are the labels they share
and keep; a transpose puts the labels in the requested order.
"""
from __future__ import annotations

import functools

import opt_einsum

from fn_dl.core import dtypes
from fn_dl.numpy._products import _check_numeric
from fn_dl.numpy._util import asarray, promote, to_dtype
from fn_dl.ops import shape as sh
from fn_dl.ops.dot import dot_general
from fn_dl.ops.reduce import reduce_sum


def _parse(subscripts, operands):
    """(the subscripts as one string, the operands as arrays); the interleaved form is converted."""
    if not isinstance(subscripts, str):
        subscripts, operands = opt_einsum.parser.convert_interleaved_input((subscripts, *operands))
    return subscripts, [asarray(o) for o in operands]


def _path(optimize, n):
    """optimize as opt_einsum takes it, hashable (explicit paths become tuples)."""
    if optimize is False:  # NumPy's default: left to right
        return ((0, 1),) * (n - 1) if n > 1 else ((0,),)
    if optimize is True:
        return 'greedy'
    if isinstance(optimize, (list, tuple)):
        return tuple(tuple(p) for p in optimize if p != 'einsum_path')  # einsum_path's output starts so
    return optimize


def _contraction_info(name, subscripts, shapes, optimize):
    try:
        return opt_einsum.contract_path(subscripts, *shapes, shapes=True, optimize=optimize)[1]
    except (ValueError, TypeError, KeyError) as e:
        raise ValueError(f"{name}: subscripts {subscripts!r} do not fit operands of shapes "
                         f"{', '.join(map(str, shapes))}: {e}") from None


@functools.lru_cache(maxsize=1024)
def _contractions(subscripts, shapes, optimize):
    """The pairwise steps (operand positions, labels summed away, 'in,in->out'), cached: finding a path
    costs more than a small contraction."""
    info = _contraction_info('einsum', subscripts, shapes, optimize)
    return tuple((tuple(c[0]), frozenset(c[1]), c[2]) for c in info.contraction_list)


def _sum_out(x, names, labels):
    """Sum over the axes labelled `labels`."""
    axes = tuple(i for i, n in enumerate(names) if n in labels)
    if not axes:
        return x, names
    return reduce_sum(x, axes), ''.join(n for n in names if n not in labels)


def _diagonals(x, names, keep):
    """Collapse each repeated label to one axis (the diagonal); sum it too when it is not in `keep`."""
    for label in dict.fromkeys(names):
        k = names.count(label)
        if k == 1:
            continue
        axes = [i for i, n in enumerate(names) if n == label]
        others = [i for i in range(x.ndim) if i not in axes]
        n = x.shape[axes[0]]
        x = sh.transpose(x, others + axes)
        lead = x.shape[:len(others)]
        flat = sh.reshape(x, lead + (n ** k,))
        # in the row-major flattening of k axes of size n, the diagonal is every (n^k - 1)/(n - 1)-th element
        stride = (n ** k - 1) // (n - 1) if n > 1 else 1
        x = sh.slice(flat, (0,) * flat.ndim, flat.shape, (1,) * len(lead) + (stride,))
        names = ''.join(names[i] for i in others) + label
        if label not in keep:
            x, names = _sum_out(x, names, label)
    return x, names


def _drop_broadcast(x, names, other, other_names):
    """Squeeze the size-1 axes that broadcast against a larger axis of the same label in `other`."""
    drop = [i for i, n in enumerate(names) if x.shape[i] == 1 and n in other_names
            and other.shape[other_names.index(n)] != 1]
    if not drop:
        return x, names
    return sh.squeeze(x, drop), ''.join(n for i, n in enumerate(names) if i not in drop)


def _to_order(x, names, out_names):
    if names == out_names:
        return x
    return sh.transpose(x, tuple(names.index(n) for n in out_names))


def _contract_one(x, names, out_names, removed):
    x, names = _sum_out(x, names, [n for n in removed if names.count(n) == 1])
    x, names = _diagonals(x, names, out_names)
    return _to_order(x, names, out_names)


def _contract_two(lhs, ln, rhs, rn, out_names, removed, preferred_element_type):
    lhs, ln = _drop_broadcast(lhs, ln, rhs, rn)
    rhs, rn = _drop_broadcast(rhs, rn, lhs, ln)
    lhs, ln = _sum_out(lhs, ln, [n for n in removed if ln.count(n) == 1 and n not in rn])
    rhs, rn = _sum_out(rhs, rn, [n for n in removed if rn.count(n) == 1 and n not in ln])
    lhs, ln = _diagonals(lhs, ln, out_names + rn)
    rhs, rn = _diagonals(rhs, rn, out_names + ln)
    batch = [n for n in out_names if n in ln and n in rn]
    contracted = [n for n in removed if n in ln and n in rn]
    lb, rb = tuple(ln.index(n) for n in batch), tuple(rn.index(n) for n in batch)
    lc, rc = tuple(ln.index(n) for n in contracted), tuple(rn.index(n) for n in contracted)
    l_free = ''.join(n for n in ln if n not in batch and n not in contracted)
    r_free = ''.join(n for n in rn if n not in batch and n not in contracted)
    # dot_general orders its output (batch, lhs free, rhs free): pick the operand order needing no transpose
    if ''.join(batch) + r_free + l_free == out_names:
        return dot_general(rhs, lhs, ((rc, lc), (rb, lb)), preferred_element_type)
    out = dot_general(lhs, rhs, ((lc, rc), (lb, rb)), preferred_element_type)
    return _to_order(out, ''.join(batch) + l_free + r_free, out_names)


def einsum(subscripts, /, *operands, out=None, optimize='auto', dtype=None, preferred_element_type=None):
    """Einstein summation, as np.einsum: 'ij,jk->ik', '...' broadcasting, implicit outputs ('ij,jk'),
    repeated labels for diagonals and traces ('ii->i', 'ii'), and the interleaved form
    einsum(a, [0, 1], b, [1, 2], [0, 2]).

    The operands are contracted two at a time in the order opt_einsum chooses for
    `optimize` ('auto', 'greedy', 'optimal', ..., True for 'greedy', False for left to
    right, or a path from einsum_path), each pair with one dot_general.

    >>> import fn_dl.numpy as fnp
    >>> a, b = fnp.ones((2, 3)), fnp.ones((3, 4))
    >>> fnp.einsum('ij,jk->ik', a, b).shape, float(fnp.einsum('ii', fnp.eye(3)))
    ((2, 4), 3.0)
    """
    if out is not None:
        raise TypeError("einsum: out= is not supported (fn_dl arrays are immutable); use the return value")
    subscripts, arrays = _parse(subscripts, operands)
    if not arrays:
        raise ValueError("einsum: needs at least one operand")
    steps = _contractions(subscripts, tuple(tuple(a.shape) for a in arrays), _path(optimize, len(arrays)))
    arrays = promote('einsum', *arrays)
    if dtype is not None:
        arrays = [to_dtype('einsum', a, dtypes.canonicalize(dtype)) for a in arrays]
    _check_numeric('einsum', *arrays)
    for contract_inds, removed, einsum_str in steps:
        inputs, out_names = einsum_str.split('->')
        ins = [arrays.pop(i) for i in contract_inds]  # opt_einsum pops in this order and appends the result
        names = inputs.split(',')
        if len(ins) == 1:
            arrays.append(_contract_one(ins[0], names[0], out_names, removed))
        elif len(ins) > 2:
            raise ValueError(f"einsum: the path step {tuple(contract_inds)} contracts {len(ins)} operands at once; "
                             f"a path must contract them in pairs")
        else:
            arrays.append(_contract_two(ins[0], names[0], ins[1], names[1], out_names, removed,
                                        preferred_element_type))
    return arrays[0]


def einsum_path(subscripts, /, *operands, optimize='greedy'):
    """(path, report): the contraction order einsum would use, as np.einsum_path.

    The path (a list starting with 'einsum_path') can be passed back as einsum's `optimize`.

    >>> import fn_dl.numpy as fnp
    >>> path, report = fnp.einsum_path('ij,jk,kl->il', fnp.ones((2, 3)), fnp.ones((3, 4)), fnp.ones((4, 5)))
    >>> path
    ['einsum_path', (1, 2), (0, 1)]
    """
    subscripts, arrays = _parse(subscripts, operands)
    info = _contraction_info('einsum_path', subscripts, tuple(tuple(a.shape) for a in arrays),
                             _path(optimize, len(arrays)))
    return ['einsum_path', *info.path], str(info)


__all__ = ['einsum', 'einsum_path']

"""Structured control flow for users: cond, switch, while_loop, fori_loop, scan, map, select.

Eagerly (no transform active) they are plain Python control flow. Under a
transform whose values are concrete (eager grad), cond/switch/fori_loop still
run as Python; otherwise the bodies are staged into Programs and bound as the
cond / while / scan primitives, which carry every rule.
"""
from __future__ import annotations

import numpy as np

from fn_dl import tree as _tree
from fn_dl.core import dtypes
from fn_dl.core.array import Array, Tracer
from fn_dl.core.aval import describe
from fn_dl.core.staging import close_over
from fn_dl.core.trace import ConcretizationError, aval_of, state
from fn_dl.numpy._util import asarray
from fn_dl.ops import control_flow as cf


def _concrete(x):
    """x's concrete value, or None if it is abstract here."""
    if isinstance(x, Tracer):
        try:
            return x.to_concrete()
        except ConcretizationError:
            return None
    return asarray(x)


def _flatten_arrays(tree, what):
    leaves, treedef = _tree.flatten(tree)
    return [asarray(x) for x in leaves], treedef


def _stage_fn(fun, in_tree, in_avals, what):
    """Stage fun (on pytrees) -> (closed program, consts, out treedef)."""
    box = {}

    def flat(*args):
        out = fun(*_tree.unflatten(in_tree, list(args)))
        leaves, box['tree'] = _tree.flatten(out)
        return [asarray(x) for x in leaves]

    prog, consts = close_over(flat, in_avals, name=what)
    return prog, consts, box['tree']


def switch(index, branches, *operands):
    """Apply branches[index] to operands (index clamped to the valid range).

    >>> import fn_dl as fd
    >>> float(fd.lax.switch(1, [lambda x: x + 1, lambda x: x * 10], 2.0))
    20.0
    """
    branches = list(branches)
    if not branches:
        raise ValueError("switch: needs at least one branch")
    idx = _concrete(index)
    if idx is not None:
        i = int(np.clip(int(idx), 0, len(branches) - 1))
        return branches[i](*operands)
    index = asarray(index)
    if index.shape != () or not dtypes.is_integer(index.dtype):
        raise TypeError(f"switch: the index must be an integer scalar, got {describe([index.aval])}")
    ops, in_tree = _flatten_arrays(tuple(operands), 'switch')
    in_avals = [aval_of(o) for o in ops]
    staged = [_stage_fn(b, in_tree, in_avals, f'branch{i}') for i, b in enumerate(branches)]
    out_tree = staged[0][2]
    for i, (p, _, t) in enumerate(staged[1:], 1):
        if t != out_tree or [(a.shape, a.dtype) for a in p.out_avals] != \
                [(a.shape, a.dtype) for a in staged[0][0].out_avals]:
            raise TypeError(f"cond/switch: branches must return the same structure, shapes and dtypes; branch 0 "
                            f"gives {describe(staged[0][0].out_avals)} ({out_tree}), branch {i} gives "
                            f"{describe(p.out_avals)} ({t})")
    # every branch takes all branches' captured values, then the operands
    all_consts = [c for _, cs, _ in staged for c in cs]
    progs, start = [], 0
    from fn_dl.core.ir import Program
    for p, cs, _ in staged:
        n = len(cs)
        others = [_fresh(c) for c in all_consts]
        invars = others[:start] + p.invars[:n] + others[start + n:] + p.invars[n:]
        progs.append(Program(invars, p.outvars, p.eqns))
        start += n
    outs = cf.cond(index.astype(np.int32), *all_consts, *ops, branches=progs)
    return _tree.unflatten(out_tree, outs)


def _fresh(c):
    from fn_dl.core.ir import Var
    return Var(aval_of(c).strong())


def cond(pred, true_fun, false_fun, *operands):
    """true_fun(*operands) if pred else false_fun(*operands); under vmap with a batched pred, both run
    and the results are selected.

    >>> import fn_dl as fd
    >>> float(fd.lax.cond(True, lambda x: x + 1, lambda x: x - 1, 1.0))
    2.0
    """
    p = _concrete(pred)
    if p is not None:
        return true_fun(*operands) if bool(p) else false_fun(*operands)
    pred = asarray(pred)
    if pred.shape != ():
        raise TypeError(f"cond: pred must be a scalar, got shape {pred.shape}; for elementwise choice use "
                        f"fnp.where")
    from fn_dl.ops.elementwise import convert_element_type, ne
    from fn_dl.ops.shape import full
    b = pred if pred.dtype == dtypes.bool_ else ne(pred, full((), 0, pred.dtype))
    return switch(convert_element_type(b, dtypes.int32), [false_fun, true_fun], *operands)


def while_loop(cond_fun, body_fun, init_val):
    """Repeat body_fun while cond_fun holds. Differentiable in forward mode; for reverse mode use
    scan or fori_loop with static bounds.

    >>> import fn_dl as fd
    >>> int(fd.lax.while_loop(lambda i: i < 10, lambda i: i + 3, 0))
    12
    """
    if state.trace is None:
        val = init_val
        while bool(cond_fun(val)):
            val = body_fun(val)
        return val
    init, in_tree = _flatten_arrays((init_val,), 'while_loop')  # the functions take one argument
    carry_tree = _tree.structure(init_val)
    weak = [not isinstance(x, Array) for x in _tree.leaves(init_val)]

    def stage_body(avals):
        bprog, bconsts, btree = _stage_fn(body_fun, in_tree, avals, 'while_body')
        if btree != carry_tree:
            raise TypeError(f"while_loop: body_fun must return the structure of init_val ({carry_tree}), "
                            f"got {btree}")
        return bprog, bconsts

    init, (bprog, bconsts) = _stage_carry('while_loop', init, weak, stage_body)
    cprog, cconsts, _ = _stage_fn(cond_fun, in_tree, [aval_of(x).strong() for x in init], 'while_cond')
    outs = cf.while_loop_bind(cprog, bprog, cconsts, bconsts, init)
    return _tree.unflatten(carry_tree, outs)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop f(carry, x) -> (carry, y) over the leading axis of xs; returns (carry, stacked ys).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> carry, ys = fd.lax.scan(lambda c, x: (c + x, c * x), 0.0, fnp.arange(4.0))
    >>> float(carry), ys.tolist()
    (6.0, [0.0, 0.0, 2.0, 9.0])
    """
    x_leaves, x_tree = _flatten_arrays(xs, 'scan')
    lengths = {x.shape[0] if x.ndim else None for x in x_leaves}
    if None in lengths:
        raise ValueError("scan: xs leaves must have a leading axis to scan over")
    if length is not None:
        lengths.add(int(length))
    if len(lengths) > 1:
        raise ValueError(f"scan: xs leaves and length disagree on the number of steps: {sorted(lengths)}")
    if not lengths:
        raise ValueError("scan: give xs or length")
    n = lengths.pop()
    if state.trace is None:
        return _scan_python(f, init, xs, x_leaves, x_tree, n, reverse)
    c_leaves, c_tree = _flatten_arrays(init, 'scan')
    weak = [not isinstance(x, Array) for x in _tree.leaves(init)]
    x_avals = [aval_of(x).update(shape=x.shape[1:]).strong() for x in x_leaves]
    box = {}

    def body(*args):
        carry = _tree.unflatten(c_tree, list(args[:len(c_leaves)]))
        x = _tree.unflatten(x_tree, list(args[len(c_leaves):]))
        new_carry, y = f(carry, x)
        nc, nct = _flatten_arrays(new_carry, 'scan')
        if nct != c_tree:
            raise TypeError(f"scan: f must return a carry with the structure of init ({c_tree}), got {nct}")
        yl, box['y'] = _flatten_arrays(y, 'scan')
        return nc + yl

    c_leaves, (prog, consts) = _stage_carry('scan', c_leaves, weak,
                                            lambda c_avals: close_over(body, c_avals + x_avals, name='scan_body'))
    outs = cf.scan_bind(prog, consts, c_leaves, x_leaves, n, reverse, unroll)
    return _tree.unflatten(c_tree, outs[:len(c_leaves)]), _tree.unflatten(box['y'], outs[len(c_leaves):])


def _stage_carry(what, carry, weak, stage_fn):
    """Stage a loop body; a carry that started as a Python number takes the dtype the body gives it
    (as weak types do in JAX), any other change of carry type is an error."""
    prog, consts = stage_fn([aval_of(c).strong() for c in carry])
    out = prog.out_avals[:len(carry)]
    if any(w and o.dtype != c.dtype for w, o, c in zip(weak, out, carry)):
        carry = [c.astype(o.dtype) if w else c for w, o, c in zip(weak, out, carry)]
        prog, consts = stage_fn([aval_of(c).strong() for c in carry])
        out = prog.out_avals[:len(carry)]
    for i, (o, c) in enumerate(zip(out, carry)):
        if o.shape != c.shape or o.dtype != c.dtype:
            raise TypeError(f"{what}: the carry must keep its type; carry leaf {i} enters as "
                            f"{c.dtype}{tuple(c.shape)} and the body returns {o.dtype}{tuple(o.shape)}. "
                            f"Cast the initial value (e.g. init.astype({o.dtype.name})) or the body's result.")
    return carry, (prog, consts)


def _scan_python(f, init, xs, x_leaves, x_tree, n, reverse):
    from fn_dl.numpy import stack
    carry, ys = init, []
    for i in (range(n - 1, -1, -1) if reverse else range(n)):
        x = _tree.unflatten(x_tree, [leaf[i] for leaf in x_leaves])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys:
        raise ValueError("scan: zero steps eagerly cannot infer the output of f; pass length > 0")
    y_leaves = [_tree.leaves(y) for y in ys]
    y_tree = _tree.structure(ys[0])
    return carry, _tree.unflatten(y_tree, [stack([yl[k] for yl in y_leaves]) for k in range(len(y_leaves[0]))])


def fori_loop(lower, upper, body_fun, init_val, unroll=1):
    """val = body_fun(i, val) for i in [lower, upper). With concrete bounds it is a scan, so reverse mode works.

    >>> import fn_dl as fd
    >>> float(fd.lax.fori_loop(0, 4, lambda i, v: v * 2.0, 1.0))
    16.0
    """
    lo, hi = _concrete(lower), _concrete(upper)
    if lo is not None and hi is not None:
        lo, hi = int(lo), int(hi)
        if state.trace is None:
            val = init_val
            for i in range(lo, hi):
                val = body_fun(asarray(i), val)
            return val
        from fn_dl.numpy import arange
        carry, _ = scan(lambda v, i: (body_fun(i, v), None), init_val, arange(lo, max(hi, lo)), unroll=unroll)
        return carry
    from fn_dl.numpy import add, less
    lower, upper = asarray(lower), asarray(upper)

    def c(state_):
        return less(state_[0], upper)

    def b(state_):
        i, v = state_
        return add(i, 1).astype(i.dtype), body_fun(i, v)

    return while_loop(c, b, (lower, init_val))[1]


def map(f, xs):  # noqa: A001
    """[f(x) for x in xs] stacked, as a scan (sequential; use vmap to vectorise)."""
    _, ys = scan(lambda c, x: (c, f(x)), (), xs)
    return ys


def select(pred, on_true, on_false):
    """Elementwise on_true where pred else on_false (same shapes)."""
    from fn_dl.ops.elementwise import select_n
    return select_n(asarray(pred), asarray(on_false), asarray(on_true))


__all__ = ['cond', 'switch', 'while_loop', 'fori_loop', 'scan', 'map', 'select']


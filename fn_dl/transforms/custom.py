"""User-defined derivatives (custom_jvp, custom_vjp), stop_gradient and checkpoint.

Eagerly, with no transform active, a decorated function simply runs. Under a
transform, its body is staged into a Program and bound as a primitive whose
rules call the user's rule, so the rule survives any nesting of grad, vmap
and jit.
"""
from __future__ import annotations

import functools

from fn_dl import tree as _tree
from fn_dl.core import dtypes

from fn_dl.core.aval import describe
from fn_dl.core.staging import close_over
from fn_dl.core.trace import aval_of, state
from fn_dl.ops import custom as _c


def _flat_arrays(tree):
    from fn_dl.numpy import asarray
    leaves, treedef = _tree.flatten(tree)
    return [asarray(x) for x in leaves], treedef


def _split_static(args, nondiff_argnums):
    static = {i: args[i] for i in nondiff_argnums}
    dyn = tuple(a for i, a in enumerate(args) if i not in static)

    def merge(dyn_args):
        it = iter(dyn_args)
        return tuple(static[i] if i in static else next(it) for i in range(len(args)))
    return static, dyn, merge


def _stage(fun, in_tree, in_avals, name):
    box = {}

    def flat(*xs):
        out = fun(*_tree.unflatten(in_tree, list(xs)))
        leaves, box['tree'] = _flat_arrays(out)
        return leaves

    prog, consts = close_over(flat, in_avals, name=name)
    return prog, consts, box['tree']


def _check_like(what, got, want_avals):
    got_avals = [aval_of(g) for g in got]
    if [(a.shape, a.dtype) for a in got_avals] != [(a.shape, a.dtype) for a in want_avals]:
        raise TypeError(f"{what}: expected {describe(want_avals)}, got {describe(got_avals)}")


class custom_jvp:
    """A function with a user-defined JVP rule (reverse mode derives from it by transposition).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> @fd.custom_jvp
    ... def f(x):
    ...     return fnp.sin(x)
    >>> @f.defjvp
    ... def f_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return f(x), 2.0 * t       # a deliberately different derivative
    >>> float(fd.grad(f)(0.5))
    2.0
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun, self.nondiff_argnums, self.jvp = fun, tuple(nondiff_argnums), None

    def defjvp(self, jvp):
        """Set the rule: jvp(primals, tangents) -> (primal_out, tangent_out); nondiff args come first."""
        self.jvp = jvp
        return jvp

    def defjvps(self, *tangent_fns):
        """Set the rule as one function per argument: fn(tangent, primal_out, *primals) -> contribution."""
        def jvp(primals, tangents):
            out = self.fun(*primals)
            contribs = [fn(t, out, *primals) for fn, t in zip(tangent_fns, tangents) if fn is not None]
            total = contribs[0]
            for c in contribs[1:]:
                total = _tree.map(lambda a, b: a + b, total, c)
            return out, total
        self.jvp = jvp

    def __call__(self, *args):
        if self.jvp is None:
            raise TypeError(f"custom_jvp function {self.fun.__name__} has no rule: call .defjvp(rule) first")
        if state.trace is None:
            return self.fun(*args)
        static, dyn, merge = _split_static(args, self.nondiff_argnums)
        leaves, in_tree = _flat_arrays(dyn)
        in_avals = [aval_of(x).strong() for x in leaves]
        prog, consts, out_tree = _stage(lambda *d: self.fun(*merge(d)), in_tree, in_avals, 'custom_jvp')
        statics = tuple(static[i] for i in sorted(static))

        def jvp_flat(primals, tangents):
            p = _tree.unflatten(in_tree, list(primals))
            t = _tree.unflatten(in_tree, list(tangents))
            out, t_out = self.jvp(*statics, p, t) if statics else self.jvp(p, t)
            o, o_tree = _flat_arrays(out)
            to, to_tree = _flat_arrays(t_out)
            if o_tree != out_tree or to_tree != out_tree:
                raise TypeError(f"custom_jvp rule of {self.fun.__name__}: must return (out, tangent_out) with the "
                                f"structure of the function's output {out_tree}; got {o_tree} and {to_tree}")
            _check_like(f"custom_jvp rule of {self.fun.__name__} (primal output)", o, prog.out_avals)
            _check_like(f"custom_jvp rule of {self.fun.__name__} (tangent output)", to, prog.out_avals)
            return o, to

        outs = _c.custom_jvp_call_p.bind(*consts, *leaves, program=prog, jvp=jvp_flat, num_consts=len(consts))
        return _tree.unflatten(out_tree, outs)


class custom_vjp:
    """A function with a user-defined VJP: fwd(*args) -> (out, residuals), bwd(residuals, ct) -> arg cts.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> @fd.custom_vjp
    ... def clip_grad(x):
    ...     return x
    >>> clip_grad.defvjp(lambda x: (x, None), lambda res, g: (fnp.clip(g, -1.0, 1.0),))
    >>> float(fd.grad(lambda x: 5.0 * clip_grad(x))(2.0))
    1.0
    """

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun, self.nondiff_argnums = fun, tuple(nondiff_argnums)
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args):
        if self.fwd is None:
            raise TypeError(f"custom_vjp function {self.fun.__name__} has no rule: call .defvjp(fwd, bwd) first")
        if state.trace is None:
            return self.fun(*args)
        static, dyn, merge = _split_static(args, self.nondiff_argnums)
        statics = tuple(static[i] for i in sorted(static))
        leaves, in_tree = _flat_arrays(dyn)
        in_avals = [aval_of(x).strong() for x in leaves]
        prog, consts, out_tree = _stage(lambda *d: self.fun(*merge(d)), in_tree, in_avals, 'custom_vjp')
        res_box = {}
        name = self.fun.__name__

        def fwd_flat(primals):
            out, res = self.fwd(*merge(_tree.unflatten(in_tree, list(primals))))
            o, o_tree = _flat_arrays(out)
            if o_tree != out_tree:
                raise TypeError(f"custom_vjp fwd of {name}: its output structure {o_tree} differs from the "
                                f"function's {out_tree}")
            r, res_box['tree'] = _flat_arrays(res)
            return o, r

        def bwd_flat(res, cts):
            ct_in = self.bwd(*statics, _tree.unflatten(res_box['tree'], list(res)),
                             _tree.unflatten(out_tree, list(cts)))
            if not isinstance(ct_in, tuple) or len(ct_in) != len(dyn):
                raise TypeError(f"custom_vjp bwd of {name}: must return a tuple with one cotangent per "
                                f"differentiable argument ({len(dyn)}), got {type(ct_in).__name__}"
                                + (f" of length {len(ct_in)}" if isinstance(ct_in, tuple) else ''))
            flat = []
            for a, c in zip(dyn, ct_in):
                a_leaves = _tree.leaves(a)
                if c is None:
                    from fn_dl.numpy import zeros_like
                    flat.extend(zeros_like(x) for x in a_leaves)
                else:
                    c_leaves, _ = _flat_arrays(c)
                    flat.extend(c_leaves)
            _check_like(f"custom_vjp bwd of {name}", flat, in_avals)
            return [c if c.dtype == a.dtype else c.astype(a.dtype) for c, a in zip(flat, in_avals)]

        outs = _c.custom_vjp_call_p.bind(*consts, *leaves, program=prog, fwd=fwd_flat, bwd=bwd_flat,
                                         num_consts=len(consts))
        return _tree.unflatten(out_tree, outs)


def stop_gradient(x):
    """x, with zero derivative (applied to every floating leaf of a pytree).

    >>> import fn_dl as fd
    >>> float(fd.grad(lambda x: x * fd.stop_gradient(x))(3.0))
    3.0
    """
    from fn_dl.numpy import asarray
    from fn_dl.ops.elementwise import stop_gradient_p

    def leaf(v):
        v = asarray(v)
        return stop_gradient_p.bind(v) if dtypes.is_inexact(v.dtype) else v
    return _tree.map(leaf, x)


def checkpoint(fun, *, prevent_cse=True, policy=None, static_argnums=()):
    """Rematerialise fun in the backward pass: reverse mode stores only its inputs and recomputes the rest.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> f = fd.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
    >>> round(float(fd.grad(f)(1.0)), 5)
    0.36004
    """
    if policy is not None:
        raise ValueError("checkpoint: save policies are not supported; every intermediate is recomputed")

    @functools.wraps(fun)
    def wrapped(*args):
        if state.trace is None:
            return fun(*args)
        static, dyn, merge = _split_static(args, static_argnums)
        leaves, in_tree = _flat_arrays(dyn)
        prog, consts, out_tree = _stage(lambda *d: fun(*merge(d)), in_tree, [aval_of(x).strong() for x in leaves],
                                        'checkpoint')
        outs = _c.remat_p.bind(*consts, *leaves, program=prog)
        return _tree.unflatten(out_tree, outs)
    return wrapped


remat = checkpoint


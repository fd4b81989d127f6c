"""Primitives behind user-defined derivatives and rematerialisation.

custom_jvp_call / custom_vjp_call carry the primal function as a Program and
the user's rule as a callable; custom_lin is the linear tape entry of a
custom_vjp (transposed by the user's bwd); remat / remat_lin implement
`checkpoint`: the tape keeps only the inputs, and the transpose recomputes,
from inputs passed through an optimization_barrier so that neither fn_dl's
simplifier nor XLA merges the recomputation back into the forward pass.
"""
from __future__ import annotations

from fn_dl.core.array import Array
from fn_dl.core.ir import eval_program
from fn_dl.ops._rules import Primitive, Zero, bdim_at_front, instantiate, is_undefined


def _eval_eager(program, values):
    return [o._value for o in eval_program(program, [Array(v) for v in values])]


def _all_at_front(args, dims):
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    return [bdim_at_front(a, d, size) for a, d in zip(args, dims)], size


def _program_rules(prim):
    """impl and abstract_eval of a primitive whose `program` param computes its outputs."""
    prim.impl = lambda xp, *vals, program, **kw: _eval_eager(program, vals)
    prim.abstract_eval = lambda *avals, program, **kw: program.out_avals
    prim.lower = lambda ctx, *args, program, **kw: ctx.lower_program(program, list(args))


def _check_const_tangents(name, tangents, num_consts):
    if any(type(t) is not Zero for t in tangents[:num_consts]):
        raise TypeError(f"{name}: the function closes over a value that is being differentiated; pass that value "
                        f"as an argument instead, so the custom rule can see it")


# --- custom_jvp --------------------------------------------------------------------------------

custom_jvp_call_p = Primitive('custom_jvp_call', multiple_results=True)
_program_rules(custom_jvp_call_p)


@custom_jvp_call_p.def_jvp
def _custom_jvp_call_jvp(primals, tangents, *, program, jvp, num_consts):
    _check_const_tangents('custom_jvp', tangents, num_consts)
    args = list(primals[num_consts:])
    ts = [instantiate(t) for t in tangents[num_consts:]]
    outs, t_outs = jvp(args, ts)
    return outs, t_outs


@custom_jvp_call_p.def_batch
def _custom_jvp_call_batch(args, dims, *, program, jvp, num_consts):
    from fn_dl.transforms.batching import batch_program, vmap
    args, size = _all_at_front(args, dims)
    prog_b, _ = batch_program(program, [0] * len(args), size, [True] * len(program.outvars))

    def jvp_b(ps, ts):
        res = vmap(lambda p, t: jvp(list(p), list(t)), axis_size=size)(tuple(ps), tuple(ts))
        return list(res[0]), list(res[1])

    outs = custom_jvp_call_p.bind(*args, program=prog_b, jvp=jvp_b, num_consts=num_consts)
    return outs, [0] * len(outs)


# --- custom_vjp --------------------------------------------------------------------------------

custom_vjp_call_p = Primitive('custom_vjp_call', multiple_results=True)
_program_rules(custom_vjp_call_p)


@custom_vjp_call_p.def_jvp
def _custom_vjp_call_jvp(primals, tangents, *, program, fwd, bwd, num_consts):
    _check_const_tangents('custom_vjp', tangents, num_consts)
    outs, res = fwd(list(primals[num_consts:]))
    ts = [instantiate(t) for t in tangents[num_consts:]]
    t_outs = custom_lin_p.bind(*res, *ts, bwd=bwd, num_res=len(res), out_avals=tuple(o.aval for o in outs))
    return outs, t_outs


@custom_vjp_call_p.def_batch
def _custom_vjp_call_batch(args, dims, *, program, fwd, bwd, num_consts):
    from fn_dl.transforms.batching import batch_program, vmap
    args, size = _all_at_front(args, dims)
    prog_b, _ = batch_program(program, [0] * len(args), size, [True] * len(program.outvars))

    def fwd_b(ps):
        outs, res = vmap(lambda p: tuple(map(tuple, fwd(list(p)))), axis_size=size)(tuple(ps))
        return list(outs), list(res)

    def bwd_b(res, cts):
        return list(vmap(lambda r, c: tuple(bwd(list(r), list(c))), axis_size=size)(tuple(res), tuple(cts)))

    outs = custom_vjp_call_p.bind(*args, program=prog_b, fwd=fwd_b, bwd=bwd_b, num_consts=num_consts)
    return outs, [0] * len(outs)


_FWD_MODE_ERROR = ("a custom_vjp function has no forward-mode derivative (jvp, jacfwd, hessian): it defines only "
                   "a VJP. Use reverse mode (grad, vjp, jacrev), or define the rule with custom_jvp instead.")

custom_lin_p = Primitive('custom_lin', multiple_results=True)


@custom_lin_p.def_impl
def _custom_lin_impl(xp, *vals, bwd, num_res, out_avals):
    raise TypeError(_FWD_MODE_ERROR)


custom_lin_p.abstract_eval = lambda *avals, bwd, num_res, out_avals: list(out_avals)


@custom_lin_p.def_transpose
def _custom_lin_transpose(cts, *args, bwd, num_res, out_avals):
    res = list(args[:num_res])
    cts_in = bwd(res, [instantiate(c) for c in cts])
    return [None] * num_res + list(cts_in)


def _custom_lin_batch(args, dims, **params):
    raise TypeError(_FWD_MODE_ERROR)


def _custom_lin_jvp(primals, tangents, **params):
    raise TypeError(_FWD_MODE_ERROR)


custom_lin_p.batch = _custom_lin_batch
custom_lin_p.jvp = _custom_lin_jvp
def _custom_lin_lower(ctx, *args, **params):
    raise TypeError(_FWD_MODE_ERROR)  # only forward mode ever leaves a custom_lin to lower


custom_lin_p.lower = _custom_lin_lower


# --- checkpoint ------------------------------------------------------------------------------------

remat_p = Primitive('remat', multiple_results=True)
_program_rules(remat_p)


@remat_p.def_jvp
def _remat_jvp(primals, tangents, *, program):
    outs = eval_program(program, primals)
    nz = tuple(type(t) is not Zero for t in tangents)
    t_outs = remat_lin_p.bind(*primals, *[t for t in tangents if type(t) is not Zero], program=program, nz=nz)
    return outs, t_outs


@remat_p.def_batch
def _remat_batch(args, dims, *, program):
    from fn_dl.transforms.batching import batch_program
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    prog_b, out_dims = batch_program(program, list(dims), size)
    return remat_p.bind(*args, program=prog_b), out_dims


remat_lin_p = Primitive('remat_lin', multiple_results=True)


def _remat_tangents(primals, tangents, program, nz):
    """The JVP of `program` at primals along the nonzero tangents: what remat_lin computes."""
    from fn_dl.transforms.ad import jvp_program
    jprog, _ = jvp_program(program, list(nz), force=[True] * len(program.outvars))
    return eval_program(jprog, list(primals) + list(tangents))[len(program.outvars):]


@remat_lin_p.def_impl
def _remat_lin_impl(xp, *vals, program, nz):
    n = len(program.invars)
    outs = _remat_tangents([Array(v) for v in vals[:n]], [Array(v) for v in vals[n:]], program, nz)
    return [o._value for o in outs]


remat_lin_p.abstract_eval = lambda *avals, program, nz: program.out_avals


@remat_lin_p.def_transpose
def _remat_lin_transpose(cts, *args, program, nz):
    from fn_dl.transforms.ad import vjp
    n = len(program.invars)
    primals = list(args[:n])
    if any(is_undefined(p) for p in primals):
        raise TypeError("checkpoint: transpose with respect to a primal input (the function is not linear)")
    # recompute the forward pass now, in the backward pass: this is what checkpoint buys. The barrier keeps
    # the recomputation from being merged with the forward computation it repeats (JAX's prevent_cse).
    primals = optimization_barrier_p.bind(*primals)
    _, f_vjp = vjp(lambda *p: eval_program(program, p), *primals)
    cts_in = f_vjp([instantiate(c) for c in cts])
    return [None] * n + [c for c, on in zip(cts_in, nz) if on]


@remat_lin_p.def_jvp
def _remat_lin_jvp(primals, tangents, *, program, nz):
    from fn_dl.transforms.ad import jvp
    n = len(program.invars)
    return jvp(lambda *a: _remat_tangents(a[:n], a[n:], program, nz), tuple(primals), tuple(instantiate(t) for t in
                                                                                        tangents))


@remat_lin_p.def_batch
def _remat_lin_batch(args, dims, *, program, nz):
    from fn_dl.transforms.batching import vmap
    n = len(program.invars)
    outs = vmap(lambda *a: _remat_tangents(a[:n], a[n:], program, nz), in_axes=tuple(dims))(*args)
    return outs, [0] * len(outs)


@remat_lin_p.def_lower
def _remat_lin_lower(ctx, *args, program, nz):
    from fn_dl.transforms.ad import jvp_program
    jprog, _ = jvp_program(program, list(nz), force=[True] * len(program.outvars))
    return ctx.lower_program(jprog, list(args))[len(program.outvars):]


# --- optimization_barrier ------------------------------------------------------------------------

optimization_barrier_p = Primitive('optimization_barrier', multiple_results=True)
optimization_barrier_p.impl = lambda xp, *vals: list(vals)
optimization_barrier_p.abstract_eval = lambda *avals: list(avals)
optimization_barrier_p.lower = lambda ctx, *args: ctx.op('stablehlo.optimization_barrier', list(args),
                                                         ctx.avals_in, ctx.avals_out)


def optimization_barrier(*values):
    """`values` unchanged, as a point that computations are not merged or moved across: what uses the
    outputs is computed after the barrier, even where the same computation on the inputs exists before it.
    """
    return optimization_barrier_p.bind(*values)


@optimization_barrier_p.def_jvp
def _barrier_jvp(primals, tangents):
    nonzero = [t for t in tangents if type(t) is not Zero]
    t_outs = iter(optimization_barrier_p.bind(*nonzero) if nonzero else [])
    return optimization_barrier_p.bind(*primals), [t if type(t) is Zero else next(t_outs) for t in tangents]


@optimization_barrier_p.def_transpose
def _barrier_transpose(cts, *args):
    return [None if type(c) is Zero else c for c in cts]


@optimization_barrier_p.def_batch
def _barrier_batch(args, dims):
    return optimization_barrier_p.bind(*args), list(dims)

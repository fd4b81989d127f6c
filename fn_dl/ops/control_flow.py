"""Structured control flow: cond, while and scan primitives, carrying their bodies as Programs.

Bodies are closed (captured values are leading operands), so every transform
sees them. The JVP of cond and scan is split into a primal part and a linear
part (`linearize_program`): the primal part runs now, and only the linear part
lands on a reverse-mode tape, where the transpose rules below run it backwards.
"""
from __future__ import annotations

from fn_dl.core import dtypes
from fn_dl.core.array import Array
from fn_dl.backends.xla.lowering import i64_array
from fn_dl.core.aval import ShapedArray, describe
from fn_dl.core.ir import eval_program
from fn_dl.core.staging import stage
from fn_dl.ops._rules import Primitive, Zero, bdim_at_front, instantiate, is_undefined, moveaxis
from fn_dl.ops.elementwise import select_n
from fn_dl.ops.shape import broadcast_in_dim, full


def _eval_eager(program, values):
    return [o._value for o in eval_program(program, [Array(v) for v in values])]


def _reorder(program, in_avals, order):
    """A program taking its inputs permuted: new input i is old input order[i]."""
    inv = [0] * len(order)
    for new, old in enumerate(order):
        inv[old] = new
    return stage(lambda *args: eval_program(program, [args[inv[i]] for i in range(len(order))]),
                 [in_avals[o] for o in order], name='reorder')


# --- cond -----------------------------------------------------------------------------------

cond_p = Primitive('cond', multiple_results=True)


@cond_p.def_impl
def _cond_impl(xp, index, *ops, branches):
    i = min(max(int(index), 0), len(branches) - 1)
    return _eval_eager(branches[i], ops)


@cond_p.def_abstract_eval
def _cond_abstract(index, *ops, branches):
    if index.shape != () or not dtypes.is_integer(index.dtype):
        raise TypeError(f"cond: the branch index must be an integer scalar, got {describe([index])}")
    return branches[0].out_avals


def cond(index, *operands, branches):
    """Run branches[index] (clamped) on operands; branches are closed Programs with equal signatures."""
    return cond_p.bind(index, *operands, branches=tuple(branches))


def _join(progs_res):
    """Make every branch return the residuals of all branches (zeros for the others'), so they agree."""
    res_avals = [[v.aval for v in p.outvars[len(p.outvars) - n:]] for p, n in progs_res]
    joined = []
    for i, (p, n) in enumerate(progs_res):
        def f(*args, p=p, n=n, i=i):
            outs = eval_program(p, args)
            own = outs[len(outs) - n:]
            res = []
            for j, avals in enumerate(res_avals):
                res += own if j == i else [full(a.shape, 0, a.dtype) for a in avals]
            return outs[:len(outs) - n] + res
        joined.append(stage(f, p.in_avals, name='cond_branch'))
    return joined, [a for avals in res_avals for a in avals]


@cond_p.def_jvp
def _cond_jvp(primals, tangents, *, branches):
    from fn_dl.transforms.ad import linearize_program
    index, *ops = primals
    nz = [type(t) is not Zero for t in tangents[1:]]
    lins = [linearize_program(b, nz) for b in branches]
    nz_out = [any(lin[3][k] for lin in lins) for k in range(len(branches[0].outvars))]
    n_out = len(branches[0].outvars)
    primal_branches, res_avals = _join([(p, n) for p, _, n, _ in lins])
    outs_res = cond(index, *ops, branches=primal_branches)
    outs, res = outs_res[:n_out], outs_res[n_out:]
    # the linear branches take all residuals and pick their own
    t_avals = [a for a, on in zip(branches[0].in_avals, nz) if on]
    offsets, start = [], 0
    for _, _, n, _ in lins:
        offsets.append((start, start + n))
        start += n
    t_branches = []
    for (lo, hi), (_, tprog, _, _) in zip(offsets, lins):
        def f(*args, lo=lo, hi=hi, tprog=tprog):
            res_all, ts = args[:len(res_avals)], args[len(res_avals):]
            return eval_program(tprog, list(res_all[lo:hi]) + list(ts))
        t_branches.append(stage(f, res_avals + t_avals, name='cond_tangent'))
    t_in = [t for t, on in zip(tangents[1:], nz) if on]
    t_out = cond(index, *res, *t_in, branches=t_branches)
    return outs, [t if on else Zero(t.aval) for t, on in zip(t_out, nz_out)]


@cond_p.def_transpose
def _cond_transpose(cts, index, *ops, branches):
    from fn_dl.transforms.ad import transpose_program
    if is_undefined(index):
        raise TypeError("cond: the branch index cannot be a linear input")
    linear = [is_undefined(o) for o in ops]
    t_branches = [transpose_program(b, linear) for b in branches]
    known = [o for o in ops if not is_undefined(o)]
    ct_in = iter(cond(index, *known, *[instantiate(c) for c in cts], branches=t_branches))
    return [None] + [next(ct_in) if lin else None for lin in linear]


@cond_p.def_batch
def _cond_batch(args, dims, *, branches):
    from fn_dl.transforms.batching import batch_program
    index, *ops = args
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    op_dims = list(dims[1:])
    if dims[0] is not None:
        # a different branch per example: run every branch, select per example
        outs = [eval_program(batch_program(b, op_dims, size, [True] * len(b.outvars))[0], ops) for b in branches]
        idx = moveaxis(index, dims[0], 0)
        idx = _clamp_index(idx, len(branches))
        res = []
        for k in range(len(outs[0])):
            o0 = outs[0][k]
            which = broadcast_in_dim(idx, o0.shape, (0,))
            res.append(select_n(which, *[o[k] for o in outs]) if len(branches) > 1 else o0)
        return res, [0] * len(res)
    natural = [batch_program(b, op_dims, size)[1] for b in branches]
    force = [any(d[k] is not None for d in natural) for k in range(len(natural[0]))]
    progs = [batch_program(b, op_dims, size, force)[0] for b in branches]
    return cond(index, *ops, branches=progs), [0 if f else None for f in force]


def _clamp_index(idx, n):
    from fn_dl.ops.elementwise import max as _max, min as _min
    lo, hi = full(idx.shape, 0, idx.dtype), full(idx.shape, n - 1, idx.dtype)
    return _min(_max(idx, lo), hi)


@cond_p.def_lower
def _cond_lower(ctx, index, *ops, branches):
    i_aval = ctx.avals_in[0]
    # stablehlo.case runs the last branch for any out-of-range index; we clamp to [0, n-1] first
    lo = ctx.op1('stablehlo.maximum', [index, ctx.splat(0, i_aval)], [i_aval, i_aval], i_aval)
    idx = ctx.op1('stablehlo.minimum', [lo, ctx.splat(len(branches) - 1, i_aval)], [i_aval, i_aval], i_aval)
    regions = [ctx.region([], b.out_avals, lambda sub, _, b=b: sub.lower_program(b, list(ops))) for b in branches]
    return ctx.op('stablehlo.case', [idx], [i_aval], ctx.avals_out, regions=regions)


# --- while ---------------------------------------------------------------------------------

while_p = Primitive('while', multiple_results=True)


@while_p.def_impl
def _while_impl(xp, *args, cond_prog, body_prog, cond_nconsts, body_nconsts):
    cc, bc, carry = args[:cond_nconsts], args[cond_nconsts:cond_nconsts + body_nconsts], \
        list(args[cond_nconsts + body_nconsts:])
    while bool(_eval_eager(cond_prog, list(cc) + carry)[0]):
        carry = _eval_eager(body_prog, list(bc) + carry)
    return carry


@while_p.def_abstract_eval
def _while_abstract(*args, cond_prog, body_prog, cond_nconsts, body_nconsts):
    carry = args[cond_nconsts + body_nconsts:]
    out = body_prog.out_avals
    if [(a.shape, a.dtype) for a in out] != [(a.shape, a.dtype) for a in carry]:
        raise TypeError(f"while_loop: body_fun must return a carry like its input: got {describe(out)} for "
                        f"{describe(carry)}")
    pred = cond_prog.out_avals
    if len(pred) != 1 or pred[0].shape != () or pred[0].dtype != dtypes.bool_:
        raise TypeError(f"while_loop: cond_fun must return a bool scalar, got {describe(pred)}")
    return out


def while_loop_bind(cond_prog, body_prog, cond_consts, body_consts, init):
    return while_p.bind(*cond_consts, *body_consts, *init, cond_prog=cond_prog, body_prog=body_prog,
                        cond_nconsts=len(cond_consts), body_nconsts=len(body_consts))


def _ignore_extra(program, extra_avals):
    """A program that takes extra trailing inputs and ignores them."""
    n = len(program.invars)
    return stage(lambda *args: eval_program(program, args[:n]), program.in_avals + list(extra_avals), name='cond')


@while_p.def_jvp
def _while_jvp(primals, tangents, *, cond_prog, body_prog, cond_nconsts, body_nconsts):
    from fn_dl.transforms.ad import jvp_program
    nc, nb = cond_nconsts, body_nconsts
    cc, bc, init = primals[:nc], primals[nc:nc + nb], primals[nc + nb:]
    t_bc, t_init = tangents[nc:nc + nb], tangents[nc + nb:]
    nz_bc = [type(t) is not Zero for t in t_bc]
    nz_carry = [type(t) is not Zero for t in t_init]
    while True:  # a carry tangent can become nonzero after an iteration: iterate to a fixpoint
        jprog, nz_out = jvp_program(body_prog, nz_bc + nz_carry, force=nz_carry)
        if nz_out == nz_carry:
            break
        nz_carry = [a or b for a, b in zip(nz_carry, nz_out)]
    out = while_loop_bind(cond_prog, body_prog, cc, bc, init)
    if not any(nz_carry):
        return out, [Zero(o.aval) for o in out]
    n_bc_t, n_carry = sum(nz_bc), len(init)
    # jprog's inputs: (*bc, *carry, *bc tangents, *carry tangents); the loop wants consts first, then carry
    order = list(range(nb)) + list(range(nb + n_carry, nb + n_carry + n_bc_t)) + list(range(nb, nb + n_carry)) + \
        list(range(nb + n_carry + n_bc_t, len(jprog.invars)))
    body = _reorder(jprog, jprog.in_avals, order)
    carry_t_avals = [a for a, on in zip(body_prog.out_avals, nz_carry) if on]
    cond2 = _ignore_extra(cond_prog, carry_t_avals)
    t_bc_in = [t for t, on in zip(t_bc, nz_bc) if on]
    t_init_in = [instantiate(t) for t, on in zip(t_init, nz_carry) if on]
    res = while_loop_bind(cond2, body, list(cc), list(bc) + t_bc_in, list(init) + t_init_in)
    t_iter = iter(res[n_carry:])
    return out, [next(t_iter) if on else Zero(o.aval) for o, on in zip(out, nz_carry)]


@while_p.def_batch
def _while_batch(args, dims, *, cond_prog, body_prog, cond_nconsts, body_nconsts):
    from fn_dl.transforms.batching import batch_program
    nc, nb = cond_nconsts, body_nconsts
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    cd, bd, init_d = list(dims[:nc]), list(dims[nc:nc + nb]), list(dims[nc + nb:])
    carry_b = [d is not None for d in init_d]
    while True:
        _, out_d = batch_program(body_prog, bd + [0 if b else None for b in carry_b], size)
        new = [b or d is not None for b, d in zip(carry_b, out_d)]
        if new == carry_b:
            break
        carry_b = new
    _, pred_d = batch_program(cond_prog, cd + [0 if b else None for b in carry_b], size)
    if pred_d[0] is not None:
        carry_b = [True] * len(carry_b)  # each example stops on its own: every carry is per example
    carry_dims = [0 if b else None for b in carry_b]
    body_b, _ = batch_program(body_prog, bd + carry_dims, size, carry_b)
    cond_b, pred_d = batch_program(cond_prog, cd + carry_dims, size)
    cc, bc, init = args[:nc], args[nc:nc + nb], args[nc + nb:]
    init = [bdim_at_front(x, d, size) if b else x for x, d, b in zip(init, init_d, carry_b)]
    if pred_d[0] is None:
        return while_loop_bind(cond_b, body_b, cc, bc, init), carry_dims
    # run while any example's predicate holds; examples that are done keep their carry
    from fn_dl.ops.reduce import reduce_or
    n_cc, n_bc = len(cc), len(bc)

    def cond_any(*a):
        return [reduce_or(eval_program(cond_b, a)[0], (0,))]

    def body_sel(*a):
        c_consts, b_consts, carry = a[:n_cc], a[n_cc:n_cc + n_bc], a[n_cc + n_bc:]
        pred = eval_program(cond_b, list(c_consts) + list(carry))[0]
        new = eval_program(body_b, list(b_consts) + list(carry))
        return [select_n(broadcast_in_dim(pred, o.shape, (0,)), c, o) for o, c in zip(new, carry)]

    in_avals = [a.aval for a in cc] + [a.aval for a in init]
    cond2 = stage(cond_any, in_avals, name='while_cond')
    body2 = stage(body_sel, [a.aval for a in cc] + [a.aval for a in bc] + [a.aval for a in init], name='while_body')
    return while_loop_bind(cond2, body2, cc, list(cc) + list(bc), init), carry_dims


@while_p.def_lower
def _while_lower(ctx, *args, cond_prog, body_prog, cond_nconsts, body_nconsts):
    # the consts ride along in the loop state unchanged
    avals = ctx.avals_in
    nc, nb = cond_nconsts, body_nconsts

    def cond(sub, a):
        return sub.lower_program(cond_prog, a[:nc] + a[nc + nb:])

    def body(sub, a):
        return a[:nc + nb] + sub.lower_program(body_prog, a[nc:nc + nb] + a[nc + nb:])

    regions = [ctx.region(avals, [ShapedArray((), dtypes.bool_)], cond), ctx.region(avals, avals, body)]
    outs = ctx.op('stablehlo.while', list(args), avals, avals, regions=regions)
    return outs[nc + nb:]


# --- scan ------------------------------------------------------------------------------------

scan_p = Primitive('scan', multiple_results=True)


@scan_p.def_impl
def _scan_impl(xp, *args, program, num_consts, num_carry, length, reverse, unroll):
    consts, carry, xs = args[:num_consts], list(args[num_consts:num_consts + num_carry]), args[num_consts + num_carry:]
    ys = []
    for i in (reversed(range(length)) if reverse else range(length)):
        out = _eval_eager(program, list(consts) + carry + [x[i] for x in xs])
        carry, y = out[:num_carry], out[num_carry:]
        ys.append(y)
    if reverse:
        ys.reverse()
    n_ys = len(program.outvars) - num_carry
    y_avals = program.out_avals[num_carry:]
    stacked = [xp.stack([y[k] for y in ys]) if ys else xp.zeros((0,) + y_avals[k].shape, y_avals[k].dtype)
               for k in range(n_ys)]
    return carry + stacked


@scan_p.def_abstract_eval
def _scan_abstract(*args, program, num_consts, num_carry, length, reverse, unroll):
    carry = args[num_consts:num_consts + num_carry]
    out = program.out_avals
    if [(a.shape, a.dtype) for a in out[:num_carry]] != [(a.shape, a.dtype) for a in carry]:
        raise TypeError(f"scan: f must return a carry like its input: got {describe(out[:num_carry])} for "
                        f"{describe(carry)}")
    for x in args[num_consts + num_carry:]:
        if not x.shape or x.shape[0] != length:
            raise ValueError(f"scan: every xs leaf needs a leading axis of length {length}, got {describe([x])}")
    return list(out[:num_carry]) + [ShapedArray((length,) + a.shape, a.dtype, a.weak_type) for a in out[num_carry:]]


def scan_bind(program, consts, init, xs, length, reverse=False, unroll=1):
    return scan_p.bind(*consts, *init, *xs, program=program, num_consts=len(consts), num_carry=len(init),
                       length=int(length), reverse=bool(reverse), unroll=int(unroll))


@scan_p.def_jvp
def _scan_jvp(primals, tangents, *, program, num_consts, num_carry, length, reverse, unroll):
    from fn_dl.transforms.ad import linearize_program
    nc, nk = num_consts, num_carry
    nz = [type(t) is not Zero for t in tangents]
    nz_consts, nz_carry, nz_xs = nz[:nc], nz[nc:nc + nk], nz[nc + nk:]
    while True:  # widen the carry's nonzero tangents to a fixpoint
        primal_prog, tprog, n_res, nz_out = linearize_program(program, nz_consts + nz_carry + nz_xs)
        new = [a or b for a, b in zip(nz_carry, nz_out[:nk])]
        if new == nz_carry:
            break
        nz_carry = new
    consts, init, xs = primals[:nc], primals[nc:nc + nk], primals[nc + nk:]
    n_out = len(program.outvars)
    outs = scan_bind(primal_prog, consts, init, xs, length, reverse, unroll)
    carry_out, ys, res = outs[:nk], outs[nk:n_out], outs[n_out:]
    # tangent scan: consts = const tangents, carry = carry tangents, xs = (per-step residuals, x tangents)
    t_consts = [t for t, on in zip(tangents[:nc], nz_consts) if on]
    t_init = [instantiate(t) for t, on in zip(tangents[nc:nc + nk], nz_carry) if on]
    t_xs = [t for t, on in zip(tangents[nc + nk:], nz_xs) if on]
    n_tc, n_ti = len(t_consts), len(t_init)
    res_avals = tprog.in_avals[:n_res]

    def tbody(*a):
        tc, tk, r, tx = a[:n_tc], a[n_tc:n_tc + n_ti], a[n_tc + n_ti:n_tc + n_ti + n_res], a[n_tc + n_ti + n_res:]
        # tprog takes (*res, *nonzero tangents in (consts, carry, xs) order); zero carry slots dropped
        out = eval_program(tprog, list(r) + list(tc) + list(tk) + list(tx))
        return [o for o, on in zip(out[:nk], nz_carry) if on] + list(out[nk:])

    tc_avals = [a for a, on in zip(program.in_avals[:nc], nz_consts) if on]
    tk_avals = [a for a, on in zip(program.in_avals[nc:nc + nk], nz_carry) if on]
    tx_avals = [a for a, on in zip(program.in_avals[nc + nk:], nz_xs) if on]
    tbody_prog = stage(tbody, tc_avals + tk_avals + list(res_avals) + tx_avals, name='scan_tangent')
    t_outs = scan_bind(tbody_prog, t_consts, t_init, list(res) + t_xs, length, reverse, unroll)
    t_iter = iter(t_outs[:n_ti])
    t_carry = [next(t_iter) if on else Zero(c.aval) for c, on in zip(carry_out, nz_carry)]
    t_ys = list(t_outs[n_ti:])
    return list(carry_out) + list(ys), t_carry + t_ys


@scan_p.def_transpose
def _scan_transpose(cts, *args, program, num_consts, num_carry, length, reverse, unroll):
    from fn_dl.transforms.ad import transpose_program
    nc, nk = num_consts, num_carry
    consts, init, xs = args[:nc], args[nc:nc + nk], args[nc + nk:]
    # the carry of a linear scan is all tangent; a known entry there is an instantiated zero tangent,
    # which gets no cotangent back
    lin_c = [is_undefined(c) for c in consts]
    lin_x = [is_undefined(x) for x in xs]
    tprog = transpose_program(program, lin_c + [True] * nk + lin_x)
    known_c = [c for c, lin in zip(consts, lin_c) if not lin]
    known_x = [x for x, lin in zip(xs, lin_x) if not lin]
    n_kc, n_kx, n_lc = len(known_c), len(known_x), sum(lin_c)
    ct_carry, ct_ys = [instantiate(c) for c in cts[:nk]], [instantiate(c) for c in cts[nk:]]
    lc_avals = [c.aval for c, lin in zip(consts, lin_c) if lin]

    def tbody(*a):
        kc, acc, ck = a[:n_kc], a[n_kc:n_kc + n_lc], a[n_kc + n_lc:n_kc + n_lc + nk]
        kx, cy = a[n_kc + n_lc + nk:n_kc + n_lc + nk + n_kx], a[n_kc + n_lc + nk + n_kx:]
        out = eval_program(tprog, list(kc) + list(kx) + list(ck) + list(cy))
        ct_lc, ct_k, ct_x = out[:n_lc], out[n_lc:n_lc + nk], out[n_lc + nk:]
        from fn_dl.ops.elementwise import add
        return [add(s, c) for s, c in zip(acc, ct_lc)] + list(ct_k) + list(ct_x)

    y_avals = [a.aval for a in ct_ys]
    body_avals = [c.aval for c in known_c] + lc_avals + [c.aval for c in ct_carry] + \
        [ShapedArray(x.aval.shape[1:], x.aval.dtype) for x in known_x] + \
        [ShapedArray(a.shape[1:], a.dtype) for a in y_avals]
    tbody_prog = stage(tbody, body_avals, name='scan_transpose')
    acc0 = [full(a.shape, 0, a.dtype) for a in lc_avals]
    outs = scan_bind(tbody_prog, known_c, acc0 + ct_carry, known_x + ct_ys, length, not reverse, unroll)
    ct_lc, ct_init, ct_xs = outs[:n_lc], outs[n_lc:n_lc + nk], outs[n_lc + nk:]
    it_c, it_x = iter(ct_lc), iter(ct_xs)
    return [next(it_c) if lin else None for lin in lin_c] + \
        [ct if is_undefined(c) else None for ct, c in zip(ct_init, init)] + \
        [next(it_x) if lin else None for lin in lin_x]


@scan_p.def_batch
def _scan_batch(args, dims, *, program, num_consts, num_carry, length, reverse, unroll):
    from fn_dl.transforms.batching import batch_program
    nc, nk = num_consts, num_carry
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    consts, init, xs = args[:nc], args[nc:nc + nk], args[nc + nk:]
    c_d, k_d, x_d = dims[:nc], dims[nc:nc + nk], dims[nc + nk:]
    consts = [x if d is None else moveaxis(x, d, 0) for x, d in zip(consts, c_d)]
    c_dims = [None if d is None else 0 for d in c_d]
    # xs keep the scanned axis first; their batch axis goes second, so each step sees it first
    xs = [x if d is None else moveaxis(x, d, 1) for x, d in zip(xs, x_d)]
    x_dims = [None if d is None else 0 for d in x_d]
    carry_b = [d is not None for d in k_d]
    while True:
        _, out_d = batch_program(program, c_dims + [0 if b else None for b in carry_b] + x_dims, size)
        new = [b or d is not None for b, d in zip(carry_b, out_d[:nk])]
        if new == carry_b:
            break
        carry_b = new
    force = carry_b + [False] * (len(program.outvars) - nk)
    body, out_d = batch_program(program, c_dims + [0 if b else None for b in carry_b] + x_dims, size, force)
    init = [bdim_at_front(x, d, size) if b else x for x, d, b in zip(init, k_d, carry_b)]
    outs = scan_bind(body, consts, init, xs, length, reverse, unroll)
    return outs, [0 if b else None for b in carry_b] + [None if d is None else 1 for d in out_d[nk:]]


@scan_p.def_lower
def _scan_lower(ctx, *args, program, num_consts, num_carry, length, reverse, unroll):
    """A while loop over a step counter; xs are read and ys written with dynamic slices."""
    from fn_dl.backends.xla.lowering import compare
    nc, nk = num_consts, num_carry
    in_avals, out_avals = ctx.avals_in, ctx.avals_out
    x_avals, y_avals = in_avals[nc + nk:], out_avals[nk:]
    i32 = ShapedArray((), dtypes.int32)
    ys0 = [ctx.splat(0, a) for a in y_avals]
    if length == 0:  # no steps: the loop body would slice empty arrays, which XLA rejects
        return list(args[nc:nc + nk]) + ys0
    state = [ctx.splat(0, i32)] + list(args) + ys0
    state_avals = [i32] + list(in_avals) + list(y_avals)

    def cond(sub, a):
        return [compare(sub, 'LT', a[0], sub.splat(length, i32), i32)]

    def body(sub, a):
        i, consts, carry = a[0], a[1:1 + nc], a[1 + nc:1 + nc + nk]
        xs, ys = a[1 + nc + nk:1 + nc + nk + len(x_avals)], a[1 + nc + nk + len(x_avals):]
        t = sub.op1('stablehlo.subtract', [sub.splat(length - 1, i32), i], [i32, i32], i32) if reverse else i
        zero = sub.splat(0, i32)
        x_t = []
        for x, xa in zip(xs, x_avals):
            step = xa.update(shape=(1,) + xa.shape[1:])
            sl = sub.op1('stablehlo.dynamic_slice', [x, t] + [zero] * (xa.ndim - 1), [xa] + [i32] * xa.ndim, step,
                         {'slice_sizes': i64_array(step.shape)})
            x_t.append(sub.op1('stablehlo.reshape', [sl], [step], xa.update(shape=xa.shape[1:])))
        outs = sub.lower_program(program, list(consts) + list(carry) + x_t)
        new_ys = []
        for y, ya, o, oa in zip(ys, y_avals, outs[nk:], program.out_avals[nk:]):
            step = ya.update(shape=(1,) + ya.shape[1:])
            o1 = sub.op1('stablehlo.reshape', [o], [oa], step)
            new_ys.append(sub.op1('stablehlo.dynamic_update_slice', [y, o1, t] + [zero] * (ya.ndim - 1),
                                  [ya, step] + [i32] * ya.ndim, ya))
        i1 = sub.op1('stablehlo.add', [i, sub.splat(1, i32)], [i32, i32], i32)
        return [i1] + list(consts) + outs[:nk] + list(xs) + new_ys

    regions = [ctx.region(state_avals, [ShapedArray((), dtypes.bool_)], cond),
               ctx.region(state_avals, state_avals, body)]
    outs = ctx.op('stablehlo.while', state, state_avals, state_avals, regions=regions)
    return outs[1 + nc:1 + nc + nk] + outs[1 + nc + nk + len(x_avals):]

__all__ = ['cond', 'while_loop_bind', 'scan_bind', 'cond_p', 'while_p', 'scan_p']

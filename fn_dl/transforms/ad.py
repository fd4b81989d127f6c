"""Automatic differentiation: forward mode by JVP, reverse mode by JVP + transpose.

Forward mode runs each primitive's JVP rule with tangents as ordinary values
of the parent trace. Reverse mode (`linearize`, `vjp`, `grad`) runs the same
JVP rules with tangents that are tracers of a *partial* staging trace: the
primal math runs at once on the parent (eagerly, or into an outer jit), and
only the tangent math, which is linear, is recorded on a tape. `vjp` then
walks the tape backwards with the primitives' transpose rules. No IR is
compiled and no primal work is repeated, which keeps eager `grad` cheap;
and since every step binds primitives under the current trace, grad of grad,
vmap of grad and grad under jit all compose.
"""
from __future__ import annotations

import functools

from fn_dl import tree as _tree
from fn_dl.core import dtypes
from fn_dl.core.ad_util import UndefinedPrimal, Zero
from fn_dl.core.array import Array, Tracer
from fn_dl.core.primitive import default_namespace, eager_apply
from fn_dl.core.aval import shape_str
from fn_dl.core.ir import Literal, Program, eval_program
from fn_dl.core.staging import StagingTrace, stage
from fn_dl.numpy import asarray, eye, moveaxis, reshape
from fn_dl.ops.elementwise import add_p, convert_element_type
from fn_dl.ops.shape import full
from fn_dl.ops.shape import slice as _slice
from fn_dl.core.trace import Trace, _user_frame, aval_of, leaked_tracer_error, set_trace, state


class JVPTracer(Tracer):
    __slots__ = ('primal', 'tangent')

    def __init__(self, trace, primal, tangent):
        self._trace, self.primal, self.tangent = trace, primal, tangent

    @property
    def aval(self):
        return aval_of(self.primal)

    # read through to the primal without building an aval (rules ask for shapes constantly)
    shape = property(lambda self: self.primal.shape)
    dtype = property(lambda self: self.primal.dtype)
    ndim = property(lambda self: self.primal.ndim)

    def to_concrete(self):
        p = self.primal
        return p.to_concrete() if isinstance(p, Tracer) else p


class JVPTrace(Trace):
    # True for eager reverse mode: the parent is the tape of an eager grad, which would run a call
    # that involves no tangent at once anyway, so such calls skip it
    eager_tape = False

    def process(self, prim, args, params):
        primals, tangents, active = [], [], False
        for a in args:  # this runs for every primitive: own-tracer and leak checks inlined
            if type(a) is JVPTracer and a._trace is self:
                primals.append(a.primal)
                tangents.append(a.tangent)
                active = True
            else:
                if isinstance(a, Tracer) and not a._trace.alive:
                    raise leaked_tracer_error(a)
                primals.append(a)
                tangents.append(Zero.like(a))
        if not active and self.eager_tape:
            return eager_apply(prim, primals, params)
        prev, state.trace = state.trace, self.parent
        try:
            if not active:
                return prim.bind(*primals, **params)
            if prim.jvp is None:
                raise TypeError(f"differentiation of {prim.name} is not supported")
            p_out, t_out = prim.jvp(primals, tangents, **params)
        finally:
            state.trace = prev
        if prim.multiple_results:
            return [self.wrap(p, t) for p, t in zip(p_out, t_out)]
        return p_out if type(t_out) is Zero else JVPTracer(self, p_out, t_out)

    def wrap(self, primal, tangent):
        return primal if type(tangent) is Zero else JVPTracer(self, primal, tangent)

    def unwrap(self, x):
        """(primal, tangent) of an output; tangent is Zero for values that do not depend on the inputs."""
        if self.is_own(x):
            return x.primal, x.tangent
        return x, Zero.like(x)


def _is_float(aval):
    return dtypes.is_inexact(aval.dtype)


def _as_array(x, what):
    if isinstance(x, Array):
        return x
    try:
        return asarray(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what}: expected arrays or Python numbers, got {type(x).__name__}") from e


def zeros_like_aval(aval):
    return full(aval.shape, 0, aval.dtype)


def instantiate(t):
    return zeros_like_aval(t.aval) if type(t) is Zero else t


# --- forward mode ------------------------------------------------------------------------

def jvp(fun, primals, tangents, has_aux=False):
    """Forward-mode derivative: (fun(*primals), the directional derivative along `tangents`).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> y, t = fd.jvp(fnp.sin, (0.0,), (2.0,))
    >>> float(y), float(t)
    (0.0, 2.0)
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples of arguments, e.g. jvp(f, (x,), (t,))")
    p_flat, p_tree = _tree.flatten(tuple(primals))
    t_flat, t_tree = _tree.flatten(tuple(tangents))
    if p_tree != t_tree:
        raise ValueError(f"jvp: primals and tangents have different structures: {p_tree} vs {t_tree}")
    p_flat = [_as_array(p, 'jvp') for p in p_flat]
    t_flat = [_as_array(t, 'jvp') for t in t_flat]
    for p, t in zip(p_flat, t_flat):
        if p.shape != t.shape or (_is_float(p.aval) and p.dtype != t.dtype):
            raise ValueError(f"jvp: a tangent must match its primal's shape and dtype: primal "
                             f"{p.dtype}{shape_str(p.shape)}, tangent {t.dtype}{shape_str(t.shape)}")
    trace = JVPTrace(state.trace)
    ins = [JVPTracer(trace, p, t) if _is_float(p.aval) else p for p, t in zip(p_flat, t_flat)]
    with set_trace(trace):
        try:
            out = fun(*_tree.unflatten(p_tree, ins))
        finally:
            trace.alive = False
    out, aux = out if has_aux else (out, None)
    o_flat, o_tree = _tree.flatten(out)
    pairs = [trace.unwrap(_as_array(o, 'jvp output')) for o in o_flat]
    p_out = _tree.unflatten(o_tree, [p for p, _ in pairs])
    t_out = _tree.unflatten(o_tree, [instantiate(t) for _, t in pairs])
    return (p_out, t_out, aux) if has_aux else (p_out, t_out)


# --- reverse mode --------------------------------------------------------------------------

class LinearFunction:
    """The linear map recorded by `linearize`: a tape (Program) from input tangents to output tangents."""

    def __init__(self, program: Program, in_tree, out_tree, in_avals, out_avals):
        self.program, self.in_tree, self.out_tree = program, in_tree, out_tree
        self.in_avals, self.out_avals = in_avals, out_avals

    def __call__(self, *tangents):
        t_flat, t_tree = _tree.flatten(tuple(tangents))
        if t_tree != self.in_tree:
            raise ValueError(f"linearized function: expected tangents with structure {self.in_tree}, got {t_tree}")
        outs = eval_program(self.program, [_as_array(t, 'linearize') for t in t_flat])
        outs = [zeros_like_aval(a) if o is None else o for o, a in zip(outs, self.out_avals)]
        return _tree.unflatten(self.out_tree, outs)

    def transpose(self, cts_flat):
        return backward_pass(self.program, cts_flat, all_linear=True)


def _linearize(fun, primals_flat, in_tree, has_aux, active=None, created_at=None):
    """Run fun under JVP-over-tape; returns (primal outputs, out tree, LinearFunction, aux).

    `active[i]` False treats input i as a constant (its tangent is not an input of the tape).
    `created_at`: where the user entered the transform, if the caller knows it (fewer frames to search).
    """
    tape = StagingTrace(state.trace, partial=True, name='grad', created_at=created_at)
    jt = JVPTrace(tape, created_at=tape.created_at)
    jt.eager_tape = tape.parent is None
    ins, t_in, in_avals = [], [], []
    for i, p in enumerate(primals_flat):
        aval = aval_of(p)
        if (_is_float(aval) if active is None else active[i]):
            t = tape.new_arg(aval.strong())
            t_in.append(t)
            in_avals.append(aval)
            p = JVPTracer(jt, p, t)
        ins.append(p)
    prev, state.trace = state.trace, jt
    try:
        out = fun(*(ins if in_tree is None else _tree.unflatten(in_tree, ins)))
    finally:
        state.trace = prev
        jt.alive = False
        tape.alive = False
    out, aux = out if has_aux else (out, None)
    o_flat, o_tree = _tree.flatten(out)
    outs, outvars, out_avals = [], [], []
    for o in o_flat:
        p, t = jt.unwrap(_as_array(o, 'grad output'))
        outs.append(p)
        outvars.append(None if type(t) is Zero else tape.getvar(t))
        out_avals.append(aval_of(p))
    program = Program([t.var for t in t_in], outvars, tape.eqns, tape.constvars, tape.consts)
    lin = LinearFunction(program, in_tree, o_tree, in_avals, out_avals)
    return outs, o_tree, lin, aux


def linearize(fun, *primals):
    """(fun(*primals), f_jvp) where f_jvp(*tangents) is the JVP at `primals`, evaluated from a recorded tape.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> y, f_jvp = fd.linearize(fnp.exp, 0.0)
    >>> float(f_jvp(3.0))
    3.0
    """
    p_flat, in_tree = _tree.flatten(tuple(primals))
    p_flat = [_as_array(p, 'linearize') for p in p_flat]
    outs, o_tree, lin, _ = _linearize(fun, p_flat, in_tree, False)
    return _tree.unflatten(o_tree, outs), lin


def backward_pass(program: Program, cts_out, known=None, all_linear=False):
    """Transpose a linear program: cotangents of its outputs -> cotangents of its inputs (None = zero).

    `known` maps input vars that are not linear to their values (residuals);
    equations that use only known values are evaluated first, as a forward pass.
    `all_linear` says there are none (a reverse-mode tape records only equations on tangents).
    """
    env = dict(zip(program.constvars, program.consts))
    if known:
        env.update(known)
    if all_linear:
        linear_eqns = program.eqns
    else:
        linear_eqns = []
        for eqn in program.eqns:
            for v in eqn.invars:
                if type(v) is not Literal and v not in env:
                    linear_eqns.append(eqn)
                    break
            else:
                outs = eqn.prim.bind(*[v.value if type(v) is Literal else env[v] for v in eqn.invars],
                                     **eqn.params)
                for v, o in zip(eqn.outvars, outs if eqn.prim.multiple_results else [outs]):
                    env[v] = o
    ct_env = {}
    for v, ct in zip(program.outvars, cts_out):
        if v is not None:
            _add_ct(ct_env, env, v, ct)
    pop, get = ct_env.pop, env.get
    outer = state.source
    try:
        for eqn in reversed(linear_eqns):  # the hot loop of every eager grad: kept flat
            prim = eqn.prim
            if prim.multiple_results:
                cts = [pop(v, None) for v in eqn.outvars]
                if all(c is None for c in cts):
                    continue
                ct_arg = [Zero(v.aval) if c is None else c for c, v in zip(cts, eqn.outvars)]
            else:
                ct_arg = pop(eqn.outvars[0], None)
                if ct_arg is None:
                    continue
            if prim.transpose is None:
                raise TypeError(f"reverse-mode differentiation does not support {prim.name}: it appeared "
                                f"applied to a tangent but has no transpose rule"
                                + (_NO_TRANSPOSE_HINTS.get(prim.name, '')))
            args = []
            for v in eqn.invars:
                if type(v) is Literal:
                    args.append(v.value)
                else:
                    x = get(v)  # env holds arrays, never None
                    args.append(UndefinedPrimal(v.aval) if x is None else x)
            if eqn.source is not None:  # transposed equations point at the user's line of the one they transpose
                state.source = eqn.source  # (the eager tape records no lines: nothing to do there)
            for v, ct in zip(eqn.invars, prim.transpose(ct_arg, *args, **eqn.params)):
                _add_ct(ct_env, env, v, ct)
    finally:
        state.source = outer
    return [ct_env.get(v) for v in program.invars]


def _add_ct(ct_env, env, v, ct):
    """Accumulate cotangent `ct` of var `v` (zeros, literals and known values take none)."""
    if ct is None or type(ct) is Zero or type(v) is Literal or v in env:
        return
    prev = ct_env.get(v)
    ct_env[v] = ct if prev is None else _add(prev, ct)


_NO_TRANSPOSE_HINTS = {
    'while': '; reverse-mode through fd.lax.while_loop needs a bounded trip count: use fd.lax.scan or '
             'fd.lax.fori_loop with static bounds',
}


def _add(a, b):
    return add_p.bind(a, b)


def vjp(fun, *primals, has_aux=False):
    """(fun(*primals), vjp_fn): vjp_fn(cotangent) returns a tuple of cotangents, one per primal.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> y, f_vjp = fd.vjp(lambda x: x * x, 3.0)
    >>> float(f_vjp(1.0)[0])
    6.0
    """
    p_flat, in_tree = _tree.flatten(tuple(primals))
    p_flat = [_as_array(p, 'vjp') for p in p_flat]
    outs, o_tree, lin, aux = _linearize(fun, p_flat, in_tree, has_aux)

    def vjp_fn(ct):
        ct_flat, ct_tree = _tree.flatten(ct)
        if ct_tree != o_tree:
            raise ValueError(f"vjp: the cotangent's structure {ct_tree} differs from the output's {o_tree}")
        ct_flat = [_as_array(c, 'vjp cotangent') for c in ct_flat]
        for c, a in zip(ct_flat, lin.out_avals):
            if c.shape != a.shape:
                raise ValueError(f"vjp: cotangent shape {shape_str(c.shape)} differs from the output's "
                                 f"{shape_str(a.shape)}")
        return _tree.unflatten(in_tree, _pull_back(lin, ct_flat))

    out = _tree.unflatten(o_tree, outs)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _pull_back(lin, ct_flat):
    """Cotangents of the inputs of a linearized function (zeros where none flowed), given its outputs'."""
    cts = lin.transpose([_cast_ct(c, a) for c, a in zip(ct_flat, lin.out_avals)])
    return [zeros_like_aval(a) if c is None else _cast_ct(c, a) for c, a in zip(cts, lin.in_avals)]


def _cast_ct(ct, aval):
    return ct if ct.dtype == aval.dtype else convert_element_type(ct, aval.dtype)


def _argnums_tuple(argnums, nargs, what):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(f"{what}: argnums {argnums} out of range for a call with {nargs} positional arguments")
    return single, tuple(n % nargs for n in nums)


def _check_differentiable(args, argnums, what, allow_int=False):
    if allow_int:
        return
    for n, a in zip(argnums, args):
        for leaf in _tree.leaves(a):
            dt = leaf.dtype if hasattr(leaf, 'dtype') else dtypes.python_scalar_dtype(leaf)
            if not dtypes.is_inexact(dt):
                path = next(p for p, lf in _tree.leaves_with_path(a) if lf is leaf)
                where = f"argument {n}" + (f" at {'/'.join(map(str, path))}" if path else '')
                raise TypeError(f"{what}: {where} has dtype {dt}, but differentiation needs floating inputs. "
                                f"Cast it (x.astype(fnp.float32)) or leave it out of argnums.")


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """A function returning (fun(*args), gradient of fun w.r.t. args[argnums]).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> v, g = fd.value_and_grad(lambda x: fnp.sum(x ** 2))(fnp.asarray([1.0, 2.0]))
    >>> float(v), g.tolist()
    (5.0, [2.0, 4.0])
    """
    plans = {}  # number of positional arguments -> (single, argnums normalised)

    @functools.wraps(fun)
    def value_and_grad_f(*args, **kwargs):
        plan = plans.get(len(args))
        if plan is None:
            plan = plans[len(args)] = _argnums_tuple(argnums, len(args), 'grad')
        single, nums = plan
        dyn = tuple(args[n] for n in nums)
        p_flat, in_tree = _tree.flatten(dyn)
        p_flat = [_as_array(p, 'grad') for p in p_flat]
        if not allow_int:
            for p in p_flat:
                if p.dtype not in dtypes._INEXACT:
                    _check_differentiable(dyn, nums, 'grad')  # raises, naming the argument

        def f_dyn(*dyn):
            full = list(args)
            for n, d in zip(nums, dyn):
                full[n] = d
            return fun(*full, **kwargs)

        outs, o_tree, lin, aux = _linearize(f_dyn, p_flat, in_tree, has_aux, created_at=_user_frame())
        if not o_tree.is_leaf():
            raise TypeError(f"grad requires a scalar output; got {type(_tree.unflatten(o_tree, outs)).__name__}. "
                            f"Use vjp or jacrev for non-scalar outputs, or has_aux=True to return extra values.")
        out = outs[0]
        if out.shape != ():
            raise TypeError(f"grad requires a scalar output; got shape {shape_str(out.shape)}; use vjp or jacrev")
        if not dtypes.is_inexact(out.dtype):
            raise TypeError(f"grad requires a floating output; got {out.dtype}")
        if dtypes.is_complex(out.dtype) and not holomorphic:
            raise TypeError("grad requires a real output; for a complex output pass holomorphic=True")
        g = _tree.unflatten(in_tree, _pull_back(lin, [full((), 1, out.dtype)]))
        g = g[0] if single else g
        return ((out, aux), g) if has_aux else (out, g)
    return value_and_grad_f


def grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """The gradient of a scalar function w.r.t. args[argnums] (a pytree like that argument).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> float(fd.grad(fnp.sin)(0.0))
    1.0
    >>> float(fd.grad(fd.grad(lambda x: x ** 3))(2.0))
    12.0
    """
    vg = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int)

    @functools.wraps(fun)
    def grad_f(*args, **kwargs):
        (out, g) = vg(*args, **kwargs)
        return (g, out[1]) if has_aux else g
    return grad_f


# --- Jacobians --------------------------------------------------------------------------------

def _std_basis(leaves):
    """The standard basis of the flattened leaves: one array per leaf, with a leading axis of total size."""
    sizes = [int(x.size) for x in leaves]
    total = sum(sizes)
    dt = dtypes.result_type(*[(x.dtype, False) for x in leaves])[0] if leaves else dtypes.float32
    trace = state.trace
    # a constant: unless a program is being built, it is made at once on the backend, as `full` does
    ident = default_namespace().eye(total, dtype=dt) if trace is None or not trace.staging else None
    basis, start = [], 0
    for x, n in zip(leaves, sizes):
        dtype = x.dtype if dtypes.is_inexact(x.dtype) else dt
        shape = (total,) + tuple(x.shape)
        if ident is None:
            basis.append(reshape(eye(total, n, k=-start, dtype=dtype), shape))
        else:
            basis.append(Array(ident[:, start:start + n].astype(dtype, copy=False).reshape(shape)))
        start += n
    return basis


def _split_jac(jac, lead_shape, in_leaves):
    """jac has the stacked basis axis first: one block per input leaf, shaped lead_shape + leaf.shape."""
    blocks, start = [], 0
    for leaf in in_leaves:
        n = int(leaf.size)
        lo, hi = [0] * jac.ndim, list(jac.shape)
        lo[0], hi[0] = start, start + n
        part = moveaxis(_slice(jac, lo, hi), 0, -1)
        blocks.append(reshape(part, tuple(lead_shape) + tuple(leaf.shape)))
        start += n
    return blocks


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    """Jacobian by forward mode (one JVP per input element, vectorised with vmap).

    Output: for each output leaf, the input structure with blocks of shape out.shape + in.shape.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> fd.jacfwd(lambda x: x ** 2)(fnp.asarray([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """
    from fn_dl.transforms.batching import vmap

    @functools.wraps(fun)
    def jac_f(*args, **kwargs):
        single, nums = _argnums_tuple(argnums, len(args), 'jacfwd')
        _check_differentiable([args[n] for n in nums], nums, 'jacfwd')
        dyn = tuple(_tree.map(lambda a: _as_array(a, 'jacfwd'), args[n]) for n in nums)
        in_leaves, in_tree = _tree.flatten(dyn)

        def f_dyn(*d):
            full = list(args)
            for n, v in zip(nums, d):
                full[n] = v
            return fun(*full, **kwargs)

        def push(basis_leaves):
            out = jvp(f_dyn, dyn, _tree.unflatten(in_tree, basis_leaves), has_aux=has_aux)
            return (out[1], out[2]) if has_aux else out[1]

        res = vmap(push, out_axes=(0, None) if has_aux else 0)(_std_basis(in_leaves))
        jac, aux = res if has_aux else (res, None)
        out_leaves, out_tree = _tree.flatten(jac)
        blocks = [_tree.unflatten(in_tree, _split_jac(o, o.shape[1:], in_leaves)) for o in out_leaves]
        blocks = [b[0] if single else b for b in blocks]
        result = _tree.unflatten(out_tree, blocks)
        return (result, aux) if has_aux else result
    return jac_f


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """Jacobian by reverse mode (one VJP per output element, vectorised with vmap).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> fd.jacrev(lambda x: fnp.sum(x ** 3))(fnp.asarray([1.0, 2.0])).tolist()
    [3.0, 12.0]
    """
    from fn_dl.transforms.batching import vmap

    @functools.wraps(fun)
    def jac_f(*args, **kwargs):
        single, nums = _argnums_tuple(argnums, len(args), 'jacrev')
        _check_differentiable([args[n] for n in nums], nums, 'jacrev', allow_int)
        dyn = tuple(args[n] for n in nums)

        def f_dyn(*d):
            full = list(args)
            for n, v in zip(nums, d):
                full[n] = v
            return fun(*full, **kwargs)

        res = vjp(f_dyn, *dyn, has_aux=has_aux)
        out, f_vjp = res[0], res[1]
        out_leaves, out_tree = _tree.flatten(out)
        out_leaves = [_as_array(o, 'jacrev') for o in out_leaves]
        basis = _std_basis(out_leaves)
        if len(out_leaves) == 1 and out_leaves[0].size == 1:
            # one output element (a scalar function): a single VJP, without the batching machinery
            shape = tuple(out_leaves[0].shape)
            in_leaves, in_tree = _tree.flatten(f_vjp(_tree.unflatten(out_tree, [reshape(basis[0], shape)])))
            per_in = [[reshape(c, shape + tuple(c.shape))] for c in in_leaves]
        else:
            cts = vmap(lambda *b: f_vjp(_tree.unflatten(out_tree, list(b))))(*basis)
            in_leaves, in_tree = _tree.flatten(cts)
            # in_leaves[j]: (M, *in_shape_j); regroup as out tree of in trees
            per_in = [_split_jac_rows(c, out_leaves) for c in in_leaves]
        blocks = []
        for i in range(len(out_leaves)):
            tree_i = _tree.unflatten(in_tree, [p[i] for p in per_in])
            blocks.append(tree_i[0] if single else tree_i)
        result = _tree.unflatten(out_tree, blocks)
        return (result, res[2]) if has_aux else result
    return jac_f


def _split_jac_rows(c, out_leaves):
    """c has shape (M, *in_shape); return one block per output leaf shaped out_shape + in_shape."""
    blocks, start = [], 0
    for o in out_leaves:
        n = int(o.size)
        lo, hi = [0] * c.ndim, list(c.shape)
        lo[0], hi[0] = start, start + n
        blocks.append(reshape(_slice(c, lo, hi), tuple(o.shape) + tuple(c.shape[1:])))
        start += n
    return blocks


def hessian(fun, argnums=0, has_aux=False, holomorphic=False):
    """The Hessian, as jacfwd(jacrev(fun)): forward-over-reverse, vectorised.

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> fd.hessian(lambda x: fnp.sum(x ** 3))(fnp.asarray([1.0, 2.0])).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    return jacfwd(jacrev(fun, argnums, has_aux=has_aux), argnums, has_aux=has_aux)



# --- programs: the rules of primitives that carry sub-programs (control flow, custom rules) --------

def jvp_program(program: Program, nonzero, force=None):
    """The JVP of a program, staged.

    Returns (jvp_prog, nz_out): jvp_prog(*primals, *tangents of the nonzero
    inputs) -> (*outs, *tangents of the outputs marked in nz_out), where nz_out
    says which output tangents are not structurally zero, or'ed with
    `force` (those are emitted as zeros).
    """
    n = len(program.invars)
    nz_out = []

    def f(*args):
        primals, ts = list(args[:n]), iter(args[n:])
        trace = JVPTrace(state.trace)
        ins = [JVPTracer(trace, p, next(ts)) if nz else p for p, nz in zip(primals, nonzero)]
        with set_trace(trace):
            try:
                outs = eval_program(program, ins)
            finally:
                trace.alive = False
        pairs = [trace.unwrap(o) for o in outs]
        nz_out[:] = [type(t) is not Zero or bool(force and force[i]) for i, (_, t) in enumerate(pairs)]
        return [p for p, _ in pairs] + [instantiate(t) for (_, t), nz in zip(pairs, nz_out) if nz]

    avals = program.in_avals
    prog = stage(f, avals + [a for a, nz in zip(avals, nonzero) if nz], name='jvp')
    return prog, list(nz_out)


def linearize_program(program: Program, nonzero):
    """Split a program's JVP into a primal part and a linear part.

    Returns (primal_prog, tangent_prog, n_res, nz_out): primal_prog(*primals) ->
    (*outs, *residuals); tangent_prog(*residuals, *nonzero tangents) -> tangent
    outs (structural zeros, marked False in nz_out, come out as zero literals).
    The primal part is computed by the parent trace (eagerly, or into an outer
    jit) and only the linear part goes on a reverse-mode tape.
    """
    box = {}

    def primal_fn(*primals):
        outs, _, lin, _ = _linearize(lambda *p: eval_program(program, p), list(primals), None, False,
                                     active=list(nonzero))
        box['lin'] = lin
        return outs + list(lin.program.consts)

    primal_prog = stage(primal_fn, program.in_avals, name='linearize')
    lin = box['lin'].program
    out_avals = box['lin'].out_avals
    outvars = []
    eqns = list(lin.eqns)
    for v, a in zip(lin.outvars, out_avals):
        if v is None:  # a zero tangent output: a literal zero array
            v = Literal(zeros_like_aval(a), a)
        outvars.append(v)
    tangent_prog = Program(lin.constvars + lin.invars, outvars, eqns)
    return primal_prog, tangent_prog, len(lin.constvars), [v is not None for v in lin.outvars]


def transpose_program(program: Program, linear):
    """Program(*known inputs, *cts of outputs) -> cts of the linear inputs (zeros instantiated)."""
    known_vars = [v for v, lin in zip(program.invars, linear) if not lin]
    lin_vars = [v for v, lin in zip(program.invars, linear) if lin]
    n_known = len(known_vars)
    lin_prog = Program(lin_vars, program.outvars, program.eqns, program.constvars, program.consts)

    def f(*args):
        known = dict(zip(known_vars, args[:n_known]))
        cts = backward_pass(lin_prog, list(args[n_known:]), known)
        return [zeros_like_aval(v.aval) if c is None else c for c, v in zip(cts, lin_vars)]

    return stage(f, [v.aval for v in known_vars] + program.out_avals, name='transpose')

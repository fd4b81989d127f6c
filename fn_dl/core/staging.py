"""The staging trace: records primitive calls into a `Program`.

With `partial=False` every call is recorded (what `jit` and `make_ir` do).
With `partial=True` only calls that touch one of its own tracers are
recorded and everything else is computed at once by the parent trace: this
is the cheap linear tape of reverse mode, where the primal math runs eagerly
and only the tangent math is recorded for transposition.
"""
from __future__ import annotations

from fn_dl.core.array import Array, Tracer
from fn_dl.core.aval import ShapedArray
from fn_dl.core.ir import Eqn, Literal, Program, Var
from fn_dl.core.primitive import eager_apply
from fn_dl.core.trace import Trace, _user_frame, leaked_tracer_error, set_trace, state


class StagingTracer(Tracer):
    __slots__ = ('var',)

    def __init__(self, trace, var):
        self._trace, self.var = trace, var

    @property
    def aval(self):
        return self.var.aval

    # read through to the aval in one step (rules ask for shapes and dtypes constantly)
    shape = property(lambda self: self.var.aval.shape)
    dtype = property(lambda self: self.var.aval.dtype)
    ndim = property(lambda self: len(self.var.aval.shape))
    weak_type = property(lambda self: self.var.aval.weak_type)


class StagingTrace(Trace):
    def __init__(self, parent, partial=False, name='staging', created_at=None):
        super().__init__(parent, created_at)
        self.partial = partial
        self.staging = self.staging or not partial
        self.name = name
        self.eqns = []
        self._const_ids = {}  # id(value) -> Var, so a captured array is one input
        self.constvars, self.consts = [], []
        self.arg_names = {}  # input Var -> how the user passed it, for error messages
        # an eager tape inlines the arrays its equations capture: nothing compiles it, so there is no
        # point in making each one a program input
        self.inline_consts = partial and parent is None

    def __repr__(self):
        return self.name

    def concretization_error(self, tracer):
        from fn_dl.core.trace import ConcretizationError
        deps = [self.arg_names[v] for v in self._inputs_of(tracer.var) if v in self.arg_names]
        origin = (f"argument {deps[0]}" if deps == [self.arg_names.get(tracer.var)] else
                  f"a value computed from argument{'s' if len(deps) > 1 else ''} {', '.join(deps)}" if deps else
                  "a traced value")
        return ConcretizationError(
            f"{self.name}: {origin} ({tracer.aval.str_short()}) is abstract while tracing, so it cannot be used "
            f"as a Python bool, int or index. Mark the argument static (static_argnums= / static_argnames=) if "
            f"its value should select the program, or use fd.lax.cond / fd.lax.fori_loop / fnp.where to keep "
            f"the choice inside the program.")

    def _inputs_of(self, var):
        """The input vars `var` depends on (walks the recorded equations backwards; for errors only)."""
        producer = {o: e for e in self.eqns for o in e.outvars}
        seen, stack, inputs = set(), [var], []
        while stack:
            v = stack.pop()
            if v in seen or type(v) is Literal:
                continue
            seen.add(v)
            if v in producer:
                stack.extend(producer[v].invars)
            else:
                inputs.append(v)
        return inputs

    def new_arg(self, aval: ShapedArray) -> StagingTracer:
        return StagingTracer(self, Var(aval))

    def process(self, prim, args, params):
        if self.partial:
            for a in args:  # any tracer of ours? (is_own, inlined: this runs for every primal op)
                if isinstance(a, Tracer):
                    if a._trace is self:
                        break
                    if not a._trace.alive:
                        raise leaked_tracer_error(a)
            else:
                if self.parent is None:  # the eager tape of grad: run the primal math at once
                    return eager_apply(prim, args, params)
                return self._pass_up(prim, args, params)
        invars = [a.var if type(a) is StagingTracer and a._trace is self else self.getvar(a) for a in args]
        out_avals = prim.out_avals([v.aval for v in invars], params)
        # the user's line, for programs that may be compiled (not the eager tape: it costs a frame walk)
        source = None if self.inline_consts else (state.source or _user_frame())
        if prim.multiple_results:
            outvars = [Var(a) for a in out_avals]
            self.eqns.append(Eqn(prim, invars, outvars, params, source))
            return [StagingTracer(self, v) for v in outvars]
        v = Var(out_avals[0])
        self.eqns.append(Eqn(prim, invars, [v], params, source))
        return StagingTracer(self, v)

    def _pass_up(self, prim, args, params):
        """A partial trace hands calls that do not touch its tracers to its parent."""
        prev, state.trace = state.trace, self.parent
        try:
            return prim.bind(*args, **params)
        finally:
            state.trace = prev

    def getvar(self, x):
        if isinstance(x, Tracer):  # is_own, inlined
            if x._trace is self:
                return x.var
            if not x._trace.alive:
                raise leaked_tracer_error(x)
        if not isinstance(x, Array):
            raise TypeError(f"{self!r}: cannot stage a {type(x).__name__}; expected an fn_dl Array")
        if type(x) is Array and (self.inline_consts or x.ndim == 0):
            return Literal(x, x.aval)
        var = self._const_ids.get(id(x))
        if var is None:
            var = self._const_ids[id(x)] = Var(x.aval.strong())
            self.constvars.append(var)
            self.consts.append(x)
        return var

    def to_program(self, in_tracers, outs) -> Program:
        invars = [t.var for t in in_tracers]
        outvars = [self.getvar(x) for x in outs]
        return Program(invars, outvars, self.eqns, self.constvars, self.consts)


def stage(fun, in_avals, parent=None, name='staging', arg_names=None):
    """Trace `fun` (taking and returning flat lists of arrays) into a Program.

    `parent` is the trace that will see the captured values; by default the
    current one. `arg_names` label the inputs in error messages.
    """
    parent = state.trace if parent is None else parent
    trace = StagingTrace(parent, partial=False, name=name)
    args = [trace.new_arg(a) for a in in_avals]
    if arg_names:
        trace.arg_names = {t.var: n for t, n in zip(args, arg_names)}
    with set_trace(trace):
        try:
            outs = fun(*args)
        finally:
            trace.alive = False
    return trace.to_program(args, outs)


def close_over(fun, in_avals, parent=None, name='staging', arg_names=None):
    """Stage `fun` and turn its captured values into leading inputs (closure conversion).

    Returns (program, consts): program takes (*consts, *args) and has no
    constvars, so a primitive that carries it (cond, scan, ...) receives the
    captured values as ordinary operands, which every transform then sees.
    """
    prog = stage(fun, in_avals, parent, name, arg_names)
    closed = Program(prog.constvars + prog.invars, prog.outvars, prog.eqns)
    return closed, list(prog.consts)

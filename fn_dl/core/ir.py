"""fn_dl's IR: a program is a list of primitive equations over typed variables.

The same structure holds a jitted function (everything staged) and the
linear tape of reverse mode (only the tangent computation staged). It prints
readably and `eval_program` runs it by binding each primitive under the
current trace, which makes it the jit fallback interpreter, the forward pass
of `linearize`, and how transforms of a jitted function see through it.
"""
from __future__ import annotations

import itertools

from fn_dl.core.aval import ShapedArray
from fn_dl.core.trace import state


class Var:
    __slots__ = ('aval',)

    def __init__(self, aval: ShapedArray):
        self.aval = aval

    def __repr__(self):
        return f"Var<{self.aval.str_short()}>"


class Literal:
    """A constant inlined in an equation (a Python scalar or small array)."""
    __slots__ = ('value', 'aval')

    def __init__(self, value, aval: ShapedArray):
        self.value, self.aval = value, aval

    def __repr__(self):
        from fn_dl.core.array import Array
        v = self.value
        if isinstance(v, Array) and v.ndim == 0:
            v = v.item()
        return f"{v}" if not isinstance(v, Array) else f"const<{self.aval.str_short()}>"


class Eqn:
    # source: (code, line) of the user's code that made it, for compile errors and XLA's op metadata; None
    # on the eager tape of grad, which is never compiled
    __slots__ = ('prim', 'invars', 'outvars', 'params', 'source')

    def __init__(self, prim, invars, outvars, params, source=None):
        self.prim, self.invars, self.outvars, self.params, self.source = prim, invars, outvars, params, source

    def __repr__(self):
        return f"Eqn({self.prim.name})"


class Program:
    """`invars` -> `outvars` through `eqns`; `constvars` are bound to `consts` (captured arrays)."""
    __slots__ = ('invars', 'outvars', 'eqns', 'constvars', 'consts', 'cache')

    def __init__(self, invars, outvars, eqns, constvars=(), consts=()):
        self.invars, self.outvars, self.eqns = list(invars), list(outvars), list(eqns)
        self.constvars, self.consts = list(constvars), list(consts)
        # what transforms derive from this program (its JVP, transpose, executable...), so repeated
        # use of a jitted function derives and compiles each of them once
        self.cache = {}

    @property
    def in_avals(self):
        return [v.aval for v in self.invars]

    @property
    def out_avals(self):
        return [v.aval for v in self.outvars]

    def __call__(self, *args):
        return eval_program(self, args)

    def __str__(self):
        return pretty(self)

    __repr__ = __str__


def eval_program(program: Program, args):
    """Run `program` on `args`, binding each primitive under the current trace."""
    env = {}
    for v, x in zip(program.constvars, program.consts):
        env[v] = x
    for v, x in zip(program.invars, args):
        env[v] = x

    def read(a):
        return a.value if type(a) is Literal else env[a]

    outer = state.source
    try:
        for eqn in program.eqns:
            state.source = eqn.source or outer
            out = eqn.prim.bind(*map(read, eqn.invars), **eqn.params)
            if eqn.prim.multiple_results:
                for v, o in zip(eqn.outvars, out):
                    env[v] = o
            else:
                env[eqn.outvars[0]] = out
    finally:
        state.source = outer
    return [read(v) for v in program.outvars]


# --- printing ---------------------------------------------------------------

def _names():
    for n in itertools.count():
        s, n = '', n
        while True:
            s = chr(ord('a') + n % 26) + s
            n = n // 26 - 1
            if n < 0:
                break
        yield s


def pretty(program: Program, indent: int = 0) -> str:
    names, gen = {}, _names()

    def name(v):
        if type(v) is Literal:
            return repr(v)
        if v not in names:
            names[v] = next(gen)
        return names[v]

    def decl(v):
        return f"{name(v)}:{v.aval.str_short()}"

    pad = ' ' * indent
    lines = []
    head = ', '.join(map(decl, program.invars))
    consts = ', '.join(map(decl, program.constvars))
    lines.append(f"{pad}{{ lambda {consts + ' ; ' if consts else ''}{head} .")
    for eqn in program.eqns:
        outs = ' '.join(map(decl, eqn.outvars))
        params = []
        subs = []
        for k, p in eqn.params.items():
            if isinstance(p, Program):
                subs.append((k, p))
            elif isinstance(p, (tuple, list)) and p and all(isinstance(q, Program) for q in p):
                subs.extend((f"{k}[{i}]", q) for i, q in enumerate(p))
            else:
                params.append(f"{k}={_param_str(p)}")
        args = ' '.join(map(name, eqn.invars))
        lines.append(f"{pad}  {outs} = {eqn.prim.name}[{', '.join(params)}] {args}".replace('[] ', ' '))
        for k, sub in subs:
            lines.append(f"{pad}    {k}:")
            lines.append(pretty(sub, indent + 6))
    lines.append(f"{pad}  in ({', '.join(map(name, program.outvars))}) }}")
    return '\n'.join(lines)


def _param_str(p):
    if hasattr(p, 'name') and not isinstance(p, (str, tuple)):
        return p.name
    if callable(p):
        return getattr(p, '__name__', type(p).__name__)
    return repr(p)

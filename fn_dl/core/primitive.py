"""`Primitive`: one operation of the closed "lax-level" set, carrying all its rules.

A primitive is defined once, in one module of `fn_dl.ops`, with:

- `impl(xp, *values, **params)`: the eager implementation on the array
  namespace `xp` (NumPy or CuPy: one code path for both);
- `abstract_eval(*avals, **params)`: shape/dtype rule, and the place where
  bad input gets its error message;
- `jvp(primals, tangents, **params) -> (primal_out, tangent_out)`;
- `transpose(cts, *args, **params)`: for linear primitives (reverse mode);
- `batch(args, dims, **params) -> (out, out_dim)`: the vmap rule;
- `lower`: the StableHLO lowering (used by jit).

`tests/test_registry.py` enumerates `PRIMITIVES` and fails for a primitive
missing a rule it should have.
"""
from __future__ import annotations

import operator

from fn_dl.core import trace as _trace
from fn_dl.core.array import Array, Tracer
from fn_dl.core.aval import ShapedArray, describe

PRIMITIVES: dict[str, 'Primitive'] = {}

_AVAL_CACHE: dict = {}  # (primitive, *in avals, *params) -> out avals; see Primitive.out_avals
_AVAL_CACHE_SIZE = 8192

_state = _trace.state


class Primitive:
    __slots__ = ('name', 'multiple_results', 'impl', 'abstract_eval', 'jvp', 'transpose',
                 'batch', 'lower', 'linear', 'differentiable', 'doc')

    def __init__(self, name, *, multiple_results=False, linear=False, differentiable=True):
        if name in PRIMITIVES:
            raise ValueError(f"primitive {name!r} is defined twice")
        self.name = name
        self.multiple_results = multiple_results
        self.linear = linear                  # has a transpose rule
        self.differentiable = differentiable  # False: integer/boolean outputs only
        self.impl = self.abstract_eval = self.jvp = self.transpose = self.batch = self.lower = None
        PRIMITIVES[name] = self

    def bind(self, *args, **params):
        trace = _state.trace
        if trace is None:
            return eager_apply(self, args, params)
        return trace.process(self, args, params)

    # decorators, so a rule reads `@exp_p.def_jvp` right under its definition
    def def_impl(self, f):
        self.impl = f
        return f

    def def_abstract_eval(self, f):
        self.abstract_eval = f
        return f

    def def_jvp(self, f):
        self.jvp = f
        return f

    def def_transpose(self, f):
        self.transpose = f
        self.linear = True
        return f

    def def_batch(self, f):
        self.batch = f
        return f

    def def_lower(self, f):
        self.lower = f
        return f

    def out_avals(self, avals, params) -> list[ShapedArray]:
        if self.multiple_results:
            # not memoised: these are the primitives carrying programs (control flow, custom rules, jit),
            # which a memo would keep alive with their captured constants
            return self.abstract_eval(*avals, **params)
        # memoised per signature: staging (the grad tape, jit tracing) asks for the same few
        # signatures over and over, and shape rules cost more than a dict lookup
        try:
            # avals by their fields: hashing and comparing tuples stays in C (ShapedArray's methods are Python)
            key = (self, *[(a.shape, a.dtype, a.weak_type) for a in avals], *params.items())
            out = _AVAL_CACHE.get(key)
        except TypeError:  # an unhashable parameter
            return [self.abstract_eval(*avals, **params)]
        if out is None:
            out = [self.abstract_eval(*avals, **params)]
            if len(_AVAL_CACHE) >= _AVAL_CACHE_SIZE:
                _AVAL_CACHE.clear()
            _AVAL_CACHE[key] = out
        return out

    def __repr__(self):
        return self.name


def eager_apply(prim: Primitive, args, params):
    """The eager interpreter: run the impl on the backend namespace."""
    try:
        vals = [*map(_value_of, args)]  # map over a C getter: no comprehension frame
    except AttributeError:
        raise _bad_eager_arg(prim, args) from None
    xp = (_NAMESPACES.get(type(vals[0])) or namespace_of(vals[0])) if vals else _default[0]
    try:
        out = prim.impl(xp, *vals, **params)
    except Exception as e:
        raise _eager_error(prim, args, params, e) from e
    if prim.multiple_results:
        return [Array(o) for o in out]
    return Array(out)


_value_of = operator.attrgetter('_value')

# Backend namespaces by the type of the raw value: one dict lookup per call.
_NAMESPACES: dict[type, object] = {}
_default = []


def register_namespace(value_types, ns, default=False):
    for t in value_types:
        _NAMESPACES[t] = ns
    if default:
        _default[:] = [ns]


def namespace_of(value):
    ns = _NAMESPACES.get(type(value))
    if ns is None:
        if hasattr(type(value), 'error'):  # a donated array's placeholder explains itself
            raise value.error()
        raise TypeError(f"no fn_dl backend handles values of type {type(value).__name__}")
    return ns


def default_namespace():
    return _default[0]


def _bad_eager_arg(prim, args):
    for a in args:
        if isinstance(a, Tracer):
            return _trace.leaked_tracer_error(a)
        if not isinstance(a, Array):
            return TypeError(f"{prim.name}: expected fn_dl Arrays, got {type(a).__name__}; "
                             f"convert with fn_dl.numpy.asarray")
    return TypeError(f"{prim.name}: bad arguments")


def _eager_error(prim, args, params, e):
    """Re-raise a backend failure as an fn_dl error naming the op and the shapes."""
    avals = [a.aval for a in args]
    if prim.abstract_eval is not None:
        try:
            prim.abstract_eval(*avals, **params)
        except (TypeError, ValueError) as rule_error:
            return rule_error
    return type(e)(f"{prim.name} failed on {describe(avals)}: {e}") if isinstance(e, (TypeError, ValueError)) \
        else e

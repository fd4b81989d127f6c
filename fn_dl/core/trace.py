"""The trace context: which interpreter handles a primitive call right now.

This is the "stackless" design of JAX (autodidax2): one thread-local slot
holds the current trace; `Primitive.bind` hands the call to it. A trace
processes the call with its rule and binds whatever it computes under its
*parent* trace. `None` is the eager interpreter: the primitive's impl runs on
the backend at once. Tracers are tagged with their trace, so nested
transforms never confuse their values; a trace is marked dead when its
transform returns, so a leaked tracer is caught at its next use.
"""
from __future__ import annotations

import os
import sys
import threading

from fn_dl.core.array import Array, Tracer
from fn_dl.core.aval import ShapedArray


class _State(threading.local):
    trace = None  # the current Trace, or None for eager
    # where in the user's code the equation being re-bound came from (eval_program, backward_pass), so that
    # equations derived from it (its JVP, transpose, batched form) point there too
    source = None


state = _State()


def current_trace():
    return state.trace


def in_transform() -> bool:
    """Whether a transform (grad, vmap, jit, ...) is active, as opposed to eager execution."""
    t = state.trace
    return t is not None and t.is_transform


class set_trace:
    """`with set_trace(t):` makes t current (None = eager) for the block."""
    __slots__ = ('new', 'prev')

    def __init__(self, trace):
        self.new = trace

    def __enter__(self):
        self.prev = state.trace
        state.trace = self.new

    def __exit__(self, *exc):
        state.trace = self.prev


class ConcretizationError(TypeError):
    """A traced value was used where a concrete Python value is needed."""


class UnexpectedTracerError(Exception):
    """A tracer was used outside the transform that created it."""


class Trace:
    """Base of every interpreter (jvp, batching, staging).

    Subclasses implement `process(prim, args, params)`.
    """
    is_transform = True  # False for eager interpreters with extra checks (debug_nans)
    def __init__(self, parent, created_at=None):
        self.parent = parent
        self.alive = True
        self.created_at = _user_frame() if created_at is None else created_at
        # True when some trace on the way to eager is building a program (jit): constants made
        # here must then be staged as operations rather than materialised
        self.staging = parent is not None and parent.staging

    def process(self, prim, args, params):
        raise NotImplementedError  # abstract: every subclass defines it

    def is_own(self, x) -> bool:
        if isinstance(x, Tracer):
            if x._trace is self:
                return True
            if not x._trace.alive:
                raise leaked_tracer_error(x)
        return False

    def concretization_error(self, tracer) -> Exception:
        return ConcretizationError(
            f"{tracer.aval.str_short()} is an abstract value inside {self!r}; it has no concrete value "
            f"to use as a Python bool, int or index. Use fn_dl.numpy.where or fd.lax.cond/select instead "
            f"of Python control flow on it.")

    def __repr__(self):
        return f"{type(self).__name__}"


def leaked_tracer_error(tracer) -> UnexpectedTracerError:
    t = tracer._trace
    return UnexpectedTracerError(
        f"A value traced by {t!r} (shape {tracer.aval.shape}, dtype {tracer.aval.dtype}) was used after its "
        f"transform returned: the transform was entered at {format_frame(t.created_at)}. Values computed inside grad/vmap/jit "
        f"must be returned from the transformed function, not stored in globals or on objects.")


def _user_frame():
    """Where the user entered the transform, for error messages: (code, line) of the first frame outside
    fn_dl, formatted only when an error needs it (this runs for every trace, so it must be cheap)."""
    f = sys._getframe(1)
    while f is not None:
        code = f.f_code
        inside = _IN_PKG.get(code)
        if inside is None:
            if len(_IN_PKG) > 4096:  # code compiled at run time (exec) must not pile up
                _IN_PKG.clear()
            inside = _IN_PKG[code] = _PKG_DIR in code.co_filename
        if not inside:
            return code, f.f_lineno
        f = f.f_back
    return None


def format_frame(where) -> str:
    if where is None:
        return "<unknown>"
    code, line = where
    return f"{code.co_filename}:{line} ({code.co_name})"


_IN_PKG: dict = {}  # code object -> whether it is fn_dl's own


_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def aval_of(x) -> ShapedArray:
    if isinstance(x, Tracer):
        return x.aval
    if isinstance(x, Array):
        v = x._value
        return ShapedArray(v.shape, v.dtype)
    raise TypeError(f"expected an fn_dl Array, got {type(x).__name__}")

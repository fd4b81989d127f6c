"""jit: trace a function to a Program, lower it to StableHLO, compile it with XLA, cache it.

A call looks up (argument structure, shapes, dtypes, weak types, static
arguments) in the function's cache; a hit runs the executable directly on
device buffers. Arrays already on the device (jit outputs, arrays passed to a
jitted call before) carry their signature and buffer, so a hit on them skips
most of that work (see `Jitted.__call__`). Under another transform, the call
binds the `jit` primitive with the traced program, whose rules (JVP,
transpose, batching) derive new programs, each cached on its parent and
compiled once.
"""
from __future__ import annotations

import functools
import inspect
import logging
import operator
import time

import numpy as np
from optree import tree_flatten as _flatten

from fn_dl._config import config
from fn_dl import tree as _tree
from fn_dl.core import dtypes
from fn_dl.core.array import Array, Tracer
from fn_dl.core.aval import ShapedArray
from fn_dl.core.ir import Eqn, Program, eval_program
from fn_dl.core.primitive import Primitive
from fn_dl.core.staging import close_over
from fn_dl.core.trace import set_trace, state
from fn_dl.numpy._util import asarray as _asarray

logger = logging.getLogger('fn_dl.jit')

# --- the jit primitive ------------------------------------------------------------------------

jit_p = Primitive('jit', multiple_results=True)


def _executable(program: Program, name, donated=frozenset(), backend=None):
    """The compiled executable of a closed program (cached on it), or an interpreter if XLA is unavailable."""
    key = ('exe', donated, backend)
    exe = program.cache.get(key)
    if exe is None:
        exe = program.cache[key] = Executable(program, name, backend, donated)
    return exe


@jit_p.def_impl
def _jit_impl(xp, *vals, program, name):
    return [o._value for o in _executable(program, name)([Array(v) for v in vals])]


jit_p.abstract_eval = lambda *avals, program, name: program.out_avals


def _derived(program, key, make):
    out = program.cache.get(key)
    if out is None:
        out = program.cache[key] = make()
    return out


@jit_p.def_jvp
def _jit_jvp(primals, tangents, *, program, name):
    from fn_dl.core.ad_util import Zero
    from fn_dl.transforms.ad import linearize_program
    nz = tuple(type(t) is not Zero for t in tangents)
    primal_prog, tangent_prog, n_res, nz_out = _derived(program, ('linearize', nz),
                                                        lambda: linearize_program(program, list(nz)))
    n_out = len(program.outvars)
    outs = jit_p.bind(*primals, program=primal_prog, name=name)
    res = outs[n_out:]
    t_out = jit_p.bind(*res, *[t for t in tangents if type(t) is not Zero], program=tangent_prog,
                       name=f'jvp_{name}')
    return outs[:n_out], [t if on else Zero(t.aval) for t, on in zip(t_out, nz_out)]


@jit_p.def_transpose
def _jit_transpose(cts, *args, program, name):
    from fn_dl.core.ad_util import is_undefined
    from fn_dl.transforms.ad import instantiate, transpose_program
    linear = tuple(is_undefined(a) for a in args)
    tprog = _derived(program, ('transpose', linear), lambda: transpose_program(program, list(linear)))
    known = [a for a in args if not is_undefined(a)]
    ct_in = iter(jit_p.bind(*known, *[instantiate(c) for c in cts], program=tprog, name=f'transpose_{name}'))
    return [next(ct_in) if lin else None for lin in linear]


@jit_p.def_batch
def _jit_batch(args, dims, *, program, name):
    from fn_dl.transforms.batching import batch_program
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    prog_b, out_dims = _derived(program, ('batch', tuple(dims), size),
                                lambda: batch_program(program, list(dims), size))
    return jit_p.bind(*args, program=prog_b, name=f'vmap_{name}'), out_dims


jit_p.lower = lambda ctx, *args, program, name: ctx.lower_program(program, list(args))  # nested jit: inline


# --- compiled executables ------------------------------------------------------------------------

class Executable:
    """A closed program compiled by XLA (or interpreted when XLA is unavailable or asked off)."""

    def __init__(self, program: Program, name, backend=None, donated=frozenset()):
        from fn_dl.backends.xla import _pjrt
        from fn_dl.backends.xla.lowering import (donation_aliases, host_dtype, lower_module, prefers_wide_vectors,
                                                 with_user_lines)
        self.program, self.name = program, name
        self.donated = sorted(donation_aliases(program, donated)) if donated else []
        self._donated_marker = Donated(name)  # what the donated arrays hold after a run (one, shared: immutable)
        self.out_avals = program.out_avals
        self.interpret = backend == 'interpreter' or not _pjrt.available()
        if self.interpret:
            return
        start = time.perf_counter()
        self.text = lower_module(program, name, self.donated)
        try:
            self.exe = _pjrt.compile(self.text, prefers_wide_vectors(program))
        except _pjrt.CompileError as e:
            raise _pjrt.CompileError(f"XLA could not compile jitted function {name}: "
                                     f"{with_user_lines(str(e), self.text)}") from None
        if config.log_compiles:
            logger.warning("compiled %s in %.3f s", name, time.perf_counter() - start)
        self.in_host = [host_dtype(v.aval.dtype) for v in program.invars]
        # an output's (shape, dtype) is its Array's signature (_lazy); it is known here, once
        self.out_keys = [(tuple(a.shape), a.dtype) for a in self.out_avals]
        self.execute = _pjrt.executor(self.exe, [(s, host_dtype(d)) for s, d in self.out_keys])
        self._to_device = _pjrt.to_device

    def __call__(self, args):
        """Run on a list of arrays, one per program input; returns Arrays."""
        if self.interpret:
            with set_trace(None):
                return eval_program(self.program, args)
        outs = self.run(self.buffers(args))
        self.mark_donated(args)
        return outs

    def buffers(self, args, start=0):
        """The device buffers of the inputs from position `start` on, `args`, transferred on first use."""
        return [_buffer(a, h, self._to_device) for a, h in zip(args, self.in_host[start:])]

    def run(self, buffers):
        """Run on device buffers; returns Arrays holding the output buffers (their host views are made lazily)."""
        outs = []
        for buf, key in zip(self.execute(buffers), self.out_keys):
            arr = _new_array(Array)
            arr._buf = buf  # the next jitted call takes it as is: no transfer, and no host view yet
            arr._lazy = key
            outs.append(arr)
        return outs

    def mark_donated(self, args):
        """After a run: XLA now owns the donated inputs' memory (an output may live there), so those arrays must
        not be read again."""
        for i in self.donated:
            args[i]._value = self._donated_marker
            del args[i]._buf


_new_array = object.__new__


class Donated:
    """What a donated array holds afterwards: any use raises a clear error."""
    __slots__ = ('fn',)

    def __init__(self, fn):
        self.fn = fn

    def error(self):
        return RuntimeError(f"this array was donated to jitted function {self.fn} (donate_argnums) and XLA reused "
                            f"its memory; use that call's outputs instead")

    def __getattr__(self, name):
        raise self.error()


def _buffer(a, host_dt, to_device):
    """The device buffer of an array, made (and kept on it) on first use."""
    try:
        return a._buf
    except AttributeError:
        pass
    v = np.asarray(a._host())
    buf = to_device(v.view(host_dt) if v.dtype != host_dt else v)
    # kept for the next jitted call (parameters across steps), with the signature the call's fast path reads
    a._buf, a._lazy = buf, (v.shape, v.dtype)
    return buf


# --- the user-facing transform --------------------------------------------------------------------

class Lowered:
    """The result of `jitted.lower(*args)`: the StableHLO text, and compile()."""

    def __init__(self, program, name):
        self.program, self.name = program, name

    def as_text(self):
        from fn_dl.backends.xla.lowering import lower_module
        return lower_module(self.program, self.name)

    def compile(self):
        return _executable(self.program, self.name)


def _leaf_key(x):
    if type(x) is Array:
        try:
            return x._lazy  # a jit output: known without making its host view
        except AttributeError:
            v = x._value
            return v.shape, v.dtype
    if isinstance(x, Tracer):
        a = x.aval
        return a.shape, a.dtype, a.weak_type
    if isinstance(x, Array):  # a Parameter
        return x.shape, x.dtype
    if isinstance(x, (bool, int, float, complex)):
        return type(x)
    if isinstance(x, (np.ndarray, np.generic)):
        return np.shape(x), x.dtype
    raise TypeError(f"jit: arguments must be arrays, Python numbers or pytrees of them, got {type(x).__name__}; "
                    f"mark non-array arguments static with static_argnums/static_argnames")


def _check_hashable(what, value):
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"jit: static argument {what} of type {type(value).__name__} is not hashable; static "
                        f"arguments key the compilation cache (use a tuple instead of a list, or pass arrays as "
                        f"dynamic arguments)") from None


_NO_KWARGS = {}
# what the fast path reads of a leaf, without a Python frame per leaf
_signature_of, _buffer_of = operator.attrgetter('_lazy'), operator.attrgetter('_buf')


class _Entry:
    """One traced signature: its program, captured values, output structure and (once run) its executable."""
    __slots__ = ('program', 'consts', 'out_tree', 'name', 'unflatten', 'executable', 'const_bufs')

    def __init__(self, program, consts, out_tree, name):
        self.program, self.consts, self.out_tree, self.name = program, consts, out_tree, name
        # a lone output is returned as is, without rebuilding its trivial tree
        self.unflatten = operator.itemgetter(0) if out_tree.is_leaf() else out_tree.unflatten
        self.executable = self.const_bufs = None

    def compile(self, donated, backend):
        exe = self.executable = _executable(self.program, self.name, donated, backend)
        if not exe.interpret:
            # the captured arrays are the same on every call: their buffers are looked up once
            self.const_bufs = exe.buffers(self.consts)

    def run(self, leaves, bufs):
        """Run the compiled program on the arguments' leaves, given their device buffers."""
        exe = self.executable
        try:
            outs = exe.run(self.const_bufs + bufs)
        except Exception:
            _raise_if_donated(self.consts)  # another call took a captured array's buffer: say so, not XLA's words
            raise
        if exe.donated:
            exe.mark_donated([*self.consts, *leaves])
        return self.unflatten(outs)


def _raise_if_donated(arrays):
    for a in arrays:
        try:
            v = object.__getattribute__(a, '_value')
        except AttributeError:  # a jit output not yet read on the host: not donated
            continue
        if type(v) is Donated:
            raise v.error()


class Jitted:
    def __init__(self, fun, static_argnums=(), static_argnames=(), donate_argnums=(), backend=None):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        self.static_argnames = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
        self.donate_argnums = (donate_argnums,) if isinstance(donate_argnums, int) else tuple(donate_argnums)
        self.backend = backend
        self._cache = {}
        # The cache-hit fast path's index into _cache (see __call__): (treedef, leaf signatures) -> entry, or for
        # calls whose arguments are all arrays, the leaf signatures alone.
        self._hits = {}
        try:
            self._signature = inspect.signature(fun)
        except (TypeError, ValueError):
            self._signature = None

    def _cache_size(self):
        return len(self._cache)

    def __call__(self, *args, **kwargs):
        # The fast path: positional arrays (or pytrees of them) already on the device, with a signature seen
        # before. Each leaf costs two slot reads, its signature `_lazy` ((shape, dtype): arrays are never
        # weakly typed) and its buffer `_buf`; a Python number, host array or donated array lacks one of them
        # and takes the general path, as do keyword arguments and calls under another transform.
        flat = None
        if not kwargs and state.trace is None:
            try:
                try:  # arrays only: no pytree flattening, which would cost more than all the rest
                    leaves, key = args, tuple(map(_signature_of, args))
                except AttributeError:
                    flat = leaves, treedef = _flatten(args, none_is_leaf=False, namespace=_tree.NAMESPACE)
                    key = treedef, tuple(map(_signature_of, leaves))
                entry = self._hits[key]
                bufs = list(map(_buffer_of, leaves))
            except (AttributeError, KeyError):
                pass
            else:
                return entry.run(leaves, bufs)
        return self._call(args, kwargs, flat)

    def _call(self, args, kwargs, flat=None):
        entry, key, leaves = self._entry(args, kwargs, flat)
        arrays = leaves_as_arrays(leaves)
        if state.trace is not None:
            return entry.unflatten(jit_p.bind(*entry.consts, *arrays, program=entry.program, name=entry.name))
        if entry.executable is None:
            entry.compile(self._donated(args, entry), self.backend)
        exe = entry.executable
        if exe.interpret:
            return entry.unflatten(exe(entry.consts + arrays))
        out = entry.run(arrays, exe.buffers(arrays, len(entry.consts)))
        treedef, kw_tree, _, static, skw = key
        if (kw_tree is None and not static and not skw and self._cache.get(key) is entry
                and all(a is x for a, x in zip(arrays, leaves))):
            # every leaf is an array and now holds its buffer and signature: the next such call takes the fast
            # path, under the key __call__ will compute
            all_arrays = all(isinstance(a, Array) for a in args)
            sig = tuple(map(_signature_of, leaves))
            self._hits[sig if all_arrays else (treedef, sig)] = entry
        return out

    def _split(self, args, kwargs):
        n = len(args)
        static = tuple((i, args[i]) for i in self.static_argnums if -n <= i < n)
        for i, v in static:
            _check_hashable(f"{i}", v)
        static_idx = {i % n for i, _ in static}
        dyn = tuple(a for i, a in enumerate(args) if i not in static_idx)
        skw = tuple(sorted((k, v) for k, v in kwargs.items() if k in self.static_argnames))
        for k, v in skw:
            _check_hashable(repr(k), v)
        dkw = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        return static, static_idx, dyn, skw, dkw

    def _entry(self, args, kwargs, flat=None):
        """The cache entry of a call (traced on a miss), its cache key and the leaves of its dynamic arguments.

        flat: the (leaves, treedef) of args, if the caller has flattened them already.
        """
        if kwargs or self.static_argnums:
            static, static_idx, dyn, skw, dkw = self._split(args, kwargs)
            flat = None  # of the dynamic arguments only
        else:
            static, static_idx, dyn, skw, dkw = (), (), args, (), _NO_KWARGS
        leaves, treedef = flat or _flatten(dyn, none_is_leaf=False, namespace=_tree.NAMESPACE)
        kw_tree = None
        if dkw:  # flattened apart from the positional arguments: flattening even an empty dict costs microseconds
            kw_leaves, kw_tree = _flatten(dkw, none_is_leaf=False, namespace=_tree.NAMESPACE)
            leaves = leaves + kw_leaves
        key = (treedef, kw_tree, tuple(map(_leaf_key, leaves)), static, skw)
        entry = self._cache.get(key)
        if entry is None:
            if config.explain_cache_misses and self._cache:
                logger.warning("jit(%s): cache miss: %s", self.__name__, _explain(key, list(self._cache)))
            entry = self._trace(args, static_idx, skw, leaves, treedef, kw_tree)
            # a program that captured another transform's tracers is valid only inside that transform
            if not any(isinstance(c, Tracer) for c in entry.consts):
                self._cache[key] = entry
        return entry, key, leaves

    def _trace(self, args, static_idx, skw, leaves, treedef, kw_tree):
        from fn_dl.numpy import asarray
        in_avals = []
        for x in leaves:
            if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
                in_avals.append(ShapedArray((), dtypes.python_scalar_dtype(x), True))  # weakly typed
            else:
                in_avals.append(x.aval if isinstance(x, Array) else
                                ShapedArray(np.shape(x), dtypes.canonicalize(x.dtype)))
        box = {}
        n = len(args)

        def flat_fun(*tracers):
            d, dk = _unflatten_args(treedef, kw_tree, tracers)
            it = iter(d)
            full = [args[i] if i in static_idx else next(it) for i in range(n)]
            out = self.fun(*full, **dict(skw), **dk)
            o_leaves, box['tree'] = _tree.flatten(out)
            return [asarray(o) for o in o_leaves]

        name = getattr(self.fun, '__name__', 'fun')
        program, consts = close_over(flat_fun, in_avals, parent=state.trace, name=f'jit({name})',
                                     arg_names=self._leaf_names(args, static_idx, treedef, kw_tree, len(leaves)))
        return _Entry(simplify(program), consts, box['tree'], name)

    def _donated(self, args, entry):
        """Program input indices of the leaves of donate_argnums (each array donated once)."""
        if not self.donate_argnums:
            return frozenset()
        n = len(args)
        static_idx = {i % n for i in self.static_argnums if -n <= i < n}
        start, positions = len(entry.consts), {}
        for i, a in enumerate(args):
            if i in static_idx:
                continue
            k = len(_tree.leaves(a))
            positions[i] = range(start, start + k)
            start += k
        donated = set()
        for i in self.donate_argnums:
            if i % n in static_idx:
                raise ValueError(f"jit: argument {i} is both static and donated")
            donated.update(positions.get(i % n, ()))
        return frozenset(donated)

    def _leaf_names(self, args, static_idx, treedef, kw_tree, n_leaves):
        """Names of the flattened arguments ('x', 'params['w']', ...) for error messages."""
        params = list(self._signature.parameters) if self._signature else []
        names = [params[i] if i < len(params) else f"#{i}" for i in range(len(args)) if i not in static_idx]
        dyn, dkw = _unflatten_args(treedef, kw_tree, range(n_leaves))
        out = [''] * n_leaves
        for name, sub in list(zip(names, dyn)) + list(dkw.items()):
            for path, i in _tree.leaves_with_path(sub):
                out[i] = repr(name) + ''.join(f"[{p!r}]" for p in path)
        return out

    def lower(self, *args, **kwargs):
        entry, _, _ = self._entry(args, kwargs)
        return Lowered(entry.program, entry.name)


def _unflatten_args(treedef, kw_tree, leaves):
    """The dynamic positional and keyword arguments back from their leaves (a sequence)."""
    n = treedef.num_leaves
    return (_tree.unflatten(treedef, leaves[:n]),
            _tree.unflatten(kw_tree, leaves[n:]) if kw_tree is not None else {})


def leaves_as_arrays(leaves):
    return [x if isinstance(x, Array) else _asarray(x) for x in leaves]


def _explain(key, old_keys):
    treedef, kw_tree, sig, static, skw = key
    for ot, okw, osig, ost, oskw in old_keys:
        if ot != treedef:
            return f"the argument structure changed: {ot} -> {treedef}"
        if okw != kw_tree:
            return f"the keyword argument structure changed: {okw} -> {kw_tree}"
        if ost != static or oskw != skw:
            return f"static arguments changed: {ost + oskw} -> {static + skw}"
        diffs = [f"leaf {i}: {a} -> {b}" for i, (a, b) in enumerate(zip(osig, sig)) if a != b]
        if diffs:
            return "argument shapes/dtypes changed: " + '; '.join(diffs)
    return "new signature"


def jit(fun=None, *, static_argnums=(), static_argnames=(), donate_argnums=(), backend=None):
    """Compile `fun` with XLA: traced once per argument signature, then run from the cache.

    backend='interpreter' runs the traced program on NumPy instead (for debugging).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> f = fd.jit(lambda x, y: fnp.sin(x) * y + 1.0)
    >>> f(fnp.zeros(3), 2.0).tolist()
    [1.0, 1.0, 1.0]
    >>> 'stablehlo.multiply' in f.lower(fnp.zeros(3), 2.0).as_text()
    True
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums, static_argnames=static_argnames,
                                 donate_argnums=donate_argnums, backend=backend)
    return Jitted(fun, static_argnums, static_argnames, donate_argnums, backend)


def make_ir(fun, static_argnums=()):
    """A function returning the traced Program of fun on the given arguments (printable).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> print(fd.make_ir(lambda x: fnp.exp(x) * 2.0)(fnp.ones(3)))
    { lambda a:float32[3] .
      b:float32[3] = exp a
      c:float32[3] = broadcast_in_dim[shape=(3,), broadcast_dimensions=()] 2.0
      d:float32[3] = mul b c
      in (d) }
    """
    jitted = Jitted(fun, static_argnums)

    @functools.wraps(fun)
    def ir(*args, **kwargs):
        entry, _, _ = jitted._entry(args, kwargs)
        return entry.program
    return ir


# --- simplification --------------------------------------------------------------------------------

def simplify(program: Program) -> Program:
    """Before lowering: fold trace-time constants, merge common subexpressions, drop dead code.

    An equation on scalar constants only (`fnp.sqrt(fnp.asarray(2.0))` in a
    jitted function) is computed now and inlined as a literal; an equation
    repeating an earlier one (the same primitive, parameters and inputs:
    primitives are pure) reuses its outputs; equations no output depends on go.
    A checkpoint's recomputation is never merged with the forward computation
    it repeats: that would undo the checkpoint (JAX's prevent_cse).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> print(fd.make_ir(lambda x: fnp.sin(x) * fnp.sin(x) + fnp.sqrt(fnp.asarray(4.0)))(fnp.ones(2)))
    { lambda a:float32[2] .
      b:float32[2] = sin a
      c:float32[2] = mul b b
      d:float32[2] = broadcast_in_dim[shape=(2,), broadcast_dimensions=()] 2.0
      e:float32[2] = add c d
      in (e) }
    """
    sub = {}  # Var -> the Var or Literal that stands for it from now on
    seen = {}  # (primitive, inputs, params) -> the outputs of the first such equation
    pieces = {}  # Var -> (axis, [(start, stop, var)]): zero but for these slices along one axis
    eqns = []
    for eqn in program.eqns:
        invars = [sub.get(v, v) for v in eqn.invars]
        folded = _fold(eqn, invars)
        if folded is not None:
            sub[eqn.outvars[0]] = folded
            continue
        assembled = _assemble(eqn, invars, pieces)
        if assembled is not None:
            eqn, invars = assembled, assembled.invars
        key = _cse_key(eqn, invars)
        if key is not None:
            first = seen.setdefault(key, eqn.outvars)
            if first is not eqn.outvars:
                sub.update(zip(eqn.outvars, first))
                continue
        eqns.append(eqn if invars == eqn.invars else Eqn(eqn.prim, invars, eqn.outvars, eqn.params, eqn.source))
    outvars = [sub.get(v, v) for v in program.outvars]
    live = {v for v in outvars if not _is_literal(v)}
    kept = []
    for eqn in reversed(eqns):  # dead-code elimination
        if any(v in live for v in eqn.outvars):
            kept.append(eqn)
            live.update(v for v in eqn.invars if not _is_literal(v))
    kept.reverse()
    return Program(program.invars, outvars, kept, program.constvars, program.consts)


_NO_CSE = frozenset({'remat', 'remat_lin'})  # a checkpoint recomputes on purpose


def _assemble(eqn, invars, pieces):
    """A concatenate for a sum of zero-padded slices that tile an axis, else None.

    The transpose of `split` (q, k, v of a fused projection; an LSTM's gates)
    pads each part's cotangent with zeros to the full shape and adds them up:
    n passes over the full array where one concatenation does. Records, as it
    goes, which values are zero but for known slices along one axis.
    """
    from fn_dl.ops.elementwise import add_p
    from fn_dl.ops.shape import concatenate_p, pad_p
    if eqn.prim is pad_p:
        x, fill = invars
        config = eqn.params['padding_config']
        axes = [d for d, (lo, hi, interior) in enumerate(config) if lo or hi or interior]
        if (_is_literal(fill) and not any(np.asarray(fill.value).tobytes())  # +0 of any dtype: all bits clear
                and len(axes) == 1 and min(config[axes[0]][:2]) >= 0 and config[axes[0]][2] == 0):
            lo = config[axes[0]][0]
            pieces[eqn.outvars[0]] = (axes[0], [(lo, lo + x.aval.shape[axes[0]], x)])
        return None
    if eqn.prim is not add_p or any(_is_literal(v) or v not in pieces for v in invars):
        return None
    (axis, a), (axis_b, b) = pieces[invars[0]], pieces[invars[1]]
    merged = sorted(a + b, key=lambda p: p[0])
    if axis != axis_b or any(p[1] > q[0] for p, q in zip(merged, merged[1:])):
        return None  # overlapping slices add up: leave the sum
    pieces[eqn.outvars[0]] = (axis, merged)
    size = eqn.outvars[0].aval.shape[axis]
    if merged[0][0] != 0 or merged[-1][1] != size or any(p[1] != q[0] for p, q in zip(merged, merged[1:])):
        return None  # not yet the whole axis
    return Eqn(concatenate_p, [p[2] for p in merged], eqn.outvars, {'dimension': axis}, eqn.source)


def _fold(eqn, invars):
    """The literal result of an equation on scalar literals only, or None."""
    if (eqn.prim.multiple_results or not invars or eqn.outvars[0].aval.shape != ()
            or not all(_is_literal(v) and v.aval.shape == () for v in invars)
            or any(isinstance(p, Program) for p in eqn.params.values())):
        return None
    from fn_dl.core.ir import Literal
    from fn_dl.core.primitive import eager_apply
    aval = eqn.outvars[0].aval
    try:
        out = eager_apply(eqn.prim, [v.value for v in invars], eqn.params)
    except Exception:  # left in the program: XLA computes it, and reports what it must
        return None
    return Literal(out, aval) if out.dtype == aval.dtype and out.shape == () else None


def _cse_key(eqn, invars):
    if eqn.prim.name in _NO_CSE:
        return None
    ins = tuple(('literal', v.aval.dtype, v.aval.weak_type, np.asarray(v.value).tobytes())  # -0.0 is not 0.0
                if _is_literal(v) and v.aval.shape == () else v for v in invars)
    key = (eqn.prim, ins, tuple(eqn.params.items()))
    try:
        hash(key)
    except TypeError:  # a parameter that is not hashable: leave the equation alone
        return None
    return key


def _is_literal(v):
    from fn_dl.core.ir import Literal
    return type(v) is Literal



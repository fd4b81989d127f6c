"""Lowering: an fn_dl Program to a StableHLO module, as MLIR text.

Every operation is emitted in MLIR's generic form,
`%r = "stablehlo.add"(%a, %b) {attrs} : (types) -> type`, which the parser
accepts for every op and which keeps this emitter small. A primitive's
`lower` attribute is either a StableHLO/CHLO op name (elementwise ops) or a
rule `rule(ctx, *operands, **params) -> result name(s)`, where
`ctx.avals_in` / `ctx.avals_out` describe the equation being lowered.
Pure Python: no jaxlib import here (that lives in `_pjrt.py`).
"""
from __future__ import annotations

import collections
import functools
import math
import re

import numpy as np

from fn_dl.core import dtypes
from fn_dl.core.aval import ShapedArray
from fn_dl.core.ir import Literal, Program

_ELEM = {
    dtypes.bool_: 'i1', dtypes.int8: 'i8', dtypes.int16: 'i16', dtypes.int32: 'i32', dtypes.int64: 'i64',
    dtypes.uint8: 'ui8', dtypes.uint16: 'ui16', dtypes.uint32: 'ui32', dtypes.uint64: 'ui64',
    dtypes.float16: 'f16', dtypes.bfloat16: 'bf16', dtypes.float32: 'f32', dtypes.float64: 'f64',
    dtypes.complex64: 'complex<f32>', dtypes.complex128: 'complex<f64>',
}


class LoweringError(Exception):
    """A primitive could not be lowered; the message names it and the user's source line."""


def elem_type(dtype) -> str:
    return _ELEM[np.dtype(dtype)]


def tensor_type(aval: ShapedArray) -> str:
    dims = ''.join(f"{d}x" for d in aval.shape)
    return f"tensor<{dims}{elem_type(aval.dtype)}>"


def i64_array(values) -> str:
    values = [int(v) for v in values]
    return f"array<i64{': ' if values else ''}{', '.join(map(str, values))}>"


def i64_attr(v) -> str:
    return f"{int(v)} : i64"


def dense(value: np.ndarray, aval: ShapedArray) -> str:
    """A dense elements attribute holding exactly `value` (raw little-endian bytes, or bools)."""
    value = np.ascontiguousarray(np.asarray(value, dtype=aval.dtype))
    if aval.dtype == dtypes.bool_:
        flat = value.reshape(-1)
        if not flat.size or (flat == flat[0]).all():  # a splat (an empty array too: its nested list misparses)
            body = 'true' if flat.size and flat[0] else 'false'
        else:
            body = np.array2string(value, separator=', ', threshold=np.inf).replace('True', 'true') \
                .replace('False', 'false')
        return f"dense<{body}> : {tensor_type(aval)}"
    flat = value.reshape(-1)
    if flat.size and (flat.view(np.uint8).reshape(flat.size, -1) == flat[:1].view(np.uint8)).all():
        value = flat[:1]  # a splat: one element's bytes
    return f'dense<"0x{value.astype(value.dtype.newbyteorder("<")).tobytes().hex().upper()}"> : {tensor_type(aval)}'


class LoweringContext:
    """Builds one function body: fresh SSA names, emitted lines, and helpers for rules."""

    def __init__(self, module):
        self.module = module
        self.lines = []
        self._count = 0
        self.avals_in = self.avals_out = None
        self.indent = '    '
        self.loc = ''  # ' loc("file":line:0)': the user's line of the equation being lowered

    def fresh(self, prefix='v') -> str:
        self._count += 1
        return f"%{prefix}{self.module.next_id()}"

    def emit(self, line):
        self.lines.append(self.indent + line)

    def op(self, name, operands, in_avals, out_avals, attrs=None, regions=None):
        """Emit one op in generic form; returns the result names (a list, one per result)."""
        out_avals = list(out_avals)
        res = self.fresh()
        lhs = '' if not out_avals else (f"{res} = " if len(out_avals) == 1 else f"{res}:{len(out_avals)} = ")
        attr_text = (' {' + ', '.join(f"{k} = {v}" for k, v in attrs.items()) + '}') if attrs else ''
        region_text = (' (' + ', '.join(regions) + ')') if regions else ''
        in_types = ', '.join(tensor_type(a) for a in in_avals)
        out_types = ', '.join(tensor_type(a) for a in out_avals)
        out_sig = f"({out_types})" if len(out_avals) != 1 else out_types
        self.emit(f'{lhs}"{name}"({", ".join(operands)}){region_text}{attr_text} : ({in_types}) -> {out_sig}'
                  f'{self.loc}')
        if len(out_avals) == 1:
            return [res]
        return [f"{res}#{i}" for i in range(len(out_avals))]

    def op1(self, name, operands, in_avals, out_aval, attrs=None, regions=None) -> str:
        return self.op(name, operands, in_avals, [out_aval], attrs, regions)[0]

    def constant(self, value, aval: ShapedArray) -> str:
        return self.op1('stablehlo.constant', [], [], aval, {'value': dense(value, aval)})

    def splat(self, scalar, aval: ShapedArray) -> str:
        return self.constant(np.full(aval.shape, scalar, dtype=aval.dtype), aval)

    def transpose(self, x, permutation, in_aval: ShapedArray, out_aval: ShapedArray) -> str:
        """`x` with its axes permuted: re-emitted by its producer in that order where it registered a way to
        (`transposable`), else a stablehlo.transpose.

        XLA CPU keeps a transpose that reaches the function's results as a layout change plus a full copy
        (weight gradients under vmap are such transposes); a producer that writes the permuted order itself
        avoids it. The original producer is left for XLA to remove when nothing else uses it.
        """
        emit, cheap = self.module.transposers.get(x, (None, False))
        out = emit(self, tuple(permutation)) if emit and (cheap or x not in self.module.shared) else None
        return out or self.op1('stablehlo.transpose', [x], [in_aval], out_aval,
                               {'permutation': i64_array(permutation)})

    def transposable(self, result: str, emit, cheap=False):
        """Register `emit(ctx, permutation) -> name or None`, which emits `result` with its axes permuted.

        Unless `cheap`, it is used only where the transpose is the result's one use: elsewhere it would compute
        the result twice."""
        self.module.transposers[result] = (emit, cheap)

    def region(self, arg_avals, out_avals, body):
        """A region `^bb0(args): ... stablehlo.return`; body(ctx, arg_names) -> result names."""
        sub = LoweringContext(self.module)
        sub.indent = self.indent + '    '
        names = [sub.fresh('a') for _ in arg_avals]
        outs = body(sub, names)
        sub.emit(f'"stablehlo.return"({", ".join(outs)}) : ({", ".join(tensor_type(a) for a in out_avals)}) -> ()')
        head = ', '.join(f"{n}: {tensor_type(a)}" for n, a in zip(names, arg_avals))
        return '{\n' + f"{self.indent}  ^bb0({head}):\n" + '\n'.join(sub.lines) + f"\n{self.indent}}}"

    def program_region(self, program: Program):
        """A region that runs `program` on its arguments."""
        return self.region(program.in_avals, program.out_avals, lambda sub, names: sub.lower_program(program, names))

    def lower_program(self, program: Program, args):
        """Emit `program` inline on SSA values `args`; returns its output names."""
        env = dict(zip(program.invars, args))
        for v, c in zip(program.constvars, program.consts):
            env[v] = self.module.constant_arg(self, c, v.aval)

        def read(a):
            if type(a) is Literal:
                return self.constant(np.asarray(a.value), a.aval)
            return env[a]

        uses = collections.Counter(a for e in program.eqns for a in e.invars if type(a) is not Literal)
        uses.update(v for v in program.outvars if type(v) is not Literal)
        outer = self.loc
        for eqn in program.eqns:
            self.loc = location(eqn.source) or outer
            ins = [read(a) for a in eqn.invars]
            self.avals_in = [a.aval for a in eqn.invars]
            self.avals_out = [v.aval for v in eqn.outvars]
            outs = lower_eqn(self, eqn, ins)
            for v, o in zip(eqn.outvars, outs):
                env[v] = o
                if uses[v] > 1:
                    self.module.shared.add(o)
        self.loc = outer
        return [read(v) for v in program.outvars]


@functools.lru_cache(maxsize=4096)
def location(source) -> str:
    """The MLIR location suffix of an equation's user source line: XLA's errors and its ops' metadata (which
    profiles show) then name the user's file and line rather than a line of the generated module."""
    if source is None:
        return ''
    code, line = source
    file = code.co_filename.replace('\\', '\\\\').replace('"', '\\"')
    return f' loc("{file}":{line}:0)'


_MODULE_REF = re.compile(r'(?<![\w/.])-:(\d+):\d+')  # XLA's reference to a line of the module text
_OP = re.compile(r'"([\w.]+)"\(')
_LOC = re.compile(r'loc\("(.*)":(\d+):\d+\)\s*$')


def with_user_lines(message: str, text: str) -> str:
    """XLA's error `message` about module `text`, each reference to a line of the text (`-:12:5`) replaced
    by the user's file and line that made that op, and the op's name."""
    lines = text.splitlines()

    def user_line(m):
        i = int(m.group(1)) - 1
        loc = _LOC.search(lines[i]) if 0 <= i < len(lines) else None
        if loc is None:
            return m.group(0)
        op = _OP.search(lines[i])
        return f"{loc.group(1)}:{loc.group(2)} ({op.group(1) if op else 'op'})"
    return _MODULE_REF.sub(user_line, message)


def lower_eqn(ctx, eqn, ins):
    rule = eqn.prim.lower
    try:
        if isinstance(rule, str):
            if rule.startswith(('stablehlo.', 'chlo.')):
                return [ctx.op1(rule, ins, ctx.avals_in, ctx.avals_out[0])]
            rule = GENERIC_RULES[rule]
        if rule is None:
            raise LoweringError(f"{eqn.prim.name} has no StableHLO lowering")
        saved = ctx.avals_in, ctx.avals_out
        out = rule(ctx, *ins, **eqn.params)
        ctx.avals_in, ctx.avals_out = saved
    except LoweringError:
        raise
    except Exception as e:
        from fn_dl.core.aval import describe
        from fn_dl.core.trace import format_frame
        where = f" (from {format_frame(eqn.source)})" if eqn.source else ''
        raise LoweringError(f"lowering {eqn.prim.name} on {describe(ctx.avals_in)}{where} failed: {e}") from e
    return [out] if isinstance(out, str) else list(out)


class Module:
    """A StableHLO module with one public function `main`."""

    def __init__(self):
        self._id = 0
        self.const_args = []  # (value, aval): captured arrays become extra arguments, not embedded data
        self.transposers = {}  # SSA name -> how its producer emits it transposed (LoweringContext.transpose)
        self.shared = set()  # SSA names of values used more than once

    def next_id(self):
        self._id += 1
        return self._id

    def constant_arg(self, ctx, value, aval):
        from fn_dl.core.array import Array
        if isinstance(value, Array) and type(value) is Array and value.size <= 1:
            return ctx.constant(np.asarray(value), aval)
        raise LoweringError("a nested program captured a non-scalar constant; captured arrays must be closed "
                            "over as operands before lowering")


def host_dtype(dtype):
    """The dtype a value crosses DLPack as: bfloat16 travels as its uint16 bits."""
    return np.dtype(np.uint16) if np.dtype(dtype) == dtypes.bfloat16 else np.dtype(dtype)


def donation_aliases(program: Program, donated):
    """Input index -> output index whose buffer the donated input may become (same shape and dtype)."""
    free = list(enumerate(program.out_avals))
    aliases = {}
    for i in sorted(donated):
        a = program.invars[i].aval
        for k, (j, o) in enumerate(free):
            if o.shape == a.shape and o.dtype == a.dtype:
                aliases[i] = j
                del free[k]
                break
    return aliases


def lower_module(program: Program, name='main', donated=()) -> str:
    """The StableHLO module text of a closed program (no constvars: consts are leading inputs).

    bfloat16 inputs and outputs cross the function boundary as ui16 bits
    (DLPack has no bfloat16) and are bitcast inside. Donated inputs are
    aliased to an output of the same type, so XLA updates them in place.
    """
    module = Module()
    ctx = LoweringContext(module)
    params, args = [], []
    aliases = donation_aliases(program, donated)
    for i, v in enumerate(program.invars):
        host = v.aval.update(dtype=host_dtype(v.aval.dtype))
        alias = f" {{tf.aliasing_output = {aliases[i]} : i32}}" if i in aliases else ''
        params.append(f"%arg{i}: {tensor_type(host)}{alias}")
        args.append(f"%arg{i}" if host.dtype == v.aval.dtype else
                    ctx.op1('stablehlo.bitcast_convert', [f"%arg{i}"], [host], v.aval))
    outs = ctx.lower_program(program, args)
    out_avals = []
    for k, a in enumerate(program.out_avals):
        host = a.update(dtype=host_dtype(a.dtype))
        if host.dtype != a.dtype:
            outs[k] = ctx.op1('stablehlo.bitcast_convert', [outs[k]], [a], host)
        out_avals.append(host)
    body = '\n'.join(ctx.lines)
    types = ', '.join(tensor_type(a) for a in out_avals)
    return (f"module @{_sanitize(name)} {{\n  func.func public @main({', '.join(params)}) -> ({types}) {{\n{body}\n"
            f'    "func.return"({", ".join(outs)}) : ({types}) -> ()\n  }}\n}}\n')


# Primitives whose floating-point lowering is a long arithmetic sequence per element (XLA's polynomial
# expansions, the vector sin and cos below): their loop fusions are compute-bound, so 512-bit vectors speed them
# up, where the memory-bound rest of a program (matmuls run in libraries) gains nothing from them.
_ARITHMETIC_HEAVY = frozenset({
    'exp', 'exp2', 'expm1', 'log', 'log1p', 'pow', 'logistic', 'tanh', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh',
    'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'erf', 'erfc', 'erf_inv', 'lgamma', 'polygamma', 'cbrt'})
# Elements of such an op from which wide vectors repay their cost in compile time (see _pjrt.WIDE_VECTOR_OPTIONS):
# 2**16 float32 run about 0.1 ms faster a call, so the ~100 ms are repaid within a training run's first
# thousand steps; the softmax or loss of a small model, a few thousand elements, never repays it.
WIDE_VECTOR_MIN_ELEMENTS = 1 << 16


def prefers_wide_vectors(program: Program) -> bool:
    """Whether XLA should prefer 512-bit vectors for `program`: it (or a program nested in it) has a
    compute-heavy elementwise op on at least WIDE_VECTOR_MIN_ELEMENTS floating-point elements."""
    for eqn in program.eqns:
        if eqn.prim.name in _ARITHMETIC_HEAVY:
            aval = eqn.outvars[0].aval
            if math.prod(aval.shape) >= WIDE_VECTOR_MIN_ELEMENTS and dtypes.is_inexact(aval.dtype):
                return True
        for p in eqn.params.values():
            subs = p if isinstance(p, (tuple, list)) else (p,)
            if any(isinstance(q, Program) and prefers_wide_vectors(q) for q in subs):
                return True
    return False


def _sanitize(name):
    out = ''.join(c if c.isalnum() or c == '_' else '_' for c in name)
    return out if out and not out[0].isdigit() else 'jit_' + out


# --- generic rules named by string in the primitives' `lower` attribute -----------------------------

def _compare_type(dtype):
    if dtypes.is_inexact(dtype):
        return 'FLOAT'
    if dtypes.is_unsigned(dtype) or dtypes.is_bool(dtype):
        return 'UNSIGNED'
    return 'SIGNED'


def _compare(direction):
    def rule(ctx, x, y, **params):
        attrs = {'comparison_direction': f"#stablehlo<comparison_direction {direction}>",
                 'compare_type': f"#stablehlo<comparison_type {_compare_type(ctx.avals_in[0].dtype)}>"}
        return ctx.op1('stablehlo.compare', [x, y], ctx.avals_in, ctx.avals_out[0], attrs)
    return rule


def compare(ctx, direction, x, y, aval):
    attrs = {'comparison_direction': f"#stablehlo<comparison_direction {direction}>",
             'compare_type': f"#stablehlo<comparison_type {_compare_type(aval.dtype)}>"}
    return ctx.op1('stablehlo.compare', [x, y], [aval, aval], aval.update(dtype=dtypes.bool_, weak_type=False),
                   attrs)


def select(ctx, pred, on_true, on_false, aval, pred_aval):
    return ctx.op1('stablehlo.select', [pred, on_true, on_false], [pred_aval, aval, aval], aval)


def _integer_pow(ctx, x, *, y):
    aval = ctx.avals_in[0]
    if y == 0:
        return ctx.splat(1, aval)
    acc, base, n = None, x, abs(y)
    while n:  # binary exponentiation: O(log y) multiplies
        if n & 1:
            acc = base if acc is None else ctx.op1('stablehlo.multiply', [acc, base], [aval, aval], aval)
        n >>= 1
        if n:
            base = ctx.op1('stablehlo.multiply', [base, base], [aval, aval], aval)
    if y < 0:
        acc = ctx.op1('stablehlo.divide', [ctx.splat(1, aval), acc], [aval, aval], aval)
    return acc


def _max_weight(ctx, x, y):
    aval = ctx.avals_in[0]
    pred = aval.update(dtype=dtypes.bool_, weak_type=False)
    out = ctx.avals_out[0]
    tie = select(ctx, compare(ctx, 'EQ', x, y, aval), ctx.splat(0.5, out), ctx.splat(0, out), out, pred)
    return select(ctx, compare(ctx, 'GT', x, y, aval), ctx.splat(1, out), tie, out, pred)


def _exp2(ctx, x):
    aval = ctx.avals_in[0]
    scaled = ctx.op1('stablehlo.multiply', [x, ctx.splat(np.log(2), aval)], [aval, aval], aval)
    return ctx.op1('stablehlo.exponential', [scaled], [aval], aval)


def _trunc(ctx, x):
    aval = ctx.avals_in[0]
    fl = ctx.op1('stablehlo.floor', [x], [aval], aval)
    ce = ctx.op1('stablehlo.ceil', [x], [aval], aval)
    neg = compare(ctx, 'LT', x, ctx.splat(0, aval), aval)
    return select(ctx, neg, ce, fl, aval, aval.update(dtype=dtypes.bool_))


def _conj(ctx, x):
    aval = ctx.avals_in[0]
    r_aval = aval.update(dtype=dtypes.to_real(aval.dtype))
    re = ctx.op1('stablehlo.real', [x], [aval], r_aval)
    im = ctx.op1('stablehlo.imag', [x], [aval], r_aval)
    nim = ctx.op1('stablehlo.negate', [im], [r_aval], r_aval)
    return ctx.op1('stablehlo.complex', [re, nim], [r_aval, r_aval], aval)


def _polygamma(ctx, x, *, n):
    aval = ctx.avals_in[0]
    return ctx.op1('chlo.polygamma', [ctx.splat(n, aval), x], [aval, aval], aval)


def _identity(ctx, x, **params):
    return x


def _convert(ctx, x, *, new_dtype, weak_type=False):
    a_in, a_out = ctx.avals_in[0], ctx.avals_out[0]
    if dtypes.is_complex(a_in.dtype) and not dtypes.is_complex(new_dtype):
        real = a_in.update(dtype=dtypes.to_real(a_in.dtype))
        x = ctx.op1('stablehlo.real', [x], [a_in], real)
        a_in = real
    if new_dtype == dtypes.bool_ and a_in.dtype != dtypes.bool_:
        return compare(ctx, 'NE', x, ctx.splat(0, a_in), a_in)
    return ctx.op1('stablehlo.convert', [x], [a_in], a_out)


def _select_n(ctx, which, *cases):
    w_aval, c_aval = ctx.avals_in[0], ctx.avals_in[1]
    if len(cases) == 1:
        return cases[0]
    if w_aval.dtype == dtypes.bool_:
        return select(ctx, which, cases[1], cases[0], c_aval, w_aval)
    out = cases[0]
    for i in range(1, len(cases)):
        hit = compare(ctx, 'EQ', which, ctx.splat(i, w_aval), w_aval)
        out = select(ctx, hit, cases[i], out, c_aval, w_aval.update(dtype=dtypes.bool_))
    return out


# --- sin, cos and tan of float32 as vector code ------------------------------------------------------------
#
# XLA CPU turns stablehlo.sine/cosine/tan into one libm call per element, which keeps its loop fusions from
# vectorising. Written as plain arithmetic they vectorise and fuse with their neighbours (3x faster than the
# calls), within 0.55 ulp of the exact value for every float32 (NumPy's float32 sin: 1.5 ulp): the argument
# is reduced exactly, by Payne-Hanek in integers (|x| * 2/pi mod 4 as a 64-bit fixed-point number), and the
# reduced sin and cos are Taylor polynomials in float64. float64 arguments keep libm's calls.

@functools.cache
def _two_over_pi_words():
    """The bits of 2/pi numbered -57 to 262 after the binary point (the first 57 are zeros) as five uint64s."""
    digits, guard = 263, 64
    one = 1 << (digits + guard)

    def atan_inv(n):  # atan(1/n) * one, an alternating series in integers
        total, term, k = 0, one // n, 0
        while term:
            total += (-1) ** k * (term // (2 * k + 1))
            term //= n * n
            k += 1
        return total
    bits = (2 * one * one // (16 * atan_inv(5) - 4 * atan_inv(239))) >> guard  # floor(2/pi * 2**263), Machin
    return [(bits >> (257 - 64 * k)) & (2 ** 64 - 1) for k in range(5)]


class _Builder:
    """Emits elementwise ops on one shape, tracking each value's type, so that a formula reads as one."""

    def __init__(self, ctx, shape):
        self.ctx, self.shape, self.types = ctx, shape, {}

    def __call__(self, name, *args, dtype=None):
        out = ShapedArray(self.shape, dtype or self.types[args[-1]].dtype)
        return self.value(self.ctx.op1(f'stablehlo.{name}', list(args), [self.types[a] for a in args], out), out.dtype)

    def value(self, name, dtype):
        self.types[name] = ShapedArray(self.shape, dtype)
        return name

    def const(self, v, dtype):
        return self.value(self.ctx.splat(v, ShapedArray(self.shape, dtype)), dtype)

    def convert(self, v, dtype):
        return self('convert', v, dtype=dtype)

    def compare(self, direction, a, b):
        return self.value(compare(self.ctx, direction, a, b, self.types[a]), dtypes.bool_)

    def select(self, p, t, f):
        return self('select', p, t, f)


def _reduce_quarter_turns(b: _Builder, mag):
    """(n, r) with |x| = n * pi/2 + r, |r| <= pi/4: r in float64, n mod 4 as uint32; `mag` is |x|'s float32 bits.

    |x| * 2/pi mod 4 is exact in integers: for |x| = m * 2**(e-150), m the 24-bit significand, the bits of 2/pi
    before number e-151 contribute multiples of 4 and those after number e+44, less than 2**-70, so m times
    the 96-bit window between gives it with 94 fraction bits (Payne and Hanek's reduction, as glibc's sinf).
    The window is picked from 2/pi's bits by shifts and selects: XLA CPU's gather from a table does not vectorise.
    """
    u32, u64 = dtypes.uint32, dtypes.uint64
    significand = b.convert(b('or', b('and', mag, b.const(0x7FFFFF, u32)), b.const(0x800000, u32)), u64)
    # the window starts at bit offset e - 94 of the five words; below pi/4 (e < 126) it is never used
    start = b.convert(b('maximum', b('shift_right_logical', mag, b.const(23, u32)), b.const(94, u32)), u64)
    start = b('subtract', start, b.const(94, u64))
    word, shift = b('shift_right_logical', start, b.const(6, u64)), b('and', start, b.const(63, u64))
    is1, is2 = (b.compare('EQ', word, b.const(k, u64)) for k in (1, 2))
    w = _two_over_pi_words()
    a, c, d = (b.select(is2, b.const(w[k + 2], u64), b.select(is1, b.const(w[k + 1], u64), b.const(w[k], u64)))
               for k in range(3))

    def funnel(hi, lo):  # the 64 bits from `shift` on, of hi:lo (a shift by 64 gives 0 in StableHLO)
        return b('or', b('shift_left', hi, shift), b('shift_right_logical', lo, b('subtract', b.const(64, u64), shift)))
    high, low = funnel(a, c), b('shift_right_logical', funnel(c, d), b.const(32, u64))
    # y = |x| * 2/pi mod 4 in 2.62 fixed point: the top 64 of the low 96 bits of m * (high:low), all mod 2**64
    y = b('add', b('multiply', significand, high),
          b('shift_right_logical', b('multiply', significand, low), b.const(32, u64)))
    n = b('shift_right_logical', b('add', y, b.const(1 << 61, u64)), b.const(62, u64))  # nearest quarter turn
    frac = b('bitcast_convert', b('subtract', y, b('shift_left', n, b.const(62, u64))), dtype=dtypes.int64)
    r = b('multiply', b.convert(frac, dtypes.float64), b.const(np.pi / 2 * 2.0 ** -62, dtypes.float64))
    # below pi/4 the argument is its own remainder (the fixed point would lose tiny ones)
    x = b('bitcast_convert', mag, dtype=dtypes.float32)
    small = b.compare('LT', x, b.const(np.pi / 4, dtypes.float32))
    return b.select(small, b.const(0, u32), b.convert(n, u32)), b.select(small, b.convert(x, dtypes.float64), r)


def _taylor(b: _Builder, r2, first_power):
    """sum over k of (-1)**k r**(2k) / (2k + first_power)!, for sin(r)/r (first_power 1, to r**8) and cos(r)
    (first_power 0, to r**10): on |r| <= pi/4 the terms left out are below 2**-28 of the sum."""
    f64 = dtypes.float64
    coefs = [(-1) ** k / math.factorial(2 * k + first_power) for k in range(6 - first_power)]
    acc = b.const(coefs[-1], f64)
    for c in reversed(coefs[:-1]):
        acc = b('add', b('multiply', acc, r2), b.const(c, f64))
    return acc


def _trig(kind):
    def rule(ctx, x):
        aval = ctx.avals_in[0]
        if aval.dtype not in (dtypes.float32, dtypes.float16, dtypes.bfloat16):  # float64: libm is the right tool
            return ctx.op1(f'stablehlo.{_TRIG_HLO[kind]}', [x], [aval], aval)
        b, u32 = _Builder(ctx, aval.shape), dtypes.uint32
        x = b.value(x, aval.dtype)
        xf = x if aval.dtype == dtypes.float32 else b.convert(x, dtypes.float32)
        bits = b('bitcast_convert', xf, dtype=u32)
        n, r = _reduce_quarter_turns(b, b('and', bits, b.const(0x7FFFFFFF, u32)))
        r2 = b('multiply', r, r)
        sin, cos = b('multiply', r, _taylor(b, r2, 1)), _taylor(b, r2, 0)
        odd = b.compare('NE', b('and', n, b.const(1, u32)), b.const(0, u32))
        if kind == 'tan':  # tan(r + pi/2) = -cos(r) / sin(r)
            out = b.select(odd, b('divide', b('negate', cos), sin), b('divide', sin, cos))
        else:  # sin(r + n pi/2) cycles through sin, cos, -sin, -cos; cos(x) = sin(x + pi/2)
            if kind == 'cos':
                n = b('add', n, b.const(1, u32))
                odd = b('not', odd)
            flip = b.compare('NE', b('and', n, b.const(2, u32)), b.const(0, u32))
            v = b.select(odd, cos, sin)
            out = b.select(flip, b('negate', v), v)
        out = b.convert(out, dtypes.float32)
        if kind != 'cos':  # odd functions: the result takes x's sign (computed for |x|)
            sign = b('and', bits, b.const(0x80000000, u32))
            out = b('bitcast_convert', b('xor', b('bitcast_convert', out, dtype=u32), sign), dtype=dtypes.float32)
        out = b.select(b('is_finite', xf, dtype=dtypes.bool_), out, b('subtract', xf, xf))  # inf, nan -> nan
        return out if aval.dtype == dtypes.float32 else b.convert(out, aval.dtype)
    return rule


_TRIG_HLO = {'sin': 'sine', 'cos': 'cosine', 'tan': 'tan'}


GENERIC_RULES = {
    'EQ': _compare('EQ'), 'NE': _compare('NE'), 'LT': _compare('LT'), 'LE': _compare('LE'),
    'GT': _compare('GT'), 'GE': _compare('GE'),
    'integer_pow': _integer_pow, 'max_weight': _max_weight, 'exp2': _exp2, 'trunc': _trunc, 'conj': _conj,
    'polygamma': _polygamma, 'identity': _identity, 'convert': _convert, 'select_n': _select_n,
    'sin': _trig('sin'), 'cos': _trig('cos'), 'tan': _trig('tan'),
}


def register_generic(name, rule):
    """Add a named rule that primitives can refer to with `prim.lower = name`."""
    GENERIC_RULES[name] = rule
    return rule

"""The one module that imports jaxlib: the PJRT client, compilation, transfers and execution.

jaxlib's PJRT bindings are private API, so fn_dl pins one jaxlib version and
checks it here; anything else makes `available()` False and jit falls back
to the IR interpreter. Transfers use DLPack only (zero-copy on CPU), which
works with jaxlib alone, without the jax package.
"""
from __future__ import annotations

import atexit
import gc
import os
from typing import NamedTuple

import numpy as np

from fn_dl.backends._malloc import retain_large_blocks

JAXLIB_VERSION = '0.10.2'

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')  # XLA's C++ INFO logs are noise for users

try:
    import jaxlib
    from jaxlib import _jax
    from jaxlib import xla_client as _xc
    _IMPORT_ERROR = None if jaxlib.__version__ == JAXLIB_VERSION else (
        f"jaxlib {jaxlib.__version__} is installed, but fn_dl is built against jaxlib {JAXLIB_VERSION} "
        f"(its PJRT API is private); install jaxlib=={JAXLIB_VERSION}")
except ImportError as e:  # pragma: no cover - jaxlib is a dependency
    _IMPORT_ERROR = f"jaxlib is not importable ({e}); install jaxlib=={JAXLIB_VERSION}"

_client = None
_inherited = False  # True in a forked child of a process that had a client: the object came along, its threads not


def _after_fork_in_child():
    global _inherited
    _inherited = _inherited or _client is not None


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_after_fork_in_child)

FORK_ERROR = ("fn_dl: this process was forked from one that had already started XLA (jit, device_put), and "
              "XLA's worker threads do not survive a fork: running compiled code here would hang. Start worker "
              "processes with multiprocessing's 'spawn' or 'forkserver' method, or use jit only after forking.")


def available() -> bool:
    return _IMPORT_ERROR is None


def unavailable_reason() -> str | None:
    return _IMPORT_ERROR


def client():
    global _client
    if _inherited:
        raise RuntimeError(FORK_ERROR)
    if _client is None:
        if _IMPORT_ERROR:
            raise RuntimeError(_IMPORT_ERROR)
        _register_lapack()
        # before the client starts its threads: they must take their memory from the main arena
        retain_large_blocks()
        _client = _xc.make_cpu_client()
        atexit.register(_release_client)
    return _client


def inherited_by_fork() -> bool:
    """Whether this process is a fork of one that had created the client: its worker threads did not come
    along, so running anything on it would hang. `client()` raises FORK_ERROR then; eager code that could use
    XLA kernels keeps to NumPy."""
    return _inherited


def _release_client():
    """At exit, let the client go while the interpreter is still whole.

    Destroyed during module teardown instead, the PJRT CPU client intermittently deadlocks (its thread pool's
    destructor joins a worker that never wakes) and the process hangs after its last line. Collecting the
    cycles that hold executables and buffers and dropping our reference first avoids that, as JAX's own exit
    hook (clear_backends) does for its clients. Work still running (a step whose result the script never read)
    is waited for first: a client destroyed under a running computation aborts the process ("terminate called
    without an active exception").
    """
    global _client
    if _inherited:  # the parent's client: waiting on it, or destroying it, would hang
        return
    gc.collect()
    if _client is not None:
        for array in _client.live_arrays():
            try:
                array.block_until_ready()
            except Exception:  # noqa: BLE001 - a failed or deleted buffer has nothing left to wait for
                pass
    _client = None
    gc.collect()


def _register_lapack():
    """Make jaxlib's LAPACK kernels (typed-FFI handlers) callable as custom-call targets.

    The linalg primitives (lu, qr, eigh, svd) lower to `stablehlo.custom_call`s of these
    targets, as JAX lowers them on CPU. `initialize` binds the kernels to SciPy's LAPACK.
    """
    from jaxlib.cpu import _lapack
    _lapack.initialize()
    for name, capsule in _lapack.registrations().items():
        # api_version 1 is the typed FFI in this function's numbering (custom_call ops say 4)
        _xc.register_custom_call_target(name, capsule, platform='cpu', api_version=1)


def device():
    return client().local_devices()[0]


class CompileError(Exception):
    """XLA rejected a module; the message says which op, and where the user's code created it."""


# XLA debug options, by DebugOptions field name. LLVM prefers 256-bit vectors by default, even on AVX-512
# machines; 512-bit ones run compute-heavy loop fusions (transcendentals, the vector sin of lowering.py) about
# 1.2x faster and change no result (a preference only: machines without AVX-512 keep their widest
# vectors). They also make LLVM take about 1.25x as long over every kernel (100 ms of the MLP training step's
# 450 ms compilation), so they are asked for only where such fusions are big enough to repay that
# (lowering.prefers_wide_vectors). Measured and left out: fast math (no gain worth its NaN/Inf semantics),
# YNNPACK elementwise fusions (5x slower on transcendental chains), disabling YNNPACK dots (Eigen's are
# slower), the legacy emitters; for compile time alone, LLVM's optimisation level and its expensive passes
# (within noise once vectors are 256-bit).
WIDE_VECTOR_OPTIONS = (('xla_cpu_prefer_vector_width', 512),)


def compile_options(wide_vectors=False):
    """CompileOptions with XLA's DebugOptions fields overridden as above."""
    options = _xc.CompileOptions()
    options.env_option_overrides = list(WIDE_VECTOR_OPTIONS if wide_vectors else ())
    return options


def compile(module_text: str, wide_vectors=False):  # noqa: A001
    c = client()
    try:
        return c.compile_and_load(module_text, _xc.DeviceList((device(),)), compile_options(wide_vectors))
    except Exception as e:  # XlaRuntimeError: keep XLA's diagnosis, drop its MLIR dump
        raise CompileError(str(e).split('\n<unknown>')[0]) from None


def to_device(value: np.ndarray):
    """A device buffer for a host array: zero-copy when the array is contiguous and writable."""
    if not (value.flags.c_contiguous and value.flags.writeable and value.flags.aligned):
        value = np.array(value, order='C', copy=True)
    return _jax.dlpack_managed_tensor_to_buffer(value.__dlpack__(), device(), None)


class _Exported:
    """A DLPack producer for a device buffer: jaxlib alone (without the jax package) gives its arrays no
    __dlpack__ method, but exports them with buffer_to_dlpack_managed_tensor."""
    __slots__ = ('buf',)

    def __init__(self, buf):
        self.buf = buf

    def __dlpack__(self, stream=None, max_version=None, dl_device=None, copy=None):
        return _jax.buffer_to_dlpack_managed_tensor(self.buf)

    def __dlpack_device__(self):
        return (1, 0)  # kDLCPU, device 0


def to_host(buf) -> np.ndarray:
    """A host array viewing a device buffer (zero-copy on CPU; read-only)."""
    return np.from_dlpack(_Exported(buf))


class _BufferType(NamedTuple):
    """What jaxlib's result handlers read of an output: its shape, its dtype as it crosses DLPack (bfloat16 as
    uint16 bits), and JAX's weak type flag, which means nothing to a buffer."""
    shape: tuple
    dtype: np.dtype
    weak_type: bool = False


def executor(executable, out_types):
    """A function running `executable` on a list of input buffers and returning its output buffers.

    out_types: (shape, host dtype) of each output. The result handlers are made once, here: with them jaxlib
    builds each output buffer in C++, where disassembling the results into per-device lists costs
    microseconds a call (and a call into the jax package's Python code, when jax is imported).
    """
    sharding = _jax.SingleDeviceSharding(device())
    # committed: the buffer stays on its device; _skip_checks: the types are XLA's own, nothing to check
    handlers = [_jax.array_result_handler(_BufferType(tuple(shape), np.dtype(dt)), sharding, True, True)
                for shape, dt in out_types]
    execute = executable.execute_sharded

    def run(buffers):
        return execute(buffers).consume_with_handlers(handlers)
    return run

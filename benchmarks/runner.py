"""Runs one workload: set up every framework, check they agree, time them interleaved."""
from __future__ import annotations

import dataclasses
import statistics
import sys
import time
import traceback

import numpy as np
import optree

from benchmarks.registry import Workload


@dataclasses.dataclass
class Result:
    workload: str
    framework: str
    unit: str
    status: str = 'ok'  # 'ok', 'mismatch' (timed anyway), 'n/a' or 'error' (not timed)
    note: str = ''
    seconds: list[float] = dataclasses.field(default_factory=list)  # per call, one entry per repeat

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float('nan')


@dataclasses.dataclass(frozen=True)
class Plan:
    repeats: int  # timed batches per framework, interleaved round-robin
    warmup: int  # >= 1 calls after the checked first one (caches, allocator), timed only to size batches
    batch_s: float  # target duration of one timed batch; short calls are looped to reach it
    # Idle time before each batch. BLAS and OpenMP worker threads spin for up to ~0.2 s after
    # their last job (OpenBLAS, KMP_BLOCKTIME); without a pause they steal the cores from the
    # next framework in the round and slow it down up to 3x.
    settle_s: float


def to_numpy(out) -> np.ndarray:
    """Flatten any framework's output (array, tensor, dict, tuple) into one 1-D array."""
    if isinstance(out, dict):
        return np.concatenate([to_numpy(out[k]) for k in sorted(out)])
    if isinstance(out, (list, tuple)):
        return np.concatenate([to_numpy(o) for o in out])
    if hasattr(out, 'detach'):  # a torch tensor that may require grad
        out = out.detach()
    return np.asarray(out).ravel()


def _agreement(out: np.ndarray, ref: np.ndarray, w: Workload) -> str | None:
    """None when out matches ref within the workload's tolerance, else what differs."""
    if out.shape != ref.shape:
        return f"{out.size} output values, reference has {ref.size}"
    if np.allclose(out, ref, rtol=w.rtol, atol=w.atol):
        return None
    diff = np.abs(out.astype(np.float64) - ref)
    return f"max abs diff {np.nanmax(diff):.3g} (rtol={w.rtol}, atol={w.atol})"


def _block(out):
    """Wait for asynchronous results (jitted fn_dl and JAX calls return before XLA finishes)."""
    for leaf in optree.tree_leaves(out, namespace='fn_dl'):
        wait = getattr(leaf, 'block_until_ready', None)
        if wait is not None:
            wait()


def _time_batch(fn, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        _block(fn())
    return (time.perf_counter() - start) / number


def _first_output(r: Result, w: Workload, setup):
    """Set up one framework and call it once; on failure mark r and return None."""
    try:
        fn = setup()
    except (ImportError, AttributeError) as e:
        # A framework not installed, or a transform fn_dl does not have yet: expected, not a crash.
        r.status, r.note = 'n/a', f"not available: {type(e).__name__}: {e}"
        return None
    try:
        return fn, to_numpy(fn())
    except Exception as e:
        r.status, r.note = 'error', f"{type(e).__name__}: {e}"
        print(f"\n{w.name} / {r.framework} failed:\n{traceback.format_exc()}", file=sys.stderr)
        return None


def run(w: Workload, plan: Plan) -> list[Result]:
    """Check and time every framework of w; the first one that runs is the reference."""
    results, fns, ref = [], {}, None
    for name, setup in w.build().items():
        r = Result(w.name, name, w.unit)
        results.append(r)
        if (first := _first_output(r, w, setup)) is None:
            continue
        fn, out = first
        if ref is None:
            ref, r.note = out.astype(np.float64), 'reference'
        elif (problem := _agreement(out, ref, w)) is not None:
            r.status, r.note = 'mismatch', problem
        per_call = _time_batch(fn, plan.warmup)  # the warm-up doubles as calibration
        fns[name] = (fn, max(1, round(plan.batch_s / per_call)))
    by_name = {r.framework: r for r in results}
    order = list(fns)
    for rep in range(plan.repeats if order else 0):
        # Rotating the start spreads any drift (thermal, other load) over all frameworks alike.
        for name in order[rep % len(order):] + order[:rep % len(order)]:
            fn, number = fns[name]
            time.sleep(plan.settle_s)
            by_name[name].seconds.append(_time_batch(fn, number))
    return results

"""The workload registry: each workload is a function returning {framework: setup}.

A setup is a zero-argument function that imports its framework, prepares the
inputs and returns the callable to time. Setups are separate from the dict so a
framework that is not installed (ImportError) or lacks a transform
(AttributeError, e.g. `fd.hessian` before it exists) is reported as n/a
without hiding the others.

Every timed callable returns the workload's representative output (a loss,
a gradient, a Hessian); the first call of each, from identical inputs, is
compared against the first framework in the dict, which is also the baseline
of the speed ratios. A jitted workload is one more registered function whose
first entry is the fn_dl jit variant.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

Setup = Callable[[], Callable[[], Any]]


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str
    unit: str  # 'us' or 'ms' per call, or 'steps/s'
    doc: str
    build: Callable[[], dict[str, Setup]]
    rtol: float
    atol: float


WORKLOADS: dict[str, Workload] = {}


def register(name: str, unit: str, rtol: float = 1e-4, atol: float = 1e-5):
    """Decorator adding a workload; its docstring's first line says what it measures."""
    if unit not in ('us', 'ms', 'steps/s'):
        raise ValueError(f"workload {name}: unit must be 'us', 'ms' or 'steps/s', got {unit!r}")

    def add(build):
        if name in WORKLOADS:
            raise ValueError(f"workload {name} is registered twice")
        doc = (build.__doc__ or '').strip().split('\n')[0]
        WORKLOADS[name] = Workload(name, unit, doc, build, rtol, atol)
        return build
    return add

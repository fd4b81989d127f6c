"""Workload groups, one module each; importing a module registers its workloads.

Peers are imported inside each setup, so a missing one is reported as n/a.
JAX dispatches asynchronously: its callables block until the result is ready.
"""
from benchmarks.workloads import adamw, eager, hessian, jit, mlp, text_classifier  # noqa: F401

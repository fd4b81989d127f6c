"""Schedules: functions from the step count (0 at the first update) to a value, usually a learning rate.

They are pure fnp code, so the count may be a Python int, an array, or a traced value under jit.
Values are computed in float64 (as torch.optim.lr_scheduler computes in Python floats) and
returned as float32 scalars.

>>> from fn_dl import optim
>>> lr = optim.warmup_cosine_decay_schedule(0.0, peak_value=1.0, warmup_steps=10, decay_steps=110)
>>> [round(float(lr(t)), 3) for t in (0, 5, 10, 60, 110, 200)]
[0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
"""
from __future__ import annotations

import math

from fn_dl import numpy as fnp


def _count(count):
    return fnp.astype(fnp.asarray(count), fnp.float64)


def _out(value):
    return fnp.astype(fnp.asarray(value), fnp.float32)


def _check_steps(name, value, who, allow_zero=False):
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{who}: {name} must be {'non-negative' if allow_zero else 'positive'}, got {value}")


def _progress(count, begin, steps):
    """The fraction of a transition of `steps` steps done at count: 0 before it, 1 after (and for 0 steps)."""
    if steps == 0:
        return 1.0
    return fnp.clip(_count(count) - begin, 0, steps) / steps


def constant_schedule(value):
    """The same value at every step.

    >>> float(constant_schedule(0.5)(100))
    0.5
    """
    return lambda count: _out(fnp.full_like(_count(count), value))


def polynomial_schedule(init_value, end_value, power, transition_steps, transition_begin=0):
    """From init_value to end_value as (1 - t / transition_steps)**power, then constant.

    The transition starts after transition_begin steps. With end_value 0 this is
    torch.optim.lr_scheduler.PolynomialLR.

    >>> sched = polynomial_schedule(1.0, 0.0, power=2, transition_steps=10)
    >>> [round(float(sched(t)), 4) for t in (0, 5, 10, 20)]
    [1.0, 0.25, 0.0, 0.0]
    """
    _check_steps('transition_steps', transition_steps, 'polynomial_schedule', allow_zero=True)

    def schedule(count):
        done = _progress(count, transition_begin, transition_steps)
        return _out(fnp.full_like(_count(count), (init_value - end_value)) * (1 - done) ** power + end_value)
    return schedule


def linear_schedule(init_value, end_value, transition_steps, transition_begin=0):
    """From init_value to end_value linearly over transition_steps, then constant (torch's LinearLR).

    >>> sched = linear_schedule(1.0, 0.5, transition_steps=10)
    >>> [round(float(sched(t)), 4) for t in (0, 5, 10, 20)]
    [1.0, 0.75, 0.5, 0.5]
    """
    return polynomial_schedule(init_value, end_value, 1, transition_steps, transition_begin)


def cosine_decay_schedule(init_value, decay_steps, alpha=0.0, exponent=1.0):
    """Half a cosine from init_value down to alpha * init_value over decay_steps, then constant.

    torch.optim.lr_scheduler.CosineAnnealingLR(T_max, eta_min) is alpha = eta_min / init_value
    (torch keeps going round the cosine after T_max; this stays at the end value).

    >>> sched = cosine_decay_schedule(1.0, decay_steps=10, alpha=0.1)
    >>> [round(float(sched(t)), 4) for t in (0, 5, 10, 20)]
    [1.0, 0.55, 0.1, 0.1]
    """
    _check_steps('decay_steps', decay_steps, 'cosine_decay_schedule', allow_zero=True)

    def schedule(count):
        cosine = 0.5 * (1 + fnp.cos(math.pi * _progress(count, 0, decay_steps)))
        return _out(fnp.full_like(_count(count), init_value) * ((1 - alpha) * cosine ** exponent + alpha))
    return schedule


def join_schedules(schedules, boundaries):
    """schedules[i] from boundaries[i - 1] on, each restarted at its boundary (torch's SequentialLR).

    >>> sched = join_schedules([constant_schedule(1.0), linear_schedule(1.0, 0.0, 4)], [10])
    >>> [float(sched(t)) for t in (9, 10, 12)]
    [1.0, 1.0, 0.5]
    """
    if len(schedules) != len(boundaries) + 1:
        raise ValueError(f"join_schedules: needs one boundary between each two schedules; got {len(schedules)} "
                         f"schedules and {len(boundaries)} boundaries")

    def schedule(count):
        count = fnp.asarray(count)
        value = schedules[0](count)
        for boundary, sched in zip(boundaries, schedules[1:]):
            value = fnp.where(count < boundary, value, sched(count - boundary))
        return value
    return schedule


def warmup_cosine_decay_schedule(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0, exponent=1.0):
    """Linear warmup from init_value to peak_value over warmup_steps, then cosine decay to end_value.

    decay_steps counts from step 0, warmup included.

    >>> sched = warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=2, decay_steps=12)
    >>> [round(float(sched(t)), 4) for t in (0, 1, 2, 7, 12)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    alpha = 0.0 if peak_value == 0 else end_value / peak_value
    return join_schedules([linear_schedule(init_value, peak_value, warmup_steps),
                           cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha, exponent)],
                          [warmup_steps])


def exponential_decay(init_value, transition_steps, decay_rate, transition_begin=0, staircase=False, end_value=None):
    """init_value * decay_rate**(t / transition_steps), t counted from transition_begin.

    staircase rounds the exponent down (torch's StepLR); transition_steps=1 is torch's
    ExponentialLR. end_value bounds the value (from below when decaying, above when growing).

    >>> sched = exponential_decay(1.0, transition_steps=2, decay_rate=0.5, staircase=True)
    >>> [float(sched(t)) for t in (0, 1, 2, 5)]
    [1.0, 1.0, 0.5, 0.25]
    """
    _check_steps('transition_steps', transition_steps, 'exponential_decay')

    def schedule(count):
        t = fnp.maximum(_count(count) - transition_begin, 0.0)
        p = t / transition_steps
        value = init_value * decay_rate ** (fnp.floor(p) if staircase else p)
        if end_value is not None:
            value = fnp.maximum(value, end_value) if decay_rate < 1 else fnp.minimum(value, end_value)
        return _out(value)
    return schedule


def piecewise_constant_schedule(init_value, boundaries_and_scales=None):
    """init_value, multiplied by scale at each step boundary of {boundary: scale} (torch's MultiStepLR).

    >>> sched = piecewise_constant_schedule(1.0, {3: 0.5, 6: 0.1})
    >>> [round(float(sched(t)), 4) for t in (0, 3, 5, 6)]
    [1.0, 0.5, 0.5, 0.05]
    """
    steps = sorted((boundaries_and_scales or {}).items())

    def schedule(count):
        t = _count(count)
        value = fnp.full_like(t, init_value)
        for boundary, s in steps:
            value = fnp.where(t < boundary, value, value * s)
        return _out(value)
    return schedule


def _anneal(kind, start, end, pct):
    if kind == 'cos':
        return end + (start - end) / 2 * (fnp.cos(math.pi * pct) + 1)
    return start + (end - start) * pct


def one_cycle_schedule(transition_steps, peak_value, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
                       anneal_strategy='cos', three_phase=False):
    """The 1cycle policy (Smith and Topin, 2017), step for step as torch.optim.lr_scheduler.OneCycleLR.

    From peak_value / div_factor up to peak_value over pct_start of the steps, then down to
    peak_value / (div_factor * final_div_factor) at the last step, transition_steps - 1, and
    thereafter; three_phase returns to the initial value before the final descent.
    anneal_strategy is 'cos' or 'linear'.

    >>> sched = one_cycle_schedule(100, peak_value=1.0)
    >>> [round(float(sched(t)), 4) for t in (0, 29, 99)]
    [0.04, 1.0, 0.0]
    """
    _check_steps('transition_steps', transition_steps, 'one_cycle_schedule')
    if anneal_strategy not in ('cos', 'linear'):
        raise ValueError(f"one_cycle_schedule: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
    initial = peak_value / div_factor
    final = initial / final_div_factor
    # (end step, start value, end value) per phase, with torch's step boundaries
    warm_end = pct_start * transition_steps - 1
    if three_phase:
        phases = [(warm_end, initial, peak_value), (2 * pct_start * transition_steps - 2, peak_value, initial),
                  (transition_steps - 1, initial, final)]
    else:
        phases = [(warm_end, initial, peak_value), (transition_steps - 1, peak_value, final)]

    def schedule(count):
        # torch raises past the last step; a jitted schedule cannot, so it stays at the final value
        t = fnp.clip(_count(count), 0, transition_steps - 1)
        value, start_step = None, 0.0
        for end_step, lo, hi in phases:
            v = _anneal(anneal_strategy, lo, hi, (t - start_step) / (end_step - start_step))
            value = v if value is None else fnp.where(t <= start_step, value, v)
            start_step = end_step
        return _out(value)
    return schedule

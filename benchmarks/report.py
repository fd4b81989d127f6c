"""The machine header, the results table (Markdown, pasteable into a README) and the JSON file."""
from __future__ import annotations

import dataclasses
import datetime
import importlib.metadata
import json
import os
import platform
import statistics

from benchmarks.runner import Result

PACKAGES = ('numpy', 'jax', 'jaxlib', 'torch', 'autograd')


def _cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:  # not Linux
        pass
    return platform.processor() or platform.machine()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return 'not installed'


def load_average() -> float:
    """The 1-minute load: other processes on the machine skew every timing, so it is reported."""
    return round(os.getloadavg()[0], 2)


def machine() -> dict:
    import fn_dl  # from the checkout, which need not be pip-installed
    return {
        'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
        'cpu': _cpu_model(),
        'cores': os.cpu_count(),
        'load_before': load_average(),
        'python': platform.python_version(),
        'fn_dl': fn_dl.__version__,
        **{p: _version(p) for p in PACKAGES},
        'glibc_tunables': os.environ.get('GLIBC_TUNABLES', ''),
    }


def header(m: dict) -> str:
    versions = ', '.join(f"{k} {m[k]}" for k in ('python', 'fn_dl', *PACKAGES))
    tunables = f"\nGLIBC_TUNABLES={m['glibc_tunables']}" if m.get('glibc_tunables') else ''
    return (f"{m['date']} · {m['cpu']}, {m['cores']} cores · load {m['load_before']} before, "
            f"{m['load_after']} after\n{versions}{tunables}")


def _in_unit(r: Result, seconds: float) -> float:
    """Seconds per call in the workload's unit: µs or ms per call, or calls per second."""
    return {'us': 1e6 * seconds, 'ms': 1e3 * seconds, 'steps/s': 1 / seconds}[r.unit]


def _times(r: Result) -> tuple[str, str]:
    """The median and the best repeat, the one least disturbed by other processes (ratios use medians)."""
    if not r.seconds:
        return r.status, ''
    return f"{_in_unit(r, r.median_s):.4g}", f"{_in_unit(r, min(r.seconds)):.4g}"


def _spread(r: Result) -> str:
    """Half the interquartile range of the per-call times, relative to the median."""
    if len(r.seconds) < 4:
        return ''
    q1, _, q3 = statistics.quantiles(r.seconds, n=4)
    return f"±{50 * (q3 - q1) / r.median_s:.0f}%"


def speedup(r: Result, baseline: Result) -> float | None:
    """How many times faster the baseline (fn_dl) is than r; None when either was not timed."""
    if not (r.seconds and baseline.seconds):
        return None
    return r.median_s / baseline.median_s


def _versus(r: Result, baseline: Result) -> str:
    if r is baseline:
        return 'baseline'
    s = speedup(r, baseline)
    if s is None:
        return ''
    return f"{baseline.framework} {s:.2f}x faster" if s >= 1 else f"{baseline.framework} {1 / s:.2f}x slower"


def table(groups: list[list[Result]]) -> str:
    """One row per framework; each workload's first framework is the baseline of the ratio column."""
    rows = [('workload', 'framework', 'median', 'best', 'unit', 'spread', 'vs baseline', 'check'),
            ('---',) * 8]
    for results in groups:
        baseline = results[0]
        for r in results:
            median, best = _times(r)
            check = (r.note or 'agrees') if r.status == 'ok' else f"{r.status}: {r.note}"
            unit = r.unit.replace('us', 'µs')
            rows.append((r.workload, r.framework, median, best, unit, _spread(r), _versus(r, baseline),
                         check.replace('|', '\\|')))  # an error message must not split the row
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return '\n'.join('| ' + ' | '.join(c.ljust(w) for c, w in zip(row, widths)) + ' |' for row in rows)


def save_json(path: str, m: dict, groups: list[list[Result]]) -> None:
    records = []
    for results in groups:
        for r in results:
            records.append({**dataclasses.asdict(r), 'median': _in_unit(r, r.median_s) if r.seconds else None,
                            'speedup_of_baseline': speedup(r, results[0])})
    with open(path, 'w') as f:
        json.dump({'machine': m, 'results': records}, f, indent=1)

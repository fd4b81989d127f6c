"""python -m benchmarks [--only NAME]... [--quick] [--json PATH] [--tuned-malloc]

Runs every registered workload (or those whose name contains a --only NAME),
prints the machine and a Markdown table, and exits with status 1 when a
framework crashed or disagreed with the reference.
"""
import argparse
import os
import sys

from benchmarks import report, runner
from benchmarks.registry import WORKLOADS
from benchmarks import workloads  # noqa: F401  (registers the workloads)

FULL = runner.Plan(repeats=15, warmup=3, batch_s=0.2, settle_s=0.3)
QUICK = runner.Plan(repeats=3, warmup=1, batch_s=0.01, settle_s=0.0)

# glibc malloc settings that keep freed memory mapped: large temporaries (eager ops' outputs, XLA's per-call
# scratch buffer) are then not page-faulted in afresh on every call, and big ones get transparent huge pages.
# They apply to every framework in the run alike; glibc reads them only at process start, hence the re-exec.
TUNED_MALLOC = ('glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:'
                'glibc.malloc.trim_threshold=268435456')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='python -m benchmarks', description=__doc__.split('\n\n')[1])
    parser.add_argument('--only', action='append', metavar='NAME',
                        help='run the workloads whose name contains NAME (repeatable)')
    parser.add_argument('--quick', action='store_true', help='few, short repeats: a smoke test, not a measurement')
    parser.add_argument('--json', metavar='PATH', help='also save the machine and all timings as JSON')
    parser.add_argument('--tuned-malloc', action='store_true',
                        help=f'run with GLIBC_TUNABLES={TUNED_MALLOC} (the process restarts with it)')
    args = parser.parse_args(argv)
    if args.tuned_malloc and os.environ.get('GLIBC_TUNABLES') != TUNED_MALLOC:
        argv = sys.argv[1:] if argv is None else list(argv)
        os.execve(sys.executable, [sys.executable, '-m', 'benchmarks', *argv],
                  {**os.environ, 'GLIBC_TUNABLES': TUNED_MALLOC})

    chosen = [w for name, w in WORKLOADS.items() if not args.only or any(o in name for o in args.only)]
    if not chosen:
        parser.error(f"no workload matches {args.only}; known: {', '.join(WORKLOADS)}")
    plan = QUICK if args.quick else FULL
    m = report.machine()
    groups = []
    for w in chosen:
        print(f"running {w.name}: {w.doc}", file=sys.stderr, flush=True)
        groups.append(runner.run(w, plan))
    m['load_after'] = report.load_average()
    print(report.header(m))
    print()
    print(report.table(groups))
    if args.json:
        report.save_json(args.json, m, groups)
    return int(any(r.status in ('error', 'mismatch') for g in groups for r in g))


if __name__ == '__main__':
    sys.exit(main())

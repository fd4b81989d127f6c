"""glibc malloc settings under which XLA's scratch memory stays mapped from one execution to the next.

XLA CPU allocates the temporaries of each execution as one block, freed when the execution ends: 63 MB for
the TextClassifier's d 128 training step, 126 MB for d 256. glibc serves a block above 32 MiB (the most its
mmap threshold can be raised to) with fresh pages from the kernel and unmaps it on free, and a thread other
than the main one (XLA runs executions on its own threads) cannot have a block above 64 MiB from its arena at
all. So every step page-faulted its whole scratch block afresh: measured, 16,600 faults and 51 ms of system
time per d 128 step, 31,000 faults per d 256 step; PyTorch's eager step, 1,900.

`retain_large_blocks` makes glibc serve large blocks from its heap rather than from mmap (M_MMAP_MAX 0),
keep up to TRIM_BYTES of free memory at the top of the heap rather than return it (M_TRIM_THRESHOLD), and put
threads created from now on in the main arena (M_ARENA_MAX 1), whose heap has no size limit: the same blocks
are reused step after step. Measured: the d 128 step went from 108 to 77 ms, the d 256 step from 272 to
226 ms, faults from 16,600 to 1,600 and 31,000 to 3,100.

It is called when fn_dl creates its XLA client, so only processes that start XLA change their allocator
(jit, or the eager outer products of fn_dl.ops.dot, which run as an XLA kernel). The cost is memory held for reuse: freed blocks stay in the process for its next allocations
instead of going back to the kernel, as in PyTorch's caching allocators (the d 256 benchmark's peak RSS went
from 650 to about 900 MB). Set FN_DL_MALLOC=default before the first jitted call to keep glibc's defaults.
Other allocators (jemalloc or tcmalloc preloaded) are left alone, as is every platform other than glibc's.
"""
from __future__ import annotations

import ctypes
import functools
import os
import platform

from fn_dl.backends._host_buffers import MAX_BYTES

# mallopt parameters, from glibc's malloc.h
M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8

# Free memory kept at the top of the heap: 256 MiB holds the d 256 step's scratch block twice over, and
# measured no more faults than 1 GiB (about 2,000 per d 256 step either way) and the same peak RSS. Never
# more than the eager host pool may hold (an eighth of RAM on small machines).
TRIM_BYTES = min(256 << 20, MAX_BYTES)


@functools.cache
def retain_large_blocks() -> bool:
    """Apply the settings above once per process; True if they were applied.

    >>> isinstance(retain_large_blocks(), bool)
    True
    """
    if os.environ.get('FN_DL_MALLOC', '').lower() == 'default' or platform.libc_ver()[0] != 'glibc':
        return False
    try:
        libc = ctypes.CDLL('libc.so.6')
    except OSError:
        return False
    if _preloaded_allocator():
        return False
    # mallopt returns 1 on success; each setting is independent, so one refused leaves the others useful
    return all([libc.mallopt(M_MMAP_MAX, 0), libc.mallopt(M_TRIM_THRESHOLD, TRIM_BYTES),
                libc.mallopt(M_ARENA_MAX, 1)])


def _preloaded_allocator():
    """Whether LD_PRELOAD puts another malloc in front of glibc's (its settings would then do nothing here)."""
    preload = os.environ.get('LD_PRELOAD', '')
    return any(name in preload for name in ('jemalloc', 'tcmalloc', 'mimalloc'))

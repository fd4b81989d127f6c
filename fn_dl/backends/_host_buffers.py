"""Reusable host buffers for eager outputs larger than glibc's heap serves well.

glibc serves a request at or above its mmap threshold (128 KiB, raised as
large blocks are freed, up to 32 MiB) with fresh pages from the kernel, and
returns freed memory at the top of its heap once more than twice that
threshold is free there. Eager code frees its temporaries in bursts, so both
happen step after step, and every such output is page-faulted in afresh. On
this kind of machine a fault costs about 2.5 µs per 4 KiB page: measured,
`a * b` on 256 KiB float32 arrays took 120 µs into new memory and 17 µs into
memory written before, 7x; filling 100 MB took 29 ms against 11 ms. Eager
impls that produce such outputs (elementwise ops, contractions, casts) get
them from here instead: a buffer no array refers to any more is handed out
again, the most recently freed first (its lines may still be cached).

A buffer is free when the pool holds the only reference to it: every array
made from it is a view, which keeps it referenced while alive, and fn_dl
arrays are immutable, so nothing writes to a buffer someone still reads.
The pool holds at most MAX_BYTES; `clear()` gives the free buffers back.
"""
from __future__ import annotations

import math
import os
import sys
import threading

import numpy as np

# Outputs above glibc's initial mmap threshold. At or below it the heap reuses memory without faults
# (measured: 128 KiB arrays never faulted, 256 KiB ones faulted every page on every call).
MIN_BYTES = (128 << 10) + 1
_ALIGN = 64  # bytes: a cache line, which BLAS and XLA prefer (NumPy's own alignment is 16)
_PAGE = 4096  # sizes are pooled by the pages they span, so near sizes share buffers


def _memory_bytes():
    try:
        return os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')
    except (ValueError, OSError, AttributeError):  # not POSIX
        return 8 << 30


# what the pool may hold in all (1 GiB, or an eighth of the machine's memory if that is less); beyond it,
# outputs are allocated plainly
MAX_BYTES = min(1 << 30, _memory_bytes() // 8)

_pools: dict = {}  # bytes per buffer -> its buffers (flat uint8 arrays), most recently handed out last
_held = [0]  # bytes in all pools
_lock = threading.Lock()
_refcount = sys.getrefcount


def output_buffer(shape, dtype):
    """An uninitialised array of `shape` and `dtype` (an np.dtype) from a free pooled buffer, for an output
    this large; None (let NumPy allocate, as `out=None` does) for a smaller one, or when the pool is full.

    >>> import numpy as np
    >>> output_buffer((2, 3), np.dtype(np.float32)) is None
    True
    >>> output_buffer((4096, 4096), np.dtype(np.float32)).shape
    (4096, 4096)
    """
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return None
    size = -(-(nbytes + _ALIGN) // _PAGE) * _PAGE
    with _lock:  # finding a free buffer and taking it must not interleave with another thread's
        pool = _pools.get(size)
        buf = None
        if pool:
            for i in range(len(pool) - 1, -1, -1):
                if _refcount(pool[i]) == 2:  # the pool's reference and getrefcount's argument: free
                    buf = pool.pop(i)
                    break
        if buf is None:
            buf = _new(size)
            if buf is None:
                return None
        _pools.setdefault(size, []).append(buf)
    start = -buf.__array_interface__['data'][0] % _ALIGN
    return buf[start:start + nbytes].view(dtype).reshape(shape)


def _new(size):
    """A new buffer of `size` bytes, evicting free ones (least recently used first) to stay within
    MAX_BYTES; None when the rest is in use."""
    if _held[0] + size > MAX_BYTES:
        for pool in list(_pools.values()):
            i = 0
            while i < len(pool) and _held[0] + size > MAX_BYTES:
                if _refcount(pool[i]) == 2:
                    _held[0] -= pool.pop(i).nbytes
                else:
                    i += 1
        if _held[0] + size > MAX_BYTES:
            return None
    _held[0] += size
    return np.empty(size, np.uint8)


def clear():
    """Drop the pooled buffers (those still in use live on with their arrays)."""
    with _lock:
        _pools.clear()
        _held[0] = 0

"""Reusable host buffers for large eager outputs.

glibc serves allocations above 32 MiB (its largest mmap threshold) with fresh
pages from the kernel and returns them when freed, so every such output is
page-faulted in afresh: writing 100 MB of per-example gradients into new memory
takes about twice as long as into memory written before (measured: 29 ms
against 11 ms to fill 100 MB). Eager code that produces such outputs call
after call (per-example gradients under vmap) therefore gets them from here:
a buffer that no array refers to any more is handed out again.

A buffer is free when the cache holds the only reference to it: every array
made from it is a view, which keeps it referenced while alive, and fn_dl
arrays are immutable, so nothing writes to a buffer someone still reads.
"""
from __future__ import annotations

import math
import os
import sys
import threading

import numpy as np

MIN_BYTES = 32 << 20  # below this glibc's own heap reuses freed memory
_ALIGN = 64  # bytes: a cache line, which BLAS and XLA prefer (NumPy's own alignment is 16)


def _memory_bytes():
    try:
        return os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')
    except (ValueError, OSError, AttributeError):  # not POSIX
        return 8 << 30


# what the cache may hold in all (1 GiB, or an eighth of the machine's memory if that is less); beyond it,
# outputs are allocated plainly. `clear()` gives the cached buffers back.
MAX_BYTES = min(1 << 30, _memory_bytes() // 8)

_buffers: list = []  # flat uint8 arrays, oldest first
_lock = threading.Lock()


def output_buffer(shape, dtype):
    """An uninitialised array of `shape` and `dtype` (an np.dtype) from a free cached buffer, for an output
    this large; None (let NumPy allocate, as `out=None` does) for a smaller one, or when the cache is full.

    >>> import numpy as np
    >>> output_buffer((2, 3), np.dtype(np.float32)) is None
    True
    >>> output_buffer((4096, 4096), np.dtype(np.float32)).shape
    (4096, 4096)
    """
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < MIN_BYTES:
        return None
    with _lock:  # finding a free buffer and taking it must not interleave with another thread's
        buf = _take(nbytes)
        if buf is None:
            buf = _new(nbytes)
            if buf is None:
                return None
        start = -buf.__array_interface__['data'][0] % _ALIGN
        return buf[start:start + nbytes].view(dtype).reshape(shape)


def _free(i):
    return sys.getrefcount(_buffers[i]) == 2  # the list's reference and getrefcount's argument


def _take(nbytes):
    """A free buffer that fits (at most a quarter larger than asked for), or None."""
    for i in range(len(_buffers)):
        if nbytes + _ALIGN <= _buffers[i].nbytes <= nbytes + nbytes // 4 and _free(i):
            buf = _buffers.pop(i)
            _buffers.append(buf)  # most recently used last: eviction takes the oldest
            return buf
    return None


def _new(nbytes):
    """A new cached buffer, evicting free ones to stay within MAX_BYTES; None when the rest is in use."""
    nbytes += _ALIGN
    held = sum(b.nbytes for b in _buffers)
    i = 0
    while held + nbytes > MAX_BYTES and i < len(_buffers):
        if _free(i):
            held -= _buffers.pop(i).nbytes
        else:
            i += 1
    if held + nbytes > MAX_BYTES:
        return None
    buf = np.empty(nbytes, np.uint8)
    _buffers.append(buf)
    return buf


def clear():
    """Drop the cached buffers (those still in use live on with their arrays)."""
    with _lock:
        _buffers.clear()

"""DataLoader: batches of a map-style dataset, shuffled reproducibly, prefetched by a background thread."""
from __future__ import annotations

import operator
import queue
import threading

import numpy as np

from fn_dl import random
from fn_dl.data._dataset import fetch_batch, resolve_key


class DataLoader:
    """Iterate over `dataset` in batches, like `torch.utils.data.DataLoader`.

    Each `iter(loader)` is one epoch and visits every sample exactly once
    (`drop_last=True` leaves out the last, incomplete batch). With `shuffle=True`,
    epoch `e` visits the samples in the order
    `fd.random.permutation(fd.random.fold_in(key, e), len(dataset))`, where `key` is
    `key`, or `fd.random.key(seed)`, or (neither given) one drawn from the global
    stream `fd.random.next_key()` when the loader is made (without shuffling, the
    order is 0, 1, 2, ... and `key`/`seed` are unused). The order is therefore
    a pure function of the key and the epoch: `loader.epoch` counts the epochs
    started (one per `iter()`), and setting it resumes a run at that epoch.

    Batches are `collate_fn(list_of_samples)`; by default the samples' pytrees
    stacked leafwise (`default_collate`), and a dataset with `get_batch(indices)`
    (`TensorDataset`, `Subset` of one) is indexed once per batch instead.

    With `prefetch=n > 0` a background thread prepares up to `n` batches ahead
    while the consumer works; the batches are the same as with `prefetch=0`. The
    thread stops when the epoch ends, or when its iterator is closed or garbage
    collected; an exception raised while loading is re-raised in the consumer.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(fnp.arange(10.0).reshape(5, 2), fnp.arange(5))
    >>> loader = DataLoader(ds, batch_size=2, shuffle=True, seed=0)
    >>> len(loader), [y.shape for x, y in loader]
    (3, [(2,), (2,), (1,)])
    >>> sorted(loader.sample_order(1).tolist())
    [0, 1, 2, 3, 4]
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, *, key=None, seed=None, drop_last=False,
                 collate_fn=None, prefetch=2):
        self.batch_size = operator.index(batch_size)
        if self.batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size}")
        self.prefetch = operator.index(prefetch)
        if self.prefetch < 0:
            raise ValueError(f"DataLoader: prefetch must be >= 0 (0 loads in the consumer's thread), got {prefetch}")
        self.dataset = dataset
        self.shuffle = shuffle
        # the key is fixed here, so the orders of all epochs follow from the arguments alone
        self.key = resolve_key('DataLoader', key, seed) if shuffle else None
        self.drop_last = drop_last
        self.collate_fn = collate_fn
        self.epoch = 0

    def __len__(self):
        n, b = len(self.dataset), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    def sample_order(self, epoch):
        """The dataset indices in the order epoch `epoch` visits them (a NumPy int array).

        >>> import fn_dl.numpy as fnp
        >>> from fn_dl.data import DataLoader, TensorDataset
        >>> DataLoader(TensorDataset(fnp.zeros(4))).sample_order(0).tolist()
        [0, 1, 2, 3]
        """
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.asarray(random.permutation(random.fold_in(self.key, epoch), n))

    def __iter__(self):
        epoch = self.epoch
        self.epoch += 1
        batches = self._batches(epoch)
        return _prefetched(batches, self.prefetch) if self.prefetch else batches

    def _batches(self, epoch):
        order, b = self.sample_order(epoch), self.batch_size
        for start in range(0, len(self) * b, b):
            indices = order[start:start + b]
            if self.collate_fn is None:
                yield fetch_batch(self.dataset, indices)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in indices])


_DONE, _ITEM, _ERROR = range(3)


def _prefetched(iterator, size):
    """Yield the items of `iterator`, computed up to `size` ahead by a background thread.

    A generator, so that closing it or dropping the last reference to it runs the
    `finally` below, which stops the thread. The thread holds no reference to the
    generator (only to the queue, the stop flag and `iterator`), or it would keep it alive.
    """
    items = queue.Queue(size)
    stop = threading.Event()

    def work():
        try:
            for item in iterator:
                items.put((_ITEM, item))
                if stop.is_set():
                    return
            items.put((_DONE, None))
        except BaseException as e:  # noqa: BLE001 (handed to the consumer, which re-raises it)
            items.put((_ERROR, e))

    thread = threading.Thread(target=work, name='fn_dl.data.DataLoader prefetch', daemon=True)
    thread.start()
    try:
        while True:
            kind, value = items.get()
            if kind == _DONE:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        stop.set()
        # empty the queue so a worker blocked in put() wakes, sees `stop` and returns; it puts at most one
        # more item after this, and the queue now has room for it
        while True:
            try:
                items.get_nowait()
            except queue.Empty:
                break
        # a collection can run this finalizer in the worker itself, which cannot join itself
        if threading.current_thread() is not thread:
            thread.join()

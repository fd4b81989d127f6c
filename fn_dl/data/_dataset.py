"""Map-style datasets: `len(ds)` samples, `ds[i]` the i-th, any pytree."""
from __future__ import annotations

import abc
import math
import operator

import numpy as np

from fn_dl import numpy as fnp
from fn_dl import random, tree
from fn_dl.data._collate import default_collate


class Dataset(abc.ABC):
    """A map-style dataset, as in PyTorch: `len(ds)` samples and `ds[i]` the i-th.

    A sample is any pytree (an array, a tuple `(x, y)`, a dict...). A dataset that
    can gather many samples at once more cheaply than one by one may also define
    `get_batch(indices)`, returning the collated batch; `DataLoader` uses it when no
    `collate_fn` is given. Any object with `__len__` and `__getitem__` works with
    `DataLoader`; subclassing `Dataset` only documents the intent.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.data import Dataset
    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 4
    ...     def __getitem__(self, i):
    ...         return fnp.asarray(float(i * i))
    >>> Squares()[3].item()
    9.0
    """

    @abc.abstractmethod
    def __getitem__(self, index):
        """The sample at integer `index` (a pytree of arrays and numbers)."""

    @abc.abstractmethod
    def __len__(self):
        """The number of samples."""


class TensorDataset(Dataset):
    """Samples are slices of arrays that share a leading dimension.

    `TensorDataset(X, Y)` gives `ds[i] == (X[i], Y[i])`, as in PyTorch;
    `TensorDataset(x=X, y=Y)` gives dicts `{'x': X[i], 'y': Y[i]}`. Each argument may
    itself be a pytree of arrays. `get_batch(indices)` indexes every array once with
    the whole index array, so a `DataLoader` over it never loops over samples.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.data import TensorDataset
    >>> ds = TensorDataset(fnp.arange(6.0).reshape(3, 2), fnp.asarray([0, 1, 0]))
    >>> len(ds), ds[1][0].tolist(), ds[1][1].item()
    (3, [2.0, 3.0], 1)
    >>> TensorDataset(x=fnp.zeros((3, 2))).get_batch([2, 0])['x'].shape
    (2, 2)
    """

    def __init__(self, *arrays, **named_arrays):
        if arrays and named_arrays:
            raise TypeError("TensorDataset: give the arrays either positionally (samples are tuples) or by "
                            "keyword (samples are dicts), not both")
        self.arrays = tree.map(fnp.asarray, arrays or named_arrays)
        paths_leaves = tree.leaves_with_path(self.arrays)
        if not paths_leaves:
            raise ValueError("TensorDataset: needs at least one array")
        lengths = {}
        for path, leaf in paths_leaves:
            if leaf.ndim == 0:
                raise ValueError(f"TensorDataset: the array at {_path_str(path)} is 0-d; every array needs a "
                                 "leading (sample) dimension")
            lengths[_path_str(path)] = leaf.shape[0]
        if len(set(lengths.values())) > 1:
            found = ', '.join(f"{p}: {n}" for p, n in lengths.items())
            raise ValueError(f"TensorDataset: all arrays must have the same length (leading dimension), got {found}")
        self._len = next(iter(lengths.values()))

    def __len__(self):
        return self._len

    def __getitem__(self, index):
        i = operator.index(index)
        return tree.map(lambda a: a[i], self.arrays)

    def get_batch(self, indices):
        """The samples at `indices`, collated: each array indexed once with the whole index array.

        >>> import fn_dl.numpy as fnp
        >>> from fn_dl.data import TensorDataset
        >>> TensorDataset(fnp.arange(5) * 10).get_batch([4, 1])[0].tolist()
        [40, 10]
        """
        idx = _index_array('TensorDataset.get_batch', indices, self._len)
        return tree.map(lambda a: a[idx], self.arrays)


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.data import Subset, TensorDataset
    >>> sub = Subset(TensorDataset(fnp.arange(5)), [4, 0])
    >>> len(sub), sub[0][0].item()
    (2, 4)
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = _index_array('Subset', indices, len(dataset))

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices):
        """The samples at `indices` (positions in this subset), collated; fast when the parent's batches are.

        >>> import fn_dl.numpy as fnp
        >>> from fn_dl.data import Subset, TensorDataset
        >>> Subset(TensorDataset(fnp.arange(5) * 10), [3, 2, 1]).get_batch([0, 2])[0].tolist()
        [30, 10]
        """
        return fetch_batch(self.dataset, self.indices[_index_array('Subset.get_batch', indices, len(self))])


def fetch_batch(dataset, indices):
    """The collated batch of `dataset` at `indices`: `dataset.get_batch` if it has one, else
    `default_collate` of the samples one by one.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl.data import TensorDataset
    >>> from fn_dl.data._dataset import fetch_batch
    >>> fetch_batch(TensorDataset(fnp.arange(4)), [3, 1])[0].tolist()
    [3, 1]
    """
    get_batch = getattr(dataset, 'get_batch', None)
    if get_batch is not None:
        return get_batch(indices)
    return default_collate([dataset[int(i)] for i in indices])


def random_split(dataset, lengths, key=None, *, seed=None):
    """Split `dataset` into non-overlapping random `Subset`s of the given lengths.

    `lengths` are sample counts summing to `len(dataset)`, or fractions summing to 1
    (floored, the remainder handed out one by one from the first split, as PyTorch
    does). The shuffle is `fd.random.permutation(key, len(dataset))`; with neither
    `key` nor `seed` the key is drawn from the global stream (`fd.random.next_key()`).

    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> from fn_dl.data import TensorDataset, random_split
    >>> train, val = random_split(TensorDataset(fnp.arange(10)), [0.8, 0.2], seed=0)
    >>> len(train), len(val)
    (8, 2)
    """
    n = len(dataset)
    counts = _split_counts(list(lengths), n)
    order = np.asarray(random.permutation(resolve_key('random_split', key, seed), n))
    ends = np.cumsum(counts)
    return [Subset(dataset, order[end - count:end]) for count, end in zip(counts, ends)]


def _split_counts(lengths, n):
    if any(isinstance(x, float) for x in lengths):
        if any(not 0 <= x <= 1 for x in lengths) or not math.isclose(sum(lengths), 1.0):
            raise ValueError(f"random_split: fractions must lie in [0, 1] and sum to 1, got {lengths}")
        counts = [math.floor(n * x) for x in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        return counts
    counts = [operator.index(x) for x in lengths]
    if any(c < 0 for c in counts) or sum(counts) != n:
        raise ValueError(f"random_split: lengths {counts} must be non-negative and sum to the dataset's "
                         f"{n} samples (or pass fractions that sum to 1)")
    return counts


def resolve_key(name, key, seed):
    """The shuffling key from `key` or `seed` (at most one), else one from the global stream.

    >>> import fn_dl as fd
    >>> from fn_dl.data._dataset import resolve_key
    >>> resolve_key('demo', None, 3).tolist()
    [0, 3]
    """
    if key is not None and seed is not None:
        raise ValueError(f"{name}: pass key= or seed=, not both")
    if seed is not None:
        return random.key(seed)
    if key is None:
        return random.next_key()
    key = random.key_data(key)
    if key.shape != (2,):
        raise ValueError(f"{name}: key must be one key of shape (2,) (fd.random.key(seed)), got shape {key.shape}")
    return key


def _index_array(name, indices, n):
    """`indices` as a 1-d int64 NumPy array in [0, n), negative ones counted from the end."""
    idx = np.asarray(indices)
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise TypeError(f"{name}: indices must be a 1-d sequence of integers, got {idx.dtype}{list(idx.shape)}")
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)][0]
        raise IndexError(f"{name}: index {bad} is out of range for {n} samples")
    return np.where(idx < 0, idx + n, idx)


def _path_str(path):
    return '/'.join(map(str, path)) or '<root>'

"""fd.data: datasets, collation and the DataLoader (coverage, reproducible shuffles, prefetch, threads)."""
import gc
import threading
from typing import NamedTuple

import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split

N = 23  # not a multiple of any batch size used, so the last batch is short


def _dataset(n=N):
    return TensorDataset(fnp.asarray(np.arange(n * 3, dtype=np.float32).reshape(n, 3)), fnp.arange(n))


class Pair(NamedTuple):
    x: object
    label: object


class Records(Dataset):
    """A dataset with no get_batch: samples are collated one by one."""

    def __init__(self, n=N, fail_at=None):
        self.n, self.fail_at = n, fail_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise RuntimeError(f"cannot read record {i}")
        return {'pair': Pair(fnp.full((2,), float(i)), i), 'weight': 0.5 * i, 'name': f"r{i}"}


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == 'fn_dl.data.DataLoader prefetch']


def _labels(loader):
    return [np.asarray(batch[1]).tolist() for batch in loader]


def _assert_same_batches(a, b):
    assert fd.tree.structure(a) == fd.tree.structure(b)
    for u, v in zip(fd.tree.leaves(a), fd.tree.leaves(b)):
        if isinstance(u, str):
            assert u == v
        else:
            assert u.dtype == v.dtype and np.array_equal(np.asarray(u), np.asarray(v))


# --- datasets -------------------------------------------------------------------------------------

def test_tensor_dataset_tuple_and_dict_samples():
    x, y = np.arange(12.0).reshape(4, 3), np.arange(4)
    ds = TensorDataset(x, y)
    assert len(ds) == 4
    xi, yi = ds[-1]
    assert np.asarray(xi).tolist() == [9.0, 10.0, 11.0] and yi.item() == 3
    named = TensorDataset(x=x, nested={'y': y})
    sample = named[2]
    assert sample['nested']['y'].item() == 2 and sample['x'].shape == (3,)
    batch = named.get_batch([3, 0])
    assert np.asarray(batch['x']).tolist() == [[9.0, 10.0, 11.0], [0.0, 1.0, 2.0]]


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match=r"same length.*0: 4, 1/y: 5"):
        TensorDataset(np.zeros(4), {'y': np.zeros(5)})
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.zeros(()))
    with pytest.raises(TypeError, match="not both"):
        TensorDataset(np.zeros(3), y=np.zeros(3))
    with pytest.raises(IndexError, match="out of bounds"):
        _dataset(3)[3]
    with pytest.raises(IndexError, match="out of range"):
        _dataset(3).get_batch([0, 5])


def test_subset_and_its_fast_path():
    ds = _dataset()
    sub = Subset(ds, [5, -1, 0])
    assert len(sub) == 3 and sub[1][1].item() == N - 1
    _assert_same_batches(sub.get_batch([2, 0]), ds.get_batch([0, 5]))
    with pytest.raises(IndexError, match=f"index {N} is out of range"):
        Subset(ds, [0, N])
    with pytest.raises(TypeError, match="integers"):
        Subset(ds, [0.5])


def test_random_split_lengths_fractions_and_determinism():
    ds = _dataset(10)
    parts = random_split(ds, [0.5, 0.3, 0.2], key=fd.random.key(1))
    assert [len(p) for p in parts] == [5, 3, 2]
    seen = np.concatenate([p.indices for p in parts])
    assert sorted(seen.tolist()) == list(range(10))
    again = random_split(ds, [5, 3, 2], seed=1)  # seed=1 is key(1): the same split
    assert all(np.array_equal(p.indices, q.indices) for p, q in zip(parts, again))
    # fractions that do not divide evenly: the remainder goes to the first splits, one each, as in PyTorch
    assert [len(p) for p in random_split(_dataset(11), [1 / 3] * 3, seed=0)] == [4, 4, 3]
    with pytest.raises(ValueError, match="sum to"):
        random_split(ds, [4, 4], seed=0)
    with pytest.raises(ValueError, match="fractions"):
        random_split(ds, [0.5, 0.6], seed=0)


# --- collation ------------------------------------------------------------------------------------

def test_default_collate_pytrees():
    batch = default_collate([Records()[i] for i in (3, 1)])
    assert isinstance(batch['pair'], Pair)
    assert np.asarray(batch['pair'].x).tolist() == [[3.0, 3.0], [1.0, 1.0]]
    assert batch['pair'].label.dtype == np.int32 and batch['pair'].label.tolist() == [3, 1]
    assert batch['weight'].dtype == np.float32 and batch['weight'].tolist() == [1.5, 0.5]
    assert batch['name'] == ['r3', 'r1']
    with pytest.raises(ValueError, match="sample 1 has structure"):
        default_collate([{'a': 1}, {'b': 1}])


# --- the loader -----------------------------------------------------------------------------------

@pytest.mark.parametrize('shuffle', [False, True])
@pytest.mark.parametrize('batch_size,drop_last', [(1, False), (4, False), (4, True), (N, False), (50, False),
                                                  (50, True)])
def test_every_sample_once_per_epoch(shuffle, batch_size, drop_last):
    loader = DataLoader(_dataset(), batch_size=batch_size, shuffle=shuffle, seed=0, drop_last=drop_last)
    assert len(loader) == (N // batch_size if drop_last else -(-N // batch_size))
    sizes = [batch_size] * (N // batch_size) + ([] if drop_last or N % batch_size == 0 else [N % batch_size])
    for _ in range(2):
        batches = _labels(loader)
        assert [len(b) for b in batches] == sizes
        seen = sum(batches, [])
        assert len(seen) == len(set(seen)) and set(seen) <= set(range(N))  # each sample at most once ...
        assert len(seen) == (N - N % batch_size if drop_last else N)  # ... and all but the dropped ones
        if not shuffle:
            assert seen == list(range(len(seen)))


def test_shuffle_order_is_documented_function_of_key_and_epoch():
    key = fd.random.key(7)
    loader = DataLoader(_dataset(), batch_size=5, shuffle=True, key=key)
    epochs = [sum(_labels(loader), []) for _ in range(3)]
    for e, seen in enumerate(epochs):
        assert seen == np.asarray(fd.random.permutation(fd.random.fold_in(key, e), N)).tolist()
        assert seen == loader.sample_order(e).tolist()
    assert epochs[0] != epochs[1] != epochs[2]
    # the same key (or the seed it came from) gives the same epochs; resuming at an epoch gives that epoch
    assert sum(_labels(DataLoader(_dataset(), 5, shuffle=True, seed=7)), []) == epochs[0]
    resumed = DataLoader(_dataset(), 5, shuffle=True, key=key)
    resumed.epoch = 2
    assert sum(_labels(resumed), []) == epochs[2]
    assert DataLoader(_dataset(), 5, shuffle=True, seed=8).sample_order(0).tolist() != epochs[0]


def test_shuffle_without_key_uses_the_global_stream():
    fd.random.seed(3)
    first = DataLoader(_dataset(), 4, shuffle=True).sample_order(0)
    fd.random.seed(3)
    assert np.array_equal(DataLoader(_dataset(), 4, shuffle=True).sample_order(0), first)
    with pytest.raises(ValueError, match="not both"):
        DataLoader(_dataset(), 4, shuffle=True, key=fd.random.key(0), seed=0)
    with pytest.raises(ValueError, match=r"one key of shape \(2,\)"):
        DataLoader(_dataset(), 4, shuffle=True, key=fd.random.split(fd.random.key(0), 3))


@pytest.mark.parametrize('make', [_dataset, Records, lambda: Subset(_dataset(), np.arange(N)[::-1])])
def test_prefetch_and_fast_path_do_not_change_batches(make):
    ds = make()
    reference = list(DataLoader(ds, 4, shuffle=True, seed=2, prefetch=0, collate_fn=default_collate))
    for prefetch in (0, 1, 3):
        batches = list(DataLoader(ds, 4, shuffle=True, seed=2, prefetch=prefetch))
        assert len(batches) == len(reference)
        for a, b in zip(batches, reference):
            _assert_same_batches(a, b)


def test_custom_collate_fn_gets_the_samples():
    loader = DataLoader(Records(5), batch_size=2, collate_fn=lambda samples: [s['name'] for s in samples])
    assert list(loader) == [['r0', 'r1'], ['r2', 'r3'], ['r4']]


def test_worker_exception_reraises_in_consumer():
    loader = DataLoader(Records(fail_at=6), batch_size=4, prefetch=2)
    seen = []
    with pytest.raises(RuntimeError, match="cannot read record 6"):
        for batch in loader:
            seen.append(batch['pair'].label.tolist())
    assert seen == [[0, 1, 2, 3]]
    assert not _prefetch_threads()


def test_prefetch_thread_does_not_leak():
    loader = DataLoader(_dataset(), batch_size=1, prefetch=2)
    it = iter(loader)
    next(it)
    assert len(_prefetch_threads()) == 1
    it.close()
    assert not _prefetch_threads()

    it = iter(loader)
    next(it)
    del it  # garbage: the generator's finaliser stops the thread
    gc.collect()
    assert not _prefetch_threads()

    for _ in range(5):
        for i, _batch in enumerate(loader):
            if i == 3:
                break
    gc.collect()
    assert not _prefetch_threads()
    iter(loader)  # an iterator never advanced never starts a thread
    assert not _prefetch_threads()


def test_loader_argument_errors():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(_dataset(), batch_size=0)
    with pytest.raises(ValueError, match="prefetch"):
        DataLoader(_dataset(), prefetch=-1)


def test_empty_dataset_gives_no_batches():
    loader = DataLoader(Subset(_dataset(), []), batch_size=3, shuffle=True, seed=0)
    assert len(loader) == 0 and list(loader) == []

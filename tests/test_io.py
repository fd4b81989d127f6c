"""fd.save / fd.load: safetensors round trips, resumed training, crash safety, corrupt files, interop."""
import os
import signal
import subprocess
import sys
import time
from typing import NamedTuple

import ml_dtypes
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import fn_dl as fd
import fn_dl.numpy as fnp

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class AdamState(NamedTuple):  # module level, so fd.load can import it back
    count: object
    mu: object
    nu: object


class Wrapped(NamedTuple):
    inner: object
    hyper: object


def _rich_tree():
    rng = np.random.default_rng(0)
    bf16_bits = rng.integers(0, 2 ** 16, size=(5, 7), dtype=np.uint16)  # every bit pattern, NaN payloads too
    params = {'dense': {'weight': fnp.asarray(rng.standard_normal((3, 4)).astype(np.float32)),
                        'bias': fnp.asarray(bf16_bits.view(ml_dtypes.bfloat16))},
              'emb': fnp.asarray(rng.standard_normal((2, 3)).astype(np.float16))}
    zeros = fd.tree.map(fnp.zeros_like, params)
    return {
        'params': params,
        'opt_state': (Wrapped(AdamState(fnp.asarray(5), zeros, zeros), {'lr': 1e-3}), ()),
        'step': 12345678901234567890, 'lr': 0.1, 'stop': False, 'name': 'run-1', 'nothing': None,
        'misc': [np.arange(3, dtype=np.float64), np.array([True, False]), np.array([1 + 2j], np.complex64),
                 np.int8(-3), np.zeros((0, 3), np.uint32), float('nan'), -0.0],
        7: 'an int key',
        'dotted.name': fnp.ones(2), 'dotted': {'name': fnp.zeros(2)},  # tensor names that collide
    }


def _assert_tree_equal(got, want):
    """Same structure, the same scalar types and values, arrays with the same dtype, shape and bits."""
    assert fd.tree.structure(got) == fd.tree.structure(want)
    for g, w in zip(fd.tree.leaves(got), fd.tree.leaves(want)):
        if isinstance(w, (bool, int, float, str)):
            assert type(g) is type(w) and (g == w or (g != g and w != w)) and str(g) == str(w)
        else:
            assert isinstance(g, fd.Array)
            g, w = np.asarray(g), np.asarray(w)
            assert g.dtype == w.dtype and g.shape == w.shape
            assert g.tobytes() == w.tobytes()


def test_round_trip_keeps_structure_dtypes_and_bits(tmp_path):
    tree = _rich_tree()
    path = tmp_path / 'ckpt.safetensors'
    fd.save(path, tree)
    _assert_tree_equal(fd.load(path), tree)
    assert os.listdir(tmp_path) == ['ckpt.safetensors']  # no temporary file left behind
    if os.name == 'posix':  # the file gets the usual mode for new files, not the temporary file's 0600
        umask = os.umask(0)
        os.umask(umask)
        assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    fd.save(str(path), fnp.arange(3))  # a bare array, overwriting: str paths work too
    _assert_tree_equal(fd.load(str(path)), fnp.arange(3))


def test_files_are_plain_safetensors(tmp_path):
    path = tmp_path / 'ckpt.safetensors'
    fd.save(path, _rich_tree())
    tensors = load_file(path)
    assert {'params.dense.weight', 'params.dense.bias', 'opt_state.0.inner.count', 'misc.0',
            'dotted.name', 'dotted.name#1'} <= set(tensors)
    assert tensors['params.dense.bias'].dtype == ml_dtypes.bfloat16
    assert np.array_equal(tensors['params.dense.weight'], np.asarray(_rich_tree()['params']['dense']['weight']))


def test_foreign_safetensors_file_loads_as_flat_dict(tmp_path):
    path = tmp_path / 'other.safetensors'
    save_file({'b': np.arange(2, dtype=np.int64), 'a.weight': np.eye(2, dtype=np.float32)}, path)
    loaded = fd.load(path)
    assert sorted(loaded) == ['a.weight', 'b']
    assert isinstance(loaded['b'], fd.Array) and loaded['b'].dtype == np.int64


@fd.jit
def _train_step(params, state, x, y):
    """A hand-written Adam step, so this test depends only on save/load."""
    grads = fd.grad(lambda p: fnp.mean((x @ p['w'] + p['b'] - y) ** 2))(params)
    count = state.count + 1
    mu = fd.tree.map(lambda m, g: 0.9 * m + 0.1 * g, state.mu, grads)
    nu = fd.tree.map(lambda v, g: 0.999 * v + 0.001 * g * g, state.nu, grads)
    t = count.astype(fnp.float32)
    params = fd.tree.map(lambda p, m, v: p - 0.01 * (m / (1 - 0.9 ** t)) / (fnp.sqrt(v / (1 - 0.999 ** t)) + 1e-8),
                         params, mu, nu)
    return params, AdamState(count, mu, nu)


def _train(params, state, step, n):
    for _ in range(n):
        key = fd.random.fold_in(fd.random.key(0), step)  # the data depends on the saved Python int
        x = fd.random.normal(key, (8, 3))
        params, state = _train_step(params, state, x, fnp.sum(x, axis=1, keepdims=True))
        step += 1
    return params, state, step


def test_resumed_training_is_bit_identical(tmp_path):
    params = {'w': fnp.zeros((3, 1)), 'b': fnp.zeros(1)}
    zeros = fd.tree.map(fnp.zeros_like, params)
    params, state, step = _train(params, AdamState(fnp.asarray(0), zeros, zeros), 0, 3)
    fd.save(tmp_path / 'ckpt.safetensors', {'params': params, 'opt_state': state, 'step': step})
    straight = _train(params, state, step, 3)

    ckpt = fd.load(tmp_path / 'ckpt.safetensors')
    assert isinstance(ckpt['opt_state'], AdamState) and ckpt['step'] == 3
    resumed = _train(ckpt['params'], ckpt['opt_state'], ckpt['step'], 3)
    _assert_tree_equal(resumed, straight)


def test_optimiser_states_round_trip(tmp_path):
    params = {'w': fnp.ones((2, 2)), 'b': fnp.zeros(2)}
    opt = fd.optim.chain(fd.optim.clip_by_global_norm(1.0), fd.optim.adamw(1e-3))
    state = opt.init(params)
    _, state = opt.update(fd.tree.map(fnp.ones_like, params), state, params)
    fd.save(tmp_path / 'opt.safetensors', state)
    _assert_tree_equal(fd.load(tmp_path / 'opt.safetensors'), state)


_CRASHING_SAVER = """
import sys
import numpy as np
import fn_dl as fd
# 256 MB: the write takes long enough to be killed in the middle of it
fd.save(sys.argv[1], {f'w{i}': np.full(1 << 20, i, np.float32) for i in range(64)})
"""


def test_crash_during_save_keeps_previous_checkpoint(tmp_path):
    path = tmp_path / 'ckpt.safetensors'
    previous = {'w': fnp.arange(4.0), 'step': 1}
    fd.save(path, previous)
    writer = subprocess.Popen([sys.executable, '-c', _CRASHING_SAVER, str(path)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(os.listdir(tmp_path)) == 1:  # until the writer's temporary file appears
        assert writer.poll() is None, f"the writer ended before writing: {writer.communicate()}"
        assert time.monotonic() < deadline, "the writer never started writing"
        time.sleep(0.001)
    writer.send_signal(signal.SIGKILL)
    assert writer.wait() == -signal.SIGKILL, "the save finished before it could be interrupted"
    _assert_tree_equal(fd.load(path), previous)
    fd.save(path, {'w': fnp.ones(2)})  # stray temporary files do not get in the way of the next save
    assert fd.load(path)['w'].tolist() == [1.0, 1.0]


def test_failed_save_leaves_previous_checkpoint_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / 'ckpt.safetensors'
    fd.save(path, {'w': fnp.arange(3.0)})

    def broken_writer(specs, filename, metadata):
        with open(filename, 'wb') as f:
            f.write(b'half a file')
        raise OSError("disk full")

    monkeypatch.setattr(fd.io, 'serialize_file', broken_writer)
    with pytest.raises(OSError, match="disk full"):
        fd.save(path, {'w': fnp.zeros(3)})
    assert os.listdir(tmp_path) == ['ckpt.safetensors']
    assert fd.load(path)['w'].tolist() == [0.0, 1.0, 2.0]


def test_truncated_and_fuzzed_files_raise_clear_errors(tmp_path):
    tree = {'params': {'w': fnp.arange(6.0).reshape(2, 3), 'b': fnp.asarray([1.0, 2.0], fnp.bfloat16)},
            'state': AdamState(fnp.asarray(2), [1.5], None), 'step': 9}
    good = tmp_path / 'good.safetensors'
    fd.save(good, tree)
    data = good.read_bytes()
    rng = np.random.default_rng(0)
    truncated = [data[:n] for n in range(len(data))] + [data + b'\0']
    flipped = [data[:i] + bytes([data[i] ^ int(m)]) + data[i + 1:]
               for i, m in enumerate(rng.integers(1, 256, size=len(data)))]
    scrambled = []
    for _ in range(100):
        blob = np.frombuffer(data, np.uint8).copy()
        blob[rng.integers(0, len(data), size=4)] = rng.integers(0, 256, size=4)
        scrambled.append(blob.tobytes())
    for i, blob in enumerate(truncated + flipped + scrambled):
        # a new file each time: truncating a file in place makes ext4 flush it, a hundred times slower
        bad = tmp_path / f'bad{i}.safetensors'
        bad.write_bytes(blob)
        try:
            loaded = fd.load(bad)
        except ValueError as e:
            assert str(bad) in str(e), e
        else:  # the damage hit something that does not matter (JSON whitespace): the same tree
            assert blob not in truncated
            _assert_tree_equal(loaded, tree)
        bad.unlink()


def test_save_and_load_errors(tmp_path):
    path = tmp_path / 'x.safetensors'
    with pytest.raises(TypeError, match=r"cannot store the object at \['a'\]\[1\]"):
        fd.save(path, {'a': [fnp.ones(1), object()]})
    with pytest.raises(TypeError, match="complex128"):
        fd.save(path, {'z': np.zeros(2, np.complex128)})
    with pytest.raises(TypeError, match="keys must be str or int"):
        fd.save(path, {(1, 2): fnp.ones(1)})
    assert not os.listdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="x.safetensors"):
        fd.load(path)

    class Local(NamedTuple):  # saved fine, but fd.load cannot import a class local to a function
        a: int

    fd.save(path, Local(1))
    with pytest.raises(ValueError, match=r"x.safetensors.*NamedTuple of class .*Local .*cannot be imported"):
        fd.load(path)


def test_torch_state_dict_loads_into_fn_dl_module(tmp_path):
    torch = pytest.importorskip('torch')
    from safetensors.torch import save_file as torch_save_file

    from fn_dl import nn
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    path = tmp_path / 'torch.safetensors'
    half = torch.randn(3).bfloat16()
    torch_save_file(dict(reference.state_dict()) | {'extra.bf16': half}, path)

    loaded = fd.load(path)
    assert loaded['extra.bf16'].dtype == fnp.bfloat16
    assert np.array_equal(np.asarray(loaded['extra.bf16']).view(np.int16), half.view(torch.int16).numpy())
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    model.load_state_dict({k: v for k, v in loaded.items() if k != 'extra.bf16'})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(model(fnp.asarray(x))), reference(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)

"""Checkpoints: `save` and `load` pytrees in the safetensors format, written atomically.

A checkpoint is a standard safetensors file: every array leaf is a tensor named
by its dotted path (`params.0.weight`, `opt_state.mu.0.weight`), so other tools
(`safetensors.numpy.load_file`, `safetensors.torch.load_file`) read it, and a
PyTorch state_dict saved with safetensors loads here as a dict of arrays. The
tree around the arrays (dicts, lists, tuples, NamedTuples, None, Python scalars)
is JSON in the header's metadata, with a CRC-32 of every tensor and of the tree
itself, so that a damaged file is reported instead of loaded as garbage.

>>> import os, tempfile
>>> import fn_dl as fd, fn_dl.numpy as fnp
>>> path = os.path.join(tempfile.mkdtemp(), 'ckpt.safetensors')
>>> fd.save(path, {'w': fnp.ones((2, 2)), 'step': 10})
>>> fd.load(path)['step']
10
"""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import uuid
import zlib

import numpy as np
from safetensors import SafetensorError, TensorSpec, safe_open, serialize_file

from fn_dl import numpy as fnp

_VERSION_KEY, _TREE_KEY, _TREE_CRC_KEY = 'fn_dl.format', 'fn_dl.tree', 'fn_dl.tree_crc32'
_VERSION = '1'
# a tensor may not take the name of the header's metadata entry
_RESERVED_NAMES = frozenset({'__metadata__'})


def save(path, tree):
    """Write `tree` to `path` (a safetensors file), atomically.

    `tree` is a pytree of dicts (str or int keys), lists, tuples, NamedTuples and
    None, whose leaves are arrays (fd, NumPy or anything with `__array__`) or
    Python bool, int, float and str. Arrays come back from `load` as fd Arrays of
    the same dtype (bfloat16 included) and values; scalars as themselves.

    The file is written to a temporary file in the same folder, flushed to disk,
    then renamed over `path`: a crash mid-save leaves the previous checkpoint
    intact (and perhaps stray hidden temporary files beside it, safe to delete).

    >>> import os, tempfile
    >>> import fn_dl as fd, fn_dl.numpy as fnp
    >>> path = os.path.join(tempfile.mkdtemp(), 'params.safetensors')
    >>> fd.save(path, {'linear': {'weight': fnp.zeros((3, 2)), 'bias': fnp.zeros(3)}})
    >>> from safetensors.numpy import load_file
    >>> sorted(load_file(path))
    ['linear.bias', 'linear.weight']
    """
    path = os.fspath(path)
    tensors = {}
    structure = _encode(tree, (), tensors)
    tree_json = json.dumps(structure, separators=(',', ':'))
    metadata = {_VERSION_KEY: _VERSION, _TREE_KEY: tree_json, _TREE_CRC_KEY: str(zlib.crc32(tree_json.encode()))}
    # `tensors` keeps the arrays alive while safetensors reads them through the specs' raw pointers
    _write_atomically(path, {name: spec for name, (_, spec) in tensors.items()}, metadata)


def _encode(node, path, tensors):
    """The JSON description of `node`; its array leaves go into `tensors` (name -> (NumPy array, TensorSpec))."""
    if node is None:
        return None
    if hasattr(node, '__array__'):
        return _encode_array(node, path, tensors)
    for kind in (bool, int, float, str):  # bool first: it is an int too
        if isinstance(node, kind):
            return {kind.__name__: node.hex() if kind is float else kind(node)}
    if isinstance(node, tuple) and hasattr(type(node), '_fields'):
        cls = type(node)
        return {'namedtuple': f"{cls.__module__}:{cls.__qualname__}",
                'fields': {f: _encode(v, path + (f,), tensors) for f, v in zip(node._fields, node)}}
    if isinstance(node, (list, tuple)):
        return {'list' if isinstance(node, list) else 'tuple': [_encode(v, path + (i,), tensors)
                                                                for i, v in enumerate(node)]}
    if isinstance(node, dict):
        for k in node:
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"fd.save: the dict at {_path_str(path)} has the key {k!r}; checkpoint dict keys "
                                "must be str or int")
        return {'dict': [[k, _encode(v, path + (k,), tensors)] for k, v in node.items()]}
    raise TypeError(f"fd.save: cannot store the {type(node).__name__} at {_path_str(path)}; a checkpoint holds "
                    "arrays, Python bool/int/float/str and None, inside dicts, lists, tuples and NamedTuples "
                    "(save a module's state with nn.params(model) or model.state_dict())")


def _encode_array(node, path, tensors):
    a = np.asarray(node)
    # safetensors stores little-endian, row-major data
    a = np.asarray(a, dtype=a.dtype.newbyteorder('<'), order='C')
    name = '.'.join(map(str, path)) or 'array'
    if name in tensors or name in _RESERVED_NAMES:
        # dotted keys can collide with nested paths ({'a.b': x, 'a': {'b': y}}): number the later ones
        name = next(f"{name}#{i}" for i in range(1, len(tensors) + 2) if f"{name}#{i}" not in tensors)
    try:
        spec = TensorSpec(dtype=a.dtype.name, shape=list(a.shape), data_ptr=a.ctypes.data, data_len=a.nbytes)
    except SafetensorError as e:
        raise TypeError(f"fd.save: cannot store the {a.dtype} array at {_path_str(path)}: {e}") from None
    tensors[name] = a, spec
    return {'tensor': name, 'dtype': a.dtype.name, 'shape': list(a.shape), 'crc32': _crc32(a)}


def _crc32(a):
    return zlib.crc32(a.reshape(-1).view(np.uint8))


def _write_atomically(path, specs, metadata):
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        # open first, so a missing folder or a permission problem raises the usual OSError naming the path
        open(tmp, 'xb').close()
        mode = os.stat(tmp).st_mode
        serialize_file(specs, tmp, metadata=metadata)
        # safetensors writes through a private temporary file of its own (mode 0600); keep the umask's mode
        os.chmod(tmp, mode)
        with open(tmp, 'rb') as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    if os.name == 'posix':  # make the rename itself durable (Windows cannot open a folder to fsync it)
        folder = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def load(path):
    """Read a checkpoint written by `save`, or any safetensors file.

    A file from `save` comes back as the tree that was saved: arrays as fd Arrays,
    NamedTuples rebuilt from their recorded class (imported by module and name).
    Any other safetensors file (a PyTorch state_dict saved with
    `safetensors.torch.save_file`, say) comes back as a dict of fd Arrays by
    tensor name, ready for `model.load_state_dict`. A truncated or damaged file
    raises a ValueError naming the file and the problem. Loading imports the
    modules that define the file's NamedTuple classes, so load checkpoints from
    sources you trust, as with any format that names code.

    >>> import os, tempfile
    >>> import numpy as np, fn_dl as fd
    >>> from safetensors.numpy import save_file
    >>> path = os.path.join(tempfile.mkdtemp(), 'foreign.safetensors')
    >>> save_file({'0.weight': np.eye(2, dtype=np.float32)}, path)
    >>> fd.load(path)['0.weight'].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"fd.load: no checkpoint file at {path!r}")
    try:
        with safe_open(path, framework='np') as f:
            metadata = f.metadata() or {}
            if not metadata.keys() & {_VERSION_KEY, _TREE_KEY, _TREE_CRC_KEY}:  # not written by fd.save
                return {name: fnp.asarray(_tensor(f, name)) for name in f.keys()}
            reader = _Reader(f)
            tree = _decode(_structure(metadata), reader)
            unused = reader.names - reader.used
            if unused:
                raise _LoadError(f"tensors {sorted(unused)} are in the file but not in its tree")
            return tree
    except SafetensorError as e:
        raise ValueError(f"fd.load: {path!r} is not a valid safetensors file (truncated or corrupt?): {e}") from None
    except _LoadError as e:
        raise ValueError(f"fd.load: cannot load {path!r}: {e}") from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        raise ValueError(f"fd.load: cannot load {path!r}: its tree structure is malformed "
                         f"({type(e).__name__}: {e})") from None


class _LoadError(ValueError):
    """A problem `load` found and described; other errors while decoding mean a malformed tree."""


def _tensor(f, name):
    try:
        return f.get_tensor(name)
    except Exception as e:  # noqa: BLE001 (safetensors raises assorted types for dtypes NumPy lacks)
        raise _LoadError(f"cannot read the tensor {name!r}: {e}") from None


def _structure(metadata):
    version = metadata.get(_VERSION_KEY)
    if version is None:
        raise _LoadError(f"its metadata has fn_dl entries but no {_VERSION_KEY!r} (the file is corrupt)")
    if version != _VERSION:
        raise _LoadError(f"it has checkpoint format {version!r}, and this fn_dl reads format {_VERSION!r}; "
                         "load it with the fn_dl version that wrote it")
    tree_json = metadata.get(_TREE_KEY, '')
    if metadata.get(_TREE_CRC_KEY) != str(zlib.crc32(tree_json.encode())):
        raise _LoadError("its tree structure fails its checksum (the file is corrupt)")
    return json.loads(tree_json)


class _Reader:
    """Reads and verifies the tensors a tree refers to, remembering which."""

    def __init__(self, f):
        self.f = f
        self.names = set(f.keys())
        self.used = set()

    def tensor(self, node):
        name = node['tensor']
        if name not in self.names:
            raise _LoadError(f"its tree refers to a tensor {name!r} that the file does not contain (the file is "
                             "corrupt)")
        a = _tensor(self.f, name)
        if a.dtype.name != node['dtype'] or list(a.shape) != node['shape']:
            raise _LoadError(f"the tensor {name!r} is {a.dtype.name}{list(a.shape)} in the header but "
                             f"{node['dtype']}{node['shape']} in the tree (the file is corrupt)")
        if _crc32(a) != node['crc32']:
            raise _LoadError(f"the tensor {name!r} fails its checksum (the file is corrupt)")
        self.used.add(name)
        return fnp.asarray(a)


_SCALARS = {'bool': bool, 'int': int, 'str': str}


def _decode(node, reader):
    if node is None:
        return None
    (kind, value), *rest = node.items()
    if kind == 'tensor':
        return reader.tensor(node)
    if kind in _SCALARS and not rest and type(value) is _SCALARS[kind]:
        return value
    if kind == 'float' and not rest:
        return float.fromhex(value)
    if kind in ('list', 'tuple') and not rest:
        items = [_decode(v, reader) for v in value]
        return items if kind == 'list' else tuple(items)
    if kind == 'dict' and not rest:
        out = {}
        for k, v in value:
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TypeError(f"dict key {k!r}")
            out[k] = _decode(v, reader)
        return out
    if kind == 'namedtuple':
        fields = node['fields']
        return _namedtuple_class(value, tuple(fields))(*[_decode(v, reader) for v in fields.values()])
    raise TypeError(f"node {json.dumps(node)[:80]}")


def _namedtuple_class(name, fields):
    module_name, _, qualname = name.partition(':')
    try:
        obj = importlib.import_module(module_name)
        for part in qualname.split('.'):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise _LoadError(f"it holds a NamedTuple of class {qualname} from module {module_name}, which cannot be "
                         f"imported ({e}); a NamedTuple in a checkpoint must be defined at the top level of an "
                         "importable module (a class in a script's __main__ is found only while that script runs)"
                         ) from None
    if not (isinstance(obj, type) and issubclass(obj, tuple) and tuple(getattr(obj, '_fields', ())) == fields):
        raise _LoadError(f"it holds a NamedTuple {name} with fields {fields}, but {name} is now "
                         f"{obj!r} with fields {getattr(obj, '_fields', None)}")
    return obj


def _path_str(path):
    return ''.join(f"[{k!r}]" for k in path) or 'the top level'

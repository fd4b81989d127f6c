"""Dtypes and type promotion: the Array API table (JAX's lattice where the standard is silent), weak
Python scalars, strong NumPy scalars, and the dtype functions of fn_dl.numpy."""
import itertools

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

import fn_dl.numpy as fnp
from fn_dl.core import dtypes

ALL = dtypes.ALL
bf16 = np.dtype(ml_dtypes.bfloat16)


def arr(dtype, shape=(2,)):
    return fnp.asarray(np.ones(shape, dtype))


@pytest.mark.parametrize('a,b', list(itertools.combinations_with_replacement(ALL, 2)), ids=str)
def test_promotion_table_matches_jax_x64(a, b):
    # JAX with 64-bit types on has the Array API table, extended by the same lattice we chose
    with jax.enable_x64(True):
        want = np.dtype(jnp.promote_types(a, b))
    assert fnp.result_type(a, b) == want
    assert fnp.promote_types(b, a) == want
    if dtypes.is_bool(a) and dtypes.is_bool(b):
        return
    out = fnp.multiply(arr(a), arr(b))  # multiply accepts every dtype, bool included
    assert out.dtype == want


@pytest.mark.parametrize('a,b,want', [
    ('int8', 'uint8', 'int16'), ('int16', 'uint16', 'int32'), ('int32', 'uint32', 'int64'),
    ('int64', 'uint64', 'float64'), ('uint8', 'int64', 'int64'), ('float16', 'bfloat16', 'float32'),
    ('bfloat16', 'float32', 'float32'), ('float32', 'complex64', 'complex64'),
    ('float64', 'complex64', 'complex128'), ('int64', 'float16', 'float16'), ('bool', 'uint16', 'uint16'),
])
def test_promotion_examples_from_the_issue(a, b, want):
    assert (arr(a) + arr(b) if 'bool' not in (a, b) else arr(a) * arr(b)).dtype == np.dtype(want)


@pytest.mark.parametrize('dtype', [d for d in ALL if d != dtypes.bool_], ids=str)
@pytest.mark.parametrize('scalar', [2, 2.0, 2j, True], ids=['int', 'float', 'complex', 'bool'])
def test_weak_python_scalars(dtype, scalar):
    """A Python scalar takes the array's dtype when its kind fits; otherwise the default of its kind."""
    x = arr(dtype)
    if isinstance(scalar, complex) and not dtypes.is_complex(dtype):
        want = dtypes.complex128 if dtype == dtypes.float64 else dtypes.complex64
    elif isinstance(scalar, float) and not dtypes.is_inexact(dtype):
        want = dtypes.float32
    else:
        want = dtype
    assert (x * scalar).dtype == want
    assert (scalar * x).dtype == want
    assert fnp.result_type(x, scalar) == want


def test_weak_scalars_with_bool_arrays():
    b = arr(np.bool_)
    assert (b * True).dtype == np.bool_
    assert (b * 2).dtype == np.int32
    assert (b * 2.0).dtype == np.float32
    assert (b * 1j).dtype == np.complex64


def test_weak_scalars_keep_float32():
    x = fnp.asarray([1.0, 2.0])
    for y in (x * 2.0, 2.0 * x, x + 1, x / 3, x ** 2, 2 ** x, x - 1.5, x // 2.0, x % 2.0):
        assert y.dtype == np.float32


def test_weak_scalar_out_of_range_is_an_overflow_error():
    with pytest.raises(OverflowError, match='1000'):
        arr(np.int8) + 1000
    with pytest.raises(OverflowError):
        arr(np.uint8) - (-1)


def test_numpy_scalars_are_strong():
    # NumPy 2 (NEP 50) and JAX: a NumPy scalar has a dtype, and it counts
    x = fnp.asarray([1.0, 2.0])
    assert (x * np.float64(2)).dtype == np.float64
    assert (np.float64(2) * x).dtype == np.float64
    assert (x * np.float16(2)).dtype == np.float32
    assert (arr(np.int8) + np.int16(1)).dtype == np.int16


def test_two_python_scalars_stay_weak():
    assert fnp.result_type(1, 2.0) == np.float32
    assert fnp.result_type(True, 1) == np.int32


@pytest.mark.parametrize('name', ['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
                                  'float16', 'bfloat16', 'float32', 'float64', 'complex64', 'complex128'])
def test_scalar_types(name):
    t = getattr(fnp, name)
    want = np.dtype(ml_dtypes.bfloat16) if name == 'bfloat16' else np.dtype(name)
    assert t == want and want == t and t != 'int7'
    assert hash(t) == hash(want)
    assert {want: 1}[t] == 1
    x = t(1)
    assert isinstance(x, fnp.ndarray) and x.dtype == want and x.shape == ()
    assert fnp.zeros(2, dtype=t).dtype == want
    assert repr(t) == f'fn_dl.numpy.{name}'


def test_canonicalize_rejects_unsupported_dtypes():
    with pytest.raises(TypeError, match='not supported'):
        fnp.zeros(2, dtype='U3')
    with pytest.raises(TypeError, match='not a dtype'):
        fnp.zeros(2, dtype=object())


def test_dtype_comparison_with_non_dtypes_is_false():
    assert fnp.float32 != 'not a dtype at all'
    assert not (fnp.int8 == 3.5)
    assert fnp.float64 != None and not (None == fnp.float64)  # noqa: E711  (np.dtype(None) is float64)


@pytest.mark.parametrize('dtype', [d for d in ALL if dtypes.is_inexact(d)], ids=str)
def test_finfo(dtype):
    f, ref = fnp.finfo(dtype), ml_dtypes.finfo(dtype)
    for field in ('eps', 'max', 'min', 'smallest_normal'):
        assert type(getattr(f, field)) is float and getattr(f, field) == float(getattr(ref, field))
    assert f.bits == ref.bits and f.dtype == dtypes.to_real(dtype)
    assert f.nmant == ref.nmant  # the rest of NumPy's finfo
    assert fnp.finfo(arr(dtype)).eps == f.eps


@pytest.mark.parametrize('dtype', dtypes.INTEGER, ids=str)
def test_iinfo(dtype):
    i, ref = fnp.iinfo(dtype), np.iinfo(dtype)
    assert (i.min, i.max, i.bits) == (ref.min, ref.max, ref.bits)


def test_finfo_iinfo_errors():
    with pytest.raises(TypeError, match='iinfo'):
        fnp.finfo(fnp.int32)
    with pytest.raises(TypeError, match='finfo'):
        fnp.iinfo(fnp.float32)


@pytest.mark.parametrize('a,b', list(itertools.product(ALL, ALL)), ids=str)
def test_can_cast_is_promotion_to_the_target(a, b):
    with jax.enable_x64(True):
        assert fnp.can_cast(a, b) == (np.dtype(jnp.promote_types(a, b)) == b)


@pytest.mark.parametrize('casting', ['no', 'equiv', 'same_kind', 'unsafe'])
def test_can_cast_rules_match_numpy(casting):
    numpy_dtypes = [d for d in ALL if d != dtypes.bfloat16]
    for a, b in itertools.product(numpy_dtypes, numpy_dtypes):
        assert fnp.can_cast(a, b, casting=casting) == np.can_cast(a, b, casting=casting), (a, b)
    with pytest.raises(ValueError, match='casting must be'):
        fnp.can_cast(fnp.int8, fnp.int16, casting='kind')


def test_can_cast_examples():
    assert fnp.can_cast(fnp.int8, fnp.int16) and not fnp.can_cast(fnp.int16, fnp.int8)
    assert fnp.can_cast(fnp.bool, fnp.float16) and not fnp.can_cast(fnp.float16, fnp.bfloat16)
    assert fnp.can_cast(arr(np.uint8), fnp.int16)


KINDS = {
    'bool': {'bool'}, 'signed integer': {'int8', 'int16', 'int32', 'int64'},
    'unsigned integer': {'uint8', 'uint16', 'uint32', 'uint64'},
    'real floating': {'float16', 'bfloat16', 'float32', 'float64'}, 'complex floating': {'complex64', 'complex128'},
}
KINDS['integral'] = KINDS['signed integer'] | KINDS['unsigned integer']
KINDS['numeric'] = KINDS['integral'] | KINDS['real floating'] | KINDS['complex floating']


@pytest.mark.parametrize('kind', sorted(KINDS))
def test_isdtype(kind):
    for d in ALL:
        assert fnp.isdtype(d, kind) == (d.name in KINDS[kind]), d
    assert fnp.isdtype(fnp.int8, (kind, 'signed integer'))
    assert fnp.isdtype(fnp.float32, fnp.float32) and not fnp.isdtype(fnp.float32, fnp.float64)
    with pytest.raises(ValueError, match='unknown kind'):
        fnp.isdtype(fnp.float32, 'floats')


def test_issubdtype():
    assert fnp.issubdtype(fnp.float32, fnp.floating)
    assert fnp.issubdtype(np.int8, fnp.signedinteger) and not fnp.issubdtype(np.uint8, fnp.signedinteger)


@pytest.mark.parametrize('src,dst', [(a, b) for a in ALL for b in ALL], ids=str)
def test_astype_matches_numpy(src, dst):
    base = np.array([0, 1, 3, 100, 7])
    x = (base / 3 - 2 if dtypes.is_inexact(src) else base).astype(src)
    got = fnp.astype(fnp.asarray(x), dst)
    with np.errstate(all='ignore'):
        want = (x.real if dtypes.is_complex(src) and not dtypes.is_complex(dst) else x).astype(dst)
    assert got.dtype == dst
    np.testing.assert_array_equal(np.asarray(got), want)


def test_type_predicates():
    assert fnp.iscomplexobj(fnp.zeros(2, dtype=fnp.complex64)) and fnp.iscomplexobj(1j)
    assert fnp.isrealobj(fnp.zeros(2)) and not fnp.isrealobj(np.zeros(1, np.complex128))
    assert fnp.isscalar(1.5) and fnp.isscalar(np.int8(1)) and not fnp.isscalar(fnp.asarray(1.5))
    assert not fnp.isscalar([1])


def test_inspection_namespace():
    info = fnp.__array_namespace_info__()
    caps = info.capabilities()
    assert caps['boolean indexing'] and caps['data-dependent shapes'] and caps['max dimensions'] is None
    assert info.default_device() in info.devices()
    defaults = info.default_dtypes()
    assert defaults == {'real floating': fnp.float32, 'complex floating': fnp.complex64, 'integral': fnp.int32,
                        'indexing': fnp.int32}
    assert set(info.dtypes()) == set().union(*(KINDS[k] for k in KINDS)) - {'float16', 'bfloat16'}
    assert set(info.dtypes(kind='real floating')) == {'float32', 'float64'}
    assert set(info.dtypes(kind=('bool', 'unsigned integer'))) == {'bool'} | KINDS['unsigned integer']
    assert fnp.__array_api_version__ == '2024.12'

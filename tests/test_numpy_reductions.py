"""fn_dl.numpy's reductions against NumPy: axes, keepdims, dtype, initial, where, 0-d and empty arrays,
every dtype, the Array API's accumulation dtypes, vmap; and hypothesis property tests."""
import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.core import dtypes

from _fnp_checks import ALL, BOOL, COMPLEX, FLOATS, INTS, assert_close, check_vmap, sample, to64

pytestmark = pytest.mark.filterwarnings('ignore::RuntimeWarning')  # NumPy warns on empty means and NaNs
rng = np.random.default_rng(11)
AXES = [None, 0, -1, (0, 2), (), (2, 0, 1)]


def sum_dtype(dtype):
    """The Array API's sum/prod dtype: small integers accumulate in the default int of their signedness."""
    if dtypes.is_bool(dtype) or (dtypes.is_integer(dtype) and not dtypes.is_unsigned(dtype) and dtype.itemsize < 4):
        return dtypes.int32
    if dtypes.is_unsigned(dtype) and dtype.itemsize < 4:
        return dtypes.uint32
    return dtype


def mean_dtype(dtype):
    return dtype if dtypes.is_inexact(dtype) else dtypes.float32


def reference_input(a, dtype):
    """What NumPy reduces for the reference: float64/complex128 for inexact results (no low-precision
    accumulation), int64 for integers (no wrap-around)."""
    if dtypes.is_inexact(dtype):
        return to64(a)
    return a.astype(np.uint64 if dtypes.is_unsigned(a.dtype) else np.int64)


@pytest.mark.parametrize('dtype', ALL, ids=str)
@pytest.mark.parametrize('name', ['sum', 'prod'])
def test_sum_prod(name, dtype):
    f, ref = getattr(fnp, name), getattr(np, name)
    out_dt = sum_dtype(dtype)
    a = sample(rng, dtype, (2, 3, 4), -2, 2)
    x = fnp.asarray(a)
    for axis in AXES:
        for keepdims in (False, True):
            want = ref(reference_input(a, out_dt), axis=axis, keepdims=keepdims)
            assert_close(f(x, axis=axis, keepdims=keepdims), want, out_dt, scale=8, err_msg=f'{name} {axis}')
    for shape in [(), (0,), (3, 0)]:
        b = sample(rng, dtype, shape)
        assert_close(f(fnp.asarray(b), axis=None), ref(reference_input(b, out_dt)), out_dt, err_msg=str(shape))
    wide = dtypes.complex128 if dtypes.is_complex(dtype) else dtypes.float64
    assert_close(f(x, axis=1, dtype=wide), ref(a.astype(wide), axis=1), wide, scale=8)
    check_vmap(lambda v: f(v, axis=0), x)


def test_sum_accumulation_dtypes():
    assert fnp.sum(fnp.ones(3, dtype=fnp.int8)).dtype == np.int32
    assert fnp.sum(fnp.ones(3, dtype=fnp.uint16)).dtype == np.uint32
    assert fnp.sum(fnp.ones(3, dtype=fnp.bool)).dtype == np.int32
    assert fnp.sum(fnp.ones(3, dtype=fnp.int64)).dtype == np.int64
    assert fnp.prod(fnp.ones(3, dtype=fnp.float16)).dtype == np.float16
    # float16 sums accumulate in float32: 4096 ones round to 4096, not to float16's 2048 ceiling of exactness
    assert fnp.sum(fnp.ones(4096 + 1, dtype=fnp.float16)).item() == 4096.0


def test_sum_prod_initial_and_where():
    a = sample(rng, np.float64, (3, 4))
    mask = rng.random((3, 4)) > 0.4
    row_mask = np.array([True, False, True, True])
    x = fnp.asarray(a)
    for f, ref in ((fnp.sum, np.sum), (fnp.prod, np.prod)):
        assert_close(f(x, axis=1, initial=2.0), ref(a, axis=1, initial=2.0))
        assert_close(f(x, axis=0, where=fnp.asarray(mask)), ref(a, axis=0, where=mask))
        assert_close(f(x, axis=1, where=fnp.asarray(row_mask), keepdims=True),
                     ref(a, axis=1, where=row_mask, keepdims=True))
    with pytest.raises(ValueError, match=r'sum: shapes \(3,\), \(3, 4\) cannot be broadcast'):
        fnp.sum(x, where=fnp.asarray([True, False, True]))
    with pytest.raises(ValueError, match=r'sum: where of shape \(2, 3, 4\) does not broadcast'):
        fnp.sum(x, where=fnp.ones((2, 3, 4), dtype=fnp.bool))


@pytest.mark.parametrize('dtype', [d for d in ALL if not dtypes.is_complex(d)], ids=str)
@pytest.mark.parametrize('name', ['max', 'min', 'amax', 'amin', 'ptp'])
def test_max_min_ptp(name, dtype):
    f, ref = getattr(fnp, name), getattr(np, name)
    a = sample(rng, dtype, (2, 3, 4), -50, 50)
    if dtypes.is_floating(dtype):
        a[1, 2, 3] = np.nan
    x = fnp.asarray(a)
    for axis in AXES:
        for keepdims in (False, True):
            if name == 'ptp' and dtypes.is_bool(dtype):
                continue  # NumPy: boolean subtract is an error
            assert_close(f(x, axis=axis, keepdims=keepdims), ref(a, axis=axis, keepdims=keepdims), dtype)
    if name in ('max', 'min'):
        assert_close(f(fnp.asarray(a[0])), ref(a[0]), dtype)
        check_vmap(lambda v: f(v, axis=-1), x)


def test_max_min_initial_where_and_empty():
    a = sample(rng, np.float32, (3, 4))
    mask = rng.random((3, 4)) > 0.5
    x = fnp.asarray(a)
    assert_close(fnp.max(x, axis=1, initial=0.5), np.max(a, axis=1, initial=0.5))
    assert_close(fnp.min(x, axis=0, where=fnp.asarray(mask), initial=9.0), np.min(a, axis=0, where=mask, initial=9.0))
    assert_close(fnp.max(fnp.zeros((0, 3)), axis=0, initial=-1.0), np.max(np.zeros((0, 3)), axis=0, initial=-1.0))
    assert fnp.max(fnp.zeros((3, 0)), axis=0).shape == (0,)  # nothing empty is reduced
    with pytest.raises(ValueError, match=r'max: zero-size reduction.*initial='):
        fnp.max(fnp.zeros((0, 3)), axis=0)
    with pytest.raises(ValueError, match='needs `initial`'):
        fnp.min(x, where=fnp.asarray(mask))


@pytest.mark.parametrize('dtype', ALL, ids=str)
@pytest.mark.parametrize('name', ['mean', 'var', 'std'])
def test_mean_var_std(name, dtype):
    f, ref = getattr(fnp, name), getattr(np, name)
    out_dt = mean_dtype(dtype) if name == 'mean' else dtypes.to_real(mean_dtype(dtype))
    a = sample(rng, dtype, (2, 3, 4), -3, 3)
    x = fnp.asarray(a)
    for axis in AXES:
        if axis == ():
            continue  # NumPy's var over no axes is defined, but not meaningful to compare
        for keepdims in (False, True):
            want = ref(to64(a), axis=axis, keepdims=keepdims)
            assert_close(f(x, axis=axis, keepdims=keepdims), want, out_dt, scale=8, err_msg=f'{name} {axis}')
    if name != 'mean':
        assert_close(f(x, axis=1, correction=1), ref(to64(a), axis=1, ddof=1), out_dt, scale=8)
        assert_close(f(x, axis=1, ddof=2), ref(to64(a), axis=1, ddof=2), out_dt, scale=8)
    check_vmap(lambda v: f(v, axis=0), x)


def test_mean_var_std_where_empty_and_dtype():
    a = sample(rng, np.float64, (3, 5))
    mask = rng.random((3, 5)) > 0.3
    mask[0] = False
    x, m = fnp.asarray(a), fnp.asarray(mask)
    a_inf = np.where(mask, a, np.inf)  # masked-out values never leak in, even infinite ones
    assert_close(fnp.mean(fnp.asarray(a_inf), axis=1, where=m), np.mean(a_inf, axis=1, where=mask))
    assert_close(fnp.var(x, axis=1, where=m, ddof=1), np.var(a, axis=1, where=mask, ddof=1))
    assert_close(fnp.std(x, axis=0, where=m, keepdims=True), np.std(a, axis=0, where=mask, keepdims=True))
    assert np.isnan(fnp.mean(fnp.zeros((0,))).item())
    assert np.isnan(fnp.var(fnp.ones(1), correction=1).item())
    assert fnp.mean(fnp.ones(3, dtype=fnp.int8), dtype=fnp.float64).dtype == np.float64
    # float16 means accumulate in float32, then round once
    h = fnp.asarray(np.full(5000, 1.5, np.float16))
    assert fnp.mean(h).dtype == np.float16 and fnp.mean(h).item() == 1.5


@pytest.mark.parametrize('dtype', ALL, ids=str)
@pytest.mark.parametrize('name', ['all', 'any', 'count_nonzero'])
def test_all_any_count_nonzero(name, dtype):
    f, ref = getattr(fnp, name), getattr(np, name)
    a = sample(rng, dtype, (2, 3, 4), -1, 1)
    x = fnp.asarray(a)
    out_dt = dtypes.int32 if name == 'count_nonzero' else dtypes.bool_
    for axis in AXES:
        for keepdims in (False, True):
            want = np.asarray(ref(a, axis=axis, keepdims=keepdims))
            assert_close(f(x, axis=axis, keepdims=keepdims), want, out_dt, err_msg=f'{name} {axis}')
    for shape in [(), (0,)]:
        b = sample(rng, dtype, shape)
        assert_close(f(fnp.asarray(b)), np.asarray(ref(b)), out_dt)
    check_vmap(lambda v: f(v, axis=1), x)


@pytest.mark.parametrize('dtype', [d for d in ALL if not dtypes.is_complex(d)], ids=str)
@pytest.mark.parametrize('name', ['argmax', 'argmin'])
def test_argmax_argmin(name, dtype):
    f, ref = getattr(fnp, name), getattr(np, name)
    a = sample(rng, dtype, (3, 4, 5), -3, 3)  # few distinct values: ties pick the first, as NumPy
    if dtypes.is_floating(dtype):
        a[2, 1, 3] = np.nan
    x = fnp.asarray(a)
    for axis in (None, 0, 1, -1):
        for keepdims in (False, True):
            assert_close(f(x, axis=axis, keepdims=keepdims), ref(a, axis=axis, keepdims=keepdims), dtypes.int32)
    assert f(fnp.asarray(a[0, 0, 0])).item() == 0
    check_vmap(lambda v: f(v, axis=-1), x)
    with pytest.raises(ValueError, match='empty'):
        f(fnp.zeros((0, 2)), axis=0)


def test_reduction_axis_errors():
    x = fnp.ones((2, 3))
    with pytest.raises(ValueError, match='sum: axis 2 is out of bounds for an array of rank 2'):
        fnp.sum(x, axis=2)
    with pytest.raises(IndexError):  # the Array API's error type; also a ValueError, as NumPy's AxisError
        fnp.mean(x, axis=-3)
    with pytest.raises(ValueError, match='repeated axis'):
        fnp.max(x, axis=(0, -2))
    with pytest.raises(TypeError, match='any: axis must be an int'):
        fnp.any(x, axis=1.0)


def test_average():
    a = sample(rng, np.float32, (3, 4))
    w = sample(rng, np.float32, (4,), 0.1, 1)
    x = fnp.asarray(a)
    assert_close(fnp.average(x), np.average(a), np.float32)
    assert_close(fnp.average(x, axis=1, weights=fnp.asarray(w)), np.average(a, axis=1, weights=w), np.float32)
    avg, total = fnp.average(x, axis=1, weights=fnp.asarray(w), returned=True)
    want_avg, want_total = np.average(a, axis=1, weights=w, returned=True)
    assert_close(avg, want_avg, np.float32) and assert_close(total, want_total, np.float32)
    avg, total = fnp.average(fnp.asarray([1, 2, 4]), returned=True)
    assert avg.dtype == np.float32 and avg.item() == pytest.approx(7 / 3) and total.item() == 3.0
    full_w = sample(rng, np.float64, (3, 4), 0.1, 1)
    assert_close(fnp.average(x, axis=0, weights=fnp.asarray(full_w)), np.average(a, axis=0, weights=full_w),
                 np.float64)
    with pytest.raises(ValueError, match='1-d weights need an int axis'):
        fnp.average(x, weights=fnp.asarray(w))
    with pytest.raises(ValueError, match='3 weights for axis 1 of length 4'):
        fnp.average(x, axis=1, weights=fnp.ones(3))


@pytest.mark.parametrize('dtype', FLOATS + INTS[:2] + COMPLEX, ids=str)
def test_logsumexp(dtype):
    a = sample(rng, dtype, (3, 4), -5, 5)
    x = fnp.asarray(a)
    out_dt = mean_dtype(dtype)
    for axis in (None, 0, -1, (0, 1)):
        for keepdims in (False, True):
            want = scipy.special.logsumexp(to64(a), axis=axis, keepdims=keepdims)
            assert_close(fnp.logsumexp(x, axis=axis, keepdims=keepdims), want, out_dt, scale=8)


def test_logsumexp_is_stable_and_handles_infinities():
    big = np.array([1000.0, 1000.0, -np.inf])
    assert fnp.logsumexp(fnp.asarray(big)).item() == pytest.approx(1000 + np.log(2))
    assert fnp.logsumexp(fnp.asarray([-np.inf, -np.inf])).item() == -np.inf
    assert fnp.logsumexp(fnp.asarray([np.inf, 1.0])).item() == np.inf
    b = np.array([[1.0, 2.0, 0.5]])
    assert_close(fnp.logsumexp(fnp.asarray(b * 0 + 1), axis=1, b=fnp.asarray(b)),
                 scipy.special.logsumexp(np.ones((1, 3)), axis=1, b=b), np.float64)


# --- hypothesis properties -----------------------------------------------------------------------------

PROPERTY = settings(max_examples=20, derandomize=True, deadline=None)


@st.composite
def array_and_axis(draw, dtypes_strategy, elements=None):
    dtype = draw(dtypes_strategy)
    a = draw(hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4), elements=elements))
    axis = draw(st.none() | st.sampled_from(range(-a.ndim, a.ndim)) if a.ndim else st.none())
    if a.ndim and draw(st.booleans()):
        axis = tuple(draw(st.lists(st.sampled_from(range(a.ndim)), unique=True)))
    return a, axis, draw(st.booleans())


@PROPERTY
@given(case=array_and_axis(st.sampled_from([np.dtype(np.int16), np.dtype(np.int64), np.dtype(np.uint8)]),
                           st.integers(0, 3)),
       name=st.sampled_from(['sum', 'prod', 'max', 'min', 'any', 'all', 'count_nonzero']))
def test_property_integer_reductions_are_exact(case, name):
    a, axis, keepdims = case
    if name in ('max', 'min') and (a.size == 0 and axis is None or any(
            a.shape[i] == 0 for i in ((axis,) if isinstance(axis, int) else axis or ()))):
        return  # no identity: an error in both
    got = getattr(fnp, name)(fnp.asarray(a), axis=axis, keepdims=keepdims)
    want = getattr(np, name)(a, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want).astype(got.dtype))


@PROPERTY
@given(case=array_and_axis(st.sampled_from([np.dtype(np.float32), np.dtype(np.float64)]),
                           st.floats(-100, 100, width=32)),
       name=st.sampled_from(['sum', 'mean', 'var', 'std', 'prod']))
def test_property_float_reductions(case, name):
    a, axis, keepdims = case
    got = getattr(fnp, name)(fnp.asarray(a), axis=axis, keepdims=keepdims)
    want = getattr(np, name)(a.astype(np.float64), axis=axis, keepdims=keepdims)
    assert got.dtype == a.dtype
    # summation order differs from NumPy's pairwise sum: compare against the size of the terms
    scale = float(np.max(np.abs(a), initial=1.0)) ** (a.size if name == 'prod' else 2 if name == 'var' else 1)
    np.testing.assert_allclose(np.asarray(got, np.float64), want, rtol=1e-5 if a.dtype == np.float32 else 1e-12,
                               atol=scale * a.size * np.finfo(a.dtype).eps * 4, equal_nan=True)


@PROPERTY
@given(case=array_and_axis(st.sampled_from([np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.int8)])))
def test_property_max_argmax_agree(case):
    """max and argmax agree with NumPy (NaN first, first of ties), and with each other."""
    a, axis, keepdims = case
    if a.size == 0:
        return
    x = fnp.asarray(a)
    if axis is None or isinstance(axis, int):
        np.testing.assert_array_equal(np.asarray(fnp.argmax(x, axis=axis, keepdims=keepdims)),
                                      np.argmax(a, axis=axis, keepdims=keepdims))
    if axis is None or isinstance(axis, int) or all(a.shape[i] for i in axis):
        np.testing.assert_array_equal(np.asarray(fnp.max(x, axis=axis, keepdims=keepdims)),
                                      np.max(a, axis=axis, keepdims=keepdims))


@PROPERTY
@given(case=array_and_axis(st.just(np.dtype(np.float32)), st.floats(-10, 10, width=32)))
def test_property_sum_under_vmap(case):
    a, axis, keepdims = case
    if isinstance(axis, tuple) or axis is None:
        axis = 0 if a.ndim else None
    stacked = np.stack([a, 2 * a])
    out = fd.vmap(lambda v: fnp.sum(v, axis=axis, keepdims=keepdims))(fnp.asarray(stacked))
    want = np.stack([np.sum(s, axis=axis, keepdims=keepdims) for s in stacked])
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-5, atol=1e-4)

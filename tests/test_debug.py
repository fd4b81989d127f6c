"""fd.config.debug_nans: the first primitive producing a NaN is named, eagerly and under jit."""
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp


@pytest.fixture
def debug_nans():
    fd.config.debug_nans = True
    try:
        yield
    finally:
        fd.config.debug_nans = False


def test_eager(debug_nans):
    x = fnp.asarray([4.0, -1.0])
    with pytest.raises(FloatingPointError, match=r"sqrt produced NaN from float32\(2,\).*test_debug.py"):
        fnp.sqrt(x) * 2.0
    assert fnp.sqrt(fnp.asarray([4.0])).tolist() == [2.0]  # no NaN: no error


def test_jit_reruns_to_find_the_op(debug_nans):
    f = fd.jit(lambda x: fnp.exp(x) + fnp.log(x))
    with pytest.raises(FloatingPointError, match="log produced NaN"):
        f(fnp.asarray([1.0, -1.0]))


def test_off_by_default_and_restorable():
    assert not fd.config.debug_nans
    out = fnp.sqrt(fnp.asarray([-1.0]))
    assert str(out.tolist()[0]) == 'nan'

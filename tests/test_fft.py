"""FFTs: the fft primitive and the fn_dl.numpy.fft namespace.

Values against NumPy, derivatives against finite differences (check_grads) and JAX's
transposes (complex cotangents), vmap against a Python loop, and the error messages.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl.ops import fft as F
from fn_dl.testing import check_grads

from _seeded import SeededInputs

jax.config.update('jax_enable_x64', True)


r = SeededInputs()


@pytest.fixture(autouse=True)
def _seed():
    r.reset()


def close(a, b, tol=1e-10):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


ONE_AXIS = ['fft', 'ifft', 'rfft', 'irfft', 'hfft', 'ihfft']
REAL_INPUT = {'rfft', 'ihfft', 'rfftn', 'rfft2'}


@pytest.mark.parametrize('name', ONE_AXIS)
@pytest.mark.parametrize('norm', [None, 'backward', 'ortho', 'forward'])
def test_one_axis_against_numpy(name, norm):
    x = r(3, 6, 4) if name in REAL_INPUT else r(3, 6, 4, dtype=np.complex128)
    ours, theirs = getattr(fnp.fft, name), getattr(np.fft, name)
    kw = {} if norm is None else {'norm': norm}
    close(ours(fnp.asarray(x), **kw), theirs(x, **kw))
    for n, axis in [(4, -1), (9, 1), (3, 0), (5, -2)]:  # cropping and zero padding, any axis
        close(ours(fnp.asarray(x), n=n, axis=axis, **kw), theirs(x, n=n, axis=axis, **kw))


@pytest.mark.parametrize('name', ['fftn', 'ifftn', 'rfftn', 'irfftn', 'fft2', 'ifft2', 'rfft2', 'irfft2'])
def test_several_axes_against_numpy(name):
    x = r(3, 4, 5, 2) if name in REAL_INPUT else r(3, 4, 5, 2, dtype=np.complex128)
    ours, theirs = getattr(fnp.fft, name), getattr(np.fft, name)
    many = name.endswith('n')
    close(ours(fnp.asarray(x)), theirs(x))  # all axes: more than the primitive's 3 at once
    for s, axes in [(None, (0, 2)), ((3, 6), (2, 0)), ((5, 4), None), ((2, 3, 4), (1, 2, 3)) if many else
                    ((4, 4), (-1, -3))]:
        np_axes = tuple(range(x.ndim - len(s), x.ndim)) if axes is None and s is not None else axes
        close(ours(fnp.asarray(x), s=s, axes=axes, norm='ortho'), theirs(x, s=s, axes=np_axes, norm='ortho'))


def test_five_axes():
    x = r(2, 3, 2, 4, 3)
    close(fnp.fft.rfftn(fnp.asarray(x)), np.fft.rfftn(x))
    close(fnp.fft.irfftn(fnp.fft.rfftn(fnp.asarray(x)), s=x.shape), x)
    close(fnp.fft.ifftn(fnp.fft.fftn(fnp.asarray(x))), x)


def test_dtypes():
    x32 = fnp.asarray(r(8).astype(np.float32))
    assert fnp.fft.fft(x32).dtype == np.complex64
    assert fnp.fft.rfft(x32).dtype == np.complex64
    assert fnp.fft.irfft(fnp.fft.rfft(x32)).dtype == np.float32
    assert fnp.fft.hfft(x32).dtype == np.float32
    assert fnp.fft.ihfft(x32).dtype == np.complex64
    assert fnp.fft.fft(fnp.asarray(r(8))).dtype == np.complex128
    assert fnp.fft.irfft(fnp.asarray(r(5, dtype=np.complex128))).dtype == np.float64
    assert fnp.fft.fft(fnp.asarray([1, 2, 3])).dtype == np.complex64
    assert fnp.fft.rfft(fnp.asarray([1, 2, 3])).dtype == np.complex64
    close(fnp.fft.fft(x32), np.fft.fft(np.asarray(x32)), 1e-5)
    assert fnp.fft.fftfreq(5).dtype == np.float32
    assert fnp.fft.rfftfreq(5, dtype=fnp.float64).dtype == np.float64


def test_frequencies_and_shifts():
    for n in (1, 4, 7):
        close(fnp.fft.fftfreq(n, d=0.3, dtype='float64'), np.fft.fftfreq(n, d=0.3))
        close(fnp.fft.rfftfreq(n, d=0.3, dtype='float64'), np.fft.rfftfreq(n, d=0.3))
    x = r(4, 5, 3)
    for axes in (None, 1, (0, 2), (-1,)):
        close(fnp.fft.fftshift(fnp.asarray(x), axes=axes), np.fft.fftshift(x, axes=axes))
        close(fnp.fft.ifftshift(fnp.asarray(x), axes=axes), np.fft.ifftshift(x, axes=axes))


# --- derivatives --------------------------------------------------------------------------------

@pytest.mark.parametrize('name,kw', [('fft', {}), ('ifft', {'n': 5}), ('rfft', {'norm': 'ortho'}),
                                     ('irfft', {}), ('irfft', {'n': 7}), ('hfft', {'norm': 'forward'}),
                                     ('ihfft', {'n': 5}), ('fftn', {'axes': (0, 1)}), ('rfftn', {}),
                                     ('irfftn', {'s': (3, 5)}), ('irfft2', {'s': (4, 6), 'axes': (1, 0)})])
def test_check_grads(name, kw):
    real = name in REAL_INPUT
    x = fnp.asarray(r(4, 6) if real else r(4, 6, dtype=np.complex128))
    check_grads(lambda x: getattr(fnp.fft, name)(x, **kw), (x,), order=2)


def test_primitive_transposes_against_jax():
    """vjp with complex cotangents and inputs: the transposes follow JAX's convention."""
    cases = {
        'FFT': (r(3, 4, 5, dtype=np.complex128), (4, 5)),
        'IFFT': (r(3, 4, 5, dtype=np.complex128), (3, 4, 5)),
        'RFFT': (r(3, 4, 6), (4, 6)),
        'IRFFT_even': (r(3, 4, 4, dtype=np.complex128), (4, 6)),
        'IRFFT_odd': (r(3, 4, 4, dtype=np.complex128), (4, 7)),
    }
    cts = {}
    for name, (x, lengths) in cases.items():
        out = F.fft(fnp.asarray(x), name.split('_')[0], lengths)
        cts[name] = r(*out.shape, dtype=out.dtype)

    @jax.jit
    def reference(cts):
        from jax import lax
        return {name: jax.vjp(lambda x: lax.fft(x, name.split('_')[0], lengths), x)[1](cts[name])[0]
                for name, (x, lengths) in cases.items()}

    theirs = reference(cts)
    for name, (x, lengths) in cases.items():
        f = lambda x: F.fft(x, name.split('_')[0], lengths)  # noqa: E731
        ours = fd.vjp(f, fnp.asarray(x))[1](fnp.asarray(cts[name]))[0]
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs[name]), rtol=1e-10, atol=1e-10,
                                   err_msg=name)


def test_complex_directions():
    """jvp along complex tangents against finite differences (check_grads takes real directions only)."""
    x, t = r(3, 5, dtype=np.complex128), r(3, 5, dtype=np.complex128)
    for f in (fnp.fft.fft2, fnp.fft.irfft, lambda z: fnp.fft.hfft(z, n=7)):
        _, ours = fd.jvp(f, (fnp.asarray(x),), (fnp.asarray(t),))
        eps = 1e-6
        numeric = (np.asarray(f(fnp.asarray(x + eps * t))) - np.asarray(f(fnp.asarray(x - eps * t)))) / (2 * eps)
        close(ours, numeric, 1e-6)


def test_grad_of_spectral_loss_matches_jax():
    x = r(2, 8)

    def loss(ns, x):
        spec = ns.fft.rfft(x, norm='ortho')
        return ns.sum(ns.abs(spec[..., 1:]) ** 2) + ns.sum(ns.fft.irfft(spec * spec, n=8) ** 2)

    ours = fd.grad(lambda x: loss(fnp, x))(fnp.asarray(x))
    close(ours, jax.jit(jax.grad(lambda x: loss(jnp, x)))(x), 1e-9)


def test_vmap_against_loop():
    x = r(4, 3, 6, dtype=np.complex128)
    for f in (lambda z: fnp.fft.fft(z, n=5), fnp.fft.ifft2, lambda z: fnp.fft.irfft(z, axis=0),
              lambda z: fnp.fft.rfftn(fnp.real(z), axes=(0,)), fnp.fft.fftshift):
        ours = fd.vmap(f, in_axes=1)(fnp.asarray(x))
        for i in range(x.shape[1]):
            close(np.asarray(ours)[i], f(fnp.asarray(x[:, i])))
    v = r(3, 6)
    grad = fd.grad(lambda v: fnp.sum(fnp.abs(fnp.fft.rfft(v)) ** 2))
    batched = fd.vmap(grad)(fnp.asarray(v))
    for i in range(3):
        close(np.asarray(batched)[i], grad(fnp.asarray(v[i])))


def test_jit_matches_eager():
    x = fnp.asarray(r(3, 4, 6).astype(np.float32))
    for f in (fnp.fft.rfft, fnp.fft.rfftn, lambda v: fnp.fft.irfft(fnp.fft.rfft(v), n=5), fnp.fft.fft2,
              lambda v: fnp.fft.ifftn(v, norm='ortho'), fnp.fft.hfft):
        close(fd.jit(f)(x), f(x), 1e-5)
    g = fd.grad(lambda v: fnp.sum(fnp.abs(fnp.fft.rfft(v, axis=1)) ** 3))
    close(fd.jit(g)(x), g(x), 1e-4)


# --- errors ----------------------------------------------------------------------------------------

def test_errors():
    with pytest.raises(TypeError, match=r'fft.rfft: expects a real input.*complex128'):
        fnp.fft.rfft(fnp.asarray(r(4, dtype=np.complex128)))
    with pytest.raises(ValueError, match=r"fft.fft: norm must be 'backward', 'ortho' or 'forward', got 'bad'"):
        fnp.fft.fft(fnp.ones(4), norm='bad')
    with pytest.raises(ValueError, match=r'fft.ifft: transform lengths must be at least 1, got 0'):
        fnp.fft.ifft(fnp.ones(4), n=0)
    with pytest.raises(ValueError, match=r'fft.fftn: s \(4,\) and axes \(0, 1\) must have the same length'):
        fnp.fft.fftn(fnp.ones((4, 4)), s=(4,), axes=(0, 1))
    with pytest.raises(ValueError, match=r'fft.fft2: repeated axes'):
        fnp.fft.fft2(fnp.ones((4, 4)), axes=(0, 0))
    with pytest.raises(ValueError, match=r'fft.irfft: the output length along axis 0 must be at least 1'):
        fnp.fft.irfft(fnp.ones(1))
    with pytest.raises(TypeError, match=r'fft \(FFT\): the operand must be complex64 or complex128.*float32'):
        F.fft(fnp.ones(4), 'FFT', (4,))
    with pytest.raises(ValueError, match=r'fft \(IRFFT\): the last 1 axes of .*\(4,\) must be \(3,\)'):
        F.fft(fnp.ones(4, dtype='complex64'), 'IRFFT', (4,))
    with pytest.raises(ValueError, match=r'fft: transforms 1 to 3 trailing axes'):
        F.fft(fnp.ones((2, 2, 2, 2), dtype='complex64'), 'FFT', (2, 2, 2, 2))

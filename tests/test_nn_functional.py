"""nn.functional against PyTorch 2.x: values, and gradients (the VJP of a random cotangent) for every float
input; a selection also under fd.jit and fd.vmap (per example, against a loop), and the error messages."""
import warnings

import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
import fn_dl.nn.functional as F
from fn_dl.testing import check_grads

torch = pytest.importorskip('torch')
TF = torch.nn.functional

rng = np.random.default_rng(0)


def randn(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def close(a, b, atol=1e-5, rtol=1e-5, what=''):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=what)


def _is_float(a):
    return np.issubdtype(np.asarray(a).dtype, np.floating)


def parity(ours, theirs, *inputs, atol=1e-5, rtol=1e-5, grad=True, jit=False):
    """ours(*fn_dl arrays) against theirs(*torch tensors): the value, and the gradient of sum(out * cotangent)
    with respect to every float input; with jit=True, the same value and gradients from fd.jit."""
    fx = [fnp.asarray(a) for a in inputs]
    out = ours(*fx)
    tx = [torch.tensor(a, requires_grad=_is_float(a)) for a in inputs]
    tout = theirs(*tx)
    close(out, tout.detach().numpy(), atol, rtol, 'value')
    if not grad:
        return
    cot = randn(*tout.shape)
    diff = tuple(i for i, a in enumerate(inputs) if _is_float(a))
    expected = torch.autograd.grad(tout, [tx[i] for i in diff], torch.tensor(cot), allow_unused=True)
    expected = [np.zeros_like(inputs[i]) if g is None else g.numpy() for i, g in zip(diff, expected)]

    def loss(*xs):
        return fnp.sum(ours(*xs) * cot)
    got = fd.grad(loss, argnums=diff)(*fx)
    for i, g, e in zip(diff, got, expected):
        close(g, e, atol, rtol, f'gradient of input {i}')
    if jit:
        value, got = fd.jit(fd.value_and_grad(loss, argnums=diff))(*fx)
        close(value, float(np.sum(np.asarray(out, np.float64) * cot)), 1e-4, 1e-4, 'jit value')
        for i, g, e in zip(diff, got, expected):
            close(g, e, atol, rtol, f'jit gradient of input {i}')


def vmap_matches_loop(f, *inputs, in_axes=0, atol=1e-5):
    """fd.vmap(f) over the leading axis equals f applied to each example and stacked."""
    fx = [fnp.asarray(a) for a in inputs]
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(fx)
    batched = fd.vmap(f, in_axes=axes)(*fx)
    n = next(x.shape[0] for x, a in zip(fx, axes) if a is not None)
    looped = [f(*[x if a is None else x[i] for x, a in zip(fx, axes)]) for i in range(n)]
    close(batched, np.stack([np.asarray(y) for y in looped]), atol, atol, 'vmap')


# --- activations ---------------------------------------------------------------------------------------

# random values plus the kinks, where the gradients follow PyTorch's conventions too
X_ACT = np.concatenate([randn(40, scale=4.0), np.asarray([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0, 25.0, -25.0],
                                                         np.float32)]).reshape(6, 8)

W_PRELU = randn(8)
ACTIVATIONS = [
    ('relu', F.relu, TF.relu),
    ('relu6', F.relu6, TF.relu6),
    ('leaky_relu', lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    ('elu', lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7)),
    ('selu', F.selu, TF.selu),
    ('celu', lambda x: F.celu(x, 1.5), lambda x: TF.celu(x, 1.5)),
    ('gelu', F.gelu, TF.gelu),
    ('gelu_tanh', lambda x: F.gelu(x, approximate='tanh'), lambda x: TF.gelu(x, approximate='tanh')),
    ('silu', F.silu, TF.silu),
    ('mish', F.mish, TF.mish),
    ('hardswish', F.hardswish, TF.hardswish),
    ('hardsigmoid', F.hardsigmoid, TF.hardsigmoid),
    ('hardtanh', lambda x: F.hardtanh(x, -2.0, 1.0), lambda x: TF.hardtanh(x, -2.0, 1.0)),
    ('sigmoid', F.sigmoid, torch.sigmoid),
    ('tanh', F.tanh, torch.tanh),
    ('softplus', F.softplus, TF.softplus),
    ('softplus_beta', lambda x: F.softplus(x, 2.0, 5.0), lambda x: TF.softplus(x, 2.0, 5.0)),
    ('softsign', F.softsign, TF.softsign),
    ('logsigmoid', F.logsigmoid, TF.logsigmoid),
    ('softmax0', lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0)),
    ('softmax-1', lambda x: F.softmax(x, dim=-1), lambda x: TF.softmax(x, dim=-1)),
    ('log_softmax1', lambda x: F.log_softmax(x, 1), lambda x: TF.log_softmax(x, 1)),
    ('glu', F.glu, TF.glu),
    ('glu0', lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0)),
    ('softmin', lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1)),
    ('threshold', lambda x: F.threshold(x, 1.0, -2.0), lambda x: TF.threshold(x, 1.0, -2.0)),
    ('hardshrink', lambda x: F.hardshrink(x, 1.0), lambda x: TF.hardshrink(x, 1.0)),
    ('softshrink', lambda x: F.softshrink(x, 1.0), lambda x: TF.softshrink(x, 1.0)),
    ('tanhshrink', F.tanhshrink, TF.tanhshrink),
    ('prelu', lambda x: F.prelu(x, fnp.asarray(W_PRELU)), lambda x: TF.prelu(x, torch.tensor(W_PRELU))),
    ('prelu_shared', lambda x: F.prelu(x, fnp.asarray([0.3])), lambda x: TF.prelu(x, torch.tensor([0.3]))),
]


@pytest.mark.parametrize('name,ours,theirs', ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation(name, ours, theirs):
    parity(ours, theirs, X_ACT)


def test_activations_under_jit_and_vmap():
    for name in ('gelu', 'softplus', 'hardswish', 'log_softmax1', 'glu'):
        _, ours, theirs = next(a for a in ACTIVATIONS if a[0] == name)
        parity(ours, theirs, X_ACT, jit=True)
    vmap_matches_loop(lambda x: F.softmax(x, dim=-1), X_ACT)
    vmap_matches_loop(F.gelu, X_ACT)


def test_prelu_weight_gradient_and_errors():
    parity(F.prelu, TF.prelu, X_ACT, W_PRELU, jit=True)
    parity(F.prelu, TF.prelu, X_ACT.reshape(2, 8, 3), W_PRELU)
    parity(F.prelu, TF.prelu, X_ACT[0], W_PRELU[:1])  # below 2-d there is one channel
    with pytest.raises(ValueError, match=r'prelu: weight \(3,\) must hold one value or one per channel \(8\)'):
        F.prelu(fnp.asarray(X_ACT), fnp.ones(3))


def test_softmax_dtype_and_implicit_dim():
    x = randn(3, 4)
    with pytest.warns(UserWarning, match='Implicit dimension'):
        close(F.softmax(fnp.asarray(x)), TF.softmax(torch.tensor(x), dim=1).numpy())
    assert F.log_softmax(fnp.asarray(x), dim=1, dtype=fnp.float64).dtype == fnp.float64


@pytest.mark.filterwarnings('ignore::RuntimeWarning')
def test_softmax_of_infinite_rows_matches_torch():
    x = np.asarray([[-np.inf, -np.inf], [np.inf, 0.0], [1.0, -np.inf]], np.float32)
    close(F.softmax(fnp.asarray(x), -1), TF.softmax(torch.tensor(x), -1).numpy())


# --- linear and dropout ----------------------------------------------------------------------------

def test_linear_and_bilinear():
    parity(F.linear, TF.linear, randn(4, 3, 5), randn(6, 5), randn(6), jit=True)
    parity(lambda x, w: F.linear(x, w), lambda x, w: TF.linear(x, w), randn(7, 5), randn(2, 5))
    parity(F.bilinear, TF.bilinear, randn(4, 3), randn(4, 5), randn(2, 3, 5), randn(2))
    with pytest.raises(ValueError, match=r'linear: input \(4, 3\) and weight \(6, 5\)'):
        F.linear(fnp.ones((4, 3)), fnp.ones((6, 5)))


def test_dropout_scales_kept_values_and_is_reproducible():
    x = fnp.asarray(randn(200, 50))
    k = fd.random.key(3)
    y = np.asarray(F.dropout(x, 0.3, key=k))
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.02
    close(y[kept], np.asarray(x)[kept] / 0.7)
    close(F.dropout(x, 0.3, key=k), y)  # same key, same mask
    close(fd.jit(lambda x, k: F.dropout(x, 0.3, key=k))(x, k), y)  # and the same under jit
    assert F.dropout(x, 0.3, training=False) is x and F.dropout(x, 0.0) is x
    assert not np.asarray(F.dropout(x, 1.0)).any()
    g = fd.grad(lambda x: fnp.sum(F.dropout(x, 0.3, key=k)))(x)
    close(g, kept / 0.7)
    with pytest.raises(ValueError, match='between 0 and 1'):
        F.dropout(x, 1.5)


def test_dropout_without_key_uses_the_global_stream_eagerly_and_asks_for_a_key_when_traced():
    fd.random.seed(0)
    a = np.asarray(F.dropout(fnp.ones(100), 0.5))
    b = np.asarray(F.dropout(fnp.ones(100), 0.5))
    assert not np.array_equal(a, b)
    with pytest.raises(ValueError, match='pass a key'):
        fd.jit(lambda x: F.dropout(x, 0.5))(fnp.ones(3))


def test_dropout_under_vmap_needs_one_key_per_example():
    x = fnp.ones((4, 100))
    with pytest.raises(ValueError, match='one key for all 4 examples'):
        fd.vmap(lambda x: F.dropout(x, 0.5, key=fd.random.key(0)))(x)
    with pytest.raises(ValueError, match='one key for all 4 examples'):
        fd.vmap(lambda x, k: F.dropout(x, 0.5, key=k), in_axes=(0, None))(x, fd.random.key(0))
    with pytest.raises(ValueError, match='one key for all 4 examples'):  # also with grad inside the vmap
        fd.vmap(fd.grad(lambda x, k: fnp.sum(F.dropout(x, 0.5, key=k))), in_axes=(0, None))(x, fd.random.key(0))
    keys = fd.random.split(fd.random.key(0), 4)
    y = np.asarray(fd.vmap(lambda x, k: F.dropout(x, 0.5, key=k))(x, keys))
    assert len({row.tobytes() for row in y}) == 4  # each example its own mask
    close(y[2], F.dropout(x[2], 0.5, key=keys[2]))
    g = fd.vmap(fd.grad(lambda x, k: fnp.sum(F.dropout(x, 0.5, key=k))))(x, keys)
    close(g, y)


@pytest.mark.filterwarnings('ignore:dropout2d. (Received a 3D input|a 3-d input is taken)')
@pytest.mark.parametrize('name,shape,lead', [
    ('dropout1d', (6, 40, 5), 2), ('dropout1d', (40, 5), 1), ('dropout2d', (6, 40, 3, 4), 2),
    ('dropout2d', (6, 40, 5), 2), ('dropout3d', (6, 40, 2, 3, 2), 2), ('dropout3d', (40, 2, 3, 2), 1),
], ids=str)
def test_channel_dropout(name, shape, lead):
    # whole channels (per example and channel) are dropped; a 3-d input to dropout2d is (N, C, L), as in PyTorch
    fn = getattr(F, name)
    x, k = fnp.asarray(randn(*shape)), fd.random.key(4)
    y = np.asarray(fn(x, 0.4, key=k))
    kept = (y != 0).reshape(shape[:lead] + (-1,))
    assert (kept.all(-1) | ~kept.any(-1)).all() and 0.4 < kept.mean() < 0.8
    close(y, np.where(y != 0, np.asarray(x) / 0.6, 0))
    close(fd.jit(lambda x, k: fn(x, 0.4, key=k))(x, k), y)
    close(fd.grad(lambda x: fnp.sum(fn(x, 0.4, key=k)))(x), (y != 0) / 0.6)
    assert fn(x, 0.4, training=False) is x
    t = np.asarray(getattr(TF, name)(torch.ones(shape), 0.4))
    assert set(np.unique(t)) <= {0.0, np.float32(1 / 0.6)}  # the same values as torch's (masks differ)
    keys = fd.random.split(k, 3)
    per_example = fd.vmap(lambda x, k: fn(x, 0.4, key=k))(fnp.stack([x] * 3), keys)
    close(per_example[1], fn(x, 0.4, key=keys[1]))


def test_channel_dropout_errors():
    with pytest.raises(ValueError, match=r'dropout1d: expected a 2-d or 3-d input \(N, C, \*spatial\) or '
                                         r'\(C, \*spatial\), got \(2, 3, 4, 5\)'):
        F.dropout1d(fnp.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match='dropout2d probability has to be between 0 and 1'):
        F.dropout2d(fnp.ones((2, 3, 4, 5)), 1.5)
    with pytest.warns(UserWarning, match=r'dropout2d: a 3-d input is taken as \(N, C, L\)'):
        F.dropout2d(fnp.ones((2, 3, 4)), key=fd.random.key(0))


def test_dropout_keeps_one_key_where_sharing_is_meant():
    x, k = fnp.asarray(randn(5)), fd.random.key(0)
    f = lambda x: F.dropout(x, 0.5, key=k)  # noqa: E731
    mask = np.asarray(f(fnp.ones(5))) / 2
    # jacfwd and hessian vmap over tangents; the input does not vary along that vmap, so no per-example keys
    close(fd.jacfwd(f)(x), np.diag(2 * mask))
    close(fd.jacfwd(f)(x), fd.jacrev(f)(x))
    close(fd.hessian(lambda x: fnp.sum(f(x) ** 3))(x), np.diag(48 * mask * np.asarray(x)), atol=1e-4)
    # nor does an input the vmapped function closes over
    y = fd.vmap(lambda s: F.dropout(x, 0.5, key=k) * s)(fnp.arange(3.0))
    close(y, np.arange(3.0)[:, None] * np.asarray(f(x)))
    # one mask for the whole batch on purpose: a repeated key, mapped
    xs = fnp.asarray(randn(4, 100))
    shared = fd.vmap(lambda x, k: F.dropout(x, 0.5, key=k))(xs, fnp.broadcast_to(k, (4,) + k.shape))
    for row, x_row in zip(np.asarray(shared), np.asarray(xs)):
        close(row, F.dropout(fnp.asarray(x_row), 0.5, key=k))


def test_dropout_under_vmap_of_jit_shares_the_key_as_documented():
    # the vmap batches the jitted program without re-running Python, so the check cannot see the shared key;
    # the docstring says so and shows fd.random.split: this pins the behaviour it describes
    xs, k = fnp.ones((4, 50)), fd.random.key(2)
    y = np.asarray(fd.vmap(fd.jit(lambda x, k: F.dropout(x, 0.5, key=k)), in_axes=(0, None))(xs, k))
    assert len({row.tobytes() for row in y}) == 1
    keys = fd.random.split(k, 4)
    y = np.asarray(fd.vmap(fd.jit(lambda x, k: F.dropout(x, 0.5, key=k)))(xs, keys))
    assert len({row.tobytes() for row in y}) == 4
    with pytest.raises(ValueError, match=r'one key for all 4 examples of input \(50,\).*fnp.broadcast_to'):
        fd.jit(fd.vmap(lambda x, k: F.dropout(x, 0.5, key=k), in_axes=(0, None)))(xs, k)


# --- losses -----------------------------------------------------------------------------------------

LOGITS = randn(6, 5, scale=2.0)
LABELS = rng.integers(0, 5, 6)
LABELS_IGN = np.where(np.arange(6) % 3 == 0, -100, LABELS)
LABELS_IGN7 = np.where(np.arange(6) % 2 == 0, 7, LABELS) % 8  # ignore_index 7 (a valid-looking value)
W5 = np.abs(randn(5)) + 0.1
PROBS = np.asarray(TF.softmax(torch.tensor(randn(6, 5)), 1))
LOGITS_2D = randn(3, 5, 4, 2)
LABELS_2D = np.where(rng.random((3, 4, 2)) < 0.2, -100, rng.integers(0, 5, (3, 4, 2)))


def _with_weight(kwargs, n=5):
    """kwargs for ours and for torch, the class weight (a constant: PyTorch does not differentiate it) bound."""
    kwargs = dict(kwargs)
    w = kwargs.pop('weight', None)
    if w is None:
        return kwargs, kwargs
    w = W5 if n == 5 else np.abs(randn(n)) + 0.1
    return dict(kwargs, weight=fnp.asarray(w)), dict(kwargs, weight=torch.tensor(w))


@pytest.mark.parametrize('kwargs', [
    {}, dict(reduction='sum'), dict(reduction='none'), dict(weight=True), dict(weight=True, reduction='none'),
    dict(label_smoothing=0.2), dict(label_smoothing=0.3, weight=True), dict(label_smoothing=0.1, reduction='sum'),
    dict(label_smoothing=0.1, weight=True, reduction='none'),
], ids=str)
def test_cross_entropy_class_indices(kwargs):
    ours, theirs = _with_weight(kwargs)
    parity(lambda x, t: F.cross_entropy(x, t, **ours), lambda x, t: TF.cross_entropy(x, t, **theirs),
           LOGITS, LABELS_IGN)
    parity(lambda x, t: F.cross_entropy(x, t, **ours), lambda x, t: TF.cross_entropy(x, t, **theirs),
           LOGITS_2D, LABELS_2D)
    ours, theirs = _with_weight(kwargs, 8)
    parity(lambda x, t: F.cross_entropy(x, t, ignore_index=7, **ours),
           lambda x, t: TF.cross_entropy(x, t, ignore_index=7, **theirs), randn(6, 8), LABELS_IGN7)


@pytest.mark.parametrize('kwargs', [{}, dict(reduction='sum'), dict(reduction='none'), dict(weight=True),
                                    dict(label_smoothing=0.25), dict(label_smoothing=0.25, weight=True)], ids=str)
def test_cross_entropy_probabilities(kwargs):
    ours, theirs = _with_weight(kwargs)
    parity(lambda x, t: F.cross_entropy(x, t, **ours), lambda x, t: TF.cross_entropy(x, t, **theirs), LOGITS, PROBS)
    p2 = np.asarray(TF.softmax(torch.tensor(LOGITS_2D * 0.5), 1))
    parity(lambda x, t: F.cross_entropy(x, t, **ours), lambda x, t: TF.cross_entropy(x, t, **theirs), LOGITS_2D, p2)


def test_cross_entropy_unbatched_and_under_jit_and_vmap():
    parity(F.cross_entropy, TF.cross_entropy, randn(5), np.asarray(3))
    parity(lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
           lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.1), LOGITS, LABELS_IGN, jit=True)
    vmap_matches_loop(F.cross_entropy, LOGITS, LABELS)


@pytest.mark.parametrize('kwargs', [{}, dict(reduction='sum'), dict(reduction='none'), dict(weight=True),
                                    dict(weight=True, ignore_index=2)], ids=str)
def test_nll_loss(kwargs):
    ours, theirs = _with_weight(kwargs)
    logp = np.asarray(TF.log_softmax(torch.tensor(LOGITS), 1))
    ignore = kwargs.get('ignore_index', -100)
    parity(lambda x, t: F.nll_loss(x, t, **ours), lambda x, t: TF.nll_loss(x, t, **theirs), logp,
           np.where(LABELS_IGN == -100, ignore, LABELS_IGN))
    parity(lambda x, t: F.nll_loss(x, t, **ours), lambda x, t: TF.nll_loss(x, t, **theirs), LOGITS_2D,
           np.where(LABELS_2D == -100, ignore, LABELS_2D))


def test_legacy_reduction_flags():
    with pytest.warns(UserWarning, match='deprecated'):
        v = F.cross_entropy(fnp.asarray(LOGITS), LABELS, size_average=False)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        close(v, TF.cross_entropy(torch.tensor(LOGITS), torch.tensor(LABELS), size_average=False).numpy())
        close(F.mse_loss(fnp.ones(3), fnp.zeros(3), reduce=False), np.ones(3))


PRED, TARGET, WEIGHT = randn(4, 6), randn(4, 6), np.abs(randn(4, 6))


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_regression_losses(reduction):
    for ours, theirs, kw in [(F.mse_loss, TF.mse_loss, {}), (F.l1_loss, TF.l1_loss, {}),
                             (F.smooth_l1_loss, TF.smooth_l1_loss, dict(beta=0.7)),
                             (F.smooth_l1_loss, TF.smooth_l1_loss, dict(beta=0.0)),
                             (F.huber_loss, TF.huber_loss, dict(delta=0.6))]:
        parity(lambda x, t: ours(x, t, reduction=reduction, **kw),
               lambda x, t: theirs(x, t, reduction=reduction, **kw), PRED, TARGET)
    for ours, theirs in [(F.mse_loss, TF.mse_loss), (F.l1_loss, TF.l1_loss), (F.huber_loss, TF.huber_loss)]:
        parity(lambda x, t, w: ours(x, t, reduction=reduction, weight=w),
               lambda x, t, w: theirs(x, t, reduction=reduction, weight=w), PRED, TARGET, WEIGHT)


def test_mse_loss_broadcasts_with_a_warning_and_runs_under_jit():
    with pytest.warns(UserWarning, match='different to the input size'):
        v = F.mse_loss(fnp.asarray(PRED), fnp.asarray(TARGET[:1]))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        close(v, TF.mse_loss(torch.tensor(PRED), torch.tensor(TARGET[:1])).numpy())
    parity(F.mse_loss, TF.mse_loss, PRED, TARGET, jit=True)
    parity(F.smooth_l1_loss, TF.smooth_l1_loss, PRED, TARGET, jit=True)


PROB_IN = (rng.random((5, 3)) * 0.9 + 0.05).astype(np.float32)
PROB_T = rng.random((5, 3)).astype(np.float32)


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_binary_cross_entropy(reduction):
    parity(lambda p, t: F.binary_cross_entropy(p, t, reduction=reduction),
           lambda p, t: TF.binary_cross_entropy(p, t, reduction=reduction), PROB_IN, PROB_T)
    w = np.abs(randn(3))
    parity(lambda p, t: F.binary_cross_entropy(p, t, fnp.asarray(w), reduction=reduction),
           lambda p, t: TF.binary_cross_entropy(p, t, torch.tensor(w), reduction=reduction), PROB_IN, PROB_T)
    x = randn(5, 3, scale=4.0)
    parity(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
           lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction=reduction), x, PROB_T)
    w, pw = np.abs(randn(5, 1)), np.abs(randn(3)) + 0.5
    parity(lambda x, t: F.binary_cross_entropy_with_logits(x, t, fnp.asarray(w), reduction=reduction,
                                                           pos_weight=fnp.asarray(pw)),
           lambda x, t: TF.binary_cross_entropy_with_logits(x, t, torch.tensor(w), reduction=reduction,
                                                            pos_weight=torch.tensor(pw)), x, PROB_T)


def test_binary_cross_entropy_at_saturated_probabilities():
    p, t = np.asarray([0.0, 1.0, 0.5], np.float32), np.asarray([1.0, 0.0, 1.0], np.float32)
    close(F.binary_cross_entropy(fnp.asarray(p), fnp.asarray(t), reduction='none'),
          TF.binary_cross_entropy(torch.tensor(p), torch.tensor(t), reduction='none').numpy())
    assert np.isfinite(np.asarray(fd.grad(lambda p: F.binary_cross_entropy(p, fnp.asarray(t)))(fnp.asarray(p)))).all()
    parity(F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits,
           np.asarray([-200.0, 200.0, 0.0], np.float32), t, jit=True)


@pytest.mark.parametrize('reduction', ['mean', 'batchmean', 'sum', 'none'])
@pytest.mark.parametrize('log_target', [False, True])
def test_kl_div(reduction, log_target):
    logq = np.asarray(TF.log_softmax(torch.tensor(randn(4, 5)), 1))
    p = np.asarray(TF.softmax(torch.tensor(randn(4, 5)), 1))
    target = np.log(p) if log_target else p
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # both warn about reduction='mean'
        parity(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
               lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target), logq, target)


def test_kl_div_at_zero_target_probability():
    logq, p = np.log(np.full((1, 2), 0.5, np.float32)), np.asarray([[0.0, 1.0]], np.float32)
    parity(lambda x: F.kl_div(x, fnp.asarray(p), reduction='sum'),
           lambda x: TF.kl_div(x, torch.tensor(p), reduction='sum'), logq)
    # 0 log 0 = 0; its gradient with respect to the target is finite here (PyTorch's is NaN)
    g = fd.grad(lambda t: F.kl_div(fnp.asarray(logq), t, reduction='sum'))(fnp.asarray(p))
    assert np.isfinite(np.asarray(g)).all()


SIGNS = np.where(rng.random(6) < 0.5, 1.0, -1.0).astype(np.float32)
COUNTS = rng.poisson(2.0, (4, 6)).astype(np.float32)


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_margin_and_embedding_losses(reduction):
    a, b, c = randn(6, 5), randn(6, 5), randn(6, 5)
    parity(lambda a, b, t: F.margin_ranking_loss(a, b, t, 0.3, reduction=reduction),
           lambda a, b, t: TF.margin_ranking_loss(a, b, t, 0.3, reduction=reduction), a[:, 0], b[:, 0], SIGNS)
    parity(lambda x, t: F.hinge_embedding_loss(x, t, 0.7, reduction=reduction),
           lambda x, t: TF.hinge_embedding_loss(x, t, 0.7, reduction=reduction), np.abs(a[:, 0]), SIGNS)
    for margin in (0.0, 0.4):
        parity(lambda a, b, t: F.cosine_embedding_loss(a, b, t, margin, reduction=reduction),
               lambda a, b, t: TF.cosine_embedding_loss(a, b, t, margin, reduction=reduction), a, b,
               SIGNS.astype(np.int64))
    parity(lambda a, b: F.cosine_embedding_loss(a, b, fnp.asarray(-1), reduction=reduction),
           lambda a, b: TF.cosine_embedding_loss(a, b, torch.tensor(-1), reduction=reduction), a[0], b[0])
    parity(lambda x: F.soft_margin_loss(x, fnp.asarray(np.sign(b)), reduction=reduction),
           lambda x: TF.soft_margin_loss(x, torch.tensor(np.sign(b)), reduction=reduction), a * 8)
    w = np.abs(randn(5))
    parity(lambda x, t: F.multilabel_soft_margin_loss(x, t, fnp.asarray(w), reduction=reduction),
           lambda x, t: TF.multilabel_soft_margin_loss(x, t, torch.tensor(w), reduction=reduction), a,
           (b > 0).astype(np.float32))
    for kw in (dict(), dict(margin=0.5, p=1.0, swap=True), dict(p=3.0, eps=1e-3)):
        parity(lambda a, p, n: F.triplet_margin_loss(a, p, n, reduction=reduction, **kw),
               lambda a, p, n: TF.triplet_margin_loss(a, p, n, reduction=reduction, **kw), a, b, c)


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_likelihood_losses(reduction):
    mu, y = randn(4, 6), randn(4, 6)
    for var in (np.abs(randn(4, 6)) + 0.1, np.abs(randn(4)) + 0.1, np.abs(randn(4, 1)) + 0.1,
                np.asarray([[1e-8, 0.5, 2.0, 1e-9, 0.3, 1.0]] * 4, np.float32)):  # clamped at eps
        for full in (False, True):
            parity(lambda m, t, v: F.gaussian_nll_loss(m, t, v, full, reduction=reduction),
                   lambda m, t, v: TF.gaussian_nll_loss(m, t, v, full, reduction=reduction), mu, y, var,
                   atol=1e-4, rtol=1e-4)
    parity(lambda m, t: F.gaussian_nll_loss(m, t, 0.5, reduction=reduction),
           lambda m, t: TF.gaussian_nll_loss(m, t, 0.5, reduction=reduction), mu, y)
    for log_input, full in ((True, False), (True, True), (False, False), (False, True)):
        x = mu if log_input else np.abs(mu) + 0.1
        parity(lambda x: F.poisson_nll_loss(x, fnp.asarray(COUNTS), log_input, full, reduction=reduction),
               lambda x: TF.poisson_nll_loss(x, torch.tensor(COUNTS), log_input, full, reduction=reduction), x)


def test_more_losses_under_jit_vmap_and_errors():
    a, b, c = randn(6, 5), randn(6, 5), randn(6, 5)
    parity(lambda a, b, n: F.triplet_margin_loss(a, b, n, swap=True), lambda a, b, n: TF.triplet_margin_loss(
        a, b, n, swap=True), a, b, c, jit=True)
    parity(lambda m, v: F.gaussian_nll_loss(m, fnp.asarray(b), v), lambda m, v: TF.gaussian_nll_loss(
        m, torch.tensor(b), v), a, np.abs(c) + 0.1, jit=True)
    vmap_matches_loop(lambda a, b, t: F.cosine_embedding_loss(a, b, t), a, b, SIGNS)
    with pytest.raises(ValueError, match='var has negative entry'):
        F.gaussian_nll_loss(fnp.asarray(a), fnp.asarray(b), fnp.asarray(c))
    with pytest.raises(ValueError, match=r'var \(6, 4\) is of incorrect size for input \(6, 5\)'):
        F.gaussian_nll_loss(fnp.asarray(a), fnp.asarray(b), fnp.ones((6, 4)))
    with pytest.raises(ValueError, match=r'triplet_margin_loss: the inputs must have the same number of dims'):
        F.triplet_margin_loss(fnp.asarray(a), fnp.asarray(b), fnp.asarray(c[0]))
    with pytest.raises(ValueError, match=r'cosine_embedding_loss: expected inputs \(N, D\) or \(D,\)'):
        F.cosine_embedding_loss(fnp.asarray(a)[None], fnp.asarray(b)[None], fnp.asarray(SIGNS))

@pytest.mark.parametrize('call,message', [
    (lambda: F.cross_entropy(fnp.zeros((4, 3)), fnp.zeros((4, 1), dtype='int32')),
     r'cross_entropy: for input \(4, 3\) \(N, C, d1, ...\) the target must have shape \(4,\), got \(4, 1\)'),
    (lambda: F.cross_entropy(fnp.zeros((4, 3)), fnp.asarray([0, 1, 3, 2])), r'target 3 is out of bounds for 3'),
    (lambda: F.cross_entropy(fnp.zeros((4, 3)), fnp.zeros((4, 2))), r'class-probability targets must have'),
    (lambda: F.cross_entropy(fnp.zeros((4, 3)), fnp.zeros(4, dtype='int32'), weight=fnp.ones(4)),
     r'weight must hold one value per class, shape \(3,\)'),
    (lambda: F.nll_loss(fnp.zeros((4, 3)), fnp.zeros(4)), r'class-index targets must be integers'),
    (lambda: F.mse_loss(fnp.zeros(3), fnp.zeros(3), reduction='avg'), r"reduction must be 'none', 'mean'"),
    (lambda: F.binary_cross_entropy(fnp.zeros((2, 3)), fnp.zeros(3)), r'target size \(3,\) must be the same'),
    (lambda: F.l1_loss(fnp.zeros(3), fnp.zeros(3), weight=fnp.ones(2)), r"weight must have the input's shape"),
])
def test_loss_errors(call, message):
    with pytest.raises((ValueError, TypeError, IndexError), match=message):
        call()


# --- distances and utilities ----------------------------------------------------------------------

def test_cosine_similarity_pairwise_distance_normalize():
    a, b = randn(4, 6), randn(4, 6)
    parity(F.cosine_similarity, TF.cosine_similarity, a, b, jit=True)
    parity(lambda a, b: F.cosine_similarity(a, b, dim=0), lambda a, b: TF.cosine_similarity(a, b, dim=0), a, b[:1])
    for p in (1.0, 2.0, 3.0, float('inf')):
        parity(lambda a, b: F.pairwise_distance(a, b, p=p), lambda a, b: TF.pairwise_distance(a, b, p=p), a, b)
    parity(lambda a, b: F.pairwise_distance(a, b, keepdim=True),
           lambda a, b: TF.pairwise_distance(a, b, keepdim=True), a, b)
    for p, dim in ((2.0, 1), (1.0, 0), (3.0, -1)):
        parity(lambda a: F.normalize(a, p, dim), lambda a: TF.normalize(a, p, dim), a)
    zero = np.zeros((2, 3), np.float32)
    parity(F.normalize, TF.normalize, zero)  # the zero vector: gradient 1 / eps, not NaN
    vmap_matches_loop(lambda a, b: F.cosine_similarity(a, b, dim=0), a, b)


def test_one_hot():
    t = np.asarray([[0, 3], [2, 1]])
    y = F.one_hot(fnp.asarray(t))
    close(y, TF.one_hot(torch.tensor(t)).numpy())
    assert y.dtype == fnp.int64
    close(fd.jit(lambda t: F.one_hot(t, 5))(fnp.asarray(t)), TF.one_hot(torch.tensor(t), 5).numpy())
    with pytest.raises(ValueError, match='pass num_classes'):
        fd.jit(F.one_hot)(fnp.asarray(t))
    with pytest.raises(ValueError, match=r'class values must lie in \[0, 3\)'):
        F.one_hot(fnp.asarray(t), 3)


def test_pixel_shuffle_and_unshuffle():
    parity(lambda x: F.pixel_shuffle(x, 2), lambda x: TF.pixel_shuffle(x, 2), randn(2, 3, 8, 4, 5), jit=True)
    parity(lambda x: F.pixel_shuffle(x, 3), lambda x: TF.pixel_shuffle(x, 3), randn(9, 2, 3))
    parity(lambda x: F.pixel_unshuffle(x, 2), lambda x: TF.pixel_unshuffle(x, 2), randn(2, 3, 4, 6))
    vmap_matches_loop(lambda x: F.pixel_shuffle(x, 2), randn(3, 8, 2, 2))
    with pytest.raises(ValueError, match=r'pixel_shuffle: expected input \(\*, C, H, W\) with channels divisible '
                                         r'by 4, got \(2, 6, 3, 3\)'):
        F.pixel_shuffle(fnp.ones((2, 6, 3, 3)), 2)
    with pytest.raises(ValueError, match='height and width divisible by 2'):
        F.pixel_unshuffle(fnp.ones((2, 6, 3, 4)), 2)


@pytest.mark.parametrize('pads,mode', [
    ((1, 2), 'constant'), ((2, 1, 0, 3), 'constant'), ((-1, 2, 1, -2), 'constant'), ((1, 1, 1, 1, 1, 1), 'constant'),
    ((2, 3), 'reflect'), ((1, 3, 2, 0), 'reflect'), ((2, 3), 'replicate'), ((1, 0, 2, 2), 'replicate'),
    ((2, 4), 'circular'), ((1, 2, 3, 0), 'circular'), ((1, 2, 0, 1, 1, 1), 'replicate'),
])
def test_pad(pads, mode):
    # PyTorch's non-constant modes pad the last len(pad) // 2 dims of a batch of (C, *spatial)
    x = randn(2, 3, 4, 5, 6)[(0,) * (3 - len(pads) // 2)]
    parity(lambda x: F.pad(x, pads, mode), lambda x: TF.pad(x, pads, mode), x)


def test_pad_value_jit_and_errors():
    x = randn(2, 3, 4)
    parity(lambda x: F.pad(x, (1, 2), value=-1.5), lambda x: TF.pad(x, (1, 2), value=-1.5), x, jit=True)
    parity(lambda x: F.pad(x, (2, 1, 1, 1), mode='reflect'), lambda x: TF.pad(x, (2, 1, 1, 1), mode='reflect'), x,
           jit=True)
    with pytest.raises(ValueError, match=r'reflect padding \(4, 0\) of dim 2 must lie in \[0, 3\]'):
        F.pad(fnp.asarray(x), (4, 0), mode='reflect')
    with pytest.raises(ValueError, match='even length'):
        F.pad(fnp.asarray(x), (1, 2, 3))


@pytest.mark.parametrize('shape,kwargs', [
    ((2, 3, 5), dict(size=9)), ((2, 3, 5), dict(scale_factor=2)), ((2, 3, 6), dict(size=4)),
    ((2, 3, 5), dict(scale_factor=1.7)), ((2, 3, 5), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ((2, 3, 5), dict(size=7, mode='nearest-exact')), ((2, 3, 7), dict(scale_factor=0.6, mode='nearest-exact')),
    ((2, 3, 4, 5), dict(size=(7, 3))), ((2, 3, 4, 5), dict(scale_factor=(2, 1.5))),
    ((2, 3, 5), dict(size=8, mode='linear')), ((2, 3, 5), dict(size=8, mode='linear', align_corners=True)),
    ((2, 3, 8), dict(size=3, mode='linear')), ((2, 3, 8), dict(scale_factor=0.45, mode='linear')),
    ((2, 3, 4, 5), dict(size=(7, 9), mode='bilinear')), ((2, 3, 4, 5), dict(size=(7, 3), mode='bilinear',
                                                                              align_corners=True)),
    ((2, 3, 4, 5), dict(scale_factor=2.5, mode='bilinear')), ((1, 2, 6, 6), dict(size=(1, 4), mode='bilinear')),
    ((1, 2, 3, 4, 5), dict(size=(4, 6, 3), mode='trilinear')), ((1, 2, 3, 4, 5), dict(scale_factor=2, mode='nearest')),
    ((2, 3, 7, 5), dict(size=(3, 2), mode='area')), ((2, 3, 9), dict(scale_factor=0.5, mode='area')),
    # nearest: PyTorch's 2-d kernel copies an unchanged size and halves a doubled one whatever the scale_factor
    ((2, 3, 4, 5), dict(scale_factor=1.1)), ((2, 3, 4, 5), dict(scale_factor=(2.1, 1.3))),
    ((2, 3, 4, 5), dict(size=(8, 9), mode='bicubic')), ((2, 3, 4, 5), dict(size=(8, 3), mode='bicubic',
                                                                             align_corners=True)),
    ((2, 3, 9, 10), dict(size=(4, 3), mode='bicubic')), ((2, 3, 4, 5), dict(scale_factor=(2.5, 0.7), mode='bicubic')),
    ((1, 2, 7, 3), dict(scale_factor=1.7, mode='bicubic', recompute_scale_factor=True)),
    ((1, 2, 1, 6), dict(size=(3, 1), mode='bicubic', align_corners=True)),
    ((2, 3, 4, 5), dict(size=(1, 1), mode='bicubic')),
    ((2, 3, 9, 10), dict(size=(4, 3), mode='bilinear', antialias=True)),
    ((2, 3, 9, 10), dict(scale_factor=0.45, mode='bicubic', antialias=True)),
    ((2, 3, 4, 5), dict(size=(8, 9), mode='bicubic', antialias=True, align_corners=True)),
    ((2, 3, 9, 10), dict(scale_factor=(0.3, 0.7), mode='bilinear', antialias=True, align_corners=True)),
    ((1, 2, 12, 5), dict(size=(3, 5), mode='bicubic', antialias=True)),
], ids=str)
def test_interpolate(shape, kwargs):
    parity(lambda x: F.interpolate(x, **kwargs), lambda x: TF.interpolate(x, **kwargs), randn(*shape))


@pytest.mark.parametrize('shape,kwargs', [
    ((2, 3, 5), dict(scale_factor=1.1)), ((2, 3, 4), dict(scale_factor=2.1)),
    ((1, 2, 3, 4, 5), dict(scale_factor=(1.1, 2.1, 1.5))), ((2, 3, 4, 5), dict(scale_factor=1.1, mode='bicubic')),
    ((2, 3, 4, 5), dict(scale_factor=1.1, mode='bilinear', antialias=True)),
    ((2, 3, 4, 5), dict(scale_factor=1.1, mode='bicubic', antialias=True)),
], ids=str)
def test_interpolate_unchanged_size_with_a_scale_factor(shape, kwargs):
    # size * 1.1 rounds down to the size (or size * 2.1 to twice it). There PyTorch's backward is not the
    # transpose of its forward: 1-d / 3-d nearest and plain bicubic resample by 1 / scale_factor but copy (or
    # halve) the gradient, the antialiased modes copy but resample the gradient. The values match PyTorch's;
    # the gradient is the true one of those values
    def ours(x):
        return F.interpolate(x, **kwargs)
    x = randn(*shape)
    parity(ours, lambda x: TF.interpolate(x, **kwargs), x, grad=False)
    check_grads(ours, (x,), modes=('fwd', 'rev'))


def test_interpolate_antialias_to_width_one():
    # PyTorch's antialiased kernel repeats the first row when the output width is 1 (and the height is not):
    # compare with its own two one-dim passes, which agree with each other on every row
    x = randn(2, 3, 7, 3)
    ours = F.interpolate(fnp.asarray(x), scale_factor=0.45, mode='bilinear', antialias=True)
    rows = TF.interpolate(torch.tensor(x), scale_factor=(0.45, 1.0), mode='bilinear', antialias=True)
    close(ours, TF.interpolate(rows, scale_factor=(1.0, 0.45), mode='bilinear', antialias=True).numpy())


def test_interpolate_under_jit_vmap_and_errors():
    x = randn(2, 3, 4, 5)
    parity(lambda x: F.interpolate(x, size=(6, 7), mode='bilinear'),
           lambda x: TF.interpolate(x, size=(6, 7), mode='bilinear'), x, jit=True)
    vmap_matches_loop(lambda x: F.interpolate(x, scale_factor=2, mode='bilinear'), x[:, None])
    with pytest.raises(ValueError, match="mode 'bilinear' needs a 4-d input"):
        F.interpolate(fnp.ones((1, 2, 3)), size=4, mode='bilinear')
    with pytest.raises(ValueError, match='exactly one of size and scale_factor'):
        F.interpolate(fnp.ones((1, 2, 3)))
    with pytest.raises(ValueError, match='align_corners can only be set'):
        F.interpolate(fnp.ones((1, 2, 3)), size=4, align_corners=True)
    with pytest.raises(ValueError, match="mode 'bicubic' needs a 4-d input"):
        F.interpolate(fnp.ones((1, 2, 3)), size=4, mode='bicubic')
    with pytest.raises(ValueError, match="antialias is only supported with the modes bilinear and bicubic"):
        F.interpolate(fnp.ones((1, 2, 3)), size=4, mode='linear', antialias=True)
    parity(lambda x: F.interpolate(x, size=(3, 8), mode='bicubic', antialias=True),
           lambda x: TF.interpolate(x, size=(3, 8), mode='bicubic', antialias=True), x, jit=True)
    vmap_matches_loop(lambda x: F.interpolate(x, scale_factor=1.5, mode='bicubic', align_corners=True), x[:, None])


# --- normalisation -------------------------------------------------------------------------------------

def test_layer_norm_rms_norm_group_norm():
    x = randn(4, 3, 6) * 2 + 1
    parity(lambda x: F.layer_norm(x, (6,)), lambda x: TF.layer_norm(x, (6,)), x)
    parity(lambda x, w, b: F.layer_norm(x, (3, 6), w, b, 1e-3), lambda x, w, b: TF.layer_norm(x, (3, 6), w, b, 1e-3),
           x, randn(3, 6), randn(3, 6), jit=True)
    parity(lambda x: F.rms_norm(x, (6,)), lambda x: TF.rms_norm(x, (6,)), x)
    parity(lambda x, w: F.rms_norm(x, [3, 6], w, 1e-4), lambda x, w: TF.rms_norm(x, [3, 6], w, 1e-4), x, randn(3, 6),
           jit=True)
    x = randn(4, 6, 5, 3)
    parity(lambda x: F.group_norm(x, 3), lambda x: TF.group_norm(x, 3), x)
    parity(lambda x, w, b: F.group_norm(x, 2, w, b, 1e-3), lambda x, w, b: TF.group_norm(x, 2, w, b, 1e-3),
           x, randn(6), randn(6), jit=True)
    vmap_matches_loop(lambda x: F.layer_norm(x, (3,)), x)
    with pytest.raises(ValueError, match=r'layer_norm: expected input with trailing dims \(5,\), got \(4, 6\)'):
        F.layer_norm(fnp.ones((4, 6)), 5)
    with pytest.raises(ValueError, match='divisible by num_groups=4'):
        F.group_norm(fnp.ones((4, 6)), 4)


@pytest.mark.parametrize('shape', [(8, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_train_and_eval(shape):
    x, w, b = randn(*shape) * 2 + 0.5, randn(3), randn(3)
    rm, rv = randn(3), np.abs(randn(3)) + 0.5
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    parity(lambda x, w, b: F.batch_norm(x, fnp.asarray(rm), fnp.asarray(rv), w, b, True, 0.3, 1e-4)[0],
           lambda x, w, b: TF.batch_norm(x, trm, trv, w, b, True, 0.3, 1e-4), x, w, b)
    _, new_mean, new_var = F.batch_norm(fnp.asarray(x), fnp.asarray(rm), fnp.asarray(rv), training=True,
                                        momentum=0.3)
    close(new_mean, trm.numpy())  # torch updated its running statistics in place
    close(new_var, trv.numpy())
    parity(lambda x, w, b: F.batch_norm(x, fnp.asarray(rm), fnp.asarray(rv), w, b)[0],
           lambda x, w, b: TF.batch_norm(x, torch.tensor(rm), torch.tensor(rv), w, b), x, w, b)
    y, m, v = F.batch_norm(fnp.asarray(x), None, None, training=True)
    assert m is None and v is None
    close(y, TF.batch_norm(torch.tensor(x), None, None, training=True).numpy())


@pytest.mark.parametrize('shape', [(4, 3, 5), (2, 3, 4, 5)])
def test_instance_norm(shape):
    x, w, b = randn(*shape) * 2 + 0.5, randn(3), randn(3)
    rm, rv = randn(3), np.abs(randn(3)) + 0.5
    trm, trv = torch.tensor(rm), torch.tensor(rv)
    parity(lambda x, w, b: F.instance_norm(x, fnp.asarray(rm), fnp.asarray(rv), w, b, True, 0.3, 1e-4)[0],
           lambda x, w, b: TF.instance_norm(x, trm, trv, w, b, True, 0.3, 1e-4), x, w, b, jit=True)
    _, new_mean, new_var = F.instance_norm(fnp.asarray(x), fnp.asarray(rm), fnp.asarray(rv), momentum=0.3,
                                           eps=1e-4)
    close(new_mean, trm.numpy())  # torch updated its running statistics in place
    close(new_var, trv.numpy())
    parity(lambda x, w, b: F.instance_norm(x, fnp.asarray(rm), fnp.asarray(rv), w, b, use_input_stats=False)[0],
           lambda x, w, b: TF.instance_norm(x, torch.tensor(rm), torch.tensor(rv), w, b, use_input_stats=False),
           x, w, b)
    parity(lambda x: F.instance_norm(x)[0], lambda x: TF.instance_norm(x), x)
    vmap_matches_loop(lambda x: F.instance_norm(x[None])[0][0], x)
    with pytest.raises(ValueError, match='more than 1 spatial element'):
        F.instance_norm(fnp.ones((2, 3, 1)))
    with pytest.raises(ValueError, match=r'weight must hold one value per channel, shape \(3,\)'):
        F.instance_norm(fnp.asarray(x), weight=fnp.ones(4))


def test_batch_norm_errors():
    with pytest.raises(ValueError, match='more than 1 value per channel'):
        F.batch_norm(fnp.ones((1, 3)), None, None, training=True)
    with pytest.raises(ValueError, match=r'running_mean must hold one value per channel, shape \(3,\)'):
        F.batch_norm(fnp.ones((2, 3)), fnp.zeros(4), fnp.ones(3))
    with pytest.raises(ValueError, match='training=False normalises with running_mean'):
        F.batch_norm(fnp.ones((2, 3)), None, None)


# --- embedding ---------------------------------------------------------------------------------------

def test_embedding():
    idx = np.asarray([[0, 3, 2], [3, 3, 1]])
    parity(lambda w: F.embedding(fnp.asarray(idx), w), lambda w: TF.embedding(torch.tensor(idx), w), randn(5, 4),
           jit=True)
    parity(lambda w: F.embedding(fnp.asarray(idx), w, padding_idx=3),
           lambda w: TF.embedding(torch.tensor(idx), w, padding_idx=3), randn(5, 4))
    parity(lambda w: F.embedding(fnp.asarray(idx), w, padding_idx=-2),
           lambda w: TF.embedding(torch.tensor(idx), w, padding_idx=-2), randn(5, 4))
    with pytest.raises(IndexError, match='index 5 is out of range for 5 embeddings'):
        F.embedding(fnp.asarray([5]), fnp.ones((5, 2)))
    with pytest.raises(TypeError, match='indices must be integers'):
        F.embedding(fnp.asarray([1.0]), fnp.ones((5, 2)))


EMB_IDX = np.asarray([[0, 3, 2], [3, 3, 1], [5, 0, 0]])


@pytest.mark.parametrize('kwargs', [
    dict(max_norm=1.5), dict(max_norm=2.0, norm_type=1.0), dict(max_norm=0.5, norm_type=float('inf')),
    dict(max_norm=1.0, padding_idx=3), dict(scale_grad_by_freq=True),
    dict(scale_grad_by_freq=True, max_norm=1.2, padding_idx=0),
], ids=str)
def test_embedding_max_norm_and_scale_grad_by_freq(kwargs):
    renormed = {}

    def theirs(w):  # torch renormalises the weight it is given in place: give it a copy, kept for the check below
        renormed['weight'] = w.clone()
        return TF.embedding(torch.tensor(EMB_IDX), renormed['weight'], **kwargs)
    w = randn(6, 4, scale=1.5)
    # the gradient is PyTorch's: the plain lookup's (or divided by each index' count), not the rescaling's
    parity(lambda w: F.embedding(fnp.asarray(EMB_IDX), w, **kwargs), theirs, w, jit=True)
    if 'max_norm' in kwargs:
        close(F.embedding_renorm(fnp.asarray(w), fnp.asarray(EMB_IDX), kwargs['max_norm'],
                                 kwargs.get('norm_type', 2.0)), renormed['weight'].detach().numpy())
    vmap_matches_loop(lambda i: F.embedding(i, fnp.asarray(w), **kwargs), EMB_IDX)

# --- convolution -------------------------------------------------------------------------------------

CONVS = [
    ('1d', (2, 4, 11), (6, 4, 3), {}),
    ('1d_stride_pad_dil', (2, 4, 11), (6, 2, 3), dict(stride=2, padding=2, dilation=2, groups=2)),
    ('1d_same_even', (2, 4, 10), (3, 4, 4), dict(padding='same', dilation=2)),
    ('1d_valid', (2, 4, 10), (3, 4, 4), dict(padding='valid')),
    ('1d_unbatched', (4, 9), (3, 4, 2), dict(padding=1)),
    ('2d', (2, 3, 9, 8), (5, 3, 3, 3), dict(stride=(2, 1), padding=(1, 2))),
    ('2d_depthwise', (2, 4, 7, 7), (8, 1, 3, 3), dict(groups=4, padding='same')),
    ('2d_dilated', (1, 2, 9, 10), (3, 2, 3, 2), dict(dilation=(2, 3), stride=2)),
    ('2d_same_even', (2, 3, 6, 7), (4, 3, 2, 4), dict(padding='same')),
    ('2d_unbatched', (3, 6, 6), (4, 3, 3, 3), dict(padding=1)),
    ('3d', (1, 2, 5, 6, 4), (3, 2, 3, 2, 2), dict(stride=(1, 2, 1), padding=1)),
]


@pytest.mark.filterwarnings('ignore:Using padding=.same.:UserWarning')  # torch's note on even kernels
@pytest.mark.parametrize('name,x_shape,w_shape,kwargs', CONVS, ids=[c[0] for c in CONVS])
def test_conv(name, x_shape, w_shape, kwargs):
    ours = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[len(w_shape)]
    theirs = {3: TF.conv1d, 4: TF.conv2d, 5: TF.conv3d}[len(w_shape)]
    parity(lambda x, w, b: ours(x, w, b, **kwargs), lambda x, w, b: theirs(x, w, b, **kwargs),
           randn(*x_shape), randn(*w_shape), randn(w_shape[0]), atol=1e-4)


CONV_TS = [
    ('1d', (2, 4, 7), (4, 3, 3), {}),
    ('1d_stride_pad_outpad', (2, 4, 7), (4, 3, 4), dict(stride=3, padding=1, output_padding=2)),
    ('1d_groups_dilation', (2, 4, 6), (4, 2, 3), dict(groups=2, dilation=2, padding=3, stride=2, output_padding=1)),
    ('1d_unbatched', (4, 5), (4, 2, 3), dict(stride=2)),
    ('2d', (2, 3, 5, 4), (3, 5, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ('2d_groups', (2, 6, 4, 4), (6, 2, 2, 3), dict(groups=3, stride=(1, 2), padding=(0, 1))),
    ('2d_dilation', (1, 2, 4, 5), (2, 3, 3, 2), dict(dilation=(2, 1), stride=(2, 3), output_padding=(1, 2))),
    ('3d', (1, 2, 3, 3, 2), (2, 2, 2, 3, 2), dict(stride=2, padding=(0, 1, 0))),
]


@pytest.mark.parametrize('name,x_shape,w_shape,kwargs', CONV_TS, ids=[c[0] for c in CONV_TS])
def test_conv_transpose(name, x_shape, w_shape, kwargs):
    ours = {3: F.conv_transpose1d, 4: F.conv_transpose2d, 5: F.conv_transpose3d}[len(w_shape)]
    theirs = {3: TF.conv_transpose1d, 4: TF.conv_transpose2d, 5: TF.conv_transpose3d}[len(w_shape)]
    groups = kwargs.get('groups', 1)
    parity(lambda x, w, b: ours(x, w, b, **kwargs), lambda x, w, b: theirs(x, w, b, **kwargs),
           randn(*x_shape), randn(*w_shape), randn(w_shape[1] * groups), atol=1e-4)


def test_conv_under_jit_vmap_and_errors():
    x, w, b = randn(2, 4, 6, 5), randn(6, 2, 3, 3), randn(6)
    parity(lambda x, w, b: F.conv2d(x, w, b, padding=1, groups=2),
           lambda x, w, b: TF.conv2d(x, w, b, padding=1, groups=2), x, w, b, atol=1e-4, jit=True)
    parity(lambda x, w: F.conv_transpose2d(x, w, stride=2), lambda x, w: TF.conv_transpose2d(x, w, stride=2),
           x, randn(4, 3, 3, 3), atol=1e-4, jit=True)
    vmap_matches_loop(lambda x: F.conv2d(x, fnp.asarray(w), padding=1, groups=2), x, atol=1e-4)
    vmap_matches_loop(lambda x, w: F.conv1d(x, w), randn(3, 2, 4, 7), randn(3, 5, 4, 3), atol=1e-4)  # per-example w
    with pytest.raises(ValueError, match=r'conv2d: weight \(6, 2, 3, 3\) with groups=1 expects input with 2 '
                                         r'channels, got input \(2, 4, 6, 5\)'):
        F.conv2d(fnp.asarray(x), fnp.asarray(w))
    with pytest.raises(ValueError, match=r'expected a 3-d \(C, \*spatial\) or 4-d'):
        F.conv2d(fnp.ones((4, 6)), fnp.asarray(w))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv1d(fnp.ones((1, 2, 5)), fnp.ones((1, 2, 3)), stride=2, padding='same')
    with pytest.raises(ValueError, match='output_padding'):
        F.conv_transpose1d(fnp.ones((1, 2, 5)), fnp.ones((2, 1, 3)), stride=2, output_padding=2)


# --- pooling -----------------------------------------------------------------------------------------

POOLS = [
    ('max1d', (2, 3, 11), dict(kernel_size=3)),
    ('max1d_all', (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    ('max1d_unbatched', (3, 10), dict(kernel_size=2)),
    ('max2d', (2, 3, 8, 9), dict(kernel_size=2)),
    ('max2d_all', (2, 3, 9, 10), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True)),
    ('max2d_dilation', (1, 2, 10, 9), dict(kernel_size=3, stride=1, padding=1, dilation=2)),
    ('avg1d', (2, 3, 11), dict(kernel_size=3)),
    ('avg1d_pad', (2, 3, 11), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True)),
    ('avg1d_pad_exclude', (2, 3, 11), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True,
                                           count_include_pad=False)),
    ('avg2d', (2, 3, 8, 9), dict(kernel_size=2)),
    ('avg2d_pad', (2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1)),
    ('avg2d_ceil_exclude', (2, 3, 9, 7), dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True,
                                              count_include_pad=False)),
    ('avg2d_divisor', (2, 3, 8, 8), dict(kernel_size=3, stride=2, padding=1, divisor_override=5)),
    ('avg2d_unbatched', (3, 6, 6), dict(kernel_size=3, stride=1, padding=1, count_include_pad=False)),
    ('adaptive1d', (2, 3, 10), dict(output_size=4)),
    ('adaptive1d_up', (2, 3, 3), dict(output_size=7)),
    ('adaptive2d', (2, 3, 7, 9), dict(output_size=(3, 4))),
    ('adaptive2d_none', (2, 3, 7, 9), dict(output_size=(None, 2))),
    ('adaptive2d_one', (2, 3, 5, 5), dict(output_size=1)),
    ('max3d', (2, 3, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1)),
    ('max3d_all', (1, 2, 6, 5, 7), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=1, dilation=(2, 1, 1),
                                        ceil_mode=True)),
    ('avg3d', (2, 3, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ('avg3d_divisor', (1, 2, 4, 4, 6), dict(kernel_size=2, divisor_override=3)),
    ('adaptive3d', (2, 3, 5, 6, 7), dict(output_size=(2, None, 3))),
    ('adaptivemax1d', (2, 3, 10), dict(output_size=4)), ('adaptivemax1d_up', (2, 3, 3), dict(output_size=7)),
    ('adaptivemax2d', (2, 3, 7, 9), dict(output_size=(3, 4))),
    ('adaptivemax2d_none', (3, 7, 9), dict(output_size=(None, 2))),
    ('adaptivemax3d', (1, 2, 5, 6, 7), dict(output_size=(2, 4, 3))),
]
POOL_FNS = {'max1d': (F.max_pool1d, TF.max_pool1d), 'max2d': (F.max_pool2d, TF.max_pool2d),
            'max3d': (F.max_pool3d, TF.max_pool3d),
            'avg1d': (F.avg_pool1d, TF.avg_pool1d), 'avg2d': (F.avg_pool2d, TF.avg_pool2d),
            'avg3d': (F.avg_pool3d, TF.avg_pool3d),
            'adaptive1d': (F.adaptive_avg_pool1d, TF.adaptive_avg_pool1d),
            'adaptive2d': (F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d),
            'adaptive3d': (F.adaptive_avg_pool3d, TF.adaptive_avg_pool3d),
            'adaptivemax1d': (F.adaptive_max_pool1d, TF.adaptive_max_pool1d),
            'adaptivemax2d': (F.adaptive_max_pool2d, TF.adaptive_max_pool2d),
            'adaptivemax3d': (F.adaptive_max_pool3d, TF.adaptive_max_pool3d)}


@pytest.mark.parametrize('name,shape,kwargs', POOLS, ids=[p[0] for p in POOLS])
def test_pool(name, shape, kwargs):
    ours, theirs = POOL_FNS[name.split('_')[0]]
    parity(lambda x: ours(x, **kwargs), lambda x: theirs(x, **kwargs), randn(*shape))


def test_pool_under_jit_vmap_and_errors():
    x = randn(2, 3, 9, 8)
    parity(lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: TF.max_pool2d(x, 3, 2, 1), x, jit=True)
    parity(lambda x: F.avg_pool2d(x, 3, 2, 1, True, False), lambda x: TF.avg_pool2d(x, 3, 2, 1, True, False), x,
           jit=True)
    parity(lambda x: F.adaptive_avg_pool2d(x, (4, 3)), lambda x: TF.adaptive_avg_pool2d(x, (4, 3)), x, jit=True)
    vmap_matches_loop(lambda x: F.max_pool2d(x, 2), x)
    vmap_matches_loop(lambda x: F.avg_pool1d(x, 3, padding=1), x[:, 0])
    with pytest.raises(ValueError, match='at most half'):
        F.max_pool2d(fnp.ones((1, 1, 8, 8)), 2, padding=2)
    with pytest.raises(ValueError, match='too small for kernel_size'):
        F.avg_pool1d(fnp.ones((1, 1, 2)), 3)
    with pytest.raises(ValueError, match=r'max_pool2d: expected a 3-d \(C, \*spatial\) or 4-d'):
        F.max_pool2d(fnp.ones((8, 8)), 2)


MAX_WITH_INDICES = [
    ('1d', (2, 3, 11), dict(kernel_size=3)),
    ('1d_all', (2, 3, 11), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    ('1d_unbatched', (3, 10), dict(kernel_size=2)),
    ('2d', (2, 3, 8, 9), dict(kernel_size=2)),
    ('2d_overlapping', (2, 3, 7, 7), dict(kernel_size=3, stride=2)),
    ('2d_all', (2, 3, 9, 10), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True)),
    ('2d_dilation', (1, 2, 10, 9), dict(kernel_size=3, stride=1, padding=1, dilation=2)),
    ('2d_unbatched', (3, 6, 6), dict(kernel_size=3, padding=1)),
    ('3d', (2, 3, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1)),
    ('3d_all', (1, 2, 6, 5, 7), dict(kernel_size=2, stride=2, padding=1, dilation=(2, 1, 1), ceil_mode=True)),
    ('adaptive1d', (2, 3, 10), dict(output_size=4)), ('adaptive2d', (2, 3, 7, 9), dict(output_size=(3, 4))),
    ('adaptive2d_up', (3, 5, 4), dict(output_size=(7, None))),
    ('adaptive3d', (1, 2, 5, 6, 7), dict(output_size=(2, 4, 3))),
]


def _pools(name):
    if name.startswith('adaptive'):
        n = name[8]
        return getattr(F, f'adaptive_max_pool{n}d'), getattr(TF, f'adaptive_max_pool{n}d'), None, None
    n = name[0]
    return (getattr(F, f'max_pool{n}d'), getattr(TF, f'max_pool{n}d'), getattr(F, f'max_unpool{n}d'),
            getattr(TF, f'max_unpool{n}d'))


@pytest.mark.parametrize('name,shape,kwargs', MAX_WITH_INDICES, ids=[p[0] for p in MAX_WITH_INDICES])
def test_max_pool_return_indices(name, shape, kwargs):
    ours, theirs, _, _ = _pools(name)
    x = randn(*shape)
    ties = np.round(x)  # many equal maxima: PyTorch takes the first of a window, and its gradient goes there
    specials = x.copy()  # -inf throughout a window, and NaN (PyTorch takes a window's last NaN)
    specials.reshape(-1)[::4] = -np.inf
    specials.reshape(-1)[1::7] = np.nan
    for data in (x, ties, specials):
        values, indices = ours(fnp.asarray(data), **kwargs, return_indices=True)
        t_values, t_indices = theirs(torch.tensor(data), **kwargs, return_indices=True)
        close(values, t_values.numpy())
        assert indices.dtype == fnp.int64
        np.testing.assert_array_equal(indices, t_indices.numpy())
    for data in (x, ties):
        parity(lambda x: ours(x, **kwargs, return_indices=True)[0],
               lambda x: theirs(x, **kwargs, return_indices=True)[0], data, jit=name.endswith('all'))


UNPOOLS = [
    ('1d', (2, 3, 11), dict(kernel_size=3), None),
    ('1d_stride_pad', (2, 3, 10), dict(kernel_size=3, stride=2, padding=1), (10,)),
    ('1d_unbatched', (3, 8), dict(kernel_size=2), None),
    ('2d', (2, 3, 8, 9), dict(kernel_size=2), (2, 3, 8, 9)),
    ('2d_overlapping', (2, 3, 7, 7), dict(kernel_size=3, stride=2), None),  # one element can be picked twice
    ('2d_pad', (1, 2, 6, 7), dict(kernel_size=3, stride=2, padding=1), (6, 7)),
    ('2d_unbatched', (3, 6, 6), dict(kernel_size=2), None),
    ('3d', (2, 3, 5, 6, 7), dict(kernel_size=3, stride=2, padding=1), (5, 6, 7)),
    ('3d_unbatched', (3, 4, 4, 4), dict(kernel_size=2), None),
]


@pytest.mark.parametrize('name,shape,kwargs,output_size', UNPOOLS, ids=[p[0] for p in UNPOOLS])
def test_max_unpool(name, shape, kwargs, output_size):
    _, t_pool, ours, theirs = _pools(name)
    values, indices = t_pool(torch.tensor(randn(*shape)), **kwargs, return_indices=True)
    parity(lambda v: ours(v, fnp.asarray(indices.numpy()), **kwargs, output_size=output_size),
           lambda v: theirs(v, indices, **kwargs, output_size=output_size), values.numpy())


def test_max_pool_indices_and_unpool_under_jit_vmap_and_errors():
    x = randn(4, 3, 7, 8)

    def pool(x):
        return F.max_pool2d(x, 3, 2, 1, return_indices=True)

    def round_trip(x):
        return F.max_unpool2d(*pool(x), 3, 2, 1, output_size=x.shape[-2:])
    values, indices = fd.jit(pool)(fnp.asarray(x))
    t_values, t_indices = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    close(values, t_values.numpy())
    np.testing.assert_array_equal(indices, t_indices.numpy())
    parity(round_trip, lambda x: TF.max_unpool2d(*TF.max_pool2d(x, 3, 2, 1, return_indices=True), 3, 2, 1,
                                                 output_size=x.shape[-2:]), x, jit=True)
    vmap_matches_loop(lambda x: pool(x)[1], x)
    vmap_matches_loop(round_trip, x)
    vmap_matches_loop(lambda x: F.max_pool1d_with_indices(x, 2)[1], x[:, 0])
    v, i = (fnp.asarray(a.numpy()) for a in (t_values, t_indices))
    with pytest.raises(ValueError, match=r'max_unpool2d: indices must be integers of the input.s shape '
                                         r'\(4, 3, 4, 4\), got int64 \(4, 3, 4\)'):
        F.max_unpool2d(v, i[..., 0], 3, 2, 1)
    with pytest.raises(IndexError, match=r'max_unpool2d: index \d+ is out of range for output size \(4, 4\)'):
        F.max_unpool2d(v, i, 1)
    with pytest.raises(ValueError, match=r'output_size \(9, 8\) must have 2 \(or 4\) entries, each strictly within '
                                         r'stride \(2, 2\) of the default size \(7, 7\)'):
        F.max_unpool2d(v, i, 3, 2, 1, output_size=(9, 8))

# --- attention ---------------------------------------------------------------------------------------

Q, K, V = randn(2, 3, 4, 8), randn(2, 3, 6, 8), randn(2, 3, 6, 5)


@pytest.mark.parametrize('case', ['plain', 'bool_mask', 'float_mask', 'causal', 'causal_square', 'scale',
                                  'masked_row', 'gqa', 'unbatched'])
def test_scaled_dot_product_attention(case):
    q, k, v, kw, mask = Q, K, V, {}, None
    if case == 'bool_mask':
        mask = rng.random((4, 6)) < 0.7
        mask[:, 0] = True
    elif case == 'float_mask':
        mask = randn(2, 1, 4, 6)
    elif case == 'causal':
        kw = dict(is_causal=True)
    elif case == 'causal_square':
        q, kw = randn(2, 3, 6, 8), dict(is_causal=True)
    elif case == 'scale':
        kw = dict(scale=0.3)
    elif case == 'masked_row':  # a query with nothing to attend to gets 0, as PyTorch
        mask = np.ones((4, 6), bool)
        mask[1] = False
    elif case == 'gqa':
        k, v, kw = K[:, :1], V[:, :1], dict(enable_gqa=True)
    elif case == 'unbatched':
        q, k, v = Q[0, 0], K[0, 0], V[0, 0]
    if mask is None:
        parity(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kw),
               lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **kw), q, k, v, jit=case == 'causal')
    else:
        parity(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m, **kw),
               lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, m, **kw), q, k, v, mask,
               jit=case == 'bool_mask')


def test_scaled_dot_product_attention_dropout_vmap_and_errors():
    q, k, v = (fnp.asarray(a) for a in (Q, K, V))
    key = fd.random.key(1)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4, key=key)
    # the same dropout, by hand: dropout of the attention weights with the same key
    weights = F.softmax(q @ fnp.swapaxes(k, -1, -2) / np.sqrt(8), -1)
    close(out, F.dropout(weights, 0.4, key=key) @ v)
    close(fd.jit(lambda q, key: F.scaled_dot_product_attention(q, k, v, dropout_p=0.4, key=key))(q, key), out)
    vmap_matches_loop(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), Q, K, V)
    with pytest.raises(ValueError, match='attn_mask must be None when is_causal=True'):
        F.scaled_dot_product_attention(q, k, v, fnp.ones((4, 6), dtype=bool), is_causal=True)
    with pytest.raises(ValueError, match=r'expected query \(..., L, E\), key \(..., S, E\)'):
        F.scaled_dot_product_attention(q, k[..., :4], v)

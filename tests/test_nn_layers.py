"""nn layers against PyTorch 2.x: a torch layer's state_dict is loaded into ours (the names must be the same),
then outputs and the gradients of the inputs and of every parameter are compared, in train and eval mode
where they differ; each layer also runs under fd.jit and per example under fd.vmap; reprs, default
initialisation, BatchNorm's running statistics, Dropout's keys, Embedding's max_norm updates, and the shape
errors."""
import math

import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl import nn

torch = pytest.importorskip('torch')
TNN = torch.nn

rng = np.random.default_rng(1)


def randn(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def close(a, b, atol=1e-5, what=''):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, atol=atol, rtol=atol, err_msg=what)


def _is_float(a):
    return np.issubdtype(np.asarray(a).dtype, np.floating)


def layer_parity(ours, theirs, *inputs, atol=1e-5, train=True):
    """Load theirs' state into ours and compare outputs and the gradients of sum(out * cotangent) with respect to
    the float inputs and all parameters."""
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())
    ours.train(train)
    theirs.train(train)
    fx = [fnp.asarray(a) for a in inputs]
    tx = [torch.tensor(a, requires_grad=_is_float(a)) for a in inputs]
    tout = theirs(*tx)
    close(ours(*fx), tout.detach().numpy(), atol, 'output')
    cot = randn(*tout.shape)
    diff = [i for i, a in enumerate(inputs) if _is_float(a)]
    names = [n for n, p in theirs.named_parameters()]
    expected = torch.autograd.grad(tout, [tx[i] for i in diff] + list(theirs.parameters()), torch.tensor(cot))
    params = nn.params(ours)
    assert sorted(params) == sorted(names)
    grads = fd.grad(lambda p, *xs: fnp.sum(nn.functional_call(ours, p, *xs) * cot),
                    argnums=(0,) + tuple(1 + i for i in diff))(params, *fx)
    for name, e in zip(names, expected[len(diff):]):
        close(grads[0][name], e.numpy(), atol, f'gradient of {name}')
    for i, g, e in zip(diff, grads[1:], expected):
        close(g, e.numpy(), atol, f'gradient of input {i}')


def jit_and_vmap(cases, atol=1e-5):
    """For (layer, inputs, per_example) cases: the outputs and the gradients (inputs and parameters) that one
    fd.jit program computes for all of them equal the eager ones; and where per_example, fd.vmap over the
    examples (each run as a batch of one, the parameters shared) equals a loop over them."""
    layers = [c[0] for c in cases]
    cots = [randn(*np.shape(layer(*[fnp.asarray(x) for x in xs]))) for layer, xs, _ in cases]
    diffs = [tuple(i for i, x in enumerate(xs) if _is_float(x)) for _, xs, _ in cases]

    def everything(params, inputs):
        results = []
        for layer, p, xs, cot, diff in zip(layers, params, inputs, cots, diffs):
            def loss(p, *xs):
                return fnp.sum(nn.functional_call(layer, p, *xs) * cot)
            results.append((nn.functional_call(layer, p, *xs),
                            fd.grad(loss, argnums=(0,) + tuple(1 + i for i in diff))(p, *xs)))
        return results
    params = [nn.params(layer) for layer in layers]
    inputs = [[fnp.asarray(x) for x in xs] for _, xs, _ in cases]
    eager, jitted = everything(params, inputs), fd.jit(everything)(params, inputs)
    for layer, e, j in zip(layers, eager, jitted):
        for a, b in zip(fd.tree.leaves(e), fd.tree.leaves(j)):
            close(b, a, atol, f'jit {layer!r}')
    for (layer, _, per_example), p, xs in zip(cases, params, inputs):
        if not per_example:
            continue
        def one(*xs):
            return nn.functional_call(layer, p, *[x[None] for x in xs])
        looped = np.stack([np.asarray(one(*[x[i] for x in xs])) for i in range(xs[0].shape[0])])
        close(fd.vmap(one)(*xs), looped, atol, f'vmap {layer!r}')


def same_repr(ours, theirs):
    assert repr(ours) == repr(theirs)


# --- activations ---------------------------------------------------------------------------------------

X = np.concatenate([randn(46, scale=4.0), np.asarray([-3.0, 0.0], np.float32)]).reshape(4, 12)

ACTIVATIONS = [
    ('ReLU', (), {}), ('ReLU6', (), {}), ('LeakyReLU', (0.2,), {}),
    ('ELU', (0.5,), {}), ('SELU', (), {}), ('CELU', (1.3,), {}), ('GELU', (), {}),
    ('GELU', (), dict(approximate='tanh')),
    ('SiLU', (), {}), ('Mish', (), {}), ('Hardswish', (), {}), ('Hardsigmoid', (), {}), ('Hardtanh', (-0.5, 2.0), {}),
    ('Sigmoid', (), {}), ('Tanh', (), {}), ('Softplus', (2.0, 5.0), {}), ('Softsign', (), {}), ('LogSigmoid', (), {}),
    ('Softmax', (1,), {}), ('LogSoftmax', (-1,), {}), ('GLU', (), {}),
    ('Softmin', (1,), {}), ('Threshold', (0.0, -2.0), {}), ('Hardshrink', (), {}), ('Softshrink', (0.3,), {}),
    ('Tanhshrink', (), {}), ('PReLU', (), {}), ('PReLU', (12, 0.1), {}),
]


@pytest.mark.parametrize('name,args,kwargs', ACTIVATIONS, ids=[f'{a[0]}{a[1]}{a[2]}' for a in ACTIVATIONS])
def test_activation(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(TNN, name)(*args, **kwargs)
    same_repr(ours, theirs)
    layer_parity(ours, theirs, X)


def test_activations_under_jit_and_vmap():
    jit_and_vmap([(getattr(nn, name)(*args, **kwargs), (X,), True) for name, args, kwargs in ACTIVATIONS])


def test_prelu_learns_its_slopes_and_softmax2d():
    ours, theirs = nn.PReLU(3), TNN.PReLU(3)
    with torch.no_grad():
        theirs.weight.copy_(torch.randn(3))
    layer_parity(ours, theirs, randn(2, 3, 4, 5))  # one slope per channel of (N, C, H, W), and its gradient
    jit_and_vmap([(ours, (randn(2, 3, 4, 5),), True)])
    for shape in ((2, 3, 4, 5), (3, 4, 5)):
        layer_parity(nn.Softmax2d(), TNN.Softmax2d(), randn(*shape))
    same_repr(nn.Softmax2d(), TNN.Softmax2d())
    with pytest.raises(ValueError, match=r'Softmax2d: expected input to be 3D or 4D, got \(4, 5\)'):
        nn.Softmax2d()(fnp.ones((4, 5)))


def test_inplace_is_accepted_and_shown():
    for name, args in (('ReLU', ()), ('LeakyReLU', (0.1,)), ('Hardtanh', (-2.0, 2.0)), ('ELU', (0.3,)),
                       ('SiLU', ()), ('Dropout', (0.1,)), ('Threshold', (0.1, 2.0)), ('Dropout2d', (0.3,))):
        same_repr(getattr(nn, name)(*args, inplace=True), getattr(TNN, name)(*args, inplace=True))


# --- losses -----------------------------------------------------------------------------------------

LOGITS, LABELS = randn(6, 5, scale=2.0), rng.integers(0, 5, 6)
W5 = np.abs(randn(5)) + 0.1
PROBS, TARGET01 = rng.uniform(0.05, 0.95, (6, 5)).astype(np.float32), rng.random((6, 5)).astype(np.float32)
SIGNS = np.where(rng.random((6, 5)) < 0.5, 1, -1)


def _weight_buffer(ours_cls, theirs_cls, name='weight', value=W5, **kwargs):
    return ours_cls(**{name: fnp.asarray(value)}, **kwargs), theirs_cls(**{name: torch.tensor(value)}, **kwargs)


LOSSES = [
    ('CrossEntropyLoss', lambda: (nn.CrossEntropyLoss(), TNN.CrossEntropyLoss()), LOGITS, LABELS),
    ('CrossEntropyLoss_weighted', lambda: _weight_buffer(nn.CrossEntropyLoss, TNN.CrossEntropyLoss,
                                                         label_smoothing=0.1, ignore_index=2), LOGITS, LABELS),
    ('CrossEntropyLoss_probs', lambda: (nn.CrossEntropyLoss(reduction='sum'), TNN.CrossEntropyLoss(reduction='sum')),
     LOGITS, PROBS / PROBS.sum(1, keepdims=True)),
    ('NLLLoss', lambda: _weight_buffer(nn.NLLLoss, TNN.NLLLoss, reduction='sum'), LOGITS, LABELS),
    ('MSELoss', lambda: (nn.MSELoss(), TNN.MSELoss()), LOGITS, PROBS),
    ('L1Loss', lambda: (nn.L1Loss(reduction='none'), TNN.L1Loss(reduction='none')), LOGITS, PROBS),
    ('BCELoss', lambda: _weight_buffer(nn.BCELoss, TNN.BCELoss, value=W5), PROBS, TARGET01),
    ('BCEWithLogitsLoss', lambda: _weight_buffer(nn.BCEWithLogitsLoss, TNN.BCEWithLogitsLoss, 'pos_weight', W5),
     LOGITS, TARGET01),
    ('HuberLoss', lambda: (nn.HuberLoss(delta=0.5), TNN.HuberLoss(delta=0.5)), LOGITS, PROBS),
    ('SmoothL1Loss', lambda: (nn.SmoothL1Loss(beta=0.5), TNN.SmoothL1Loss(beta=0.5)), LOGITS, PROBS),
    ('KLDivLoss', lambda: (nn.KLDivLoss(reduction='batchmean'), TNN.KLDivLoss(reduction='batchmean')),
     np.log(PROBS), TARGET01),
    ('SoftMarginLoss', lambda: (nn.SoftMarginLoss(), TNN.SoftMarginLoss()), LOGITS, SIGNS.astype(np.int64)),
    ('MultiLabelSoftMarginLoss', lambda: _weight_buffer(nn.MultiLabelSoftMarginLoss, TNN.MultiLabelSoftMarginLoss,
                                                        reduction='sum'), LOGITS, (TARGET01 > 0.5) * 1.0),
    ('HingeEmbeddingLoss', lambda: (nn.HingeEmbeddingLoss(0.5), TNN.HingeEmbeddingLoss(0.5)), PROBS,
     SIGNS.astype(np.int64)),
    ('PoissonNLLLoss', lambda: (nn.PoissonNLLLoss(full=True), TNN.PoissonNLLLoss(full=True)), LOGITS,
     rng.poisson(2.0, (6, 5)).astype(np.float32) + 1),  # torch's target gradient at 0 is NaN (ours is finite)
]

THREE_INPUT_LOSSES = [
    ('MarginRankingLoss', lambda: (nn.MarginRankingLoss(0.2), TNN.MarginRankingLoss(0.2)),
     (LOGITS[:, 0], PROBS[:, 0], SIGNS[:, 0].astype(np.int64))),
    ('CosineEmbeddingLoss', lambda: (nn.CosineEmbeddingLoss(0.1, reduction='sum'),
                                     TNN.CosineEmbeddingLoss(0.1, reduction='sum')),
     (LOGITS, PROBS, SIGNS[:, 0].astype(np.int64))),
    ('TripletMarginLoss', lambda: (nn.TripletMarginLoss(0.5, swap=True), TNN.TripletMarginLoss(0.5, swap=True)),
     (LOGITS, PROBS, TARGET01)),
    ('GaussianNLLLoss', lambda: (nn.GaussianNLLLoss(full=True), TNN.GaussianNLLLoss(full=True)),
     (LOGITS, PROBS, TARGET01 + 0.1)),
]


@pytest.mark.parametrize('name,make,inputs', THREE_INPUT_LOSSES, ids=[a[0] for a in THREE_INPUT_LOSSES])
def test_three_input_loss(name, make, inputs):
    ours, theirs = make()
    same_repr(ours, theirs)
    layer_parity(ours, theirs, *inputs)
    jit_and_vmap([(ours, inputs, name != 'MarginRankingLoss')])


@pytest.mark.parametrize('name,make,x,t', LOSSES, ids=[a[0] for a in LOSSES])
def test_loss(name, make, x, t):
    ours, theirs = make()
    same_repr(ours, theirs)
    layer_parity(ours, theirs, x, t)


@pytest.mark.filterwarnings('ignore::RuntimeWarning')  # an example whose only target is ignored: 0 / 0, as torch
def test_losses_under_jit_and_vmap():
    jit_and_vmap([(make()[0], (x, t), True) for _, make, x, t in LOSSES])


# --- normalisation -------------------------------------------------------------------------------------

NORMS = [
    ('LayerNorm', lambda: (nn.LayerNorm(6), TNN.LayerNorm(6)), (4, 3, 6)),
    ('LayerNorm_2d_nobias', lambda: (nn.LayerNorm((3, 6), eps=1e-3, bias=False),
                                     TNN.LayerNorm((3, 6), eps=1e-3, bias=False)), (4, 3, 6)),
    ('LayerNorm_noaffine', lambda: (nn.LayerNorm(6, elementwise_affine=False),
                                    TNN.LayerNorm(6, elementwise_affine=False)), (4, 6)),
    ('RMSNorm', lambda: (nn.RMSNorm(6), TNN.RMSNorm(6)), (4, 3, 6)),
    ('RMSNorm_eps', lambda: (nn.RMSNorm([3, 6], eps=1e-3), TNN.RMSNorm([3, 6], eps=1e-3)), (4, 3, 6)),
    ('GroupNorm', lambda: (nn.GroupNorm(2, 6), TNN.GroupNorm(2, 6)), (4, 6, 5)),
    ('GroupNorm_noaffine', lambda: (nn.GroupNorm(3, 6, affine=False), TNN.GroupNorm(3, 6, affine=False)),
     (4, 6, 3, 2)),
]


@pytest.mark.parametrize('name,make,shape', NORMS, ids=[a[0] for a in NORMS])
def test_norm(name, make, shape):
    ours, theirs = make()
    same_repr(ours, theirs)
    # random affine parameters, so that their gradients are not the trivial ones
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))
    layer_parity(ours, theirs, randn(*shape, scale=2.0) + 0.5)


def test_norms_under_jit_and_vmap():
    cases = [(make()[0], (randn(*shape),), True) for _, make, shape in NORMS]
    # BatchNorm normalises across the batch in train mode: per example only in eval mode
    cases += [(make()[0].train(), (randn(*shape),), False) for _, make, shape in BATCHNORMS]
    cases += [(make()[0].eval(), (randn(*shape),), True) for name, make, shape in BATCHNORMS
              if 'untracked' not in name]  # untracked ones use the batch statistics in eval mode too
    jit_and_vmap(cases)


BATCHNORMS = [
    ('BatchNorm1d', lambda: (nn.BatchNorm1d(3), TNN.BatchNorm1d(3)), (8, 3)),
    ('BatchNorm1d_3d', lambda: (nn.BatchNorm1d(3, momentum=0.3, eps=1e-3), TNN.BatchNorm1d(3, momentum=0.3, eps=1e-3)),
     (4, 3, 5)),
    ('BatchNorm2d', lambda: (nn.BatchNorm2d(4), TNN.BatchNorm2d(4)), (3, 4, 5, 2)),
    ('BatchNorm2d_cumulative', lambda: (nn.BatchNorm2d(4, momentum=None), TNN.BatchNorm2d(4, momentum=None)),
     (3, 4, 2, 2)),
    ('BatchNorm2d_noaffine', lambda: (nn.BatchNorm2d(4, affine=False), TNN.BatchNorm2d(4, affine=False)),
     (3, 4, 2, 2)),
    ('BatchNorm3d', lambda: (nn.BatchNorm3d(2), TNN.BatchNorm3d(2)), (2, 2, 3, 2, 2)),
    ('BatchNorm1d_untracked', lambda: (nn.BatchNorm1d(3, track_running_stats=False, bias=False),
                                       TNN.BatchNorm1d(3, track_running_stats=False, bias=False)), (6, 3)),
]


@pytest.mark.parametrize('name,make,shape', BATCHNORMS, ids=[a[0] for a in BATCHNORMS])
def test_batch_norm(name, make, shape):
    ours, theirs = make()
    same_repr(ours, theirs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))
        for b in (theirs.running_mean, theirs.running_var):
            if b is not None:
                b.copy_(torch.rand(b.shape) + 0.5)
    ours.load_state_dict(theirs.state_dict())
    # train mode, three steps: outputs, gradients and the running statistics after each
    for step in range(3):
        x = randn(*shape, scale=2.0) + 0.5
        buffers = nn.buffers(ours)
        _, new = nn.functional_call(ours, buffers, fnp.asarray(x), return_buffers=True)
        for k, v in buffers.items():  # the module is left as it was
            assert nn.buffers(ours)[k] is v
        layer_parity(ours, theirs, x)  # runs ours eagerly: updates its buffers as torch does
        for k, v in theirs.state_dict().items():
            if k in new:
                close(new[k], v.numpy(), 1e-5, f'functional_call buffer {k}')
                close(nn.buffers(ours)[k], v.numpy(), 1e-5, f'eager buffer {k}')
    # eval mode: the running statistics normalise (or the batch ones, untracked)
    layer_parity(ours, theirs, randn(*shape) + 0.5, train=False)


def test_batch_norm_under_jit_returns_new_buffers():
    ours, theirs = nn.BatchNorm2d(3), TNN.BatchNorm2d(3)
    step = fd.jit(lambda tree, x: nn.functional_call(ours, tree, x, return_buffers=True))
    tree = {**nn.params(ours), **nn.buffers(ours)}
    for _ in range(2):
        x = randn(4, 3, 2, 2)
        out, new = step(tree, fnp.asarray(x))
        close(out, theirs(torch.tensor(x)).detach().numpy())
        tree.update(new)
    for k, v in theirs.state_dict().items():
        close(tree[k], v.numpy(), what=k)
    assert int(tree['num_batches_tracked']) == 2 and int(ours.num_batches_tracked) == 0


INSTANCENORMS = [
    ('InstanceNorm1d', lambda: (nn.InstanceNorm1d(3), TNN.InstanceNorm1d(3)), (4, 3, 6)),
    ('InstanceNorm1d_unbatched_tracked', lambda: (nn.InstanceNorm1d(3, momentum=0.3, track_running_stats=True),
                                                  TNN.InstanceNorm1d(3, momentum=0.3, track_running_stats=True)),
     (3, 6)),
    ('InstanceNorm2d_affine', lambda: (nn.InstanceNorm2d(4, affine=True), TNN.InstanceNorm2d(4, affine=True)),
     (2, 4, 3, 5)),
    ('InstanceNorm2d_all', lambda: (nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
                                    TNN.InstanceNorm2d(4, affine=True, track_running_stats=True)), (3, 4, 2, 3)),
    ('InstanceNorm3d_nobias', lambda: (nn.InstanceNorm3d(2, affine=True, bias=False, momentum=None,
                                                         track_running_stats=True),
                                       TNN.InstanceNorm3d(2, affine=True, bias=False, momentum=None,
                                                          track_running_stats=True)), (2, 2, 3, 2, 3)),
]


@pytest.mark.parametrize('name,make,shape', INSTANCENORMS, ids=[a[0] for a in INSTANCENORMS])
def test_instance_norm(name, make, shape):
    ours, theirs = make()
    same_repr(ours, theirs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))
    ours.load_state_dict(theirs.state_dict())
    for _ in range(2):  # train mode: the running statistics (if tracked) move as torch's
        layer_parity(ours, theirs, randn(*shape, scale=2.0) + 0.5)
        for k, v in theirs.state_dict().items():
            close(ours.state_dict()[k], v.numpy(), 1e-5, k)
    layer_parity(ours, theirs, randn(*shape) + 0.5, train=False)
    # per example under vmap in train mode too (instance statistics), and under jit
    jit_and_vmap([(make()[0], (randn(*shape),), len(shape) == int(name[12]) + 2)])


def test_instance_norm_channel_checks():
    with pytest.warns(UserWarning, match='does not match num_features'):
        nn.InstanceNorm1d(5)(fnp.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r'InstanceNorm2d\(5\) expected 5 channels at dim 1, got input '
                                         r'\(2, 3, 4, 4\)'):
        nn.InstanceNorm2d(5, affine=True)(fnp.ones((2, 3, 4, 4)))
    with pytest.raises(ValueError, match=r'InstanceNorm2d\(3\) expected input of shape \(N, C, H, W\) or '
                                         r'\(C, H, W\), got \(4, 4\)'):
        nn.InstanceNorm2d(3)(fnp.ones((4, 4)))

# --- dropout ----------------------------------------------------------------------------------------

def test_dropout_keys_modes_and_transforms():
    drop = nn.Dropout(0.25)
    same_repr(drop, TNN.Dropout(0.25))
    x = fnp.ones((50, 40))
    key = fd.random.key(7)
    y = np.asarray(nn.functional_call(drop, {}, x, rng=key))
    assert set(np.unique(y).tolist()) == {0.0, float(np.float32(1 / 0.75))} and abs((y == 0).mean() - 0.25) < 0.03
    close(nn.functional_call(drop, {}, x, rng=key), y)  # the same key gives the same mask
    close(fd.jit(lambda x, k: nn.functional_call(drop, {}, x, rng=k))(x, key), y)
    # two Dropout layers in one call draw different keys from the same rng
    twice = nn.Sequential(nn.Dropout(0.5), nn.Dropout(0.5))
    single = np.asarray(nn.functional_call(nn.Dropout(0.5), {}, x, rng=key))
    assert not np.array_equal(np.asarray(nn.functional_call(twice, {}, x, rng=key)) > 0, single > 0)
    assert drop.eval()(x) is x and nn.functional_call(drop.train(), {}, x, train=False) is x
    with pytest.raises(ValueError, match='Dropout|dropout'):
        fd.jit(lambda x: drop(x))(x)


def test_dropout_under_vmap_asks_for_one_key_per_example():
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5))
    params, x = nn.params(model), fnp.asarray(randn(6, 4))
    with pytest.raises(ValueError, match='one key for all 6 examples.*fd.random.split'):
        fd.vmap(lambda x: nn.functional_call(model, params, x, rng=fd.random.key(0)))(x)
    keys = fd.random.split(fd.random.key(0), 6)
    per_example = fd.vmap(lambda x, k: nn.functional_call(model, params, x, rng=k))(x, keys)
    for i in range(6):
        close(per_example[i], nn.functional_call(model, params, x[i], rng=keys[i]))



@pytest.mark.parametrize('name,shape', [('Dropout1d', (4, 30, 5)), ('Dropout2d', (4, 30, 3, 3)),
                                        ('Dropout3d', (30, 2, 2, 3))])
def test_channel_dropout_layers(name, shape):
    ours = getattr(nn, name)(0.3)
    same_repr(ours, getattr(TNN, name)(0.3))
    x, key = fnp.asarray(randn(*shape)), fd.random.key(1)
    y = nn.functional_call(ours, {}, x, rng=key)
    close(y, getattr(nn.functional, name.lower())(x, 0.3, key=fd.random.fold_in(key, 0)))
    close(fd.jit(lambda x, k: nn.functional_call(ours, {}, x, rng=k))(x, key), y)
    assert ours.eval()(x) is x

# --- embedding ---------------------------------------------------------------------------------------

def test_embedding():
    ours, theirs = nn.Embedding(10, 4, padding_idx=1), TNN.Embedding(10, 4, padding_idx=1)
    same_repr(ours, theirs)
    idx = np.asarray([[1, 3, 9], [0, 1, 3]])
    layer_parity(ours, theirs, idx)  # the padding row gets no gradient
    jit_and_vmap([(ours, (idx,), True)])
    pre = nn.Embedding.from_pretrained(fnp.asarray(randn(5, 3)))
    assert nn.params(pre) == {} and list(pre.state_dict()) == ['weight']
    with pytest.raises(TypeError, match=r'Embedding\(10, 4\) expected integer indices, got float32'):
        ours(fnp.ones(3))
    with pytest.raises(IndexError, match='index 10 is out of range for 10 embeddings'):
        ours(fnp.asarray([10]))


def test_embedding_max_norm_renormalises_the_stored_weight_when_eager():
    ours = nn.Embedding(10, 4, max_norm=1.0, norm_type=3.0, scale_grad_by_freq=True)
    theirs = TNN.Embedding(10, 4, max_norm=1.0, norm_type=3.0, scale_grad_by_freq=True)
    same_repr(ours, theirs)
    idx = np.asarray([[1, 3, 9], [0, 1, 3]])
    # each eager call rescales the looked-up rows of the stored weight in place, as torch's; the gradients
    # (through functional_call, of the weight as it now is) are those of the plain lookup, count-scaled
    layer_parity(ours, theirs, idx)
    close(ours.weight, theirs.weight.detach().numpy())
    assert isinstance(ours.weight, nn.Parameter)
    jit_and_vmap([(ours, (idx,), True)])
    # functional_call, and jit of the module, renormalise the output only: the module and the arrays passed in
    # are left as they were
    layer = nn.Embedding(10, 4, max_norm=0.5)
    params, before = nn.params(layer), np.asarray(layer.weight).copy()
    for out in (nn.functional_call(layer, params, fnp.asarray(idx)), fd.jit(layer)(fnp.asarray(idx))):
        assert np.linalg.norm(np.asarray(out), axis=-1).max() <= 0.5 + 1e-6
        np.testing.assert_array_equal(layer.weight, before)
        np.testing.assert_array_equal(params['weight'], before)
    new = nn.functional.embedding_renorm(params['weight'], fnp.asarray(idx), 0.5)
    close(nn.functional_call(layer, {'weight': new}, fnp.asarray(idx)), nn.functional_call(layer, params,
                                                                                            fnp.asarray(idx)))

# --- convolution -------------------------------------------------------------------------------------

CONVS = [
    ('Conv1d', lambda: (4, 6, 3), dict(stride=2, padding=1), (2, 4, 11)),
    ('Conv1d', lambda: (4, 6, 4), dict(padding='same', dilation=2, groups=2, bias=False), (2, 4, 10)),
    ('Conv1d', lambda: (4, 6, 3), dict(padding=2, padding_mode='reflect'), (2, 4, 9)),
    ('Conv1d', lambda: (4, 2, 3), dict(padding='same', padding_mode='circular'), (4, 9)),
    ('Conv2d', lambda: (3, 8, 3), dict(padding=1), (2, 3, 7, 6)),
    ('Conv2d', lambda: (4, 8, (3, 2)), dict(stride=(2, 1), groups=4, padding=(1, 1), padding_mode='replicate'),
     (2, 4, 7, 6)),
    ('Conv2d', lambda: (3, 4, 2), dict(padding='valid', dilation=(1, 2)), (3, 6, 6)),
    ('Conv3d', lambda: (2, 3, 2), dict(stride=(1, 2, 1), padding=1), (1, 2, 4, 5, 3)),
    ('ConvTranspose1d', lambda: (4, 2, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 7)),
    ('ConvTranspose2d', lambda: (4, 6, 3), dict(stride=2, groups=2, dilation=2, bias=False), (2, 4, 3, 4)),
    ('ConvTranspose2d', lambda: (3, 2, (2, 3)), dict(stride=(1, 2), padding=(0, 1)), (3, 4, 4)),
    ('ConvTranspose3d', lambda: (2, 2, 2), dict(stride=2), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize('name,args,kwargs,shape', CONVS, ids=[f'{c[0]}-{i}' for i, c in enumerate(CONVS)])
def test_conv(name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args(), **kwargs), getattr(TNN, name)(*args(), **kwargs)
    same_repr(ours, theirs)
    layer_parity(ours, theirs, randn(*shape), atol=1e-4)


def test_convs_under_jit_and_vmap():
    jit_and_vmap([(getattr(nn, name)(*args(), **kwargs), (randn(*shape),), len(shape) == int(name[-2]) + 2)
                  for name, args, kwargs, shape in CONVS], atol=1e-4)


def test_conv_transpose_output_size():
    ours, theirs = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1), TNN.ConvTranspose2d(4, 3, 3, stride=2, padding=1)
    ours.load_state_dict(theirs.state_dict())
    x = randn(2, 4, 5, 5)
    for size in ((9, 10), (2, 3, 10, 9)):
        close(ours(fnp.asarray(x), output_size=size), theirs(torch.tensor(x), output_size=size).detach().numpy(),
              1e-4)
    with pytest.raises(ValueError, match=r'dim 0 must lie in \[9, 10\]'):
        ours(fnp.asarray(x), output_size=(11, 10))


@pytest.mark.parametrize('layer,shape', [
    (nn.Conv1d(5, 7, 3), (2, 5, 9)), (nn.Conv2d(3, 16, (3, 5), groups=1), (4, 3, 8, 8)),
    (nn.Conv3d(4, 2, 2, groups=2), (1, 4, 3, 3, 3)), (nn.ConvTranspose2d(6, 4, 3, groups=2), (2, 6, 4, 4)),
])
def test_conv_default_init_follows_pytorch(layer, shape):
    fan_in = layer.weight.shape[1] * math.prod(layer.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)) and the bias' U(-1/sqrt(fan_in), ...) agree
    for p in (layer.weight, layer.bias):
        v = np.asarray(p)
        assert np.abs(v).max() <= bound and np.abs(v).max() > 0.5 * bound
    assert layer(fnp.ones(shape)).ndim == len(shape)
    a = nn.Conv2d(3, 4, 3, key=fd.random.key(5))
    assert np.array_equal(np.asarray(a.weight), np.asarray(nn.Conv2d(3, 4, 3, key=fd.random.key(5)).weight))


def test_embedding_and_norm_default_init():
    emb = np.asarray(nn.Embedding(400, 50, padding_idx=3).weight)
    assert abs(emb.std() - 1) < 0.03 and abs(emb.mean()) < 0.03 and not emb[3].any()
    for layer, torch_layer in ((nn.LayerNorm(5), TNN.LayerNorm(5)), (nn.GroupNorm(1, 4), TNN.GroupNorm(1, 4)),
                               (nn.BatchNorm2d(3), TNN.BatchNorm2d(3)), (nn.RMSNorm(2), TNN.RMSNorm(2))):
        for k, v in torch_layer.state_dict().items():
            assert np.array_equal(np.asarray(layer.state_dict()[k]), v.numpy()), k
            assert layer.state_dict()[k].dtype == {torch.float32: fnp.float32, torch.int64: fnp.int64}[v.dtype]


# --- pooling -----------------------------------------------------------------------------------------

POOLS = [
    ('MaxPool1d', (3, 2, 1), {}, (2, 3, 10)), ('MaxPool1d', (2,), dict(ceil_mode=True), (3, 9)),
    ('MaxPool2d', (2,), {}, (2, 3, 8, 6)), ('MaxPool2d', (3, 2, 1), dict(ceil_mode=True, dilation=1), (2, 3, 8, 7)),
    ('AvgPool1d', (3, 2, 1), dict(count_include_pad=False), (2, 3, 10)),
    ('AvgPool2d', (3, 2, 1), dict(ceil_mode=True), (2, 3, 8, 7)),
    ('AvgPool2d', (2,), dict(divisor_override=3), (3, 6, 6)),
    ('AdaptiveAvgPool1d', (4,), {}, (2, 3, 10)), ('AdaptiveAvgPool2d', ((3, None),), {}, (2, 3, 7, 5)),
    ('AdaptiveAvgPool2d', (1,), {}, (2, 3, 4, 4)),
    ('MaxPool3d', (3, 2, 1), {}, (2, 3, 5, 6, 5)), ('MaxPool3d', (2,), dict(ceil_mode=True), (2, 5, 4, 5)),
    ('AvgPool3d', (3, 2, 1), dict(count_include_pad=False), (2, 3, 5, 6, 5)),
    ('AdaptiveAvgPool3d', ((2, None, 3),), {}, (2, 3, 5, 6, 5)),
    ('AdaptiveMaxPool1d', (4,), {}, (2, 3, 10)), ('AdaptiveMaxPool2d', ((3, None),), {}, (3, 7, 5)),
    ('AdaptiveMaxPool3d', (2,), {}, (2, 3, 5, 6, 5)),
]


@pytest.mark.parametrize('name,args,kwargs,shape', POOLS, ids=[f'{p[0]}-{i}' for i, p in enumerate(POOLS)])
def test_pool(name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(TNN, name)(*args, **kwargs)
    same_repr(ours, theirs)
    layer_parity(ours, theirs, randn(*shape))


def test_pools_under_jit_and_vmap():
    jit_and_vmap([(getattr(nn, name)(*args, **kwargs), (randn(*shape),), len(shape) == int(name[-2]) + 2)
                  for name, args, kwargs, shape in POOLS])


def test_max_pool_return_indices_and_max_unpool():
    for name, args, shape in (('1d', (3, 2, 1), (2, 3, 9)), ('2d', (3, 2), (2, 3, 7, 7)), ('2d', (2,), (3, 6, 6)),
                              ('3d', (2,), (2, 3, 4, 4, 6))):
        ours, theirs = (getattr(nn, f'MaxPool{name}')(*args, return_indices=True),
                        getattr(TNN, f'MaxPool{name}')(*args, return_indices=True))
        same_repr(ours, theirs)
        x = randn(*shape)
        t_values, t_indices = theirs(torch.tensor(x))
        for values, indices in (ours(fnp.asarray(x)), fd.jit(ours)(fnp.asarray(x))):
            close(values, t_values.numpy())
            np.testing.assert_array_equal(indices, t_indices.numpy())
        ours, theirs = getattr(nn, f'MaxUnpool{name}')(*args), getattr(TNN, f'MaxUnpool{name}')(*args)
        same_repr(ours, theirs)
        layer_parity(ours, theirs, t_values.numpy(), t_indices.numpy())
        jit_and_vmap([(ours, (t_values.numpy(), t_indices.numpy()), len(shape) == int(name[0]) + 2)])
    unpool = nn.MaxUnpool3d(2)
    close(unpool(fnp.asarray(t_values.numpy()), fnp.asarray(t_indices.numpy()), output_size=(5, 4, 7)),
          TNN.MaxUnpool3d(2)(t_values, t_indices, output_size=(5, 4, 7)).numpy())
    ours, theirs = nn.AdaptiveMaxPool2d((3, 2), return_indices=True), TNN.AdaptiveMaxPool2d((3, 2), return_indices=True)
    same_repr(ours, theirs)
    x = randn(2, 3, 7, 5)
    for got, expected in zip(ours(fnp.asarray(x)), theirs(torch.tensor(x))):
        np.testing.assert_array_equal(got, expected.numpy())


UPSAMPLES = [
    ('Upsample', dict(scale_factor=2), (2, 3, 5)), ('Upsample', dict(size=(5, 7), mode='bilinear'), (2, 3, 3, 4)),
    ('Upsample', dict(scale_factor=(1.5, 2), mode='bicubic', align_corners=True), (2, 3, 3, 4)),
    ('Upsample', dict(scale_factor=0.6, mode='trilinear', recompute_scale_factor=True), (1, 2, 5, 4, 6)),
    ('Upsample', dict(size=6, mode='nearest-exact'), (2, 3, 4)),
    ('UpsamplingNearest2d', dict(scale_factor=3), (1, 2, 3, 2)),
    ('UpsamplingBilinear2d', dict(size=(4, 6)), (2, 3, 3, 4)),
]


@pytest.mark.parametrize('name,kwargs,shape', UPSAMPLES, ids=[f'{u[0]}-{i}' for i, u in enumerate(UPSAMPLES)])
def test_upsample(name, kwargs, shape):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(TNN, name)(**kwargs)
    same_repr(ours, theirs)
    layer_parity(ours, theirs, randn(*shape))


def test_upsamples_under_jit_and_vmap():
    jit_and_vmap([(getattr(nn, name)(**kwargs), (randn(*shape),), True) for name, kwargs, shape in UPSAMPLES])


SHAPE_LAYERS = [
    ('PixelShuffle', (2,), {}, [(2, 8, 3, 4)]), ('PixelUnshuffle', (3,), {}, [(2, 2, 6, 3)]),
    ('CosineSimilarity', (), {}, [(4, 5), (4, 5)]), ('CosineSimilarity', (0, 1e-3), {}, [(4, 5), (1, 5)]),
    ('PairwiseDistance', (), {}, [(4, 5), (4, 5)]), ('PairwiseDistance', (1.0, 1e-3, True), {}, [(4, 5), (4, 5)]),
    ('ZeroPad1d', ((1, 2),), {}, [(2, 3, 4)]), ('ZeroPad2d', (1,), {}, [(3, 4, 5)]),
    ('ConstantPad1d', (2, -1.5), {}, [(3, 4)]), ('ConstantPad2d', ((1, 0, 2, 1), 3.5), {}, [(2, 3, 4, 5)]),
    ('ConstantPad3d', (1, 0.5), {}, [(1, 2, 3, 2, 2)]), ('ReflectionPad1d', (2,), {}, [(2, 3, 5)]),
    ('ReflectionPad2d', ((1, 2, 0, 3),), {}, [(2, 3, 4, 5)]), ('ReflectionPad3d', (1,), {}, [(1, 2, 3, 3, 3)]),
    ('ReplicationPad1d', ((3, 1),), {}, [(2, 3, 4)]), ('ReplicationPad2d', (2,), {}, [(3, 4, 5)]),
    ('ReplicationPad3d', ((1, 0, 2, 1, 0, 1),), {}, [(1, 2, 3, 2, 2)]), ('CircularPad1d', (2,), {}, [(2, 3, 4)]),
    ('CircularPad2d', ((1, 0, 2, 1),), {}, [(2, 3, 4, 5)]), ('CircularPad3d', (1,), {}, [(1, 2, 3, 3, 3)]),
    ('ZeroPad3d', ((1, 0, 0, 1, 2, 0),), {}, [(1, 2, 3, 2, 2)]),
]


@pytest.mark.parametrize('name,args,kwargs,shapes', SHAPE_LAYERS,
                         ids=[f'{s[0]}-{i}' for i, s in enumerate(SHAPE_LAYERS)])
def test_shape_layers(name, args, kwargs, shapes):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(TNN, name)(*args, **kwargs)
    same_repr(ours, theirs)
    layer_parity(ours, theirs, *[randn(*shape) for shape in shapes])


def test_shape_layers_under_jit_and_vmap():
    jit_and_vmap([(getattr(nn, name)(*args, **kwargs), tuple(randn(*shape) for shape in shapes), False)
                  for name, args, kwargs, shapes in SHAPE_LAYERS])
    jit_and_vmap([(nn.PixelShuffle(2), (randn(3, 8, 2, 2),), True), (nn.ReflectionPad2d(1), (randn(2, 3, 4, 4),), True),
                  (nn.PairwiseDistance(), (randn(3, 4), randn(3, 4)), True)])

# --- models: names, per-example gradients, shape errors ---------------------------------------------

class _ConvNet:
    """The same small conv net in both frameworks: conv, batch norm, pooling, dropout, linear."""

    @staticmethod
    def build(lib):
        return lib.Sequential(lib.Conv2d(1, 4, 3, padding=1), lib.BatchNorm2d(4), lib.ReLU(), lib.MaxPool2d(2),
                              lib.Conv2d(4, 6, 3), lib.GELU(), lib.AdaptiveAvgPool2d(2), lib.Flatten(),
                              lib.Dropout(0.2), lib.Linear(24, 3))


def test_conv_net_names_outputs_and_per_example_gradients():
    ours, theirs = _ConvNet.build(nn), _ConvNet.build(TNN)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        theirs(torch.randn(16, 1, 8, 8))  # non-trivial running statistics
    ours.load_state_dict(theirs.state_dict())
    ours.eval()
    theirs.eval()
    x, y = randn(5, 1, 8, 8), rng.integers(0, 3, 5)
    close(ours(fnp.asarray(x)), theirs(torch.tensor(x)).detach().numpy(), 1e-4)
    params = nn.params(ours)

    def loss(p, x, y):  # one example
        return nn.functional.cross_entropy(nn.functional_call(ours, p, x[None]), y[None])
    per_example = fd.vmap(fd.grad(loss), in_axes=(None, 0, 0))(params, fnp.asarray(x), fnp.asarray(y))
    for i in range(5):
        theirs.zero_grad()
        TNN.functional.cross_entropy(theirs(torch.tensor(x[i:i + 1])), torch.tensor(y[i:i + 1])).backward()
        for name, p in theirs.named_parameters():
            close(per_example[name][i], p.grad.numpy(), 1e-4, f'example {i} {name}')


def test_jitted_training_step_with_batch_norm_and_dropout():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Dropout(0.2),
                          nn.Linear(144, 3))
    x, y = fnp.asarray(randn(8, 1, 8, 8)), fnp.asarray(rng.integers(0, 3, 8))

    @fd.jit
    def step(params, buffers, key):
        def loss_fn(p):
            out, new = nn.functional_call(model, {**p, **buffers}, x, rng=key, train=True, return_buffers=True)
            return nn.functional.cross_entropy(out, y), new
        (loss, new), grads = fd.value_and_grad(loss_fn, has_aux=True)(params)
        return {k: params[k] - 0.1 * grads[k] for k in params}, new, loss

    params, buffers = nn.params(model), nn.buffers(model)
    losses = []
    for i in range(15):
        params, buffers, loss = step(params, buffers, fd.random.key(i))
        losses.append(float(loss))
    assert losses[-1] < 0.7 * losses[0]
    assert int(buffers['1.num_batches_tracked']) == 15 and int(model[1].num_batches_tracked) == 0


@pytest.mark.parametrize('layer,shape,message', [
    (nn.Conv2d(3, 16, 3), (8, 4, 32, 32),
     r'Conv2d\(3, 16, kernel_size=\(3, 3\)\) expected input of shape \(N, 3, H, W\) or \(3, H, W\), got '
     r'\(8, 4, 32, 32\)'),
    (nn.Conv1d(2, 4, 3), (8, 2), r'Conv1d\(2, 4, kernel_size=\(3,\)\) expected input of shape \(N, 2, L\)'),
    (nn.ConvTranspose2d(4, 2, 3), (1, 3, 5, 5), r'ConvTranspose2d\(4, 2, kernel_size=\(3, 3\)\) expected input'),
    (nn.BatchNorm2d(16), (8, 16, 4), r'BatchNorm2d\(16\) expected input of shape \(N, 16, H, W\), got \(8, 16, 4\)'),
    (nn.BatchNorm1d(5), (8, 4), r'BatchNorm1d\(5\) expected input of shape \(N, 5\) or \(N, 5, L\), got \(8, 4\)'),
    (nn.LayerNorm(64), (8, 63), r'LayerNorm\(\(64,\)\) expected input with trailing dims \(64,\), got \(8, 63\)'),
    (nn.RMSNorm((2, 3)), (4, 3), r'RMSNorm\(\(2, 3\)\) expected input with trailing dims \(2, 3\)'),
    (nn.GroupNorm(2, 6), (4, 4, 3), r'GroupNorm\(2, 6\) expected input of shape \(N, 6, \*\), got \(4, 4, 3\)'),
    (nn.MaxPool2d(2), (8, 8), r'MaxPool2d\(kernel_size=2, .*\) expected input of shape \(N, C, H, W\) or '
                              r'\(C, H, W\), got \(8, 8\)'),
    (nn.AdaptiveAvgPool1d(3), (2, 3, 4, 5), r'AdaptiveAvgPool1d\(output_size=3\) expected input of shape'),
    (nn.GLU(), (4, 5), r'glu: halving dimension must be even'),
])
def test_shape_errors(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(fnp.ones(shape))


def test_constructor_errors():
    with pytest.raises(ValueError, match='must be divisible by groups'):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv1d(3, 6, 3, stride=2, padding='same')
    with pytest.raises(ValueError, match='num_channels \\(5\\) must be divisible by num_groups \\(2\\)'):
        nn.GroupNorm(2, 5)
    with pytest.raises(ValueError, match='padding_mode'):
        nn.Conv2d(3, 6, 3, padding_mode='mirror')
    with pytest.raises(ValueError, match='between 0 and 1'):
        nn.Dropout(2.0)

"""The less common torch.nn pieces against PyTorch 2.x: ParameterList/Dict, unfold/fold, EmbeddingBag, LP pooling,
local response norm, channel shuffle, pdist, affine_grid/grid_sample, the margin and CTC losses, init.dirac_/sparse_
and LazyLinear by value and gradient (float32); the random ones (rrelu, alpha dropout, gumbel_softmax) by their
eval behaviour, statistics and keys; a selection under fd.jit and fd.vmap, and the error messages."""
import math

import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
import fn_dl.nn.functional as F
from fn_dl import nn

from _nn_parity import close, module_parity

torch = pytest.importorskip('torch')
TF, TNN = torch.nn.functional, torch.nn

rng = np.random.default_rng(3)


def randn(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _is_float(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == 'f'


def parity(ours, theirs, *inputs, atol=1e-5, jit=False):
    """ours(*fn_dl arrays) against theirs(*torch tensors): the value and the gradient of sum(out * cotangent)
    with respect to every float input (NumPy arrays; other arguments are passed as they are); with jit=True the
    gradients again through fd.jit."""
    fx = [fnp.asarray(a) if isinstance(a, np.ndarray) else a for a in inputs]
    tx = [torch.tensor(a, requires_grad=_is_float(a)) if isinstance(a, np.ndarray) else a for a in inputs]
    tout = theirs(*tx)
    close(ours(*fx), tout.detach().numpy(), atol, 'value')
    diff = tuple(i for i, a in enumerate(inputs) if _is_float(a))
    if not diff:
        return
    cot = randn(*tout.shape)
    expected = torch.autograd.grad(tout, [tx[i] for i in diff], torch.tensor(cot), allow_unused=True)
    expected = [np.zeros(inputs[i].shape, np.float32) if e is None else e.numpy() for i, e in zip(diff, expected)]

    def loss(*xs):
        args = list(fx)
        for i, x in zip(diff, xs):
            args[i] = x
        return fnp.sum(ours(*args) * cot)
    grads = [fd.grad(loss, argnums=tuple(range(len(diff))))]
    if jit:
        grads.append(fd.jit(grads[0]))
    for g in grads:
        for i, got, e in zip(diff, g(*[fx[i] for i in diff]), expected):
            close(got, e, atol, f'gradient of input {i}')


def vmap_matches_loop(f, *inputs, atol=1e-5):
    fx = [fnp.asarray(a) for a in inputs]
    looped = np.stack([np.asarray(f(*[x[i] for x in fx])) for i in range(fx[0].shape[0])])
    close(fd.vmap(f)(*fx), looped, atol, 'vmap')


# --- ParameterList / ParameterDict -------------------------------------------------------------------

class _Holder(nn.Module):
    """Parameters in a list and a dict beside a layer (PyTorch's values are loaded into them)."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)
        self.plist = nn.ParameterList([fnp.zeros((3, 3)), fnp.zeros(3)])
        self.pdict = nn.ParameterDict({'scale': fnp.zeros(3), 'shift': fnp.zeros(3)})

    def forward(self, x):
        y = self.lin(x) @ self.plist[0] + self.plist[1]
        return y * self.pdict['scale'] + self.pdict['shift']


class _TorchHolder(TNN.Module):
    forward = _Holder.forward

    def __init__(self):
        super().__init__()
        self.lin = TNN.Linear(3, 3)
        self.plist = TNN.ParameterList([TNN.Parameter(torch.randn(3, 3)), TNN.Parameter(torch.randn(3))])
        self.pdict = TNN.ParameterDict({'scale': TNN.Parameter(torch.randn(3)),
                                        'shift': TNN.Parameter(torch.randn(3))})


def test_parameter_list_and_dict_names_params_grads_and_transforms():
    ours, theirs = _Holder(), _TorchHolder()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == [
        'lin.weight', 'lin.bias', 'plist.0', 'plist.1', 'pdict.scale', 'pdict.shift']
    assert sorted(nn.params(ours)) == sorted(n for n, _ in theirs.named_parameters())
    module_parity(ours, theirs, randn(4, 3))              # load_state_dict, outputs and every gradient
    module_parity(ours, theirs, randn(4, 3), jit=True)
    p = nn.params(ours)
    vmap_matches_loop(lambda x: nn.functional_call(ours, p, x), randn(5, 3))
    # the containers are pytree leaves of the module too: fd.grad(loss)(model)
    g = fd.grad(lambda m: fnp.sum(m(fnp.ones((1, 3)))))(ours)
    assert isinstance(g, _Holder) and g.pdict['shift'].tolist() == [1.0, 1.0, 1.0]


def test_parameter_containers_behave_like_torchs():
    plist = nn.ParameterList([fnp.zeros(2)])
    assert isinstance(plist[0], nn.Parameter)                # plain arrays are wrapped, as in PyTorch
    plist.append(fnp.ones(3)).extend([fnp.ones(1)])
    plist[-1] = fnp.full(4, 2.0)
    assert len(plist) == 3 and [p.shape for p in plist] == [(2,), (3,), (4,)] and len(plist[1:]) == 2
    assert repr(plist) == ('ParameterList(\n    (0): Parameter containing: [float32 of size 2]\n'
                           '    (1): Parameter containing: [float32 of size 3]\n'
                           '    (2): Parameter containing: [float32 of size 4]\n)')
    with pytest.raises(IndexError, match='ParameterList: index 3 is out of range for 3 parameters'):
        plist[3]
    pdict = nn.ParameterDict({'a': fnp.zeros(2)})
    pdict['b'] = fnp.ones(2)
    pdict.update({'c': fnp.ones(1)})
    assert list(pdict) == ['a', 'b', 'c'] and 'b' in pdict and pdict.pop('c').shape == (1,)
    assert list(pdict.state_dict()) == ['a', 'b'] and pdict.a.shape == (2,)
    with pytest.raises(KeyError, match="ParameterDict has no parameter 'z'"):
        pdict['z']
    with pytest.raises(KeyError, match='keys must be non-empty strings'):
        pdict['x.y'] = fnp.ones(1)
    pdict.load_state_dict({'a': np.full(2, 5.0, np.float32), 'b': np.zeros(2, np.float32)})
    assert pdict['a'].tolist() == [5.0, 5.0] and isinstance(pdict['a'], nn.Parameter)
    pdict['a'].requires_grad = False                        # frozen parameters leave nn.params, as elsewhere
    assert list(nn.params(pdict)) == ['b']


# --- unfold / fold -------------------------------------------------------------------------------------

FOLD_CASES = [dict(kernel_size=2), dict(kernel_size=(3, 2), dilation=(2, 1), padding=1, stride=(2, 1)),
              dict(kernel_size=3, padding=(0, 2), stride=2)]


@pytest.mark.parametrize('kwargs', FOLD_CASES)
def test_unfold_and_fold(kwargs):
    x = randn(2, 3, 7, 6)
    parity(lambda x: F.unfold(x, **kwargs), lambda x: TF.unfold(x, **kwargs), x)
    parity(lambda x: F.unfold(x, **kwargs), lambda x: TF.unfold(x, **kwargs), x[0])   # unbatched
    cols = randn(*TF.unfold(torch.tensor(x), **kwargs).shape)
    parity(lambda c: F.fold(c, (7, 6), **kwargs), lambda c: TF.fold(c, (7, 6), **kwargs), cols)
    parity(lambda c: F.fold(c, (7, 6), **kwargs), lambda c: TF.fold(c, (7, 6), **kwargs), cols[1])


def test_unfold_fold_layers_jit_vmap_and_errors():
    assert repr(nn.Unfold(3)) == repr(TNN.Unfold(3))
    assert repr(nn.Fold((4, 5), 2, padding=1)) == repr(TNN.Fold((4, 5), 2, padding=1))
    x, cols = randn(2, 3, 5, 6), randn(2, 12, 12)
    parity(nn.Unfold((2, 3), stride=(1, 2)), TNN.Unfold((2, 3), stride=(1, 2)), x, jit=True)
    parity(nn.Fold((4, 5), 2), TNN.Fold((4, 5), 2), cols, jit=True)
    vmap_matches_loop(lambda x: F.unfold(x, 2, padding=1), x)
    vmap_matches_loop(lambda c: F.fold(c, (4, 5), 2), cols)
    with pytest.raises(ValueError, match=r'unfold: expected a 3-d \(C, H, W\) or 4-d \(N, C, H, W\) input, got '
                                         r'\(5, 6\)'):
        F.unfold(fnp.ones((5, 6)), 2)
    with pytest.raises(ValueError, match=r'fold: expected size of input.s dimension 1 \(10\) to be divisible by '
                                         r'the product of kernel_size \(2, 2\) \(4\)'):
        F.fold(fnp.ones((1, 10, 20)), (4, 5), 2)
    with pytest.raises(ValueError, match='give 4 x 5 = 20 blocks, but input .* has 19'):
        F.fold(fnp.ones((1, 12, 19)), (5, 6), 2)
    with pytest.raises(ValueError, match='too small for kernel_size'):
        F.unfold(fnp.ones((1, 1, 2, 2)), 3)


# --- EmbeddingBag ------------------------------------------------------------------------------------

W_BAG = randn(10, 4)
IDX_1D, OFFSETS = rng.integers(0, 10, 12), np.asarray([0, 3, 3, 7])
IDX_2D = rng.integers(0, 10, (3, 4))
PSW = randn(12)

BAG_CASES = [dict(mode='sum'), dict(mode='mean'), dict(mode='max'), dict(mode='sum', padding_idx=int(IDX_1D[0])),
             dict(mode='mean', padding_idx=int(IDX_1D[1])), dict(mode='max', padding_idx=int(IDX_1D[4])),
             dict(mode='sum', per_sample_weights=PSW), dict(mode='sum', max_norm=1.0)]


@pytest.mark.parametrize('kwargs', BAG_CASES, ids=str)
def test_embedding_bag_functional(kwargs):
    kw = {k: v for k, v in kwargs.items() if k != 'per_sample_weights'}
    psw = kwargs.get('per_sample_weights')
    for idx, offsets, extra in ((IDX_1D, OFFSETS, {}), (IDX_1D, np.append(OFFSETS, 12), dict(include_last_offset=True)),
                                (IDX_2D, None, {})):
        inputs = (W_BAG,) if psw is None else (W_BAG, psw.reshape(idx.shape))

        def ours(w, *psw):
            return F.embedding_bag(fnp.asarray(idx), w, None if offsets is None else fnp.asarray(offsets), **kw,
                                   **extra, per_sample_weights=psw[0] if psw else None)

        def theirs(w, *psw):
            return TF.embedding_bag(torch.tensor(idx), w, None if offsets is None else torch.tensor(offsets), **kw,
                                    **extra, per_sample_weights=psw[0] if psw else None)
        parity(ours, theirs, *inputs)


def test_embedding_bag_layer_traced_offsets_vmap_and_errors():
    ours, theirs = nn.EmbeddingBag(10, 4, mode='max', padding_idx=2), TNN.EmbeddingBag(10, 4, mode='max',
                                                                                          padding_idx=2)
    assert repr(ours) == repr(theirs) and repr(nn.EmbeddingBag(10, 3)) == repr(TNN.EmbeddingBag(10, 3))
    assert ours.weight[2].tolist() == [0.0] * 4                # the padding row starts at zero, as in PyTorch
    module_parity(ours, theirs, IDX_1D, OFFSETS)
    module_parity(nn.EmbeddingBag(10, 4, mode='sum'), TNN.EmbeddingBag(10, 4, mode='sum'), IDX_1D, OFFSETS,
                  per_sample_weights=PSW)
    # eagerly, max_norm rescales the stored rows, as PyTorch's in-place renorm
    ours, theirs = nn.EmbeddingBag(10, 4, max_norm=0.5), TNN.EmbeddingBag(10, 4, max_norm=0.5)
    ours.load_state_dict(theirs.state_dict())
    close(ours(fnp.asarray(IDX_2D)), theirs(torch.tensor(IDX_2D)).detach().numpy())
    close(ours.weight, theirs.weight.detach().numpy())
    # the offsets may be traced: one jitted program for every bag layout of the same sizes
    bag = fd.jit(lambda w, o: F.embedding_bag(fnp.asarray(IDX_1D), w, o, mode='mean'))
    for offsets in (OFFSETS, np.asarray([0, 1, 2, 11])):
        close(bag(fnp.asarray(W_BAG), fnp.asarray(offsets)),
              TF.embedding_bag(torch.tensor(IDX_1D), torch.tensor(W_BAG), torch.tensor(offsets)).numpy())
    vmap_matches_loop(lambda i: F.embedding_bag(i[None], fnp.asarray(W_BAG), mode='max')[0], IDX_2D)
    pre = nn.EmbeddingBag.from_pretrained(fnp.asarray(W_BAG), mode='sum')
    assert nn.params(pre) == {} and pre.mode == 'sum'
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum' "
                                                  r"\(got mode='mean'\)"):
        F.embedding_bag(fnp.asarray(IDX_2D), fnp.asarray(W_BAG), per_sample_weights=fnp.ones((3, 4)))
    with pytest.raises(ValueError, match='offsets\\[0\\] has to be 0'):
        F.embedding_bag(fnp.asarray(IDX_1D), fnp.asarray(W_BAG), fnp.asarray([1, 3]))
    with pytest.raises(ValueError, match='offsets has to be a 1-d array for a 1-d input, got None'):
        F.embedding_bag(fnp.asarray(IDX_1D), fnp.asarray(W_BAG))
    with pytest.raises(ValueError, match='if input is 2-d, then offsets has to be None'):
        F.embedding_bag(fnp.asarray(IDX_2D), fnp.asarray(W_BAG), fnp.asarray([0]))
    with pytest.raises(ValueError, match='must equal the input.s length 12, got 7'):
        F.embedding_bag(fnp.asarray(IDX_1D), fnp.asarray(W_BAG), fnp.asarray(OFFSETS), include_last_offset=True)
    with pytest.raises(TypeError, match=r"EmbeddingBag\(10, 4, mode='sum'\) expected integer indices"):
        nn.EmbeddingBag(10, 4, mode='sum')(fnp.ones(3), fnp.asarray([0]))


# --- pooling, normalisation and shuffles across channels, pdist --------------------------------------

POOL_CASES = [
    ('LPPool1d', (2, 3), {}, (2, 3, 9)), ('LPPool1d', (1.5, 2), dict(stride=1, ceil_mode=True), (3, 8)),
    ('LPPool2d', (2, 3), dict(stride=2), (2, 3, 7, 8)), ('LPPool2d', (3.0, (2, 3)), dict(ceil_mode=True), (2, 2, 5, 7)),
    ('LPPool3d', (2, 2), {}, (1, 2, 4, 4, 5)),
]


@pytest.mark.parametrize('name,args,kwargs,shape', POOL_CASES)
def test_lp_pool(name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(TNN, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = np.abs(randn(*shape)) + 0.1  # positive: a fractional power of a negative average is NaN in both
    parity(ours, theirs, x)


@pytest.mark.parametrize('size,shape', [(3, (2, 5, 6)), (2, (2, 6, 3, 4)), (4, (1, 5, 2, 3, 2))])
def test_local_response_norm(size, shape):
    ours, theirs = nn.LocalResponseNorm(size, 0.3, 0.6, 1.5), TNN.LocalResponseNorm(size, 0.3, 0.6, 1.5)
    assert repr(ours) == repr(theirs)
    parity(ours, theirs, randn(*shape))


def test_channel_shuffle_pdist_and_their_errors():
    assert repr(nn.ChannelShuffle(3)) == repr(TNN.ChannelShuffle(3))
    parity(nn.ChannelShuffle(3), TNN.ChannelShuffle(3), randn(2, 6, 3, 2))
    parity(lambda x: F.channel_shuffle(x, 2), lambda x: TF.channel_shuffle(x, 2), randn(2, 4, 5))
    x = randn(6, 4)
    x[3] = x[1]                                              # a zero distance: gradient 0, as PyTorch's
    for p in (2, 1, 3.5, math.inf):
        parity(lambda x: F.pdist(x, p), lambda x: TF.pdist(x, p), x)
    with pytest.raises(ValueError, match=r'channel_shuffle: number of channels must be divisible by groups. Got '
                                         r'5 channels and 2 groups'):
        F.channel_shuffle(fnp.ones((1, 5, 2)), 2)
    with pytest.raises(ValueError, match=r'pdist: expected a 2-d input \(N, M\), got \(2, 3, 4\)'):
        F.pdist(fnp.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r'local_response_norm: expected a 3-d or higher input'):
        F.local_response_norm(fnp.ones((2, 3)), 2)


def test_pools_and_norms_under_jit_and_vmap():
    x = np.abs(randn(4, 3, 6, 6)) + 0.1
    for f in (lambda x: F.lp_pool2d(x, 2.0, 2), lambda x: F.local_response_norm(x[None], 3)[0],
              lambda x: F.channel_shuffle(x[None], 3)[0]):
        vmap_matches_loop(f, x)
        close(fd.jit(f)(fnp.asarray(x[0])), f(fnp.asarray(x[0])))
    vmap_matches_loop(F.pdist, randn(3, 5, 2))
    parity(nn.LPPool2d(2, 2), TNN.LPPool2d(2, 2), x, jit=True)


# --- random layers -------------------------------------------------------------------------------------

def test_rrelu_eval_matches_torch_and_train_draws_slopes_by_key():
    x = randn(6, 50)
    ours, theirs = nn.RReLU(0.1, 0.4), TNN.RReLU(0.1, 0.4)
    assert repr(ours) == repr(theirs) and repr(nn.RReLU()) == repr(TNN.RReLU())
    parity(ours.eval(), theirs.eval(), x)
    parity(lambda x: F.rrelu(x, 0.2, 0.3), lambda x: TF.rrelu(x, 0.2, 0.3), x)   # functional default: eval
    key = fd.random.key(0)
    y = nn.functional_call(ours.train(), {}, fnp.asarray(x), rng=key)
    slopes = np.asarray(y)[x < 0] / x[x < 0]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.4 and len(np.unique(slopes.round(6))) > 100
    assert abs(slopes.mean() - 0.25) < 0.02 and np.array_equal(np.asarray(y)[x > 0], x[x > 0])
    close(nn.functional_call(ours, {}, fnp.asarray(x), rng=key), y)                        # same key, same slopes
    close(fd.jit(lambda x, k: nn.functional_call(ours, {}, x, rng=k))(fnp.asarray(x), key), y)
    # the gradient is the drawn slope, as PyTorch's noise
    g = fd.grad(lambda x: fnp.sum(F.rrelu(x, 0.1, 0.4, True, key=key)))(fnp.asarray(x))
    close(g, np.asarray(F.rrelu(fnp.asarray(x), 0.1, 0.4, True, key=key)) / x)
    keys = fd.random.split(key, 6)
    batched = fd.vmap(lambda x, k: F.rrelu(x, training=True, key=k))(fnp.asarray(x), keys)
    close(batched[2], F.rrelu(fnp.asarray(x[2]), training=True, key=keys[2]))
    with pytest.raises(ValueError, match='lower bound 0.5 should be less than or equal to the upper bound 0.2'):
        F.rrelu(fnp.ones(2), 0.5, 0.2, True)


@pytest.mark.parametrize('name,shape', [('AlphaDropout', (100, 400)), ('FeatureAlphaDropout', (50, 800, 2))])
def test_alpha_dropout(name, shape):
    ours, theirs = getattr(nn, name)(0.2), getattr(TNN, name)(0.2)
    assert repr(ours) == repr(theirs)
    x = randn(*shape)
    close(ours.eval()(fnp.asarray(x)), theirs.eval()(torch.tensor(x)).numpy())
    ours.train()
    key = fd.random.key(5)
    y = np.asarray(nn.functional_call(ours, {}, fnp.asarray(x), rng=key))
    t = theirs.train()(torch.tensor(x)).numpy()
    # the value a dropped unit takes, and the affine map of the kept ones, are PyTorch's
    p, alpha = 0.2, 1.7580993408473766
    a = 1 / math.sqrt((alpha ** 2 * p + 1) * (1 - p))
    for out in (y, t):
        kept = np.isclose(out, a * x + alpha * a * p, atol=1e-5)
        dropped = np.isclose(out, -alpha * a + alpha * a * p, atol=1e-5)
        assert np.all(kept | dropped) and abs(dropped.mean() - p) < 0.02
        assert abs(out.mean()) < 0.03 and abs(out.std() - 1) < 0.03      # self-normalising
        if name == 'FeatureAlphaDropout':                 # whole channels: one draw per (N, C)
            assert np.all(dropped.all(-1) | ~dropped.any(-1))
    close(nn.functional_call(ours, {}, fnp.asarray(x), rng=key), y)
    fn = F.alpha_dropout if name == 'AlphaDropout' else F.feature_alpha_dropout
    np.testing.assert_array_equal(np.asarray(fn(fnp.asarray(x), 0.2)), x)   # the functional default: eval
    keys = fd.random.split(key, 4)
    batched = fd.vmap(lambda x, k: fn(x[None], 0.2, True, key=k)[0])(fnp.asarray(x[:4]), keys)
    close(batched[1], fn(fnp.asarray(x[1:2]), 0.2, True, key=keys[1])[0])


def test_gumbel_softmax_samples_keys_and_straight_through_gradient():
    logits = fnp.asarray(np.log(np.asarray([0.1, 0.2, 0.3, 0.4], np.float32)))
    key = fd.random.key(0)
    keys = fd.random.split(key, 4000)
    hard = fd.vmap(lambda k: F.gumbel_softmax(logits, hard=True, key=k))(keys)
    assert set(np.unique(np.asarray(hard)).tolist()) == {0.0, 1.0} and np.all(np.asarray(hard).sum(-1) == 1)
    close(np.asarray(hard).mean(0), [0.1, 0.2, 0.3, 0.4], atol=0.03)          # argmax ~ Categorical(softmax)
    soft = F.gumbel_softmax(logits, tau=0.5, key=key)
    close(soft.sum(), 1.0)
    close(F.gumbel_softmax(logits, tau=0.5, key=key), soft)                  # same key, same sample
    close(fd.jit(lambda l, k: F.gumbel_softmax(l, tau=0.5, key=k))(logits, key), soft)
    # hard samples are differentiated as the soft sample with the same noise (straight-through)
    cot = fnp.asarray(randn(3, 4))
    x = fnp.asarray(randn(3, 4))
    g_hard = fd.grad(lambda x: fnp.sum(F.gumbel_softmax(x, 0.7, True, dim=0, key=key) * cot))(x)
    g_soft = fd.grad(lambda x: fnp.sum(F.gumbel_softmax(x, 0.7, False, dim=0, key=key) * cot))(x)
    close(g_hard, g_soft)
    assert np.all(np.asarray(F.gumbel_softmax(x, hard=True, dim=0, key=key)).sum(0) == 1)
    with pytest.raises(ValueError, match='gumbel_softmax needs randomness inside a transform'):
        fd.jit(lambda l: F.gumbel_softmax(l))(logits)


# --- spatial transformers ----------------------------------------------------------------------------

@pytest.mark.filterwarnings('ignore:Since version 1.3.0')   # PyTorch's, on the unit-size grid
@pytest.mark.parametrize('align_corners', [True, False])
def test_affine_grid(align_corners):
    for theta, size in ((randn(2, 2, 3), (2, 3, 5, 4)), (randn(2, 2, 3), (2, 1, 1, 3)),
                        (randn(1, 3, 4), (1, 2, 3, 4, 2))):
        parity(lambda t: F.affine_grid(t, size, align_corners), lambda t: TF.affine_grid(t, size, align_corners),
               theta)


@pytest.mark.parametrize('mode', ['bilinear', 'nearest'])
@pytest.mark.parametrize('padding_mode', ['zeros', 'border', 'reflection'])
@pytest.mark.parametrize('align_corners', [True, False])
def test_grid_sample(mode, padding_mode, align_corners):
    x, grid = randn(2, 3, 5, 6), randn(2, 4, 3, 2, scale=0.8)
    grid[0, 0, :, 0] = [-1.0, 1.0, 2.7]     # the borders, and a point reflected more than once
    parity(lambda x, g: F.grid_sample(x, g, mode, padding_mode, align_corners),
           lambda x, g: TF.grid_sample(x, g, mode, padding_mode, align_corners), x, grid, atol=2e-5)


def test_spatial_transformer_under_jit_vmap_and_errors():
    x, theta = randn(3, 2, 6, 5), randn(3, 2, 3, scale=0.5)

    def warp(x, theta):
        return F.grid_sample(x, F.affine_grid(theta, x.shape, False), align_corners=False)
    parity(warp, lambda x, t: TF.grid_sample(x, TF.affine_grid(t, x.shape, False), align_corners=False), x, theta,
           jit=True)
    vmap_matches_loop(lambda x, t: warp(x[None], t[None])[0], x, theta)
    with pytest.warns(UserWarning, match='align_corners=None means False'):
        F.affine_grid(fnp.asarray(theta), (3, 2, 4, 4))
    with pytest.raises(ValueError, match=r'affine_grid: expected a batch of 2-d affine matrices of shape \(3, 2, 3\) '
                                         r'for size \(3, 1, 4, 4\), got \(3, 3, 4\)'):
        F.affine_grid(fnp.ones((3, 3, 4)), (3, 1, 4, 4), False)
    with pytest.raises(ValueError, match="grid_sample: mode must be 'bilinear' or 'nearest', got 'bicubic'"):
        F.grid_sample(fnp.asarray(x), fnp.zeros((3, 2, 2, 2)), 'bicubic', align_corners=False)
    with pytest.raises(ValueError, match=r'grid_sample: expected a 4-d input \(N, C, H, W\) and grid'):
        F.grid_sample(fnp.asarray(x), fnp.zeros((2, 2, 2, 2)), align_corners=False)


# --- losses -----------------------------------------------------------------------------------------

SCORES, CLASSES = randn(6, 5), rng.integers(0, 5, 6)
W5 = np.abs(randn(5)) + 0.1
MULTILABEL = np.asarray([[3, 0, -1, 1, 2], [1, 1, 4, -1, -1], [-1, 2, 3, 0, 0], [0, 1, 2, 3, 4],
                         [4, -1, 2, 2, 2], [2, 3, -1, -1, -1]])


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_margin_losses(reduction):
    for kwargs in (dict(), dict(p=2, margin=0.7), dict(margin=1.5)):
        parity(lambda x: F.multi_margin_loss(x, fnp.asarray(CLASSES), reduction=reduction, **kwargs),
               lambda x: TF.multi_margin_loss(x, torch.tensor(CLASSES), reduction=reduction, **kwargs), SCORES)
    parity(lambda x: F.multi_margin_loss(x, fnp.asarray(CLASSES), weight=fnp.asarray(W5), reduction=reduction),
           lambda x: TF.multi_margin_loss(x, torch.tensor(CLASSES), weight=torch.tensor(W5), reduction=reduction),
           SCORES)
    parity(lambda x: F.multi_margin_loss(x, fnp.asarray(2), reduction=reduction),
           lambda x: TF.multi_margin_loss(x, torch.tensor(2), reduction=reduction), SCORES[0])   # unbatched
    parity(lambda x: F.multilabel_margin_loss(x, fnp.asarray(MULTILABEL), reduction=reduction),
           lambda x: TF.multilabel_margin_loss(x, torch.tensor(MULTILABEL), reduction=reduction), SCORES)
    parity(lambda x: F.multilabel_margin_loss(x, fnp.asarray(MULTILABEL[0]), reduction=reduction),
           lambda x: TF.multilabel_margin_loss(x, torch.tensor(MULTILABEL[0]), reduction=reduction), SCORES[0])
    a, p, n = randn(6, 4), randn(6, 4), randn(6, 4)
    for kwargs in (dict(), dict(swap=True, margin=2.0)):
        parity(lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, reduction=reduction, **kwargs),
               lambda a, p, n: TF.triplet_margin_with_distance_loss(a, p, n, reduction=reduction, **kwargs), a, p, n)
    parity(lambda a, p, n: F.triplet_margin_with_distance_loss(
               a, p, n, distance_function=lambda x, y: 1 - F.cosine_similarity(x, y), reduction=reduction, swap=True),
           lambda a, p, n: TF.triplet_margin_with_distance_loss(
               a, p, n, distance_function=lambda x, y: 1 - TF.cosine_similarity(x, y), reduction=reduction,
               swap=True), a, p, n)


def test_margin_loss_layers_jit_vmap_and_errors():
    for ours, theirs in ((nn.MultiMarginLoss(), TNN.MultiMarginLoss()), (nn.MultiLabelMarginLoss(),
                                                                       TNN.MultiLabelMarginLoss())):
        assert repr(ours) == repr(theirs)
    ours, theirs = nn.MultiMarginLoss(p=2, weight=fnp.asarray(W5)), TNN.MultiMarginLoss(p=2, weight=torch.tensor(W5))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ['weight']
    parity(lambda x: ours(x, fnp.asarray(CLASSES)), lambda x: theirs(x, torch.tensor(CLASSES)), SCORES, jit=True)
    parity(lambda x: nn.MultiLabelMarginLoss()(x, fnp.asarray(MULTILABEL)),
           lambda x: TNN.MultiLabelMarginLoss()(x, torch.tensor(MULTILABEL)), SCORES, jit=True)
    # a distance that is a module is a submodule, trained with the loss, as in PyTorch
    ours = nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(p=1), margin=0.5)
    theirs = TNN.TripletMarginWithDistanceLoss(distance_function=TNN.PairwiseDistance(p=1), margin=0.5)
    assert repr(ours) == repr(theirs) and repr(nn.TripletMarginWithDistanceLoss()) == repr(
        TNN.TripletMarginWithDistanceLoss())
    parity(ours, theirs, randn(5, 3), randn(5, 3), randn(5, 3), jit=True)
    vmap_matches_loop(lambda x, t: F.multi_margin_loss(x, t), SCORES, CLASSES)
    vmap_matches_loop(lambda x, t: F.multilabel_margin_loss(x, t), SCORES, MULTILABEL)
    with pytest.raises(ValueError, match='multi_margin_loss: only p == 1 and p == 2 supported, got 3'):
        F.multi_margin_loss(fnp.asarray(SCORES), fnp.asarray(CLASSES), p=3)
    with pytest.raises(ValueError, match=r'multi_margin_loss: inconsistent target size: expected \(6,\) for input '
                                         r'\(6, 5\), got \(5,\)'):
        F.multi_margin_loss(fnp.asarray(SCORES), fnp.asarray(CLASSES[:5]))
    with pytest.raises(IndexError, match=r'multilabel_margin_loss: targets must lie in \[-1, 5\)'):
        F.multilabel_margin_loss(fnp.asarray(SCORES), fnp.asarray(MULTILABEL + 1))
    with pytest.raises(ValueError, match='TripletMarginWithDistanceLoss: expected margin to be greater than 0, '
                                         'got 0 instead'):
        nn.TripletMarginWithDistanceLoss(margin=0)


T, N, C = 12, 4, 5
CTC_LOGITS = randn(T, N, C)
CTC_TARGETS = rng.integers(1, C, (N, 4))
CTC_TARGETS[1, 1] = CTC_TARGETS[1, 0]                         # a repeated label needs a blank between
CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS = np.asarray([12, 10, 7, 3]), np.asarray([4, 3, 0, 2])


def _ctc_pair(reduction='mean', zero_infinity=False, blank=0, concatenated=False):
    """ctc_loss of log_softmax(logits): ours and PyTorch's, as functions of the logits (see _ctc.py for why the
    gradients are compared there)."""
    targets = np.concatenate([t[:n] for t, n in zip(CTC_TARGETS, CTC_TARGET_LENGTHS)]) if concatenated else \
        CTC_TARGETS
    targets = np.where(targets == blank, 0, targets) if blank else targets

    def ours(x):
        return F.ctc_loss(F.log_softmax(x, -1), fnp.asarray(targets), fnp.asarray(CTC_INPUT_LENGTHS),
                          fnp.asarray(CTC_TARGET_LENGTHS), blank, reduction, zero_infinity)

    def theirs(x):
        return TF.ctc_loss(TF.log_softmax(x, -1), torch.tensor(targets), torch.tensor(CTC_INPUT_LENGTHS),
                           torch.tensor(CTC_TARGET_LENGTHS), blank, reduction, zero_infinity)
    return ours, theirs


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
@pytest.mark.parametrize('concatenated', [False, True])
def test_ctc_loss(reduction, concatenated):
    parity(*_ctc_pair(reduction, concatenated=concatenated), CTC_LOGITS, atol=2e-5)
    parity(*_ctc_pair(reduction, blank=C - 1, concatenated=concatenated), CTC_LOGITS, atol=2e-5)


def test_ctc_loss_impossible_alignments_zero_infinity_unbatched_jit_and_vmap():
    # 3 steps cannot emit the labels 1, 1 and 2 (the repeat needs a blank): an infinite loss, or 0 with no gradient
    targets, il, tl = np.asarray([[1, 1, 2], [1, 2, 3]]), np.asarray([3, 3]), np.asarray([3, 3])
    logits = randn(3, 2, 5)
    for zero_infinity in (False, True):
        ours = F.ctc_loss(F.log_softmax(fnp.asarray(logits), -1), fnp.asarray(targets), fnp.asarray(il),
                          fnp.asarray(tl), reduction='none', zero_infinity=zero_infinity)
        theirs = TF.ctc_loss(TF.log_softmax(torch.tensor(logits), -1), torch.tensor(targets), torch.tensor(il),
                             torch.tensor(tl), reduction='none', zero_infinity=zero_infinity)
        close(ours, theirs.numpy())
    assert np.isinf(np.asarray(ours)).sum() == 0 and float(ours[0]) == 0.0
    parity(lambda x: F.ctc_loss(F.log_softmax(x, -1), fnp.asarray(targets), fnp.asarray(il), fnp.asarray(tl),
                                zero_infinity=True),
           lambda x: TF.ctc_loss(TF.log_softmax(x, -1), torch.tensor(targets), torch.tensor(il), torch.tensor(tl),
                                 zero_infinity=True), logits)
    ours, theirs = nn.CTCLoss(blank=0, reduction='sum', zero_infinity=True), TNN.CTCLoss(0, 'sum', True)
    assert repr(ours) == repr(nn.CTCLoss()) == 'CTCLoss()'
    # unbatched (T, C), lengths as scalars
    parity(lambda x: ours(F.log_softmax(x, -1), fnp.asarray(CTC_TARGETS[0]), 12, 4),
           lambda x: theirs(TF.log_softmax(x, -1), torch.tensor(CTC_TARGETS[0]), torch.tensor(12), torch.tensor(4)),
           CTC_LOGITS[:, 0])
    # under jit the lengths may be traced; under vmap each example is an unbatched call
    ours_fn, theirs_fn = _ctc_pair('none')
    parity(ours_fn, theirs_fn, CTC_LOGITS, jit=True, atol=2e-5)
    loss = fd.jit(lambda x, t, il, tl: F.ctc_loss(F.log_softmax(x, -1), t, il, tl, reduction='none'))
    close(loss(fnp.asarray(CTC_LOGITS), fnp.asarray(CTC_TARGETS), fnp.asarray(CTC_INPUT_LENGTHS),
               fnp.asarray(CTC_TARGET_LENGTHS)), theirs_fn(torch.tensor(CTC_LOGITS)).numpy(), 2e-5)
    per_example = fd.vmap(lambda x, t, il, tl: F.ctc_loss(F.log_softmax(x, -1), t, il, tl, reduction='sum'),
                          in_axes=(1, 0, 0, 0))
    close(per_example(fnp.asarray(CTC_LOGITS), fnp.asarray(CTC_TARGETS), fnp.asarray(CTC_INPUT_LENGTHS),
                      fnp.asarray(CTC_TARGET_LENGTHS)), theirs_fn(torch.tensor(CTC_LOGITS)).numpy(), 2e-5)
    with pytest.raises(ValueError, match=r'ctc_loss: expected input_lengths to lie in \[0, 12\]'):
        F.ctc_loss(fnp.asarray(CTC_LOGITS), fnp.asarray(CTC_TARGETS), fnp.asarray([13, 1, 1, 1]),
                   fnp.asarray(CTC_TARGET_LENGTHS))
    with pytest.raises(ValueError, match=r'ctc_loss: blank must be in label range \[0, 5\), got 5'):
        F.ctc_loss(fnp.asarray(CTC_LOGITS), fnp.asarray(CTC_TARGETS), fnp.asarray(CTC_INPUT_LENGTHS),
                   fnp.asarray(CTC_TARGET_LENGTHS), blank=5)
    with pytest.raises(ValueError, match='1-d targets hold 3 labels, but target_lengths sum to 9'):
        F.ctc_loss(fnp.asarray(CTC_LOGITS), fnp.asarray([1, 2, 3]), fnp.asarray(CTC_INPUT_LENGTHS),
                   fnp.asarray(CTC_TARGET_LENGTHS))


# --- init -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('shape,groups', [((4, 2, 3), 1), ((6, 4, 3, 3), 2), ((4, 6, 3, 3, 1), 2), ((6, 2, 3, 3), 3)])
def test_init_dirac(shape, groups):
    expected = torch.empty(shape)
    TNN.init.dirac_(expected, groups)
    p = nn.Parameter(fnp.ones(shape))
    assert nn.init.dirac_(p, groups) is p
    np.testing.assert_array_equal(np.asarray(p), expected.numpy())
    # a dirac-initialised convolution passes its input through (the first channels of each group)
    conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
    nn.init.dirac_(conv.weight)
    x = fnp.asarray(randn(1, 4, 5, 5))
    close(conv(x), x)


def test_init_dirac_and_sparse_errors_and_sparse_statistics():
    with pytest.raises(ValueError, match='dirac_: only parameters with 3, 4, or 5 dimensions are supported'):
        nn.init.dirac_(nn.Parameter(fnp.ones((2, 2))))
    with pytest.raises(ValueError, match=r'dirac_: dim 0 \(5\) must be divisible by groups \(2\)'):
        nn.init.dirac_(nn.Parameter(fnp.ones((5, 2, 3))), 2)
    with pytest.raises(ValueError, match='sparse_: only 2-d parameters are supported'):
        nn.init.sparse_(nn.Parameter(fnp.ones((2, 2, 2))), 0.1)
    p = nn.Parameter(fnp.ones((200, 30)))
    nn.init.sparse_(p, 0.25, std=0.5, key=fd.random.key(3))
    w, expected = np.asarray(p), torch.empty(200, 30)
    TNN.init.sparse_(expected, 0.25, std=0.5)
    # the same number of zeros per column as PyTorch (ceil(sparsity * rows)) at different rows per column
    np.testing.assert_array_equal((w == 0).sum(0), (expected.numpy() == 0).sum(0))
    assert len({tuple(np.flatnonzero(w[:, j] == 0)) for j in range(30)}) == 30
    assert abs(w[w != 0].std() - 0.5) < 0.03
    same = nn.init.sparse(fd.random.key(3), (200, 30), 0.25, std=0.5)
    np.testing.assert_array_equal(np.asarray(same), w)   # the functional form, with the same key


# --- LazyLinear -------------------------------------------------------------------------------------

def test_lazy_linear():
    model = nn.Sequential(nn.LazyLinear(4), nn.Tanh(), nn.LazyLinear(2, bias=False))
    assert repr(model[0]) == repr(TNN.LazyLinear(4))
    for ask in (lambda: nn.params(model), model.state_dict, lambda: nn.functional_call(model, {}, fnp.ones((1, 3))),
                lambda: fd.grad(lambda m: fnp.sum(m(fnp.ones((1, 3)))))(model)):
        with pytest.raises(RuntimeError, match=r'LazyLinear\(in_features=0, out_features=4, bias=True\) has no '
                                               r'parameters yet: .*Call it once eagerly'):
            ask()
    with pytest.raises(RuntimeError, match='the first call, which creates the parameters, must be eager'):
        fd.jit(model)(fnp.ones((1, 3)))
    model.eval()
    x = randn(5, 3)
    model(fnp.asarray(x))                                      # the first, eager call creates the parameters
    assert type(model[0]) is nn.Linear and not model[0].training and model[0].in_features == 3
    assert list(model.state_dict()) == ['0.weight', '0.bias', '2.weight']
    assert model[2].weight.shape == (2, 4)
    theirs = TNN.Sequential(TNN.Linear(3, 4), TNN.Tanh(), TNN.Linear(4, 2, bias=False))
    module_parity(model, theirs, x, jit=True)

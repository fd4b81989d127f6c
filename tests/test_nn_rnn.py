"""RNN, LSTM, GRU and their cells against PyTorch 2.x: state_dict keys, outputs, final states and gradients
(inputs, initial states, parameters), eagerly, once under fd.jit and once under fd.vmap; init, dropout between
layers and the error messages."""
import math
import warnings

import numpy as np
import pytest

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl import nn
from _nn_parity import close, copy_weights, module_parity, randn

torch = pytest.importorskip('torch')
pytestmark = pytest.mark.filterwarnings('ignore:LSTM with projections is not supported with oneDNN')

L, N, H_IN, H = 5, 3, 4, 6


def both(name, *args, **kwargs):
    """The fn_dl and the torch layer of the same name and arguments."""
    return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


def states(name, kwargs, batched=True):
    """Random initial state(s) of the right shape for an RNN/GRU (h0) or an LSTM ((h0, c0))."""
    layers = kwargs.get('num_layers', 1) * (2 if kwargs.get('bidirectional') else 1)
    batch = (N,) if batched else ()
    h0 = randn(layers, *batch, kwargs.get('proj_size') or H)
    return (h0, randn(layers, *batch, H)) if name == 'LSTM' else h0


CASES = [
    ('RNN', {}),
    ('RNN', {'nonlinearity': 'relu', 'num_layers': 2}),
    ('RNN', {'num_layers': 2, 'bidirectional': True, 'batch_first': True}),
    ('LSTM', {}),
    ('LSTM', {'num_layers': 3, 'bidirectional': True, 'batch_first': True}),
    ('LSTM', {'proj_size': 3, 'num_layers': 2, 'bidirectional': True}),
    ('LSTM', {'bias': False, 'num_layers': 2}),
    ('GRU', {}),
    ('GRU', {'num_layers': 2, 'bidirectional': True}),
    ('GRU', {'num_layers': 2, 'batch_first': True, 'bias': False}),
]


@pytest.mark.parametrize('name,kwargs', CASES, ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}"
                                                    for n, kw in CASES])
@pytest.mark.parametrize('with_state', [False, True])
def test_parity(name, kwargs, with_state):
    ours, theirs = both(name, H_IN, H, **kwargs)
    x = randn(N, L, H_IN) if kwargs.get('batch_first') else randn(L, N, H_IN)
    if with_state:
        module_parity(ours, theirs, x, states(name, kwargs))
    else:
        module_parity(ours, theirs, x)


@pytest.mark.parametrize('name,kwargs', [('RNN', {'num_layers': 2}), ('LSTM', {}),
                                         ('GRU', {'bidirectional': True})])
def test_unbatched_input(name, kwargs):
    ours, theirs = both(name, H_IN, H, **kwargs)
    module_parity(ours, theirs, randn(L, H_IN), states(name, kwargs, batched=False))


@pytest.mark.parametrize('name', ['RNNCell', 'LSTMCell', 'GRUCell'])
@pytest.mark.parametrize('batched', [True, False])
def test_cells(name, batched):
    ours, theirs = both(name, H_IN, H)
    batch = (N,) if batched else ()
    x = randn(*batch, H_IN)
    module_parity(ours, theirs, x)
    state = (randn(*batch, H), randn(*batch, H)) if name == 'LSTMCell' else randn(*batch, H)
    module_parity(ours, theirs, x, state)


def test_relu_cell_and_no_bias():
    module_parity(*both('RNNCell', H_IN, H, nonlinearity='relu'), randn(N, H_IN))
    ours, theirs = both('GRUCell', H_IN, H, bias=False)
    assert list(ours.state_dict()) == ['weight_ih', 'weight_hh']
    module_parity(ours, theirs, randn(N, H_IN))


def test_state_dict_names_and_shapes():
    ours, theirs = both('LSTM', H_IN, H, num_layers=2, bidirectional=True, proj_size=2)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert 'weight_hr_l1_reverse' in ours.state_dict()
    assert repr(ours) == repr(theirs)
    for name, kwargs in [('RNN', dict(nonlinearity='relu', batch_first=True)), ('RNNCell', dict(nonlinearity='relu')),
                         ('GRUCell', dict(bias=False))]:
        assert repr(getattr(nn, name)(2, 3, **kwargs)) == repr(getattr(torch.nn, name)(2, 3, **kwargs))


def test_default_init():
    """Every weight and bias U(-1/sqrt(H), 1/sqrt(H)), as PyTorch; reproducible with key=."""
    gru = nn.GRU(H_IN, 64, num_layers=2, key=fd.random.key(0))
    bound = 1 / math.sqrt(64)
    for name, p in gru.named_parameters():
        v = np.asarray(p)
        assert np.abs(v).max() <= bound and np.abs(v).max() > 0.9 * bound, name
        assert abs(v.mean()) < 0.1 * bound, name
    again = nn.GRU(H_IN, 64, num_layers=2, key=fd.random.key(0))
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(gru.parameters(), again.parameters()))
    w = [np.asarray(p) for p in gru.parameters()]
    assert not np.array_equal(w[0][:8], w[1][:8, :H_IN])  # each parameter has its own key


def test_jit_bidirectional_multilayer():
    """Values and gradients through fd.jit, for the model that exercises the most: 2 layers, both directions,
    batch_first, initial state."""
    kwargs = dict(num_layers=2, bidirectional=True, batch_first=True)
    ours, theirs = both('LSTM', H_IN, H, **kwargs)
    module_parity(ours, theirs, randn(N, L, H_IN), states('LSTM', kwargs), jit=True)


def test_vmap_per_example_gradients():
    """vmap(grad) over unbatched sequences equals a loop over the batch."""
    gru = nn.GRU(H_IN, H, num_layers=2, bidirectional=True, batch_first=True)
    xs, ys = fnp.asarray(randn(N, L, H_IN)), fnp.asarray(randn(N, L, 2 * H))

    def loss(p, x, y):
        out, h_n = nn.functional_call(gru, p, x)
        return fnp.sum((out - y) ** 2) + fnp.sum(h_n)

    params = nn.params(gru)
    got = fd.vmap(fd.grad(loss), in_axes=(None, 0, 0))(params, xs, ys)
    for i in range(N):
        one = fd.grad(loss)(params, xs[i], ys[i])
        for k in params:
            close(got[k][i], one[k], 1e-5, k)
    out_v = fd.vmap(lambda x: nn.functional_call(gru, params, x)[0])(xs)
    close(out_v, gru(xs)[0], 1e-6, 'vmap output')


def test_dropout_between_layers():
    lstm = nn.LSTM(H_IN, H, num_layers=3, dropout=0.5)
    x = fnp.asarray(randn(L, N, H_IN))
    theirs = torch.nn.LSTM(H_IN, H, num_layers=3, dropout=0.5).eval()
    copy_weights(lstm, theirs)
    params = nn.params(lstm)
    a = nn.functional_call(lstm, params, x, rng=fd.random.key(1))[0]
    b = nn.functional_call(lstm, params, x, rng=fd.random.key(1))[0]
    c = nn.functional_call(lstm, params, x, rng=fd.random.key(2))[0]
    off = nn.functional_call(lstm, params, x, train=False)[0]
    close(a, b, 0, 'same key, same mask')
    assert not np.allclose(np.asarray(a), np.asarray(c)) and not np.allclose(np.asarray(a), np.asarray(off))
    close(off, theirs(torch.tensor(np.asarray(x)))[0].detach().numpy(), 1e-5, 'eval mode')
    with pytest.raises(ValueError, match=r'LSTM\(4, 6, num_layers=3, dropout=0.5\).*pass a key'):
        fd.grad(lambda p: fnp.sum(nn.functional_call(lstm, p, x)[0]))(params)
    with pytest.warns(UserWarning, match='non-zero dropout expects num_layers greater than 1'):
        nn.GRU(H_IN, H, dropout=0.2)


def test_errors_name_the_layer_and_shape():
    lstm = nn.LSTM(H_IN, H, num_layers=2, batch_first=True)
    with pytest.raises(ValueError, match=r'LSTM\(4, 6, num_layers=2, batch_first=True\) expected input of shape '
                                         r'\(N, L, H_in\) or \(L, H_in\) with H_in = 4, got \(3, 5, 7\)'):
        lstm(fnp.ones((3, 5, 7)))
    with pytest.raises(ValueError, match=r'expected hidden state h0 of shape \(2, 3, 6\)'):
        lstm(fnp.ones((3, 5, 4)), (fnp.ones((1, 3, 6)), fnp.ones((2, 3, 6))))
    with pytest.raises(ValueError, match=r'expected cell state c0 of shape \(2, 3, 6\)'):
        lstm(fnp.ones((3, 5, 4)), (fnp.ones((2, 3, 6)), fnp.ones((2, 3, 5))))
    with pytest.raises(ValueError, match=r'GRUCell\(4, 6\) expected input of shape \(N, 4\) or \(4,\), got \(2, 3\)'):
        nn.GRUCell(H_IN, H)(fnp.ones((2, 3)))
    with pytest.raises(ValueError, match="unknown nonlinearity 'sigmoid'"):
        nn.RNN(2, 3, nonlinearity='sigmoid')
    with pytest.raises(ValueError, match='proj_size'):
        nn.LSTM(2, 3, proj_size=3)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        nn.LSTM(2, 3, num_layers=2, dropout=0.1)  # no warning with more than one layer

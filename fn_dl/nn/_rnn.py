"""Recurrent layers: RNN (tanh/relu), LSTM, GRU and their cells, with PyTorch's math, init and names.

Each layer and direction is one fd.lax.scan over time. The input-to-hidden
products of all steps do not depend on the state, so they are one matmul
before the scan; the scan body holds only the hidden-to-hidden product and the
gate math. Under jit that is one small compiled loop body per layer and
direction, and reverse mode differentiates the scan as a whole.
"""
from __future__ import annotations

import math
import warnings

import fn_dl.numpy as fnp
from fn_dl import lax, random
from fn_dl.core.aval import shape_str
from fn_dl.nn import functional as F
from fn_dl.nn import init
from fn_dl.nn._adapter import next_rng_key
from fn_dl.nn._module import Module, Parameter

_GATES = {'RNN_TANH': 1, 'RNN_RELU': 1, 'LSTM': 4, 'GRU': 3}


def _step(mode, gi, state, w_hh, b_hh, w_hr=None):
    """One time step: (new state, output) from gi = x @ w_ih.T + b_ih and the previous state.

    The gate order and formulas are PyTorch's: LSTM chunks (i, f, g, o); GRU chunks (r, z, n) with
    b_hn inside the reset product, n = tanh(x W_in + b_in + r * (h W_hn + b_hn)).
    """
    if mode == 'LSTM':
        h, c = state
        i, f, g, o = fnp.split(gi + F.linear(h, w_hh, b_hh), 4, axis=-1)
        c = F.sigmoid(f) * c + F.sigmoid(i) * fnp.tanh(g)
        h = F.sigmoid(o) * fnp.tanh(c)
        if w_hr is not None:
            h = F.linear(h, w_hr)
        return (h, c), h
    gh = F.linear(state, w_hh, b_hh)
    if mode == 'GRU':
        i_r, i_z, i_n = fnp.split(gi, 3, axis=-1)
        h_r, h_z, h_n = fnp.split(gh, 3, axis=-1)
        n = fnp.tanh(i_n + F.sigmoid(i_r + h_r) * h_n)
        h = n + F.sigmoid(i_z + h_z) * (state - n)  # (1 - z) * n + z * h, written as PyTorch's kernel does
        return h, h
    h = fnp.tanh(gi + gh) if mode == 'RNN_TANH' else F.relu(gi + gh)
    return h, h


def _uniform_params(module, names_shapes, hidden_size, dtype, key):
    """PyTorch's RNN init: every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), in order."""
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    keys = random.split(init._key(key), max(len(names_shapes), 1))
    for k, (name, shape) in zip(keys, names_shapes):
        setattr(module, name, Parameter(init.uniform(k, shape, -stdv, stdv, dtype or 'float32')))


def _mode_of(nonlinearity, who):
    if nonlinearity not in ('tanh', 'relu'):
        raise ValueError(f"{who}: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
    return 'RNN_TANH' if nonlinearity == 'tanh' else 'RNN_RELU'


class RNNBase(Module):
    """The multi-layer, optionally bidirectional recurrence shared by RNN, LSTM and GRU."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, dtype=None, key=None):
        super().__init__()
        name = type(self).__name__
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent layer, so non-zero "
                          f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=3)
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be a positive integer, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be a positive integer, got {num_layers!r}")
        if proj_size < 0 or (proj_size and mode != 'LSTM'):
            raise ValueError(f"{name}: proj_size must be 0 (or, for LSTM only, positive), got {proj_size}")
        if proj_size and proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) has to be smaller than hidden_size ({hidden_size})")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        shapes = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else real_hidden * self._directions
            for sfx in self._suffixes(layer):
                shapes += [('weight_ih' + sfx, (gate_size, layer_in)), ('weight_hh' + sfx, (gate_size, real_hidden))]
                if bias:
                    shapes += [('bias_ih' + sfx, (gate_size,)), ('bias_hh' + sfx, (gate_size,))]
                if proj_size:
                    shapes.append(('weight_hr' + sfx, (proj_size, hidden_size)))
        _uniform_params(self, shapes, hidden_size, dtype, key)

    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    def _suffixes(self, layer):
        return [f"_l{layer}", f"_l{layer}_reverse"][:self._directions]

    def _weights(self, sfx):
        get = self._parameters.get
        return (get('weight_ih' + sfx), get('bias_ih' + sfx), get('weight_hh' + sfx), get('bias_hh' + sfx),
                get('weight_hr' + sfx))

    def flatten_parameters(self):
        """Nothing to do: there is no packed cuDNN weight buffer here (kept so PyTorch code runs unchanged)."""

    def _describe(self):
        return f"{type(self).__name__}({self.extra_repr()})"

    def _initial(self, given, state_shape, size, what, dtype):
        """The given initial state, checked against its expected shape, or zeros when none is given."""
        expected = state_shape + (size,)
        if given is None:
            return fnp.zeros(expected, dtype)
        if tuple(given.shape) != expected:
            raise ValueError(f"{self._describe()} expected {what} of shape {expected} (num_layers * num_directions"
                             f"{', N' if len(expected) == 3 else ''}, {size}), got {shape_str(given.shape)}")
        return given

    def forward(self, input, hx=None):
        if hasattr(input, 'batch_sizes'):
            raise TypeError(f"{self._describe()}: PackedSequence inputs are not supported; pad the batch and pass "
                            f"the full (padded) tensor")
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            layout = '(N, L, H_in)' if self.batch_first else '(L, N, H_in)'
            raise ValueError(f"{self._describe()} expected input of shape {layout} or (L, H_in) with H_in = "
                             f"{self.input_size}, got {shape_str(input.shape)}")
        batched = input.ndim == 3
        x = fnp.swapaxes(input, 0, 1) if batched and self.batch_first else input  # time-major from here on
        state_shape = (self.num_layers * self._directions,) + x.shape[1:-1]
        h_size = self.proj_size or self.hidden_size
        if self.mode == 'LSTM':
            h0, c0 = (None, None) if hx is None else hx
            h0 = self._initial(h0, state_shape, h_size, 'hidden state h0', x.dtype)
            c0 = self._initial(c0, state_shape, self.hidden_size, 'cell state c0', x.dtype)
            states = [(h0[i], c0[i]) for i in range(state_shape[0])]
        else:
            h0 = self._initial(hx, state_shape, h_size, 'hidden state h0', x.dtype)
            states = [h0[i] for i in range(state_shape[0])]
        out, finals = x, []
        for layer in range(self.num_layers):
            if layer and self.training and self.dropout:
                out = F.dropout(out, self.dropout, key=next_rng_key(f"{self._describe()} (dropout between layers)"))
            ys = []
            for d, sfx in enumerate(self._suffixes(layer)):
                w_ih, b_ih, w_hh, b_hh, w_hr = self._weights(sfx)
                final, y = lax.scan(lambda s, gi: _step(self.mode, gi, s, w_hh, b_hh, w_hr),
                                    states[layer * self._directions + d], F.linear(out, w_ih, b_ih), reverse=d == 1)
                finals.append(final)
                ys.append(y)
            out = fnp.concatenate(ys, axis=-1) if len(ys) > 1 else ys[0]
        if batched and self.batch_first:
            out = fnp.swapaxes(out, 0, 1)
        if self.mode == 'LSTM':
            return out, (fnp.stack([h for h, _ in finals]), fnp.stack([c for _, c in finals]))
        return out, fnp.stack(finals)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), as torch.nn.RNN.

    Input (L, N, H_in), or (N, L, H_in) with batch_first, or unbatched (L, H_in); optional h0
    (num_layers * num_directions, N, H). Returns (output (L, N, D * H), h_n).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> rnn = nn.RNN(3, 5, num_layers=2, batch_first=True, bidirectional=True)
    >>> out, h_n = rnn(fnp.ones((4, 7, 3)))
    >>> out.shape, h_n.shape
    ((4, 7, 10), (4, 4, 5))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=None, key=None):
        super().__init__(_mode_of(nonlinearity, 'RNN'), input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, dtype=dtype, key=key)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, as torch.nn.LSTM (gates i, f, g, o; optional projection proj_size).

    Input (L, N, H_in), or (N, L, H_in) with batch_first, or unbatched (L, H_in); optional (h0, c0).
    Returns (output (L, N, D * H_out), (h_n, c_n)).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> lstm = nn.LSTM(3, 5, num_layers=2)
    >>> out, (h_n, c_n) = lstm(fnp.ones((7, 4, 3)))
    >>> out.shape, h_n.shape, c_n.shape
    ((7, 4, 5), (2, 4, 5), (2, 4, 5))
    >>> sorted(lstm.state_dict())[:4]
    ['bias_hh_l0', 'bias_hh_l1', 'bias_ih_l0', 'bias_ih_l1']
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, dtype=None, key=None):
        super().__init__('LSTM', input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, dtype, key)


class GRU(RNNBase):
    """Gated recurrent unit, as torch.nn.GRU (gates r, z, n; b_hn inside the reset product).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> out, h_n = nn.GRU(3, 5, bidirectional=True)(fnp.ones((7, 3)))
    >>> out.shape, h_n.shape
    ((7, 10), (2, 5))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=None, key=None):
        super().__init__('GRU', input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype, key=key)


class RNNCellBase(Module):
    """One step of a recurrence: weight_ih (G * H, H_in), weight_hh (G * H, H), biases (G * H)."""

    def __init__(self, mode, input_size, hidden_size, bias, dtype, key):
        super().__init__()
        self.mode, self.input_size, self.hidden_size, self.bias = mode, input_size, hidden_size, bias
        g = _GATES[mode] * hidden_size
        shapes = [('weight_ih', (g, input_size)), ('weight_hh', (g, hidden_size))]
        if bias:
            shapes += [('bias_ih', (g,)), ('bias_hh', (g,))]
        else:
            self.register_parameter('bias_ih', None)
            self.register_parameter('bias_hh', None)
        _uniform_params(self, shapes, hidden_size, dtype, key)

    def _check(self, input, state):
        who = f"{type(self).__name__}({self.extra_repr()})"
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{who} expected input of shape (N, {self.input_size}) or ({self.input_size},), got "
                             f"{shape_str(input.shape)}")
        for s in state:
            if tuple(s.shape) != input.shape[:-1] + (self.hidden_size,):
                raise ValueError(f"{who} expected a state of shape {input.shape[:-1] + (self.hidden_size,)} for "
                                 f"input {shape_str(input.shape)}, got {shape_str(s.shape)}")

    def _zeros(self, input):
        return fnp.zeros(input.shape[:-1] + (self.hidden_size,), input.dtype)

    def _run(self, input, state):
        self._check(input, state if self.mode == 'LSTM' else (state,))
        gi = F.linear(input, self.weight_ih, self.bias_ih)
        return _step(self.mode, gi, state, self.weight_hh, self.bias_hh)[0]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.mode == 'RNN_RELU':
            s += ", nonlinearity=relu"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu) for input (N, H_in) or (H_in,).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.RNNCell(3, 5)(fnp.ones((4, 3))).shape
    (4, 5)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity='tanh', dtype=None, key=None):
        super().__init__(_mode_of(nonlinearity, 'RNNCell'), input_size, hidden_size, bias, dtype, key)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        return self._run(input, self._zeros(input) if hx is None else hx)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c') for input (N, H_in) or (H_in,) and optional (h, c).

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> h, c = nn.LSTMCell(3, 5)(fnp.ones((4, 3)))
    >>> h.shape, c.shape
    ((4, 5), (4, 5))
    """

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, key=None):
        super().__init__('LSTM', input_size, hidden_size, bias, dtype, key)

    def forward(self, input, hx=None):
        return self._run(input, (self._zeros(input),) * 2 if hx is None else tuple(hx))


class GRUCell(RNNCellBase):
    """One GRU step: h' for input (N, H_in) or (H_in,) and optional h.

    >>> import fn_dl.numpy as fnp
    >>> from fn_dl import nn
    >>> nn.GRUCell(3, 5)(fnp.ones(3)).shape
    (5,)
    """

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, key=None):
        super().__init__('GRU', input_size, hidden_size, bias, dtype, key)

    def forward(self, input, hx=None):
        return self._run(input, self._zeros(input) if hx is None else hx)

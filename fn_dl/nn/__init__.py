"""fn_dl.nn: PyTorch-style modules, trainable by pure, jitted, vmap-able steps.

>>> import fn_dl as fd, fn_dl.numpy as fnp
>>> from fn_dl import nn
>>> model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
>>> sorted(nn.params(model))
['0.bias', '0.weight', '1.bias', '1.weight']
>>> nn.functional_call(model, nn.params(model), fnp.ones((2, 3))).shape
(2, 1)
"""
from fn_dl.nn import init  # noqa: F401
from fn_dl.nn._adapter import buffers, functional_call, params  # noqa: F401
from fn_dl.nn._linear import Bilinear, Flatten, Identity, Linear, Unflatten  # noqa: F401
from fn_dl.nn._module import Module, ModuleDict, ModuleList, Parameter, Sequential  # noqa: F401
from fn_dl.nn import functional  # noqa: F401
from fn_dl.nn._activation import (CELU, ELU, GELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU,  # noqa: F401
                                  LogSigmoid, LogSoftmax, Mish, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softplus,
                                  Softsign, Tanh)
from fn_dl.nn._conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401
from fn_dl.nn._dropout import Dropout  # noqa: F401
from fn_dl.nn._embedding import Embedding  # noqa: F401
from fn_dl.nn._loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,  # noqa: F401
                            MSELoss, NLLLoss, SmoothL1Loss)
from fn_dl.nn._norm import BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, LayerNorm, RMSNorm  # noqa: F401
from fn_dl.nn._pool import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d,  # noqa: F401
                            MaxPool2d)
from fn_dl.nn._rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: F401
from fn_dl.nn._attention import MultiheadAttention  # noqa: F401
from fn_dl.nn._transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,  # noqa: F401
                                   TransformerEncoder, TransformerEncoderLayer)

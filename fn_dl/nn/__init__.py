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
from fn_dl.nn._activation import (CELU, ELU, GELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish,  # noqa: F401
                                  Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, ReLU6, Sigmoid,
                                  SiLU, Softmax, Softmax2d, Softmin, Softplus, Softshrink, Softsign, Tanh,
                                  Tanhshrink, Threshold)
from fn_dl.nn._conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401
from fn_dl.nn._dropout import Dropout, Dropout1d, Dropout2d, Dropout3d  # noqa: F401
from fn_dl.nn._embedding import Embedding  # noqa: F401
from fn_dl.nn._loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss,  # noqa: F401
                            GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss,
                            MSELoss, MultiLabelSoftMarginLoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss,
                            TripletMarginLoss)
from fn_dl.nn._norm import (BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, InstanceNorm1d,  # noqa: F401
                            InstanceNorm2d, InstanceNorm3d, LayerNorm, RMSNorm)
from fn_dl.nn._pool import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d,  # noqa: F401
                            AdaptiveMaxPool2d, AdaptiveMaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d, MaxPool1d,
                            MaxPool2d, MaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d)
from fn_dl.nn._distance import CosineSimilarity, PairwiseDistance  # noqa: F401
from fn_dl.nn._padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d,  # noqa: F401
                               ConstantPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d,
                               ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from fn_dl.nn._pixelshuffle import PixelShuffle, PixelUnshuffle  # noqa: F401
from fn_dl.nn._upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: F401
from fn_dl.nn._rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: F401
from fn_dl.nn._attention import MultiheadAttention  # noqa: F401
from fn_dl.nn._transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,  # noqa: F401
                                   TransformerEncoder, TransformerEncoderLayer)
from fn_dl.nn._container import ParameterDict, ParameterList  # noqa: F401
from fn_dl.nn._channel import ChannelShuffle, LocalResponseNorm  # noqa: F401
from fn_dl.nn._ctc import CTCLoss  # noqa: F401
from fn_dl.nn._embedding_bag import EmbeddingBag  # noqa: F401
from fn_dl.nn._fold import Fold, Unfold  # noqa: F401
from fn_dl.nn._lazy import LazyLinear  # noqa: F401
from fn_dl.nn._lp_pool import LPPool1d, LPPool2d, LPPool3d  # noqa: F401
from fn_dl.nn._margin_losses import MultiLabelMarginLoss, MultiMarginLoss, TripletMarginWithDistanceLoss  # noqa: F401
from fn_dl.nn._stochastic import AlphaDropout, FeatureAlphaDropout, RReLU  # noqa: F401

"""Module parity with PyTorch: the same weights (copied by load_state_dict), the same state_dict keys, and
equal outputs and gradients (of sum(output * random cotangent)) with respect to the inputs and parameters."""
import numpy as np

import fn_dl as fd
import fn_dl.numpy as fnp
from fn_dl import nn

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def close(a, b, atol=1e-5, what=''):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (what, a.shape, b.shape)
    np.testing.assert_allclose(a, b, atol=atol, rtol=1e-5, err_msg=what)


def _flat(tree):
    """The non-None leaves of nested tuples/lists (torch and fn_dl outputs alike)."""
    if tree is None:
        return []
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in _flat(t)]
    return [tree]


def copy_weights(ours, theirs):
    """Load theirs' state_dict into ours, checking first that the two have the same keys in the same order."""
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def module_parity(ours, theirs, *args, atol=1e-5, grad=True, jit=False, **kwargs):
    """ours(*args, **kwargs) against theirs on the same inputs (NumPy arrays, nested in tuples, or plain values):
    outputs, and gradients with respect to every float array in args (keyword arguments, the masks, are not
    differentiated) and every parameter; with jit=True all of it through fd.jit. Both modules must already be in
    the mode (train/eval) to compare."""
    import torch
    copy_weights(ours, theirs)
    leaves, treedef = fd.tree.flatten((args, kwargs))
    n_args = len(fd.tree.leaves(args))
    diff = [i for i, x in enumerate(leaves[:n_args]) if isinstance(x, np.ndarray) and x.dtype.kind == 'f']
    t_leaves = [torch.tensor(x, requires_grad=i in diff) if isinstance(x, np.ndarray) else x
                for i, x in enumerate(leaves)]
    t_args, t_kwargs = fd.tree.unflatten(treedef, t_leaves)
    t_out = _flat(theirs(*t_args, **t_kwargs))
    cots = [randn(*o.shape) for o in t_out]

    def run(params, xs):
        ls = [fnp.asarray(x) if isinstance(x, np.ndarray) else x for x in leaves]
        for i, x in zip(diff, xs):
            ls[i] = x
        a, kw = fd.tree.unflatten(treedef, ls)
        return _flat(nn.functional_call(ours, params, *a, **kw))

    def loss(params, xs):
        return sum(fnp.sum(o * c) for o, c in zip(run(params, xs), cots))

    params, xs = nn.params(ours), [fnp.asarray(leaves[i]) for i in diff]
    outs = (fd.jit(run) if jit and not grad else run)(params, xs)
    assert len(outs) == len(t_out), (len(outs), len(t_out))
    for k, (o, t) in enumerate(zip(outs, t_out)):
        close(o, t.detach().numpy(), atol, f'output {k}')
    if not grad:
        return
    theirs.zero_grad(set_to_none=True)
    t_loss = sum((o * torch.tensor(c)).sum() for o, c in zip(t_out, cots))
    t_loss.backward()
    value_and_grad = fd.value_and_grad(loss, argnums=(0, 1))
    value, (g_params, g_xs) = (fd.jit(value_and_grad) if jit else value_and_grad)(params, xs)
    close(value, t_loss.item(), 1e-4, 'loss')
    for i, g in zip(diff, g_xs):
        close(g, t_leaves[i].grad.numpy(), atol, f'gradient of input leaf {i}')
    for name, p in theirs.named_parameters():
        expected = np.zeros(p.shape, np.float32) if p.grad is None else p.grad.numpy()
        close(g_params[name], expected, atol, f'gradient of {name}')

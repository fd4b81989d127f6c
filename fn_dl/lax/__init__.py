"""fd.lax: the primitive-level operations (no implicit broadcasting or promotion) and control flow.

>>> import fn_dl as fd, fn_dl.numpy as fnp
>>> fd.lax.dot_general(fnp.ones((2, 3)), fnp.ones((3,)), (((1,), (0,)), ((), ()))).tolist()
[3.0, 3.0]
>>> fd.lax.exp(fnp.zeros(2)).tolist()
[1.0, 1.0]
"""
from fn_dl.lax._control_flow import cond, fori_loop, map, scan, select, switch, while_loop  # noqa: F401,A004
from fn_dl.ops import elementwise as _ew
from fn_dl.ops.dot import dot_general  # noqa: F401
from fn_dl.ops.elementwise import (bitcast_convert_type, complex, convert_element_type, integer_pow,  # noqa: F401
                                   polygamma, select_n)
from fn_dl.ops.reduce import (argmax, argmin, reduce_and, reduce_max, reduce_min, reduce_or, reduce_prod,  # noqa: F401
                              reduce_sum)
from fn_dl.ops.shape import (broadcast_in_dim, concatenate, expand_dims, full, iota, pad, reshape, rev,  # noqa: F401
                             slice, squeeze, transpose)


def _bind_fn(prim, name):
    def f(*args):
        return prim.bind(*args)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"The `{prim.name}` primitive, elementwise over operands of equal shape and dtype."
    return f


# one wrapper per elementwise primitive, named as in jax.lax
for _name, _p in [('add', 'add'), ('sub', 'sub'), ('mul', 'mul'), ('div', 'div'), ('rem', 'rem'), ('pow', 'pow'),
                  ('max', 'max'), ('min', 'min'), ('atan2', 'atan2'), ('nextafter', 'nextafter'), ('neg', 'neg'),
                  ('exp', 'exp'), ('exp2', 'exp2'), ('expm1', 'expm1'), ('log', 'log'), ('log1p', 'log1p'),
                  ('sin', 'sin'), ('cos', 'cos'), ('tan', 'tan'), ('asin', 'asin'), ('acos', 'acos'),
                  ('atan', 'atan'), ('sinh', 'sinh'), ('cosh', 'cosh'), ('tanh', 'tanh'), ('asinh', 'asinh'),
                  ('acosh', 'acosh'), ('atanh', 'atanh'), ('sqrt', 'sqrt'), ('rsqrt', 'rsqrt'), ('cbrt', 'cbrt'),
                  ('logistic', 'logistic'), ('erf', 'erf'), ('erfc', 'erfc'), ('erf_inv', 'erf_inv'),
                  ('lgamma', 'lgamma'), ('abs', 'abs'), ('sign', 'sign'), ('floor', 'floor'), ('ceil', 'ceil'),
                  ('round', 'round'), ('is_finite', 'is_finite'), ('real', 'real'), ('imag', 'imag'),
                  ('conj', 'conj'), ('eq', 'eq'), ('ne', 'ne'), ('lt', 'lt'), ('le', 'le'), ('gt', 'gt'),
                  ('ge', 'ge'), ('bitwise_and', 'and'), ('bitwise_or', 'or'), ('bitwise_xor', 'xor'),
                  ('bitwise_not', 'not'), ('population_count', 'population_count'), ('shift_left', 'shift_left'),
                  ('shift_right_logical', 'shift_right_logical'),
                  ('shift_right_arithmetic', 'shift_right_arithmetic'), ('stop_gradient', 'stop_gradient')]:
    globals()[_name] = _bind_fn(getattr(_ew, _p + '_p'), _name)
del _name, _p

"""Function transformations: ad (jvp, vjp, grad), batching (vmap), jit, custom rules."""

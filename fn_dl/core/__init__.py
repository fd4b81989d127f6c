"""The core: arrays, abstract values, the trace context, the IR and the Primitive class."""

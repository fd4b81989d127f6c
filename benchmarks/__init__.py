"""Side-by-side benchmarks of fn_dl and its peers; run them with `python -m benchmarks`."""

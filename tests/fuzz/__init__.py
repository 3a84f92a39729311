"""Differential fuzzing of autodiff against PyTorch (float64).

`generate.programs()` is a hypothesis strategy of random programs (leaves of small shapes, then
elementwise ops, reductions, views and indexing, joins, matmul, nn functionals and in-place
writes; the table is in `ops_math` and `ops_shape`); `compare.compare(program)` runs one in both
libraries and classifies a disagreement, with central differences as referee. `tests/test_fuzz.py`
runs a few hundred programs in CI; `python -m tests.fuzz --n 20000` is the long run.
"""

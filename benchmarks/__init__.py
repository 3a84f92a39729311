"""Benchmarks comparing autodiff with its peers; run ``python -m benchmarks --help``.

Modules: :mod:`~benchmarks.cases` (what is computed, library-free), :mod:`~benchmarks.peers`
(one adapter per library), :mod:`~benchmarks.runner` (check, then time, one case),
:mod:`~benchmarks.timing` (first call, interleaved repeats), :mod:`~benchmarks.isolated`
(the default mode: each peer and case in fresh processes), :mod:`~benchmarks.machine`
(threads and machine description), :mod:`~benchmarks.report` and :mod:`~benchmarks.scaling`
(tables, JSON, plot), :mod:`~benchmarks.cli` (the command line).
"""

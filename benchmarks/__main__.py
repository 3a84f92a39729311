"""``python -m benchmarks``: see :mod:`benchmarks.cli`."""

import sys

from benchmarks import machine

# the in-process mode's spin limits go into the environment before numpy and torch load their
# thread pools, which read them once; the isolated mode leaves the environment alone
if "--in-process" in sys.argv[1:]:
    machine.limit_spin_waits()

from benchmarks.cli import main  # noqa: E402

sys.exit(main())

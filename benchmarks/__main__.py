"""``python -m benchmarks``: see :mod:`benchmarks.cli`."""

import sys

from benchmarks import machine

# before numpy and torch load their thread pools, which read these settings once
machine.limit_spin_waits()

from benchmarks.cli import main  # noqa: E402

sys.exit(main())

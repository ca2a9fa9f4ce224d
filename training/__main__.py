"""``python -m training``: see training/cli.py."""

import os

# LightGBM's OpenMP threads busy-wait by default, which collapses throughput when the
# machine is shared (docs/decisions.md); passive waiting does not.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from training.cli import main

raise SystemExit(main())

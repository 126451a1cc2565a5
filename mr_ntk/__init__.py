__version__ = "0.1.0"

# Idle OpenMP threads sleep instead of spinning: on a shared machine torch's default spin-waiting made hot paths 4-61x
# slower next to other work (benchmarks/contention.py, nbs/00_core.ipynb "Threads on a shared machine"). Only before
# torch loads (it reads the variable then) and only when the user has not chosen a policy.
import os as _os, sys as _sys
if 'torch' not in _sys.modules: _os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

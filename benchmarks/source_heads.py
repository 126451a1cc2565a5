"""Alias of `mr_ntk heads` (kept so the commands that produced the committed head tables keep working): source-head
accuracy vs depth through the run's own steps (the same cached heads a sweep uses); writes <out>/source_heads.csv,
which `mr_ntk.report` adds to its source-accuracy claim.

    python benchmarks/source_heads.py --depths 1 3 6 --seeds 0 1 2 --out results/source_heads_lite0   # = mr_ntk heads ...
"""
import sys
from mr_ntk.cli import main

if __name__ == '__main__': sys.exit(main(['heads', *sys.argv[1:]]))

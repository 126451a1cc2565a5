"""Alias of `mr_ntk rescore` (kept so the commands in earlier notes keep working): recompute the no-training
predictors of finished study records, e.g. after a new score was added to `transfer_scores`.

    python scripts/add_predictors.py results --missing ntk_ce_acc --check results/add_predictors_check.csv
"""
import sys
from mr_ntk.cli import main

if __name__ == '__main__': sys.exit(main(['rescore', *sys.argv[1:]]))

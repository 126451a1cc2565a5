"""Recompute the no-training predictors of finished study records, e.g. after a new score was added to `transfer_scores`.

Each record is rebuilt from its stored config (cached source head, the transform at initialisation, the same seeded
subsets) and scored with the predictor settings it was scored with before, so the scores it already had are computed
again: the script prints, and writes to --check, how far each old score moved (0 means reproduced exactly). Records
being computed by a sweep (their lock held) are skipped; each record is rewritten atomically. The costs measured in
the run itself are kept (a rescore may share the machine); this pass's timings go to the record's predictors['rescored'].

    python scripts/add_predictors.py results --missing ntk_complexity_scale_free --check results/add_predictors_check.csv
"""
import argparse, pathlib, sys
import numpy as np, pandas as pd
from filelock import FileLock, Timeout
from mr_ntk.core import read_json, atomic_write
from mr_ntk.experiment import add_predictors, is_complete_record

p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
p.add_argument('folder', help='folder searched for sweep records (<sweep>/records/*.json, at any depth)')
p.add_argument('--missing', default=None, help='only records whose scores lack this key (default: every record)')
p.add_argument('--check', default=None, help='CSV of how far each old score moved, one row per record')
p.add_argument('--retrain-head', action='store_true', help="retrain heads missing from this machine's cache (a record whose "
               "retrained head differs from its own is refused)")
a = p.parse_args()

paths = sorted(pathlib.Path(a.folder).glob('**/records/*.json'))
if not paths: sys.exit(f"no records under {a.folder!r} (expected <sweep>/records/*.json): pass the folder holding the sweeps")
rows = []
for path in paths:
    rec = read_json(path, 'record')
    if not is_complete_record(rec): continue
    old = (rec.get('predictors') or {}).get('scores') or {}
    if a.missing and a.missing in old: continue
    (path.parent.parent/'.locks').mkdir(exist_ok=True)
    lock = FileLock(str(path.parent.parent/'.locks'/f'{path.stem}.lock'))
    try: lock.acquire(timeout=0)
    except Timeout: print(f"skip {path.name}: a sweep holds its lock"); continue
    try: added = add_predictors(path, (rec.get('predictors') or {}).get('settings'), retrain_head=a.retrain_head)['predictors']
    except ValueError as e: print(f"skip {path.name}: {e}"); continue
    finally: lock.release()
    new = added['scores']
    same = [k for k in old if isinstance(old[k], float) and not k.endswith('_s') and isinstance(new.get(k), float)]
    moved = {k: abs(new[k] - old[k]) / max(abs(old[k]), 1e-300) for k in same}
    worst = max(moved, key=moved.get) if moved else None
    rows.append(dict(record=path.name, n_old_scores=len(same), max_rel_change=moved.get(worst, np.nan), worst_score=worst,
                     rescore_ntk_s=added['rescored'].get('ntk_s', new.get('ntk_s')), **{k: new.get(k) for k in ('ntk_alignment', 'ntk_complexity', 'ntk_complexity_scale_free')}))
    print(rows[-1], flush=True)
if a.check and rows: atomic_write(a.check, pd.DataFrame(rows).to_csv(index=False))
print(f"{len(rows)} record(s) rescored" + (f"; the largest relative change of an old score: {max(r['max_rel_change'] for r in rows):.2e}" if rows else ''))

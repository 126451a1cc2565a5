"""Source-head accuracy vs depth through the experiment pipeline (the same cached heads a depth sweep uses).

For each depth and seed: `Experiment.build_source()` trains the ConvHead on cached backbone features (or loads it from
the head cache) and `evaluate_source()` scores it on the source test subset. Training seconds are those of the first
(uncached) build. Uses a profile's settings (default: offline = effnet-lite0 112 px, Fashion-MNIST, 15000 train /
2000 test images, width 128, up to 30 epochs with early stopping).

    python benchmarks/source_heads.py --profile offline --depths 1 2 3 4 5 6 --seeds 0 1 2 [-p source shapes]

Writes <out>/source_heads_<source>.{json,md} and <out>/source_heads.csv (one row per head; `mr_ntk.report` adds the
rows of any `source_heads.csv` under a report's folder to its source-accuracy claim).

    python benchmarks/source_heads.py --depths 1 3 6 --seeds 0 1 2 --out results/source_heads_lite0   # the committed table
"""
import argparse, pathlib, statistics, time
import pandas as pd
from mr_ntk.core import write_json_atomic, atomic_write
from mr_ntk.experiment import Experiment, resolve_config, environment_info
from mr_ntk.core import parse_value

p = argparse.ArgumentParser()
p.add_argument('--profile', default='offline')
p.add_argument('--depths', nargs='+', type=int, default=[1, 2, 3, 4, 5, 6])
p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
p.add_argument('-p', '--param', nargs=2, action='append', default=[], metavar=('KEY', 'VALUE'))
p.add_argument('--out', default='runs/bench')
a = p.parse_args()
over = {k: parse_value(v) for k, v in a.param}

rows = []
for d in a.depths:
    for s in a.seeds:
        e = Experiment(resolve_config(a.profile, depth=d, seed=s, progress=False, **over)).load_data().build_source()
        ev = e.evaluate_source()
        h = e.histories['source']
        tr = e.metrics.get('source_training') or {}
        rows.append(dict(backbone=e.cfg['backbone'], source=e.cfg['source'], source_size=e.cfg['source_size'], n_source=e.cfg['n_source'],
                         depth=d, seed=s, source_acc=ev['acc'], epochs_run=len(h), stop_reason=tr.get('stop_reason'),
                         converged=tr.get('converged'), cached=e.metrics['source_head_cached'],
                         train_seconds=sum(r['seconds'] for r in h), source_key=e.source_key()))
        print(rows[-1], flush=True)
cfg = {k: e.cfg[k] for k in ('backbone', 'source', 'source_size', 'n_source', 'n_source_test', 'width', 'source_epochs', 'patience',
                             'source_batch_size', 'source_weight_decay')}
md = [f"settings: {cfg}", '', '| depth | test acc (mean ± std over seeds) | train s/head (mean ± std) | epochs run |', '|---|---|---|---|']
for d in a.depths:
    r = [x for x in rows if x['depth'] == d]
    sd = lambda k: statistics.stdev([x[k] for x in r]) if len(r) > 1 else 0.
    md.append(f"| {d} | {statistics.mean(x['source_acc'] for x in r):.3f} ± {sd('source_acc'):.3f} | "
              f"{statistics.mean(x['train_seconds'] for x in r):.1f} ± {sd('train_seconds'):.1f} | {[x['epochs_run'] for x in r]} |")
out = pathlib.Path(a.out); out.mkdir(parents=True, exist_ok=True)
(out/f"source_heads_{cfg['source']}.md").write_text('\n'.join(md) + '\n')
write_json_atomic(out/f"source_heads_{cfg['source']}.json", dict(config=cfg, rows=rows, environment=environment_info()))
atomic_write(out/'source_heads.csv', pd.DataFrame(rows).to_csv(index=False))   # read by mr_ntk.report (claim: source accuracy vs depth)
print('\n'.join(md))

"""How much of the target NTK's spectrum survives float32? The same kernel in float32 and float64, per depth.

Uses the offline profile's cached source heads (run a sweep or exp_depth first, or it trains them) and its target
subset (ntk_per_class images per class), at initialisation of the transform.

    python benchmarks/ntk_precision.py --depths 1 3 6 --transform vp
Writes runs/bench/ntk_precision.{json,md}.
"""
import argparse, pathlib
from mr_ntk.core import write_json_atomic
from mr_ntk.experiment import Experiment, resolve_config

p = argparse.ArgumentParser()
p.add_argument('--depths', nargs='+', type=int, default=[1, 3, 6])
p.add_argument('--transform', default='vp')
p.add_argument('--seed', type=int, default=0)
p.add_argument('--out', default='runs/bench')
a = p.parse_args()
rows = []
for d in a.depths:
    for dt in ('float32', 'float64'):
        e = Experiment(resolve_config('offline', depth=d, transform=a.transform, seed=a.seed, ntk_dtype=dt, progress=False))
        e.load_data().build_source().build_reprogrammed(); e.target_spectra()
        for k in ('full', 'trace'):
            st = e.metrics[f'target_ntk_{k}']
            rows.append(dict(depth=d, dtype=dt, kernel=k, seconds=e.timings['target_ntk'], **{s: st[s] for s in ('lambda_min', 'lambda_max', 'trace', 'effective_rank')}))
            print(rows[-1], flush=True)
md = ['| depth | kernel | dtype | lambda_min | lambda_max | trace | effective rank | seconds |', '|---|---|---|---|---|---|---|---|']
md += [f"| {r['depth']} | {r['kernel']} | {r['dtype']} | {r['lambda_min']:.3e} | {r['lambda_max']:.4g} | {r['trace']:.5g} | {r['effective_rank']:.3f} | {r['seconds']:.0f} |"
       for r in sorted(rows, key=lambda r: (r['depth'], r['kernel'], r['dtype']))]
out = pathlib.Path(a.out); out.mkdir(parents=True, exist_ok=True)
(out/'ntk_precision.md').write_text('\n'.join(md) + '\n'); write_json_atomic(out/'ntk_precision.json', rows)
print('\n'.join(md))

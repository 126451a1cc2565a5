"""The study's NTK predictor in float32 (what records store) against float64, on a real source model.

`Experiment.predict` computes the reprogramming NTK from float32 input gradients and solves in float64 (the ridge,
`PREDICTOR_SETTINGS['ridge_rel']` x the mean eigenvalue, makes the float32 kernel's rounding harmless; see
`nbs/08_transfer.ipynb`). This checks that claim where it matters: the offline profile's trained source model
(effnet-lite0 112 px, Fashion-MNIST head, loaded from the head cache or trained once), the study's predictor subsets
(balanced, seeded), both dtypes, for each transform given. Reports predicted accuracy and loss, the largest
difference of the predicted test outputs, and the seconds of each.

    python benchmarks/ntk_predict_precision.py --depth 1 --transforms vp fc    # writes benchmarks/results/ntk_predict_precision.{json,md}
"""
import argparse, os, pathlib
import torch
from mr_ntk import data
from mr_ntk.core import write_json_atomic, atomic_write
from mr_ntk.experiment import Experiment, resolve_config, PREDICTOR_SETTINGS
from mr_ntk.transfer import ntk_predict

p = argparse.ArgumentParser()
p.add_argument('--depth', type=int, default=1)
p.add_argument('--seed', type=int, default=0)
p.add_argument('--transforms', nargs='+', default=['vp', 'fc'])
p.add_argument('--out', default='benchmarks/results')
a = p.parse_args()
st, rows = PREDICTOR_SETTINGS, []
for t in a.transforms:
    e = Experiment(resolve_config('offline', depth=a.depth, seed=a.seed, transform=t, progress=False)).load_data().build_source().build_reprogrammed()
    (X, y), (Xt, yt) = e.target_train, e.target_test
    tr = data.balanced_indices(y, st['n_train_per_class'], seed=a.seed)
    te = data.balanced_indices(yt, st['n_test_per_class'], seed=a.seed)
    res = {dt: ntk_predict(e.model, (X[tr], y[tr]), (Xt[te], yt[te]), ridge_rel=st['ridge_rel'], dtype=dt, return_pred=True)
           for dt in ('float32', 'float64')}
    r32, r64 = res['float32'], res['float64']
    rows.append(dict(transform=t, depth=a.depth, seed=a.seed, n_train=r64['n_train'], n_test=r64['n_test'], ridge_rel=st['ridge_rel'],
                     acc_float32=r32['acc'], acc_float64=r64['acc'], loss_float32=r32['loss'], loss_float64=r64['loss'],
                     max_abs_pred_diff=(r32['pred'] - r64['pred']).abs().max().item(),
                     pred_scale=r64['pred'].abs().max().item(), seconds_float32=r32['seconds'], seconds_float64=r64['seconds']))
    print(rows[-1], flush=True)
out = pathlib.Path(a.out)
write_json_atomic(out/'ntk_predict_precision.json', dict(rows=rows, settings=st, torch=torch.__version__, threads=torch.get_num_threads()))
md = ['| transform | depth | n_train / n_test | acc f32 | acc f64 | loss f32 | loss f64 | max abs pred diff (scale) | s f32 | s f64 |',
      '|---|---|---|---|---|---|---|---|---|---|']
md += [f"| {r['transform']} | {r['depth']} | {r['n_train']} / {r['n_test']} | {r['acc_float32']:.3f} | {r['acc_float64']:.3f} | "
       f"{r['loss_float32']:.6f} | {r['loss_float64']:.6f} | {r['max_abs_pred_diff']:.1e} ({r['pred_scale']:.2f}) | "
       f"{r['seconds_float32']:.0f} | {r['seconds_float64']:.0f} |" for r in rows]
atomic_write(out/'ntk_predict_precision.md', '\n'.join(md) + f"\n\nOffline profile, seed {a.seed}, ridge_rel {st['ridge_rel']}; "
             f"load average {os.getloadavg()[0]:.1f} at the end (shared 2-core machine: seconds are indicative, the ratio is what to read).\n")
print('\n'.join(md))

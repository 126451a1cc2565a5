"""The linearised cross-entropy predictor against real gradient descent on the real VP and FC (issue 27, section 2).

One lite0 source model at 112 px (depth 3, the dose sweep's n_source head, so it comes from the head cache when that
sweep ran here), 10 MNIST-5k images per class to train on and 10 per class to test on, as in the study's predictors.
For each transform: full-batch gradient descent on the mean cross-entropy of the real model, updating exactly the
parameters the NTK is taken with respect to, at the predictor's step size (scale x n / lambda_max), against
`transfer.linearised_ce_gd` on the empirical NTK at initialisation. Every `every` steps it records the test outputs'
distance between the two relative to how far the linearised outputs have moved, and both test accuracies: where the
curves part is where the model stops being linear in its transform's parameters. float32 model (as the study's
kernels), kernels and linearised steps in float64.

    python benchmarks/ce_linearised_vs_gd.py --steps 40 --every 5 --out benchmarks/results/ce_linearised_vs_gd_scale1
    python benchmarks/ce_linearised_vs_gd.py --steps 40 --every 4 --scale 0.01 --out benchmarks/results/ce_linearised_vs_gd_scale0p01
"""
import argparse, copy, json, time
from pathlib import Path
import numpy as np, torch, torch.nn.functional as F
import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
from mr_ntk.core import parse_value, atomic_write, write_json_atomic
from mr_ntk.data import balanced_indices
from mr_ntk.experiment import Experiment, resolve_config
from mr_ntk.ntk import reprogram_ntk, flatten_kernel, transform_params
from mr_ntk.transfer import linearised_ce_gd

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('--steps', type=int, default=60); ap.add_argument('--every', type=int, default=5)
ap.add_argument('--scale', type=float, default=1., help='step size in units of n / lambda_max(K)')
ap.add_argument('--transforms', nargs='+', default=['vp', 'fc'])
ap.add_argument('-p', '--param', nargs=2, action='append', default=[], metavar=('KEY', 'VALUE'))
ap.add_argument('--out', default='benchmarks/results/ce_linearised_vs_gd')
a = ap.parse_args()
over = dict(dict(depth=3, n_source=3000, n_source_test=None, seed=0, progress=False), **{k: parse_value(v) for k, v in a.param})

rows, curves = [], {}
for kind in a.transforms:
    t0 = time.perf_counter()
    e = Experiment(resolve_config('offline', transform=kind, **over)).load_data().build_source().build_reprogrammed()
    (X, y), (Xt, yt) = e.target_train, e.target_test
    tr, te = balanced_indices(y, 10, seed=0), balanced_indices(yt, 10, seed=0)
    X, y, Xs, ys = X[tr], y[tr], Xt[te], yt[te]
    model = e.model.eval()
    with torch.no_grad(): f0, f0s = model(X).double(), model(Xs).double()
    K_all = flatten_kernel(reprogram_ntk(model, torch.cat([X, Xs]))).double()
    n, c = f0.shape; m = n * c
    K, Kx = K_all[:m, :m], K_all[m:, :m]
    lr = a.scale * n / torch.linalg.eigvalsh((K + K.T) / 2)[-1].item()
    gd = copy.deepcopy(model); params = list(transform_params(gd).values())
    for q in gd.parameters(): q.requires_grad_(False)
    for q in params: q.requires_grad_(True)
    opt = torch.optim.SGD(params, lr=lr)
    f_lin, fs_lin, curve = f0.clone(), f0s.clone(), []
    for t in range(a.steps + 1):
        if t % a.every == 0:
            with torch.no_grad(): fs_gd = gd(Xs).double()
            moved = (fs_lin - f0s).norm().item()
            curve.append(dict(step=t, rel_gap=(fs_gd - fs_lin).norm().item() / moved if moved > 0 else 0., moved=moved,
                              acc_gd=(fs_gd.argmax(1) == ys).double().mean().item(), acc_lin=(fs_lin.argmax(1) == ys).double().mean().item()))
            print(kind, curve[-1], flush=True)
        if t == a.steps: break
        opt.zero_grad(); F.cross_entropy(gd(X), y).backward(); opt.step()
        f_lin, fs_lin = linearised_ce_gd(K, Kx, f_lin, fs_lin, y, lr, 1)
    part = next((r['step'] for r in curve if r['rel_gap'] > .1), None)
    rows.append(dict(transform=kind, lr=lr, scale=a.scale, n_train=n, n_test=len(ys), steps=a.steps, parts_at_step=part,
                     final_rel_gap=curve[-1]['rel_gap'], final_acc_gd=curve[-1]['acc_gd'], final_acc_lin=curve[-1]['acc_lin'],
                     seconds=time.perf_counter() - t0, pretrained=e.backbone.pretrained))
    curves[kind] = curve

out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
with_ext = lambda ext: out.parent/f'{out.name}.{ext}'   # not with_suffix: '..._scale0.01' has a dot
write_json_atomic(with_ext('json'), dict(settings=dict(vars(a), config=over), summary=rows, curves=curves))
fig, axs = plt.subplots(1, 2, figsize=(8, 3))
for kind, cu in curves.items():
    s = [r['step'] for r in cu]
    axs[0].plot(s, [r['rel_gap'] for r in cu], marker='o', ms=3, label=kind)
    axs[1].plot(s, [r['acc_gd'] for r in cu], label=f'{kind}: real GD'); axs[1].plot(s, [r['acc_lin'] for r in cu], '--', label=f'{kind}: linearised')
axs[0].axhline(.1, color='k', lw=.6, ls=':'); axs[0].set(xlabel='GD step', ylabel='|f_GD - f_lin| / |f_lin - f_0| (test)', yscale='log')
axs[1].set(xlabel='GD step', ylabel='test accuracy (100 images)'); axs[0].legend(fontsize=7); axs[1].legend(fontsize=7)
fig.suptitle('lite0 112 px, depth 3: cross-entropy GD, real vs linearised (float32 model, float64 kernel)', fontsize=8)
fig.tight_layout(); fig.savefig(with_ext('png'), dpi=110, bbox_inches='tight')
md = ['| transform | lr (scale x n/lambda_max) | parts at step (gap > 0.1) | final gap | acc real GD | acc linearised | seconds |', '|---|---|---|---|---|---|---|']
md += [f"| {r['transform']} | {r['lr']:.3g} ({r['scale']:g}) | {r['parts_at_step']} | {r['final_rel_gap']:.3g} | {r['final_acc_gd']:.2f} | {r['final_acc_lin']:.2f} | {r['seconds']:.0f} |" for r in rows]
atomic_write(with_ext('md'), '\n'.join(md) + '\n'); print('\n'.join(md))

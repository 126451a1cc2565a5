"""How the NTK predictor settles as its training set grows, on the study's real source models.

The study scores every run with `ntk_predict` on 10 training and 10 test images per class (`PREDICTOR_SETTINGS`).
Is that enough? For every complete, converged record under `--records` this rebuilds the run's model at
initialisation (cached source head, transform at init: no training), draws nested class-balanced training sets of
`--sizes` images per class and one test set of `--n-test` images per class (seeded by the run's seed), and computes
the linearised prediction (`ntk_predict_by_size`: one kernel on the largest training set and the test set, float32
input gradients, float64 solve, the study's ridge). Writes per run and size the predicted accuracy (from f_0 and from
the kernel alone), the kernel's alignment with the labels and its complexity (`transfer.kernel_alignment`,
`transfer.ntk_complexity`, plain and scale-free) next to the run's measured target accuracy, and per size the weighted Kendall tau and
Spearman rho of each score with the measured accuracy across the runs (complexity negated: lower is better), with a
plot. Resumable: runs already in the output JSON with every score are skipped; runs scored before a score existed are
recomputed.

    python benchmarks/ntk_predict_convergence.py --records results --out results/ntk_predict_convergence
"""
import argparse, os, pathlib, sys, time
import numpy as np, pandas as pd, torch
import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
from scipy import stats
from mr_ntk import data
from mr_ntk.core import write_json_atomic, read_json, atomic_write
from mr_ntk.experiment import Experiment, PREDICTOR_SETTINGS
from mr_ntk.report import load_records, records_table
from mr_ntk.transfer import ntk_predict_by_size

p = argparse.ArgumentParser()
p.add_argument('--records', default='results', help='a sweep folder (its records/*.json) or a folder of sweeps (every target)')
p.add_argument('--out', default='results/ntk_predict_convergence')
p.add_argument('--sizes', type=int, nargs='+', default=[5, 10, 20, 40], help='training images per class (nested)')
p.add_argument('--n-test', type=int, default=20, help='test images per class')
a = p.parse_args()
if sorted(set(a.sizes)) != a.sizes or a.sizes[0] < 1: p.error(f'--sizes {a.sizes} must be increasing integers >= 1')
out = pathlib.Path(a.out); out.mkdir(parents=True, exist_ok=True)
store = out/'ntk_predict_convergence.json'
saved = read_json(store, 'benchmark results') if store.exists() else dict(rows=[])
want = dict(PREDICTOR_SETTINGS, sizes=a.sizes, n_test_per_class=a.n_test)
if saved['rows'] and saved.get('settings') != want:   # rows computed with other sizes or test sets must not be mixed in
    sys.exit(f"{store} holds rows computed with settings {saved.get('settings')}, not {want}: pass another --out, or the same --sizes/--n-test")
done = saved['rows']
done = [r for r in done if 'complexity_scale_free' in r]   # rows from before the kernel statistics: their runs are recomputed
have = {r['record_name'] for r in done}

ok, _, _ = load_records(a.records)
runs = records_table(ok); runs = runs[runs['converged']]
st = PREDICTOR_SETTINGS
for rec in [r for r in ok if r['record_name'] in set(runs.record_name) - have]:
    cfg, t0 = rec['config'], time.perf_counter()
    e = Experiment(dict(cfg, progress=False)).load_data().build_source().build_reprogrammed()
    (X, y), (Xt, yt) = e.target_train, e.target_test
    prev, order = set(), []
    for k in a.sizes:   # nested class-balanced draws, each size's new images appended: every prefix is balanced
        new = [i for i in data.balanced_indices(y, k, seed=cfg['seed']).tolist() if i not in prev]
        order += new; prev |= set(new)
    te = data.balanced_indices(yt, a.n_test, seed=cfg['seed'])
    n_cls = int(y.max()) + 1
    res = ntk_predict_by_size(e.model, (X[order], y[order]), (Xt[te], yt[te]), [k * n_cls for k in a.sizes],
                              ridge_rel=st['ridge_rel'], dtype=st['dtype'])
    for k, r in zip(a.sizes, res):
        done.append(dict(record_name=rec['record_name'], transform=cfg['transform'], depth=cfg['depth'], seed=cfg['seed'],
                         backbone=cfg['backbone'], target=cfg['target'], target_acc=rec['metrics']['target_acc'], n_per_class=k,
                         n_train=r['n_train'], n_test=r['n_test'], pred_acc=r['acc'], pred_loss=r['loss'], kernel_acc=r['kernel_acc'],
                         kernel_loss=r['kernel_loss'], alignment=r['alignment'], complexity=r['complexity'], complexity_scale_free=r['complexity_scale_free'], init_acc=r['init_acc'], ridge=r['ridge'], dtype=r['dtype'],
                         kernel_seconds=r['kernel_seconds'], solve_seconds=r['solve_seconds']))
    write_json_atomic(store, dict(rows=done, settings=want, torch=torch.__version__,
                                  threads=torch.get_num_threads()))
    print(f"{rec['record_name']}: {time.perf_counter() - t0:.0f} s; " +
          ', '.join(f"n/class {k}: {r['acc']:.3f} (kernel {r['kernel_acc']:.3f})" for k, r in zip(a.sizes, res)) +
          f"; measured {rec['metrics']['target_acc']:.3f}", flush=True)

df = pd.DataFrame(done)
df = df[df.record_name.isin(runs.record_name) & df.n_per_class.isin(a.sizes)]
rank = []
scopes = [('all', df)] + ([(f'target {t}', g) for t, g in df.groupby('target')] if df.target.nunique() > 1 else [])
for scope, runs_in_scope in scopes:
    for k, g in runs_in_scope.groupby('n_per_class'):
        for sc in [c for c in ('pred_acc', 'kernel_acc', 'alignment', 'complexity', 'complexity_scale_free') if g[c].nunique() > 1]:
            lower = sc.startswith('complexity')   # lower complexity predicts higher accuracy
            x = -g[sc] if lower else g[sc]
            rank.append(dict(scope=scope, n_per_class=k, score=f'-{sc}' if lower else sc, n_runs=len(g),
                             weighted_tau=stats.weightedtau(x, g['target_acc'])[0],
                             spearman=stats.spearmanr(x, g['target_acc'])[0],
                             mean_abs_error=(g[sc] - g['target_acc']).abs().mean() if sc.endswith('_acc') else np.nan,
                             mean_seconds=(g['kernel_seconds'] + g['solve_seconds']).mean()))
rank = pd.DataFrame(rank)
rank.to_csv(out/'ntk_predict_convergence_ranking.csv', index=False)
df.to_csv(out/'ntk_predict_convergence.csv', index=False)

fig, axs = plt.subplots(1, 2, figsize=(9, 3.4))
for (tg, t, d, s), g in df.groupby(['target', 'transform', 'depth', 'seed']):
    line = axs[0].plot(g.n_per_class, g.pred_acc, marker='o', lw=1, label=f'{tg} {t} d{d} s{s}')[0]
    axs[0].axhline(g.target_acc.iloc[0], color=line.get_color(), ls=':', lw=.8)
axs[0].set(xscale='log', xlabel='NTK training images per class', ylabel='predicted test accuracy (dotted: measured)', ylim=(0, 1))
axs[0].legend(fontsize=5, ncol=2)
for (scope, sc), g in (rank.groupby(['scope', 'score']) if len(rank) else []):
    axs[1].plot(g.n_per_class, g.weighted_tau, marker='o', ls='-' if scope == 'all' else ':', label=f'{sc} ({scope})')
axs[1].axhline(.8, color='k', ls='--', lw=.8, label='issue target 0.8'); axs[1].set(xscale='log', xlabel='NTK training images per class',
                                                                              ylabel='weighted tau with measured accuracy', ylim=(-1, 1))
axs[1].legend(fontsize=6)
fig.suptitle(f"NTK predictor vs training-set size: {', '.join(sorted(df.backbone.unique()))} -> {', '.join(sorted(df.target.unique()))}, "
             f"{df.record_name.nunique()} converged runs, test {a.n_test}/class, ridge_rel {st['ridge_rel']}, {st['dtype']} gradients", fontsize=7)
fig.tight_layout(); fig.savefig(out/'ntk_predict_convergence.png', dpi=110)
cols = ['scope', 'n_per_class', 'score', 'n_runs', 'weighted_tau', 'spearman', 'mean_abs_error', 'mean_seconds']
fmt = lambda v: f'{v:.3f}' if isinstance(v, float) else str(v)
md = '\n'.join(['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)] +
                ['| ' + ' | '.join(fmt(r[c]) for c in cols) + ' |' for r in rank.to_dict('records')]) if len(rank) else '(fewer than 2 runs: no ranking)'
atomic_write(out/'ntk_predict_convergence.md', md + f"\n\n{df.record_name.nunique()} converged runs of `{a.records}`; "
             f"load average {os.getloadavg()[0]:.1f} at the end (shared 2-core machine: seconds are indicative).\n")
print(md)

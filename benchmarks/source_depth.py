"""Source accuracy vs head depth on frozen EfficientNet-Lite0 features (issue 2's acceptance numbers).

For each dataset, a fixed seeded training subset and test subset are drawn once; the backbone's features are extracted
once (mr_ntk's feature cache, memory + disk) and a ConvHead of each depth is trained per seed with `train_source`
(Adam, weight decay, early stopping on a stratified 10% validation split, best state restored). The seed changes the
head's initialisation, the train/val split and the batch order; the data subsets stay fixed.

    python benchmarks/source_depth.py                      # defaults below, ~25 min on a busy shared 2-core CPU
    python benchmarks/source_depth.py --n-train 3000 --n-test 2000 --epochs 15   # bigger
Writes runs/bench/source_depth.{csv,json,md}.
"""
import argparse, json, platform, statistics, time
from pathlib import Path
import torch


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--datasets', nargs='+', default=['fashion_mnist', 'shapes'])
    p.add_argument('--backbone', default='effnet-lite0')
    p.add_argument('--input-size', type=int, default=112)
    p.add_argument('--depths', nargs='+', type=int, default=[1, 2, 3, 4, 5, 6])
    p.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    p.add_argument('--n-train', type=int, default=600, help='training subset (10%% of it held out for early stopping)')
    p.add_argument('--n-test', type=int, default=1000)
    p.add_argument('--width', type=int, default=128)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--patience', type=int, default=2)
    p.add_argument('--batch-size', type=int, default=64)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--weight-decay', type=float, default=1e-3)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--out', default='runs/bench')
    return p.parse_args(argv)


def features(bb, name, split, n, progress=True):
    "Seeded subset of `name`/`split` and its (cached) backbone features."
    from mr_ntk.data import get_dataset
    from mr_ntk.models import extract_features
    X, y = get_dataset(name, split, n=n, seed=0)
    t = time.time()
    F = extract_features(bb, X, cache_key=dict(dataset=name, split=split, n=n, seed=0), progress=progress)
    return X, y, F, time.time() - t, dict(dataset=name, split=split, n=n, seed=0)


def run_one(bb, data, key, Fte, yte, depth, seed, a):
    "Train one head, return its record."
    from mr_ntk.models import ConvHead, SourceModel, train_source, evaluate
    torch.manual_seed(seed)
    model = SourceModel(bb, ConvHead(depth, a.width, int(data[1].max()) + 1, bb.out_channels))
    t = time.time()
    h = train_source(model, data, cache_key=key, seed=seed, epochs=a.epochs, patience=a.patience, batch_size=a.batch_size,
                     lr=a.lr, weight_decay=a.weight_decay, progress=False, device='cpu')
    ev = evaluate(model.head, Fte, yte, device='cpu')
    return dict(depth=depth, seed=seed, test_acc=ev['acc'], test_loss=ev['loss'], best_val_acc=h.best['val_acc'],
                best_epoch=h.best['epoch'], epochs_run=len(h), seconds=time.time() - t)


def summarise(rows):
    "Mean and std over seeds per (dataset, depth)."
    out = []
    for key in sorted({(r['dataset'], r['depth']) for r in rows}):
        rs = [r for r in rows if (r['dataset'], r['depth']) == key]
        acc, sec = [r['test_acc'] for r in rs], [r['seconds'] for r in rs]
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.
        out.append(dict(dataset=key[0], depth=key[1], n_seeds=len(rs), acc_mean=statistics.mean(acc), acc_std=sd(acc),
                        sec_mean=statistics.mean(sec), sec_std=sd(sec), epochs_mean=statistics.mean(r['epochs_run'] for r in rs)))
    return out


def table(summary):
    "Markdown table: test accuracy and seconds per run, mean ± std over seeds."
    lines = ['| dataset | depth | test acc (mean ± std) | seconds/run, features cached (mean ± std) | epochs run |', '|---|---|---|---|---|']
    for s in summary:
        lines.append(f"| {s['dataset']} | {s['depth']} | {s['acc_mean']:.3f} ± {s['acc_std']:.3f} | "
                     f"{s['sec_mean']:.1f} ± {s['sec_std']:.1f} | {s['epochs_mean']:.1f} |")
    return '\n'.join(lines)


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    import pandas as pd
    from mr_ntk.models import get_backbone
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    t_all, rows, feat_info = time.time(), [], {}
    bb = get_backbone(a.backbone, device='cpu', input_size=a.input_size)
    for name in a.datasets:
        Xtr, ytr, _, t_tr, key = features(bb, name, 'train', a.n_train)
        _, yte, Fte, t_te, _ = features(bb, name, 'test', a.n_test)
        feat_info[name] = dict(train_seconds=t_tr, test_seconds=t_te, native_size=list(Xtr.shape[-2:]))
        print(f'{name}: features train {t_tr:.0f}s, test {t_te:.0f}s', flush=True)
        for depth in a.depths:
            for seed in a.seeds:
                r = dict(dataset=name, **run_one(bb, (Xtr, ytr), key, Fte, yte, depth, seed, a))
                rows.append(r)
                print(f"  {name} depth {depth} seed {seed}: acc {r['test_acc']:.3f} ({r['epochs_run']} ep, {r['seconds']:.0f}s)", flush=True)
                pd.DataFrame(rows).to_csv(out/'source_depth.csv', index=False)
    summary = summarise(rows)
    meta = dict(args=vars(a), backbone=bb.describe(), features=feat_info, total_seconds=time.time() - t_all,
                torch=torch.__version__, threads=a.threads, machine=platform.processor() or platform.machine())
    (out/'source_depth.json').write_text(json.dumps(dict(meta=meta, summary=summary, runs=rows), indent=1))
    md = table(summary)
    (out/'source_depth.md').write_text(md + '\n')
    print(md); print(f"total {meta['total_seconds']/60:.1f} min")


if __name__ == '__main__':
    main()

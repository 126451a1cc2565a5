"""Offline reprogramming benchmark: VP vs FC vs VP+FC against two references, on the offline default profile.

Everything comes from `mr_ntk.experiment` (profile 'offline': effnet-lite0 at 112 px, a Fashion-MNIST ConvHead
source, MNIST-5k target, identity label map, same data, epochs and batch size for every trained method):
  (a) no transform: target images resized straight into the source model, same label map (nothing to train);
  (b) a linear probe on the backbone's pooled features of the same target training images (same epochs, Adam).

    .venv/bin/python benchmarks/reprogram_offline.py --depth 2 > runs/bench/reprogram_offline.log 2>&1

Writes runs/bench/reprogram_offline.{json,md}. Timings are wall-clock on whatever else the machine is running.
"""
import argparse, json, pathlib, time
import torch, torch.nn as nn
from mr_ntk import features, train
from mr_ntk.core import write_json_atomic
from mr_ntk.experiment import Experiment, resolve_config, environment_info
from mr_ntk.core import parse_value

p = argparse.ArgumentParser()
p.add_argument('--depth', type=int, default=2)
p.add_argument('--transforms', nargs='+', default=['vp', 'fc', 'vpfc'])
p.add_argument('--seed', type=int, default=0)
p.add_argument('--profile', default='offline', help='experiment profile (smoke: a seconds-long check of this script)')
p.add_argument('--out', default='runs/bench')
p.add_argument('-p', '--param', nargs=2, action='append', default=[], metavar=('KEY', 'VALUE'), help='profile overrides')
a = p.parse_args()
over = {k: parse_value(v) for k, v in a.param}

def experiment(transform):
    "An offline-profile experiment with data and the (cached) source head ready."
    e = Experiment(resolve_config(a.profile, depth=a.depth, transform=transform, seed=a.seed, progress=False, **over))
    return e.load_data().build_source()

def linear_probe(e):
    "Linear classifier on globally pooled backbone features of the target images, same budget as reprogramming."
    c, (X, y), (Xt, yt) = e.cfg, e.target_train, e.target_test
    pooled = lambda imgs, split: features.extract_features(e.backbone, imgs, cache_key=dict(probe=split, **e.data_key(f'target_{split}')),
                                                         progress=False).mean((2, 3))
    t0 = time.time(); F, Ft = pooled(X, 'train'), pooled(Xt, 'test'); feat_s = time.time() - t0
    torch.manual_seed(c['seed']); lin = nn.Linear(F.shape[1], e.n_target_classes)
    h = train.fit(lin, (F, y), epochs=c['epochs'], lr=c['lr'], batch_size=c['batch_size'], seed=c['seed'], progress=False)
    ev = train.evaluate(lin, Ft, yt)
    return dict(method='(b) linear probe on pooled features', acc=ev['acc'], n_params=sum(q.numel() for q in lin.parameters()),
                s_per_epoch=sum(r['seconds'] for r in h) / len(h), note=f'+{feat_s:.0f} s feature extraction once')

rows, t00 = [], time.time()
e = experiment(a.transforms[0]); e.build_reprogrammed()
ref = e.no_transform_reference()
rows.append(dict(method='(a) no transform (resize + same label map)', acc=ref['acc'], n_params=0, s_per_epoch=None, note='nothing to train'))
rows.append(linear_probe(e))
for t in a.transforms:
    e = experiment(t).build_reprogrammed()
    ev = e.reprogram()
    rows.append(dict(method=t, acc=ev['acc'], n_params=e.model.describe()['n_trainable'], s_per_epoch=e.metrics['reprogram_seconds_per_epoch'],
                     note=f"{e.metrics['reprogram_epochs_run']} epochs"))
    print(rows[-1], flush=True)
cfg = {k: e.cfg[k] for k in ('backbone', 'source', 'target', 'source_size', 'inner_size', 'target_size', 'width', 'depth', 'n_source',
                             'n_target', 'n_target_test', 'epochs', 'batch_size', 'lr', 'vp_lr_mult', 'seed')}
src_acc = e.evaluate_source()['acc']
md = [f"source head: depth {a.depth}, test acc {src_acc:.3f}; settings: {cfg}", '', '| method | target test acc | trainable params | s/epoch | note |', '|---|---|---|---|---|']
fmt = lambda v: '' if v is None else f'{v:.1f}'
md += [f"| {r['method']} | {r['acc']:.3f} | {r['n_params']:,} | {fmt(r['s_per_epoch'])} | {r['note']} |" for r in rows]
out = pathlib.Path(a.out); out.mkdir(parents=True, exist_ok=True)
(out/'reprogram_offline.md').write_text('\n'.join(md) + '\n')
write_json_atomic(out/'reprogram_offline.json', dict(config=cfg, source_acc=src_acc, rows=rows, seconds=time.time() - t00, environment=environment_info()))
print('\n'.join(md))

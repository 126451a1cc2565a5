"""Offline reprogramming benchmark: VP vs FC vs VP+FC vs two references on the offline default.

effnet-lite0 backbone at 112 px; source: a depth-2 / width-128 ConvHead trained on Fashion-MNIST (cached under runs/);
target: MNIST-5k (train subset for training, test split for accuracy); identity label map, CE, same epochs and
batch size for every trained method.

    nohup .venv/bin/python benchmarks/reprogram_offline.py > runs/bench/reprogram_offline.log 2>&1 &

Writes runs/bench/reprogram_offline.{json,md}.
"""
import argparse, json, time, pathlib, platform, sys
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # run from a checkout without installing
import torch, torch.nn as nn
from mr_ntk import data, models
from mr_ntk.transforms import Reprogrammed, LabelMap, make_transform, train_reprogram, estimate_fc_memory

p = argparse.ArgumentParser()
p.add_argument('--n_source', type=int, default=3000)   # Fashion-MNIST training images for the source head
p.add_argument('--n_target', type=int, default=2000)   # MNIST-5k training images for reprogramming
p.add_argument('--n_test', type=int, default=None)     # MNIST-5k test images (None: whole test split)
p.add_argument('--epochs', type=int, default=3)
p.add_argument('--source_epochs', type=int, default=10)
p.add_argument('--batch_size', type=int, default=64)
p.add_argument('--lr', type=float, default=1e-3)
p.add_argument('--vp_lr_mult', type=float, default=100.)
p.add_argument('--inner', type=int, default=56)
p.add_argument('--fc_t', type=int, default=16)
p.add_argument('--methods', default='none,probe,vp,fc,vpfc')
p.add_argument('--out', default='runs/bench')
p.add_argument('--seed', type=int, default=0)
a = p.parse_args()
out = pathlib.Path(a.out); out.mkdir(parents=True, exist_ok=True)
dev = models.pick_device('auto')
T0 = time.time()
def log(*s): print(f"[{time.time()-T0:7.1f}s]", *s, flush=True)

bb = models.get_backbone('effnet-lite0', device=dev)
S = bb.input_size
log('backbone', bb.describe())

# --- source model: depth-2 head on Fashion-MNIST (cached checkpoint) ---
ck = out / f"source_fmnist_d2_w128_n{a.n_source}_e{a.source_epochs}_s{a.seed}.pt"
if ck.exists():
    sd, cfg = models.load_checkpoint(ck)
    head = models.ConvHead.from_config(cfg['head']); head.load_state_dict(sd)
    src_info = cfg['info']; log('loaded source head', ck)
else:
    torch.manual_seed(a.seed)
    head = models.ConvHead(2, 128, 10, bb.out_channels)
    src = models.SourceModel(bb, head)
    Xs, ys = data.get_dataset('fashion_mnist', 'train', n=a.n_source, seed=a.seed)
    t = time.time()
    h = models.train_source(src, (Xs, ys), epochs=a.source_epochs, lr=1e-3, weight_decay=1e-3, seed=a.seed,
                            batch_size=128, cache_key=f"fashion_mnist-train-n{a.n_source}-s{a.seed}", device=dev)
    Xst, yst = data.get_dataset('fashion_mnist', 'test', n=2000, seed=a.seed)
    ev = models.evaluate(src, Xst, yst, device=dev)
    src_info = dict(source_test_acc=ev['acc'], n_train=a.n_source, n_test=len(yst), seconds=time.time() - t)
    models.save_checkpoint(ck, head, dict(head=head.config(), info=src_info))
    log('trained source head', src_info)
source = models.SourceModel(bb, head)

# --- target data ---
Xtr, ytr = data.get_dataset('mnist5k', 'train', n=a.n_target, seed=a.seed)
Xte, yte = data.get_dataset('mnist5k', 'test', n=a.n_test, seed=a.seed)
log('target', tuple(Xtr.shape), tuple(Xte.shape))
fit_kw = dict(epochs=a.epochs, batch_size=a.batch_size, seed=a.seed, device=dev, loss='ce')

rows = []
def record(method, ev, hist=None, n_params=0, note='', extra_s=0.):
    secs = [r['seconds'] for r in hist] if hist is not None else []
    row = dict(method=method, test_acc=round(ev['acc'], 4), test_loss=round(ev['loss'], 4), n_params=n_params,
               epochs=len(secs), s_per_epoch=round(sum(secs) / len(secs), 1) if secs else None,
               extra_s=round(extra_s, 1), per_class_acc=[round(x, 3) for x in ev['per_class_acc']], note=note)
    rows.append(row); log(row)
    json.dump(dict(rows=rows, args=vars(a), source=src_info, device=str(dev), torch_threads=torch.get_num_threads(),
                   host=platform.node()), open(out / 'reprogram_offline.json', 'w'), indent=1)

methods = a.methods.split(',')
if 'none' in methods:   # (a) no transform: nothing to train, only evaluated
    rp = Reprogrammed(source, make_transform('none', S), LabelMap('identity', 10, 10))
    t = time.time(); ev = models.evaluate(rp, Xte, yte, device=dev)
    record('none (resize to 112, identity map)', ev, note='no trainable parameters: evaluated only', extra_s=time.time() - t)

if 'probe' in methods:  # (b) linear probe on pooled backbone features, same loop (models.fit)
    t = time.time()
    Ftr = models.extract_features(bb, Xtr, cache_key=f"mnist5k-train-n{a.n_target}-s{a.seed}").mean((2, 3))
    Fte = models.extract_features(bb, Xte, cache_key=f"mnist5k-test-n{a.n_test}-s{a.seed}").mean((2, 3))
    feat_s = time.time() - t
    torch.manual_seed(a.seed); lin = nn.Linear(Ftr.shape[1], 10)
    hist = models.fit(lin, (Ftr, ytr), lr=a.lr, desc='linear probe', **fit_kw)
    record('linear probe (pooled features)', models.evaluate(lin, Fte, yte, device=dev), hist, sum(p.numel() for p in lin.parameters()),
           note=f'feature extraction {feat_s:.1f}s once (cached), not in s/epoch', extra_s=feat_s)

specs = dict(vp=dict(kind='vp', inner_size=a.inner), fc=dict(kind='fc', target_size=a.fc_t),
             vpfc=dict(kind='vpfc', inner_size=a.inner, target_size=a.fc_t))
for m in [m for m in methods if m in specs]:
    torch.manual_seed(a.seed)
    t = make_transform(source_size=S, **specs[m])
    rp = Reprogrammed(source, t, LabelMap('identity', 10, 10))
    hist = train_reprogram(rp, (Xtr, ytr), lr=a.lr, vp_lr_mult=a.vp_lr_mult, **fit_kw)
    d = t.describe()
    note = f"inner_size={d['inner_size']}, target_size={d['target_size']}"
    if m != 'vp':
        est = estimate_fc_memory(d['target_size'], a.inner if m == 'vpfc' else S)
        note += f"; FC layer {est['n_params']:,} params, {est['gb']:.2f} GB with grad+Adam"
    record(m, models.evaluate(rp, Xte, yte, device=dev), hist, d['n_params'], note=note)

md = ["| method | test acc | test loss | trainable params | epochs | s/epoch | note |", "|---|---|---|---|---|---|---|"]
md += [f"| {r['method']} | {r['test_acc']:.3f} | {r['test_loss']:.3f} | {r['n_params']:,} | {r['epochs']} | {r['s_per_epoch']} | {r['note']} |" for r in rows]
hdr = (f"effnet-lite0 @ {S}px, source fashion_mnist depth-2 width-128 head (n={a.n_source}, test acc {src_info.get('source_test_acc')}), "
       f"target mnist5k train n={len(ytr)} / test n={len(yte)}, identity label map, CE, Adam lr {a.lr} (VP x{a.vp_lr_mult}), "
       f"batch {a.batch_size}, {a.epochs} epochs, device {dev}, {torch.get_num_threads()} threads, total {time.time()-T0:.0f}s\n\n")
(out / 'reprogram_offline.md').write_text(hdr + "\n".join(md) + "\n")
log('done'); print(hdr + "\n".join(md))

"""VP training speed on the offline backbone: default memory layout vs channels_last, float32 vs bfloat16 autocast.

One run, same machine, ratios reported (the machine is shared: absolute seconds drift, ratios within a run are what
to read). Each configuration trains a fresh VP (depth-2 head, effnet-lite0 at 112 px, the package's `fit`) on the
same 512 MNIST-5k images for 3 epochs, batch 32, around the study's trained depth-1 source head (offline profile,
seed 0, loaded from the head cache or trained once), and reports seconds per epoch (best of the 3) and the validation
accuracy/loss on 256 held-out images, so bfloat16's accuracy effect is measured on the same budget.

    python benchmarks/vp_epoch_speed.py    # writes benchmarks/results/vp_epoch_speed.{json,md}
"""
import json, pathlib, time
import torch
from mr_ntk.core import write_json_atomic, atomic_write
from mr_ntk.data import get_dataset
from mr_ntk.experiment import Experiment, resolve_config
from mr_ntk.models import get_backbone, SourceModel
from mr_ntk.transforms import make_transform, LabelMap, Reprogrammed, train_reprogram

torch.manual_seed(0)
X, y = get_dataset('mnist5k', 'train', n=768, seed=0)
tr, va = (X[:512], y[:512]), (X[512:], y[512:])
src = Experiment(resolve_config('offline', depth=1, seed=0, device='cpu', progress=False)).load_data().build_source()
head = src.source_model.head
rows = []
for channels_last in (False, True):
    bb = get_backbone('effnet-lite0', device='cpu')
    if not channels_last: bb.net = bb.net.to(memory_format=torch.contiguous_format); bb.channels_last = False
    for autocast in ('none', 'bf16'):
        model = Reprogrammed(SourceModel(bb, head), make_transform('vp', 112, 56), LabelMap('identity', 10, 10))
        fwd = None
        if autocast == 'bf16':
            def fwd(m, xb):
                with torch.autocast('cpu', dtype=torch.bfloat16): return m(xb).float()
        h = train_reprogram(model, tr, va, lr=1e-3, epochs=3, batch_size=32, seed=0, device='cpu', forward=fwd, progress=False)
        rows.append(dict(channels_last=channels_last, autocast=autocast, s_per_epoch=min(r['seconds'] for r in h),
                         val_acc=h[-1]['val_acc'], val_loss=h[-1]['val_loss']))
        print(rows[-1], flush=True)
base = rows[0]['s_per_epoch']
for r in rows: r['speedup_vs_default'] = base / r['s_per_epoch']
out = pathlib.Path('benchmarks/results'); env = dict(torch=torch.__version__, threads=torch.get_num_threads())
write_json_atomic(out/'vp_epoch_speed.json', dict(rows=rows, env=env, n_train=512, n_val=256, epochs=3, batch=32, source='offline depth-1 head, seed 0'))
md = ['| channels_last | autocast | s/epoch (512 imgs) | speed-up vs default | val acc | val loss |', '|---|---|---|---|---|---|']
md += [f"| {r['channels_last']} | {r['autocast']} | {r['s_per_epoch']:.1f} | {r['speedup_vs_default']:.2f}x | {r['val_acc']:.3f} | {r['val_loss']:.3f} |" for r in rows]
import os
note = (f"\n\n{env}; load average {os.getloadavg()[0]:.1f} at the end of the run (2-core machine). After 3 epochs every "
        "configuration is still near its start, so the accuracy columns only show that bf16 does not break training; they "
        "do not measure its accuracy effect at convergence.\n")
atomic_write(out/'vp_epoch_speed.md', '\n'.join(md) + note)
print('\n'.join(md))

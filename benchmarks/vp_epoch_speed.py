"""VP training speed on the offline backbone: default memory layout vs channels_last, float32 vs bfloat16 autocast, and
`torch.compile` of the reprogrammed model (the `compile` setting) with its one-time compile cost.

One run, same machine, ratios reported (the machine is shared: absolute seconds drift, ratios within a run are what
to read). Each configuration trains a fresh VP (depth-2 head, effnet-lite0 at 112 px, the package's `fit`) on the
same 512 MNIST-5k images for 3 epochs, batch 32, around the study's trained depth-1 source head (offline profile,
seed 0, loaded from the head cache or trained once), and reports seconds per epoch (best of the 3) and the validation
accuracy/loss on 256 held-out images, so bfloat16's accuracy effect is measured on the same budget.

With compile, the first epoch holds the compile: compile seconds = first epoch - the best later epoch. The verdict on
the default compares a typical study run (40 epochs of the 3,600 training images of MNIST-5k, batch 32) with and
without compile, compile time included; validation losses after the same epochs show whether results move beyond float
noise.

    python benchmarks/vp_epoch_speed.py    # writes benchmarks/results/vp_epoch_speed.{json,md}
    python benchmarks/vp_epoch_speed.py --n-train 64 --epochs 2 --out /tmp/vp   # a quick check that it runs
"""
import argparse, json, os, pathlib, time
import torch
from mr_ntk.core import write_json_atomic, atomic_write
from mr_ntk.data import get_dataset
from mr_ntk.experiment import Experiment, resolve_config
from mr_ntk.models import get_backbone, SourceModel
from mr_ntk.train import make_forward
from mr_ntk.transforms import make_transform, LabelMap, Reprogrammed, train_reprogram

ap = argparse.ArgumentParser(); ap.add_argument('--n-train', type=int, default=512); ap.add_argument('--epochs', type=int, default=4)
ap.add_argument('--out', default='benchmarks/results'); args = ap.parse_args()
torch.manual_seed(0)
X, y = get_dataset('mnist5k', 'train', n=args.n_train + 256, seed=0)
tr, va = (X[:args.n_train], y[:args.n_train]), (X[args.n_train:], y[args.n_train:])
src = Experiment(resolve_config('offline', depth=1, seed=0, device='cpu', progress=False)).load_data().build_source()
head = src.source_model.head
EPOCHS, TYPICAL_EPOCHS, STUDY_IMAGES = args.epochs, 40, 3600   # a typical study run: about 40 epochs of MNIST-5k's 3,600 training images
rows, load_start = [], os.getloadavg()[0]
for channels_last, autocast, compile in [(False, 'none', 'none'), (False, 'bf16', 'none'), (True, 'none', 'none'), (True, 'bf16', 'none'),
                                         (True, 'none', 'default')]:
    bb = get_backbone('effnet-lite0', device='cpu')
    if not channels_last: bb.net = bb.net.to(memory_format=torch.contiguous_format); bb.channels_last = False
    model = Reprogrammed(SourceModel(bb, head), make_transform('vp', 112, 56), LabelMap('identity', 10, 10))
    torch._dynamo.reset()
    fwd = make_forward(model, compile, autocast)
    with torch.no_grad():   # the same batch through this forward and the plain one, before training: float noise only
        model.eval(); xb = va[0][:32]; out = fwd(model, xb) if fwd else model(xb); ref = model(xb); model.train()
    h = train_reprogram(model, tr, va, lr=1e-3, epochs=EPOCHS, batch_size=32, seed=0, device='cpu', forward=fwd, progress=False)
    s = [r['seconds'] for r in h]
    rows.append(dict(channels_last=channels_last, autocast=autocast, compile=compile, s_per_epoch=min(s[1:]),
                     first_epoch_s=s[0], compile_s=s[0] - min(s[1:]) if compile == 'default' else 0.,
                     init_output_max_rel_diff=float((out - ref).abs().max() / ref.abs().max()),
                     val_acc=h[-1]['val_acc'], val_loss=h[-1]['val_loss']))
    print(rows[-1], flush=True)
base = rows[0]['s_per_epoch']
for r in rows:
    r['speedup_vs_default'] = base / r['s_per_epoch']
    r['typical_run_s'] = r['compile_s'] + TYPICAL_EPOCHS * r['s_per_epoch'] * STUDY_IMAGES / len(tr[1])
out = pathlib.Path(args.out); env = dict(torch=torch.__version__, threads=torch.get_num_threads())
write_json_atomic(out/'vp_epoch_speed.json', dict(rows=rows, env=env, n_train=len(tr[1]), n_val=256, epochs=EPOCHS, batch=32,
                                                 source='offline depth-1 head, seed 0', load_average=(load_start, os.getloadavg()[0])))
md = [f'| channels_last | autocast | compile | s/epoch ({len(tr[1])} imgs, best after the first) | speed-up vs default | compile s | '
      f'typical run s ({TYPICAL_EPOCHS} epochs x {STUDY_IMAGES} imgs, compile included) | init_output rel. diff | val acc | val loss |',
      '|---|---|---|---|---|---|---|---|---|---|']
md += [f"| {r['channels_last']} | {r['autocast']} | {r['compile']} | {r['s_per_epoch']:.1f} | {r['speedup_vs_default']:.2f}x | {r['compile_s']:.0f} | "
       f"{r['typical_run_s']:.0f} | {r['init_output_max_rel_diff']:.1e} | {r['val_acc']:.3f} | {r['val_loss']:.4f} |" for r in rows]
plain, comp = rows[2], rows[4]
note = (f"\n\n{env}; load average {load_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end of the run (2-core machine). "
        f"After {EPOCHS} epochs every configuration is still near its start, so the accuracy columns only show that bf16 and compile "
        f"do not break training (after a few epochs at the VP learning rate, float differences grow: compare the layouts' rows). "
        f"The init_output column is the largest difference of one batch's outputs from the plain forward before training. Compiled vs plain (channels_last, float32), same seed and epochs: val loss {comp['val_loss']:.5f} vs "
        f"{plain['val_loss']:.5f} (relative difference {abs(comp['val_loss'] - plain['val_loss']) / plain['val_loss']:.1e}). Over a typical run "
        f"compile {'saves' if comp['typical_run_s'] < plain['typical_run_s'] else 'costs'} {abs(plain['typical_run_s'] - comp['typical_run_s']):.0f} s "
        f"of {plain['typical_run_s']:.0f} s.\n")
atomic_write(out/'vp_epoch_speed.md', '\n'.join(md) + note)
print('\n'.join(md))

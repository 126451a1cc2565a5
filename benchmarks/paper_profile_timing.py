"""Time one depth-study run at the paper profile's model size (CLIP ViT-B-32, 224 px, head width 512) on a GPU.

No weights or datasets can be downloaded on the lent GPU machines, so this uses a RANDOMLY INITIALISED ViT-B-32
(`pretrained=False`; every number it prints is a speed measurement, not a result) and offline data
(generated `shapes` as the source, MNIST-5k as the target) in place of CIFAR-10 -> SVHN. Everything else is the
paper profile of `mr_ntk.experiment.PROFILES`.

    python benchmarks/paper_profile_timing.py                 # on a CUDA machine
    python benchmarks/paper_profile_timing.py --device cpu --n-source 40 --n-target 40 --n-test 20 --ntk-per-class 1 --epochs 1  # CPU smoke check

Prints seconds per step and per reprogramming epoch; writes runs/bench/paper_profile_timing.json.
"""
import argparse, json, pathlib, time
import torch
from mr_ntk.core import write_json_atomic
from mr_ntk.experiment import Experiment, resolve_config

p = argparse.ArgumentParser()
p.add_argument('--device', default='auto')
p.add_argument('--transform', default='vp')
p.add_argument('--depth', type=int, default=6)
p.add_argument('--n-source', type=int, default=5000)
p.add_argument('--n-target', type=int, default=4000)
p.add_argument('--n-test', type=int, default=1000)
p.add_argument('--ntk-per-class', type=int, default=10)
p.add_argument('--epochs', type=int, default=2)
p.add_argument('--out', default='runs/bench/paper_profile_timing.json')
a = p.parse_args()

cfg = resolve_config('paper', pretrained=False, source='shapes', target='mnist5k', depth=a.depth, transform=a.transform,
                     n_source=a.n_source, n_source_test=a.n_test, n_target=a.n_target, n_target_test=a.n_test, epochs=a.epochs,
                     ntk_per_class=a.ntk_per_class, ntk_draws=1 if a.ntk_per_class < 10 else 3,
                     source_epochs=a.epochs, device=a.device, out_dir='runs/bench/paper_profile', progress=True)
e = Experiment(cfg)
print(f"RANDOM-INIT {cfg['backbone']} (speed only), device {e.device}")
t0 = time.time()
e.load_data().build_source(); e.evaluate_source(); e.source_spectra()
e.build_reprogrammed(); e.no_transform_reference(); e.target_spectra(); e.reprogram()
if e.device.type == 'cuda': torch.cuda.synchronize()
res = dict(note='RANDOM-INIT ViT-B-32: timings only', device=str(e.device),
           gpu=torch.cuda.get_device_name(e.device) if e.device.type == 'cuda' else None,
           seconds_per_reprogram_epoch=e.metrics['reprogram_seconds_per_epoch'], timings=e.timings, total_seconds=time.time() - t0,
           peak_gpu_gb=torch.cuda.max_memory_allocated(e.device) / 1e9 if e.device.type == 'cuda' else None,
           config={k: cfg[k] for k in ('backbone', 'source_size', 'inner_size', 'width', 'depth', 'transform', 'n_source', 'n_target', 'batch_size', 'epochs')})
write_json_atomic(a.out, res)
print(json.dumps(res, indent=1))

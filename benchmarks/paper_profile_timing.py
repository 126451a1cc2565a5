"""The paper's setting rehearsed at full model size: the `paper` profile (CLIP ViT-B-32 at 224 px, CIFAR-10 -> SVHN, head
width 512, FC at paper size) end to end, on the CPU or a GPU, with RANDOM weights and a few synthesised images.

No pretrained CLIP, CIFAR-10 or SVHN can be downloaded here, so the script writes CIFAR-10 binary batches and SVHN `.mat`
files in their real on-disk formats (random pixels, balanced labels) and runs the real loaders on them, with
`pretrained=False` (a randomly initialised ViT-B-32, labelled RANDOM-INIT in every output). Every number it writes is a
speed or memory measurement, never a result. Each transform (VP, FC, VP+FC) runs in its own process, so its peak memory
is its own: features, head, source and target NTK, predictors, training, evaluation and record, 1 source epoch and 1
reprogramming epoch. Then it times training steps per image at the paper's batch size and extrapolates a full paper run
(marked as an extrapolation).

    python benchmarks/paper_profile_timing.py                       # CPU or CUDA (device auto), writes benchmarks/results/
    python benchmarks/paper_profile_timing.py --per-class 1 --ntk-per-class 1 --step-images 4 --out /tmp/x   # quick (the slow test)
    python benchmarks/paper_profile_timing.py --fc-budget-gb 1      # FC at paper size refused by its memory budget

Writes paper_profile_<device>.json and .md into --out.
"""
import argparse, json, os, platform, resource, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np

PAPER_SIZES = dict(n_source=50000, n_source_test=10000, n_target=73257, n_target_test=26032)   # CIFAR-10 train/test, SVHN train/test


def write_cifar10(root:Path, per_class:int, n_test_per_class:int, seed:int=0):
    "CIFAR-10 binary version: data_batch_1..5.bin and test_batch.bin of 3073-byte records (label, then 3x32x32 pixels)."
    rng, d = np.random.default_rng(seed), root/'cifar-10-batches-bin'
    d.mkdir(parents=True, exist_ok=True)
    def records(n_per_class):
        y = np.repeat(np.arange(10, dtype=np.uint8), n_per_class)
        return np.concatenate([y[:, None], rng.integers(0, 256, (len(y), 3072), dtype=np.uint8)], 1)
    for i in range(1, 6): records(per_class).tofile(d/f'data_batch_{i}.bin')   # each batch: per_class images of every class
    records(n_test_per_class).tofile(d/'test_batch.bin')


def write_svhn(root:Path, per_class:int, n_test_per_class:int, seed:int=1):
    "SVHN cropped digits: train_32x32.mat / test_32x32.mat with X (32,32,3,N) uint8 and y (N,1) in 1..10 (10 is the digit 0)."
    from scipy.io import savemat
    rng = np.random.default_rng(seed)
    for split, k in (('train', per_class), ('test', n_test_per_class)):
        y = np.repeat(np.arange(1, 11, dtype=np.uint8), k)[:, None]
        savemat(root/f'{split}_32x32.mat', dict(X=rng.integers(0, 256, (32, 32, 3, len(y)), dtype=np.uint8), y=y))


def peak_rss_gb() -> float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # Linux: KiB


def run_one(a) -> dict:
    "One transform end to end in this process; its timings, per-image step times and peak memory."
    import torch
    from mr_ntk import transforms
    from mr_ntk.experiment import Experiment, resolve_config
    torch.manual_seed(0)
    cfg = resolve_config('paper', pretrained=False, data_root=a.data, transform=a.one, depth=a.depth, source_epochs=1, epochs=1,
                         lr_grid=[1e-3], ntk_per_class=a.ntk_per_class, ntk_draws=1, fc_memory_budget_gb=a.fc_budget_gb,
                         device=a.device, out_dir=str(Path(a.data)/'records'), progress=False)
    e = Experiment(cfg)
    out = dict(transform=a.one, device=str(e.device), backbone=f"RANDOM-INIT {cfg['backbone']} (pretrained=False)")
    try: e.run()
    except ValueError as err:   # the FC budget refusal: reported, not hidden
        if 'memory_budget_gb' not in str(err): raise
        return dict(out, refused=str(err), peak_rss_gb=peak_rss_gb())
    sync = torch.cuda.synchronize if e.device.type == 'cuda' else (lambda: None)
    X, y = e.target_train
    X, y = X[:a.step_images], y[:a.step_images]
    steps = {}
    for bs in sorted({1, min(a.step_images, cfg['batch_size'])}):   # warm-up epoch, then a timed one
        for timed in (False, True):
            sync(); t0 = time.perf_counter()
            transforms.train_reprogram(e.model, (X, y), None, lr=1e-5, vp_lr_mult=cfg['vp_lr_mult'], epochs=1, batch_size=bs,
                                       seed=0, device=e.device, progress=False)
            sync()
            if timed: steps[bs] = (time.perf_counter() - t0) / len(X)
    m = e.metrics
    return dict(out, timings=e.timings, n_trainable=m['n_trainable'], step_s_per_image=steps, batch_size=cfg['batch_size'],
                target_ntk_n=m['target_ntk_n'], target_ntk_dtype=m['target_ntk_dtype'], n_source_train=len(e.source_train[1]),
                n_source_test=len(e.source_test[1]), n_target_train=len(e.target_train[1]), n_target_test=len(e.target_test[1]),
                peak_rss_gb=peak_rss_gb(),
                peak_gpu_gb=torch.cuda.max_memory_allocated(e.device) / 2**30 if e.device.type == 'cuda' else None)


def step_at_batch(steps:dict, batch:int) -> float:
    "Seconds per image at `batch`, from per-image times at two batch sizes and a step cost a + b * batch (a: the optimiser update)."
    (b1, s1), (b2, s2) = sorted(steps.items())[0], sorted(steps.items())[-1]
    if b1 == b2: return s1
    a = (s1 - s2) / (1 / b1 - 1 / b2); b = s1 - a / b1
    return max(a, 0) / batch + max(b, 0)

def source_hours(r:dict) -> float:
    "One feature pass over the paper's source images (train + test), from a row that extracted and trained its head (not cached)."
    t = r['timings']
    return (t['source_train'] + t['source_eval']) / (r['n_source_train'] + r['n_source_test']) * (PAPER_SIZES['n_source'] + PAPER_SIZES['n_source_test']) / 3600

def extrapolate(r:dict, epochs:int=60, lr_trials:int=3, lr_epochs:int=2) -> dict:
    "EXTRAPOLATION of a full paper run's transform part (PAPER_SIZES, the paper's batch) from the rehearsal's times; hours."
    t, n = r['timings'], PAPER_SIZES
    step = step_at_batch(r['step_s_per_image'], r['batch_size'])
    fwd_s_per_img = t['target_eval'] / r['n_target_test']
    train_imgs = 0.9 * n['n_target']   # val_fraction 0.1
    hours = dict(target_ntk=t['target_ntk'] * (100 / r['target_ntk_n']) / 3600,   # ntk_per_class 10: 100 images; n*c backward passes dominate
                 lr_search=lr_trials * lr_epochs * (step * train_imgs + fwd_s_per_img * 0.1 * n['n_target']) / 3600,
                 reprogram_cap=epochs * (step * train_imgs + fwd_s_per_img * 0.1 * n['n_target']) / 3600,
                 target_eval=fwd_s_per_img * n['n_target_test'] / 3600)
    return dict(hours, total=sum(hours.values()), step_s_per_image_at_batch=step,
                note=f'EXTRAPOLATION from a few-image rehearsal: training steps extrapolated to batch {r["batch_size"]} from batches '
                     f'{sorted(r["step_s_per_image"])} (step cost a + b * batch); the epoch cap (60) is the worst case; '
                'patience usually stops earlier; the target NTK is scaled linearly in its images (its n x 10 backward passes through '
                'the backbone dominate; the Gram products grow as n^2 and are a small part at 100 images)')


def markdown(rows:list, a) -> str:
    dev = rows[0]['device']
    lines = [f"# The paper profile rehearsed at full model size on `{dev}`", '', f"Conditions: {a.conditions}", '',
             f"RANDOM-INIT ViT-B-32 (pretrained=False): speed and memory only, no result. Synthesised CIFAR-10 / SVHN files in their real "
             f"formats: CIFAR-10 {a.per_class} train image(s) per class in each of its 5 batch files, SVHN {2 * a.per_class} per class. Machine: {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} logical CPUs; torch threads as set by the environment (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}). "
             f"Written {time.strftime('%Y-%m-%d %H:%M')}.", '',
             '| transform | trainable params | train step s/image (batch 1) | train step s/image (batch k) | target NTK s (n images) | peak RSS GB | peak GPU GB |',
             '|---|---|---|---|---|---|---|']
    for r in rows:
        if 'refused' in r:
            lines.append(f"| {r['transform']} | refused: {r['refused'][:160]}... | | | | {r['peak_rss_gb']:.1f} | |"); continue
        s, gpu = r['step_s_per_image'], r['peak_gpu_gb']; k = max(s)
        lines.append(f"| {r['transform']} | {r['n_trainable']:,} | {s[min(s)]:.3f} | {s[k]:.3f} (k={k}) | "
                     f"{r['timings']['target_ntk']:.1f} ({r['target_ntk_n']}, {r['target_ntk_dtype']}) | {r['peak_rss_gb']:.1f} | "
                     f"{'' if gpu is None else f'{gpu:.1f}'} |")
    ok = [r for r in rows if 'refused' not in r]
    if ok:
        src = source_hours(max(ok, key=lambda r: r['timings']['source_train']))   # the row that built the head (the others load it)
        lines += ['', '## EXTRAPOLATION: a full paper run (CIFAR-10 50k/10k -> SVHN 73k/26k, 60-epoch cap, 3-rate search) on this device, hours', '',
                  f"Source features (one pass over 60k CIFAR-10 images, shared by every transform and depth through the cache): {src:.1f} h.", '',
                  '| transform | train step s/image at batch 128 | target NTK (100 images) | LR search | reprogramming (cap) | target eval | total |',
                  '|---|---|---|---|---|---|---|']
        for r in ok:
            h = r['extrapolated_hours']
            lines.append(f"| {r['transform']} | {h['step_s_per_image_at_batch']:.3f} | {h['target_ntk']:.2f} | {h['lr_search']:.1f} | "
                         f"{h['reprogram_cap']:.1f} | {h['target_eval']:.2f} | {h['total']:.1f} |")
        lines += ['', ok[0]['extrapolated_hours']['note'] + '.']
    lines += ['', 'Step timings in seconds per image, full reprogrammed model (transform + frozen ViT-B-32 + head) forward, backward and '
              'Adam step; the timings of every step of the run are in the JSON.']
    return '\n'.join(lines) + '\n'


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='auto'); p.add_argument('--depth', type=int, default=2)
    p.add_argument('--transforms', nargs='+', default=['vp', 'fc', 'vpfc'])
    p.add_argument('--per-class', type=int, default=2, help='train images per class (CIFAR-10: in each of the 5 batch files)')
    p.add_argument('--test-per-class', type=int, default=1)
    p.add_argument('--ntk-per-class', type=int, default=10, help='target NTK images per class (the paper profile: 10)')
    p.add_argument('--step-images', type=int, default=16, help='images for the per-image step timing')
    p.add_argument('--fc-budget-gb', type=float, default=None, help="FC memory budget (default: the paper profile's)")
    p.add_argument('--out', default=str(Path(__file__).parent/'results'))
    p.add_argument('--conditions', default=None, help="what else ran (default: the load average before the run)")
    p.add_argument('--render', default=None, help='rewrite the markdown of this JSON (no run)')
    p.add_argument('--one', default=None, help=argparse.SUPPRESS); p.add_argument('--data', default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.fc_budget_gb is None:
        from mr_ntk.settings import PROFILES
        a.fc_budget_gb = PROFILES['paper']['fc_memory_budget_gb']
    if a.one:
        print(json.dumps(run_one(a))); return 0
    if a.render:
        from mr_ntk.core import atomic_write
        d = json.loads(Path(a.render).read_text()); d['args']['conditions'] = a.conditions or d['args'].get('conditions')
        args, rows = argparse.Namespace(**d['args']), d['rows']
        for r in rows:
            r['step_s_per_image'] = {int(k): v for k, v in r.get('step_s_per_image', {}).items()}
            if 'refused' not in r: r['extrapolated_hours'] = extrapolate(r)
        from mr_ntk.core import write_json_atomic
        write_json_atomic(a.render, d); atomic_write(Path(a.render).with_suffix('.md'), markdown(rows, args)); print(markdown(rows, args)); return 0
    a.conditions = a.conditions or f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs when the rehearsal started"
    rows = []
    with tempfile.TemporaryDirectory() as d:
        write_cifar10(Path(d), a.per_class, a.test_per_class); write_svhn(Path(d), 2 * a.per_class, a.test_per_class)
        env = dict(os.environ, MR_NTK_CACHE=str(Path(d)/'cache'))   # nothing of the rehearsal lands in the user's caches
        for t in a.transforms:
            cmd = [sys.executable, __file__, '--one', t, '--data', d] + sum(([f'--{k.replace("_", "-")}', str(getattr(a, k))] for k in
                   ('device', 'depth', 'ntk_per_class', 'step_images', 'fc_budget_gb')), [])
            print(f"[rehearsal] {t}: RANDOM-INIT ViT-B-32, paper profile ...", flush=True)
            t0 = time.time(); r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if r.returncode: sys.stderr.write(r.stderr[-4000:]); raise SystemExit(f"[rehearsal] {t} failed (rc {r.returncode})")
            row = json.loads(r.stdout.strip().splitlines()[-1]); row['wall_s'] = time.time() - t0
            row['step_s_per_image'] = {int(k): v for k, v in row.get('step_s_per_image', {}).items()}
            if 'refused' not in row: row['extrapolated_hours'] = extrapolate(row)
            rows.append(row); print(f"[rehearsal] {t}: {row.get('refused') or 'ran'} ({row['wall_s']:.0f} s, peak {row['peak_rss_gb']:.1f} GB)", flush=True)
    out, dev = Path(a.out), rows[0]['device'].split(':')[0]
    out.mkdir(parents=True, exist_ok=True)
    from mr_ntk.core import write_json_atomic, atomic_write
    write_json_atomic(out/f'paper_profile_{dev}.json', dict(note='RANDOM-INIT ViT-B-32: speed and memory only', args=vars(a), rows=rows))
    atomic_write(out/f'paper_profile_{dev}.md', markdown(rows, a))
    print(markdown(rows, a))
    return 0


if __name__ == '__main__': sys.exit(main())

"""The hot paths quiet and under a synthetic background load, under each thread policy, in one run (issue 28, section 4).

Load: one busy Python process per logical CPU (`while True: pass`), started before a loaded measurement and stopped
after it; quiet and loaded measurements of one (workload, policy) follow each other, so machine drift between them is
small. Every measurement runs in a fresh subprocess, because the OpenMP wait policy is read when torch loads its
OpenMP runtime.

Policies:
- `default`: what torch does unasked (intra-op threads = logical CPUs, OpenMP's default wait policy);
- `passive`: `OMP_WAIT_POLICY=PASSIVE` (idle OpenMP threads sleep instead of spinning), threads as default;
- `threads1`: one intra-op thread everywhere (`OMP_NUM_THREADS=1`);
- `mr_ntk`: what the package does (imported before torch): `OMP_WAIT_POLICY=PASSIVE` from `mr_ntk/__init__.py`, and
  one intra-op thread for ops under `mr_ntk.core.SMALL_WORK` elements (`threads_for`). The other three policies
  import torch first (so mr_ntk leaves the wait policy alone) and switch the size rule off (`SMALL_WORK = 0`).

Workloads (the study's hot paths):
- `cntk_4x4_d6`, `cntk_7x7_d6`: `cntk_gap` of 100 random post-ReLU maps of 1280 channels, depth 6, float64
  (as `benchmarks/cntk_vs_neural_tangents.py`), with neural-tangents' jitted kernel timed in the same condition;
- `vp_epoch`: one epoch of VP training (`train_reprogram`, effnet-lite0 at 112 px, depth-3 head at init, 128 MNIST-5k
  images, batch 32): seconds per image;
- `target_ntk`: the target NTK step of a run (`ntk.reprogram_spectrum` of that VP model on 10 images, float64 rule).

Timings are the median of --repeats calls after one warm-up call. Ratios loaded/quiet are per policy.

    python benchmarks/contention.py                 # writes benchmarks/results/contention.{json,md}
    python benchmarks/contention.py --quick --out /tmp/cont   # a small check that it runs
"""
import argparse, json, os, pathlib, statistics, subprocess, sys, time

HERE = pathlib.Path(__file__).resolve().parent
POLICIES = {'default': {}, 'passive': {'OMP_WAIT_POLICY': 'PASSIVE'}, 'threads1': {'OMP_NUM_THREADS': '1'}, 'mr_ntk': {}}
WORKLOADS = ('cntk_4x4_d6', 'cntk_7x7_d6', 'vp_epoch', 'target_ntk')
NTK_IMAGES = int(os.environ.get('MR_NTK_BENCH_NTK_IMAGES', 100))   # the study's ntk_per_class=10 x 10 classes

def _median_times(f, repeats:int) -> list:
    f(); ts = []
    for _ in range(repeats): t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return ts

def _vp_model():
    import torch
    from mr_ntk.models import get_backbone, ConvHead, SourceModel
    from mr_ntk.transforms import make_transform, LabelMap, Reprogrammed
    torch.manual_seed(0)
    bb = get_backbone('effnet-lite0', device='cpu')
    head = ConvHead(3, 128, 10, bb.out_channels)
    return Reprogrammed(SourceModel(bb, head), make_transform('vp', 112, 56), LabelMap('identity', 10, 10))

def worker(workload:str, policy:str, repeats:int, quick:bool) -> dict:
    "Time one workload in this process; returns the per-call seconds and the thread count torch used."
    if policy == 'mr_ntk': import mr_ntk   # before torch: its wait policy applies
    import torch, mr_ntk.core
    if policy != 'mr_ntk': mr_ntk.core.SMALL_WORK = 0   # no size rule: torch's thread count for every op
    from mr_ntk.data import get_dataset
    res = dict(threads=torch.get_num_threads(), unit='s per call', omp_wait_policy=mr_ntk.core.omp_wait_policy())
    if workload.startswith('cntk'):
        from mr_ntk.ntk import cntk_gap
        side = int(workload.split('_')[1][0]); n = 30 if quick else 100
        x = torch.randn(n, 1280, side, side, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).relu()
        res['times'] = _median_times(lambda: cntk_gap(x, depth=6), repeats)
    elif workload == 'vp_epoch':
        from mr_ntk.transforms import train_reprogram
        model, n = _vp_model(), 32 if quick else 128
        X, y = get_dataset('mnist5k', 'train', n=n, seed=0)
        f = lambda: train_reprogram(model, (X, y), None, epochs=1, batch_size=32, seed=0, device='cpu', progress=False)
        res['times'] = [t / n for t in _median_times(f, repeats)]; res['unit'] = 's per image'
    elif workload == 'target_ntk':
        from mr_ntk.ntk import reprogram_spectrum
        model = _vp_model(); X, _ = get_dataset('mnist5k', 'train', n=4 if quick else NTK_IMAGES, seed=0)
        res['times'] = _median_times(lambda: reprogram_spectrum(model, X), repeats)
    else: raise ValueError(f"workload={workload!r}: one of {WORKLOADS}")
    return res

def _busy(n:int) -> list:
    return [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(n)]

def _stop(procs:list):
    for p in procs: p.kill()
    for p in procs: p.wait()

def measure(workload:str, policy:str, loaded:bool, repeats:int, quick:bool) -> dict:
    "One subprocess under `policy`, with one busy process per CPU around it when `loaded`."
    env = {k: v for k, v in os.environ.items() if k not in ('OMP_NUM_THREADS', 'OMP_WAIT_POLICY', 'MKL_NUM_THREADS')}
    env |= POLICIES[policy]
    load = _busy(os.cpu_count()) if loaded else []
    try:
        time.sleep(1. if loaded else 0.)
        r = subprocess.run([sys.executable, __file__, '--worker', workload, '--policy', policy, '--repeats', str(repeats)]
                           + ['--quick'] * quick, env=env, capture_output=True, text=True)
    finally: _stop(load)
    if r.returncode: sys.exit(f"worker {workload}/{policy} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])

def measure_nt(workload:str, loaded:bool, ntpython:str, repeats:int, quick:bool) -> float:
    "neural-tangents' jitted kernel for a CNTK workload, in the same condition (nan when its venv is missing)."
    if not pathlib.Path(ntpython).exists(): return float('nan')
    import torch; sys.path.insert(0, str(HERE))
    from cntk_vs_neural_tangents import nt_kernel
    side = int(workload.split('_')[1][0]); n = 30 if quick else 100
    x = torch.randn(n, 1280, side, side, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).relu()
    load = _busy(os.cpu_count()) if loaded else []
    try: return nt_kernel(ntpython, x, 6, 2 ** .5, .1 ** .5, repeats=repeats)[1]
    finally: _stop(load)

def table(rows:list) -> list:
    md = ['| workload | policy | threads | quiet | loaded | loaded / quiet | neural-tangents quiet | loaded |',
          '|---|---|---|---|---|---|---|---|']
    for r in rows:
        nt = (f"{r['nt_quiet']:.3g} s | {r['nt_loaded']:.3g} s" if r.get('nt_quiet') == r.get('nt_quiet')
              and r.get('nt_quiet') is not None else ' | ')
        u = 's/img' if r['unit'] == 's per image' else 's'
        md.append(f"| {r['workload']} | {r['policy']} | {r['threads']} | {r['quiet']:.3g} {u} | {r['loaded']:.3g} {u} | "
                  f"{r['ratio']:.2f} | {nt} |")
    return md

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--worker'); ap.add_argument('--policy', default='mr_ntk'); ap.add_argument('--repeats', type=int, default=3); ap.add_argument('--quick', action='store_true')
    ap.add_argument('--workloads', nargs='+', default=list(WORKLOADS), choices=WORKLOADS)
    ap.add_argument('--policies', nargs='+', default=list(POLICIES), choices=list(POLICIES))
    ap.add_argument('--ntpython', default=os.environ.get('NT_PYTHON', '/work/ntvenv/bin/python'))
    ap.add_argument('--out', default=str(HERE/'results'))
    ap.add_argument('--render', nargs='+', help='print the table of these contention.json files (no measuring)')
    a = ap.parse_args()
    if a.worker: print(json.dumps(worker(a.worker, a.policy, a.repeats, a.quick))); return
    if a.render:
        for f in a.render:
            rows = json.load(open(f))['rows']
            for r in rows: r.setdefault('busy', os.cpu_count()); r.setdefault('cpus', os.cpu_count())
            print('\n'.join(table(rows)))
        return
    sys.path.insert(0, str(HERE.parent))
    from mr_ntk.core import write_json_atomic, atomic_write
    rows, start = [], time.strftime('%Y-%m-%d %H:%M')
    load_before = os.getloadavg()[0]
    for w in a.workloads:
        nt = {}
        if w.startswith('cntk'):
            nt = dict(nt_quiet=measure_nt(w, False, a.ntpython, a.repeats, a.quick),
                      nt_loaded=measure_nt(w, True, a.ntpython, a.repeats, a.quick))
        for p in a.policies:
            q, l = measure(w, p, False, a.repeats, a.quick), measure(w, p, True, a.repeats, a.quick)
            row = dict(workload=w, policy=p, threads=q['threads'], busy=os.cpu_count(), cpus=os.cpu_count(), unit=q['unit'], quiet=statistics.median(q['times']),
                       loaded=statistics.median(l['times']), quiet_times=q['times'], loaded_times=l['times'], **nt)
            row['ratio'] = row['loaded'] / row['quiet']; rows.append(row)
            print(table([row])[-1], flush=True)
    out = pathlib.Path(a.out); out.mkdir(parents=True, exist_ok=True)
    env = dict(cpus=os.cpu_count(), python=sys.version.split()[0], load_average_before=load_before, started=start,
               quick=a.quick, repeats=a.repeats)
    write_json_atomic(out/'contention.json', dict(rows=rows, env=env))
    md = ['# Hot paths quiet and under load (one busy process per CPU)', ''] + table(rows) + [
        '', f"Median of {a.repeats} calls after a warm-up, each (workload, policy, condition) in a fresh process; "
        f"{os.cpu_count()} logical CPUs; load average {load_before:.2f} before the run; started {start}; target NTK on "
        f"{NTK_IMAGES} images."
        + (' QUICK settings: a check that the script runs, not a measurement.' if a.quick else '')]
    atomic_write(out/'contention.md', '\n'.join(md) + '\n')
    print('\n'.join(md))

if __name__ == '__main__': main()

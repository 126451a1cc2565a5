"""Closed-form reprogramming NTKs vs `empirical_ntk` (jacobian and nvp), and the FC closed form at paper size.

Usage: .venv/bin/python benchmarks/ntk_closed_form.py [--n 16] [--skip-paper] [--out runs/bench]

Peak memory is the increase of the peak resident set size of a fresh worker process (one per measurement) (Linux VmHWM, reset through
/proc/self/clear_refs before each measurement) over the resident size just before it: it counts every
allocation, torch's CPU allocator included (tracemalloc would not see torch tensors).
The source model is a cheap random stand-in conv net (the point is the kernel, not the source model).
"""
import argparse, json, math, os, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout without installing
import torch, torch.nn as nn
from mr_ntk.ntk import reprogram_ntk
from mr_ntk.transforms import VisualPrompt, FCTransform, LabelMap, Reprogrammed


def _status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key): return int(line.split()[1]) * 1024
    return 0

def measure(fn, repeats=1):
    "(result, best wall seconds over `repeats` after one warm-up, peak RSS increase in bytes) of fn()."
    try: open('/proc/self/clear_refs', 'w').write('5')
    except OSError: pass
    base, best, out = _status('VmRSS'), math.inf, None   # the process's peak RSS is reset to its current RSS
    if repeats > 1: fn()   # untimed warm-up (first-call kernel/primitive set-up); its memory still counts
    for _ in range(repeats):
        out = None; t = time.perf_counter(); out = fn(); best = min(best, time.perf_counter() - t)
    return out, best, max(0, _status('VmHWM') - base)


class TinySource(nn.Module):
    "Random conv net stand-in for the source model: (n,3,S,S) -> (n,c_S)."
    def __init__(self, n_classes=10, stride=1):
        super().__init__(); self.n_classes = n_classes
        self.net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=stride, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
                                 nn.Flatten(), nn.Linear(32, n_classes))
    def forward(self, s): return self.net(s)

def make_model(transform, c_S, c_T, dtype, stride=1, seed=0):
    torch.manual_seed(seed)
    m = Reprogrammed(TinySource(c_S, stride), transform, LabelMap('random', c_S, c_T, seed=seed)).to(dtype)
    with torch.no_grad():
        for p in m.transform.parameters(): p.normal_(0, 0.5) if p.numel() < 10**7 else None
    return m

def build(kind, size, n, c_S, c_T):
    "The (model, inputs) of one comparison; deterministic, so every worker process builds the same."
    if kind == 'vp':
        S = int(size); t = S // 2
        return make_model(VisualPrompt(S, t), c_S, c_T, torch.float64), torch.rand(n, 3, t, t, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    t, S = map(int, size.split(':'))
    return make_model(FCTransform(t, S, init='default'), c_S, c_T, torch.float64), torch.rand(n, 3, t, t, dtype=torch.float64, generator=torch.Generator().manual_seed(1))

def worker(job):
    "Run in a fresh process: time and peak memory of one kernel computation; the kernel goes to job['save']."
    model, x = build(job['kind'], job['size'], job['n'], job['c_S'], job['c_T'])
    K, sec, mem = measure(lambda: reprogram_ntk(model, x, mode='full', method=job['method']), job['repeats'])
    torch.save(K, job['save'])
    print(json.dumps(dict(seconds=sec, peak_mb=mem / 2**20, n_params=sum(p.numel() for p in model.transform.parameters()))))

def compare(kind, size, a, tmp):
    "closed vs jacobian vs nvp, each in its own process."
    rows, ref = [], None
    for method in ('closed', 'jacobian', 'nvp'):
        job = dict(kind=kind, size=size, n=a.n, c_S=a.c_source, c_T=a.c_target, method=method, repeats=a.repeats, save=str(tmp / 'K.pt'))
        res = subprocess.run([sys.executable, __file__, '--job', json.dumps(job)], capture_output=True, text=True)
        if res.returncode: raise RuntimeError(res.stderr[-2000:])
        r = json.loads(res.stdout.strip().splitlines()[-1]); K = torch.load(job['save'])
        if ref is None: ref = K
        d = (K - ref).abs().max().item()
        rows.append(dict(kind=kind, size=size if kind == 'fc' else f"{int(size)//2}:{size}", method=method, n=a.n, **r,
                         max_abs_diff=d, max_rel_diff=d / ref.abs().max().item()))
        print(rows[-1], flush=True)
    for r in rows: r['speedup_closed'] = r['seconds'] / rows[0]['seconds']
    return rows

def paper_fc(n, c_T):
    "FC closed form at paper size: 3*32*32 -> 3*224*224, float32, n samples, c_T outputs."
    torch.manual_seed(0)
    t = FCTransform(32, 224, memory_budget_gb=64., init='default')   # weights only here: ~1.9 GB, no optimiser state
    m = make_model(t, 10, c_T, torch.float32, stride=4)
    x = torch.rand(n, 3, 32, 32)
    K, sec, mem = measure(lambda: reprogram_ntk(m, x, mode='full', method='closed', chunk_size=25))
    try: reprogram_ntk(m, x[:2], method='jacobian'); refusal = 'computed?!'
    except MemoryError as e: refusal = str(e)
    ev = torch.linalg.eigvalsh(K.permute(0, 2, 1, 3).reshape(n * c_T, -1).double())
    return dict(kind='fc-paper', size='32->224', method='closed', n=n, n_params=sum(p.numel() for p in t.parameters()),
                seconds=sec, peak_mb=mem / 2**20, kernel_shape=list(K.shape), lambda_min=ev[0].item(),
                lambda_max=ev[-1].item(), jacobian_refusal=refusal)

def to_markdown(rows):
    cols = ['kind', 'size', 'method', 'n', 'n_params', 'seconds', 'speedup_closed', 'peak_mb', 'max_abs_diff', 'max_rel_diff']
    fmt = lambda v: f"{v:.3g}" if isinstance(v, float) else str(v)
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    lines += ['| ' + ' | '.join(fmt(r.get(c, '')) for c in cols) + ' |' for r in rows]
    return '\n'.join(lines)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=16, help='target samples in the small comparisons')
    ap.add_argument('--c-source', type=int, default=10); ap.add_argument('--c-target', type=int, default=5)
    ap.add_argument('--vp-sizes', type=int, nargs='+', default=[16, 32, 64], help='source sizes S (inner S/2)')
    ap.add_argument('--fc-sizes', type=str, nargs='+', default=['4:16', '8:32', '16:32'], help='target:source sizes t:S')
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--paper-n', type=int, default=100); ap.add_argument('--paper-c', type=int, default=10)
    ap.add_argument('--skip-paper', action='store_true')
    ap.add_argument('--out', default='runs/bench')
    ap.add_argument('--job', default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.job: return worker(json.loads(a.job))
    rows, tmp = [], Path(tempfile.mkdtemp())
    for S in a.vp_sizes: rows += compare('vp', str(S), a, tmp)
    for ts in a.fc_sizes: rows += compare('fc', ts, a, tmp)
    paper = None if a.skip_paper else paper_fc(a.paper_n, a.paper_c)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    md = to_markdown(rows)
    if paper: md += ('\n\nFC at paper size (float32, CPU, %d threads): n=%d, c_T=%d, %d parameters: closed form %.1f s, '
                     'peak RSS +%.0f MB, kernel %s, lambda_min %.3g, lambda_max %.3g.\nJacobian method: %s\n') % (
        torch.get_num_threads(), paper['n'], a.paper_c, paper['n_params'], paper['seconds'], paper['peak_mb'],
        paper['kernel_shape'], paper['lambda_min'], paper['lambda_max'], paper['jacobian_refusal'])
    (out / 'ntk_closed_form.md').write_text(md + '\n')
    (out / 'ntk_closed_form.json').write_text(json.dumps(dict(rows=rows, paper=paper, args=vars(a)), indent=1))
    print(md)

if __name__ == '__main__': main()

"""`cntk_gap` against neural-tangents' jitted `stax` kernel: agreement (diagonal included) and speed, side by side.

neural-tangents lives in its own venv (JAX): build it with `bash /work/shared/tools/ntvenv.sh /work/ntvenv` (or pass
--ntpython). The equivalent network: `stax.serial(*[Conv(w, (3,3), padding='SAME', W_std=sw, b_std=sb), Relu()]*depth,
GlobalAvgPool(), Dense(c, W_std=sw, b_std=sb))`, NTK parameterisation, NHWC input, float64 (`jax_enable_x64`).

Agreement is reported against stock neural-tangents and against neural-tangents with its diagonal rounding removed
(`prod - nngp**2` below 1e-12 of the largest variance squared read as 0: on the pixel diagonal of a sample with itself
rho = 1 exactly, but stock neural-tangents' theta comes out ~1e-8 and its kernel diagonal ~1e-10 low).
Timings: best of --repeats runs in this one process (ours) and one neural-tangents process (jitted, after a warm-up
call that compiles), on the same inputs; ratio = ours / neural-tangents.

    python benchmarks/cntk_vs_neural_tangents.py                      # n=100, C=1280, 4x4 and 7x7, depth 1 and 6
    python benchmarks/cntk_vs_neural_tangents.py --print-reference    # the constants of nbs/06_ntk.ipynb's NT_REF
Writes benchmarks/results/cntk_vs_neural_tangents.{csv,md}.
"""
import argparse, csv, math, os, pathlib, subprocess, sys, tempfile, time
import numpy as np, torch
from mr_ntk.ntk import cntk_gap

NT_CODE = r'''
import sys, time, os
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax, jax.numpy as jnp
jax.config.update('jax_enable_x64', True)
from neural_tangents import stax
from neural_tangents._src.stax import elementwise
inp, depth, sw, sb, exact, out, reps = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5] == '1', sys.argv[6], int(sys.argv[7])
x = np.load(inp)
if exact:
    tol = 1e-12 * (sw**2 * 9 * (x**2).mean(1).max() + sb**2)**2
    elementwise._sqrt = lambda v, t=0.: jnp.sqrt(jnp.where(v <= tol, 0., jnp.maximum(v, t)))
_, _, kfn = stax.serial(*[stax.Conv(8, (3, 3), padding='SAME', W_std=sw, b_std=sb), stax.Relu()] * depth,
                        stax.GlobalAvgPool(), stax.Dense(3, W_std=sw, b_std=sb))
kfn = jax.jit(kfn, static_argnames='get')
xj = jnp.asarray(x.transpose(0, 2, 3, 1))
K = np.asarray(kfn(xj, None, get='ntk').block_until_ready())
ts = []
for _ in range(reps):
    t = time.perf_counter(); kfn(xj, None, get='ntk').block_until_ready(); ts.append(time.perf_counter() - t)
np.save(out, K); print(min(ts) if ts else float('nan'))
'''

def nt_kernel(ntpython, x, depth, sw, sb, exact=False, repeats=0):
    "neural-tangents' NTK of x (n,C,h,w) and its best time over `repeats` jitted calls (nan when repeats=0)."
    with tempfile.TemporaryDirectory() as d:
        np.save(f'{d}/x.npy', x.numpy())
        r = subprocess.run([ntpython, '-c', NT_CODE, f'{d}/x.npy', str(depth), repr(sw), repr(sb), '1' if exact else '0', f'{d}/k.npy', str(repeats)],
                           capture_output=True, text=True)
        if r.returncode: sys.exit(f"neural-tangents failed:\n{r.stderr[-3000:]}")
        return torch.from_numpy(np.load(f'{d}/k.npy')), float(r.stdout.split()[-1])

def rel_errs(K, ref):
    "Max relative error |K - ref| / |ref| off the diagonal and on it."
    r = ((K - ref).abs() / ref.abs())
    return (r - torch.diag(r.diagonal())).max().item(), r.diagonal().max().item()

def best_time(f, repeats):
    ts = []
    for _ in range(repeats): t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return min(ts)

def reference_inputs():
    "The fixed inputs of nbs/06_ntk.ipynb (no RNG)."
    xr = torch.cos(torch.arange(3 * 4 * 5 * 5, dtype=torch.float64) * 0.7).view(3, 4, 5, 5)
    xz = xr.clone(); xz[:, :, :3, :3] = 0
    return [('xr', xr, math.sqrt(0.1)), ('xz', xz, 0.)]

def main():
    p = argparse.ArgumentParser()
    p.add_argument('--ntpython', default=os.environ.get('NT_PYTHON', '/work/ntvenv/bin/python'))
    p.add_argument('--n', type=int, default=100); p.add_argument('--channels', type=int, default=1280)
    p.add_argument('--sides', nargs='+', type=int, default=[4, 7]); p.add_argument('--depths', nargs='+', type=int, default=[1, 6])
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--print-reference', action='store_true')
    p.add_argument('--out', default=str(pathlib.Path(__file__).parent / 'results'))
    a = p.parse_args()
    sw = math.sqrt(2)
    if a.print_reference:
        for case, x, sb in reference_inputs():
            for depth in (1, 3):
                K, _ = nt_kernel(a.ntpython, x, depth, sw, sb, exact=True)
                print(f"NT_REF[{case!r}, {depth}] = {K.tolist()!r}")
        return
    torch.manual_seed(0); rows = []
    for side in a.sides:
        x = torch.randn(a.n, a.channels, side, side, dtype=torch.float64).relu()   # post-ReLU-like backbone maps
        for depth in a.depths:
            K = cntk_gap(x, depth=depth)
            Knt, t_nt = nt_kernel(a.ntpython, x, depth, sw, math.sqrt(0.1), repeats=a.repeats)
            Kex, _ = nt_kernel(a.ntpython, x, depth, sw, math.sqrt(0.1), exact=True)
            t_ours = best_time(lambda: cntk_gap(x, depth=depth), a.repeats)
            (o_nt, d_nt), (o_ex, d_ex) = rel_errs(K, Knt), rel_errs(K, Kex)
            rows.append(dict(n=a.n, channels=a.channels, map=f'{side}x{side}', depth=depth, ours_s=round(t_ours, 3), nt_s=round(t_nt, 3),
                             ratio=round(t_ours / t_nt, 2), relerr_offdiag_vs_nt=f'{o_nt:.1e}', relerr_diag_vs_nt=f'{d_nt:.1e}',
                             relerr_all_vs_nt_exact_diag=f'{max(o_ex, d_ex):.1e}', nt_diag_low=bool((Knt.diagonal() < K.diagonal()).all())))
            print(rows[-1], flush=True)
    out = pathlib.Path(a.out); out.mkdir(parents=True, exist_ok=True)
    with open(out / 'cntk_vs_neural_tangents.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    md = ['| map | depth | ours (s) | neural-tangents (s) | ours / NT | max rel err off-diag (stock NT) | diag (stock NT) | all (NT, exact diag) |',
          '|---|---|---|---|---|---|---|---|']
    md += [f"| {r['map']} | {r['depth']} | {r['ours_s']} | {r['nt_s']} | {r['ratio']} | {r['relerr_offdiag_vs_nt']} | {r['relerr_diag_vs_nt']} | {r['relerr_all_vs_nt_exact_diag']} |" for r in rows]
    md.append(f"\nn={a.n} feature maps of {a.channels} channels, float64, best of {a.repeats}, torch threads {torch.get_num_threads()}, "
              f"torch {torch.__version__}; neural-tangents 0.6.5 / jax 0.4.23 (jit, CPU). Stock neural-tangents' diagonal is "
              f"{'lower than ours in every case' if all(r['nt_diag_low'] for r in rows) else 'not uniformly lower'} (its rounding, see the docstring).")
    (out / 'cntk_vs_neural_tangents.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))

if __name__ == '__main__': main()

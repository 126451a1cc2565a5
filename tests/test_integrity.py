"""Concurrency stress tests of the atomic writers, the per-point locks and resume after SIGKILL (each runs in seconds).

The sweep tests replace the experiment by a tiny fake runner (`FAKE_RUNNER` below) so that many points run in
seconds. It is not a shortcut around the completeness check: it writes the record a real run writes, minus the
numbers, from the point's resolved configuration (`status`, `record_name`, `config_id`, `config`, every metric
of `experiment.RECORD_METRICS`, `histories`, `timings`), so `is_complete_record` accepts it exactly as it accepts
a real record (the stored configuration hashes to the record's `config_id`). Each call of the runner also leaves
one file in `<sweep>/calls/`, so a test counts how often each point was computed."""
import json, multiprocessing as mp, os, signal, subprocess, sys, time
from pathlib import Path
import torch
from mr_ntk.core import write_json_atomic, atomic_save_torch, load_verified_torch, CorruptFileError

REPO = Path(__file__).resolve().parent.parent
CTX = mp.get_context('fork')
N_WRITERS, N_WRITES = 4, 100

# ---- (a) many processes writing one file, one process reading it all the while ----

def _write_json(path, w, q):
    fails = 0
    for i in range(N_WRITES):
        try: write_json_atomic(path, dict(writer=w, i=i, n=1000, payload=[w*10_000 + i]*1000))
        except Exception: fails += 1
    q.put(fails)

def _check_json(path):
    rec = json.loads(Path(path).read_text())
    return len(rec['payload']) == rec['n'] and set(rec['payload']) == {rec['writer']*10_000 + rec['i']}

def _write_torch(path, w, q):
    fails = 0
    for i in range(N_WRITES):
        try: atomic_save_torch(path, dict(w=w, i=i, x=torch.full((20_000,), float(w*10_000 + i))), meta=dict(kind='stress'))
        except Exception: fails += 1
    q.put(fails)

def _check_torch(path):
    obj = load_verified_torch(path, meta=dict(kind='stress'))
    return obj['x'].numel() == 20_000 and bool((obj['x'] == obj['w']*10_000 + obj['i']).all())

def _read(check, path, stop, q):
    reads = corrupt = 0
    while not stop.is_set():
        try: ok = check(path)
        except (ValueError, KeyError, CorruptFileError, OSError): ok = False # CorruptFileError is a ValueError
        reads += 1; corrupt += not ok
    q.put((reads, corrupt))

def _stress(tmp_path, write, check, name):
    path = tmp_path/name
    q, stop = CTX.Queue(), CTX.Event()
    writers = [CTX.Process(target=write, args=(path, w, q)) for w in range(N_WRITERS)]
    # the file exists before the reader starts: every read must then find a whole file, old or new
    if write is _write_json: write_json_atomic(path, dict(writer=0, i=0, n=1000, payload=[0]*1000))
    else: atomic_save_torch(path, dict(w=0, i=0, x=torch.zeros(20_000)), meta=dict(kind='stress'))
    reader = CTX.Process(target=_read, args=(check, path, stop, q))
    reader.start()
    for p in writers: p.start()
    fails = 0
    for _ in writers: fails += q.get(timeout=120)
    for p in writers: p.join(30)
    stop.set(); reads, corrupt = q.get(timeout=60); reader.join(30)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith('.tmp')]
    print(f"{name}: {N_WRITERS}x{N_WRITES} writes, {fails} failed; {reads} reads, {corrupt} corrupt; temp files left: {len(leftovers)}")
    assert all(p.exitcode == 0 for p in writers + [reader])
    assert fails == 0 and corrupt == 0 and reads > 0 and not leftovers
    assert check(path)

def test_json_writer_stress(tmp_path): _stress(tmp_path, _write_json, _check_json, 'rec.json')
def test_torch_writer_stress(tmp_path): _stress(tmp_path, _write_torch, _check_torch, 'cache.pt')

# ---- (b) concurrent sweeps on one folder, (c) SIGKILL and resume ----

def fake_runner(cfg, sweep_dir, **_):
    "Stands for `Experiment(cfg).run()`: one call file, a pause, then a record `is_complete_record` accepts."
    from mr_ntk.sweep import record_path
    from mr_ntk.experiment import RECORD_METRICS
    calls = Path(sweep_dir)/'calls'; calls.mkdir(exist_ok=True)
    (calls/f"{cfg['record_name']}.{os.getpid()}.{time.time_ns()}").touch()
    time.sleep(float(os.environ.get('FAKE_SLEEP', '0.02')))
    write_json_atomic(record_path(cfg), dict(status='ok', record_name=cfg['record_name'], config_id=cfg['config_id'],
                      config=cfg, metrics={k: 0.0 for k in RECORD_METRICS}, histories={}, timings={}))

def fake_sweep(d, depths, workers=1) -> dict:
    "`run_sweep` of the smoke profile over depths x (vp, fc) x seeds (0, 1) with `fake_runner`."
    from mr_ntk import sweep
    sweep.RUNNERS['fake'] = fake_runner
    grid = sweep.sweep_grid(depths=depths, transforms=('vp', 'fc'), seeds=(0, 1))
    return sweep.run_sweep(d, grid, dict(profile='smoke'), runner='fake', workers=workers, progress=False)

FAKE_SWEEP = """
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_integrity import fake_sweep
d, depths, workers = Path(sys.argv[1]), [int(x) for x in sys.argv[2].split(',')], int(sys.argv[3])
(d.parent/f'ready.{{os.getpid()}}').touch()
while not (d.parent/'go').exists(): time.sleep(0.01)   # start together
print(json.dumps(fake_sweep(d, depths, workers)), flush=True)
"""

def start(tmp_path, depths, workers=1, sleep=0.05):
    script = tmp_path/'fake_sweep.py'; script.write_text(FAKE_SWEEP.format(tests=str(Path(__file__).parent)))
    env = dict(os.environ, FAKE_SLEEP=str(sleep))
    return subprocess.Popen([sys.executable, str(script), str(tmp_path/'sw'), ','.join(map(str, depths)), str(workers)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def go(tmp_path, procs, timeout=120):
    t0 = time.time()
    while len(list(tmp_path.glob('ready.*'))) < len(procs) and time.time() - t0 < timeout: time.sleep(0.05)
    (tmp_path/'go').touch()

def calls(tmp_path) -> dict:
    out = {}
    for p in (tmp_path/'sw'/'calls').iterdir(): out[p.name.split('.')[0]] = out.get(p.name.split('.')[0], 0) + 1
    return out

def complete(tmp_path) -> dict:
    from mr_ntk.sweep import record_status
    return {p.stem: record_status(p, json.loads(p.read_text())['config_id']) for p in (tmp_path/'sw'/'records').glob('*.json')}

def test_concurrent_sweeps_compute_each_point_once(tmp_path):
    procs = [start(tmp_path, range(1, 7), workers=2) for _ in range(3)]  # 3 sweeps x 2 threads on the same 24 points
    go(tmp_path, procs)
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    counts = [json.loads(o.strip().splitlines()[-1]) for o, _ in outs]
    n = calls(tmp_path)
    print(f"3 concurrent sweeps, 24 points: counts {counts}; runner calls {sum(n.values())}, max per point {max(n.values())}")
    assert sum(c['ok'] for c in counts) == 24 and sum(c['failed'] for c in counts) == 0
    assert all(sum(c.values()) == 24 for c in counts) # each sweep accounts for every point: ok, skipped or claimed
    assert len(n) == 24 and set(n.values()) == {1} # every point computed exactly once
    assert set(complete(tmp_path).values()) == {'ok'} and len(complete(tmp_path)) == 24
    # a fourth sweep finds everything done and computes nothing
    assert fake_sweep(tmp_path/'sw', range(1, 7)) == dict(ok=0, failed=0, skipped=24, claimed=0) and sum(calls(tmp_path).values()) == 24

def test_sigkill_mid_point_then_resume(tmp_path):
    p = start(tmp_path, (1, 2, 3), sleep=0.3) # 12 points, one at a time
    go(tmp_path, [p])
    recs = tmp_path/'sw'/'records'
    def state(): return (len(list(recs.glob('*.json'))), sum(calls(tmp_path).values())) if (tmp_path/'sw'/'calls').exists() else None
    t0 = time.time()
    while state() != (2, 3): # kill while the third point is being computed: two records, three calls
        assert time.time() - t0 < 120 and p.poll() is None, p.communicate()
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL); p.wait(30)
    done = {f.stem: f.stat().st_mtime for f in recs.glob('*.json')}
    killed = set(calls(tmp_path)) - set(done)
    assert len(done) == 2 and len(killed) == 1
    assert fake_sweep(tmp_path/'sw', (1, 2, 3)) == dict(ok=10, failed=0, skipped=2, claimed=0) # the killed point's lock died with it
    n = calls(tmp_path)
    print(f"SIGKILL mid-point: {len(done)} finished before the kill, resumed {sum(n.values()) - 3} point(s); calls per point {sorted(n.values())}")
    assert {k: v for k, v in n.items() if v != 1} == {killed.pop(): 2} # only the interrupted point ran twice
    assert all(recs.joinpath(f'{k}.json').stat().st_mtime == m for k, m in done.items()) # finished records untouched
    assert set(complete(tmp_path).values()) == {'ok'} and len(complete(tmp_path)) == 12

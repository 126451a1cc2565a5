"""Hostile-input suite for what a sweep writes and what the report reads (issue 25): the smoke profile, real runs, fast.

Each test is one class of silent wrong result found by a hostile probe: a setting that steers a path, a cache that
outlives its data, parallel runs that are not reproducible, a report that counts a run twice or trusts an edited
outcome, a depth guard the head never sees, a test switch that replaces a user's parameters.
The data-input classes (16-bit images, mismatched label files, NaN inputs) are in `test_hostile_data.py`.
"""
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
POINT = dict(depth=1, transform='vp', label_map='identity', seed=0)

@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv('MR_NTK_CACHE', str(tmp_path/'cache'))

def _imagefolder(root:Path, seed:int, n_per_class:int=8) -> Path:
    "Ten classes of 8x8 RGB PNGs (class k: a bright 2x2 block at place k) with seeded noise; `seed` changes every pixel."
    rng = np.random.default_rng(seed)
    for split, n in (('train', n_per_class), ('test', 3)):
        for k in range(10):
            (root/split/f'c{k}').mkdir(parents=True, exist_ok=True)
            for i in range(n):
                a = rng.integers(0, 80, (8, 8, 3)); a[2*(k//4):2*(k//4)+2, 2*(k%4):2*(k%4)+2] += 170
                Image.fromarray(a.astype(np.uint8)).save(root/split/f'c{k}'/f'{i}.png')
    return root

WHOLE = dict(n_target='all', n_target_test='all')

def _sweep(d, grid=(POINT,), workers=1, **params):
    from mr_ntk.sweep import run_sweep
    fast = dict(profile='smoke', epochs=1, source_epochs=1)   # one epoch each: what is tested is where things go, not accuracy
    return run_sweep(d, list(grid), dict(fast, **params), runner='inprocess', workers=workers, progress=False)

def _records(d): return sorted((Path(d)/'records').glob('*.json'))

# ---- 1. record names are path-safe ----

def test_imagefolder_target_is_one_flat_record_that_the_report_finds(tmp_path):
    from mr_ntk.report import load_records
    from mr_ntk.sweep import main
    folder = _imagefolder(tmp_path/'imgs', 0)
    sweep = tmp_path/'root'/'s'
    assert _sweep(sweep, target=f'imagefolder:{folder}', **WHOLE)['ok'] == 1
    recs = list((sweep/'records').rglob('*.json'))
    assert len(recs) == 1 and recs[0].parent == sweep/'records', recs
    ok, failed, bad = load_records(sweep)
    assert len(ok) == 1 and not bad
    assert main(['--root', str(tmp_path/'root'), '--name', 's', '--depths', '1', '--transforms', 'vp', '--seeds', '0',
                 '-p', 'profile', 'smoke', '-p', 'epochs', '1', '-p', 'source_epochs', '1', '-p', 'target', f'imagefolder:{folder}',
                 '-p', 'n_target', 'all', '-p', 'n_target_test', 'all', '--status']) == 0

@pytest.mark.parametrize('name', ['../../../escaped', '/etc/passwd', 'a/b/c', '.hidden', 'x' * 300])
def test_no_run_name_writes_outside_the_sweep_folder(tmp_path, name):
    sweep = tmp_path/'root'/'s'
    assert _sweep(sweep, run_name=name)['ok'] == 1
    files = [p for p in tmp_path.rglob('*') if p.is_file() and 'cache' not in p.parts]
    assert files and all(sweep in p.parents for p in files), files
    (rec,) = _records(sweep)
    assert len(rec.name) < 120 and not rec.name.startswith('.')

# ---- 2. caches are keyed by content ----

def test_replacing_the_data_under_a_cached_head_retrains_it(tmp_path):
    from mr_ntk.experiment import Experiment, resolve_config
    folder = tmp_path/'src'
    run = lambda: Experiment(resolve_config('smoke', source=f'imagefolder:{folder}', n_source='all', n_source_test='all', epochs=1,
                                             out_dir=str(tmp_path/'out'))).run()
    _imagefolder(folder, 0); first = run()
    again = run()
    assert again['metrics']['source_head_cached'] and again['metrics']['source_ntk_cached']
    shutil.rmtree(folder); _imagefolder(folder, 1)          # same path, same settings, other images
    fresh = run()
    assert not fresh['metrics']['source_head_cached'] and not fresh['metrics']['source_ntk_cached']
    assert fresh['histories']['source'] != first['histories']['source']

# ---- 3. parallel in-process runs are reproducible ----

def _outcome(rec):
    "What a run computed, without wall times."
    strip = lambda h: [{k: v for k, v in e.items() if k != 'seconds'} for e in h]
    m = {k: v for k, v in rec['metrics'].items() if 'seconds' not in k and not k.endswith('_cached')}   # cache hits: provenance
    return dict(m=m, eig=rec['eigenvalues'], hist={k: strip(v) for k, v in rec['histories'].items()},
                pred={k: v for k, v in rec['predictors']['scores'].items() if not k.endswith('_s')})

def test_two_inprocess_workers_write_the_records_of_one(tmp_path, monkeypatch):
    grid = [dict(POINT, depth=d) for d in (1, 2)]   # two heads trained at once, each drawing random numbers
    monkeypatch.setenv('MR_NTK_CACHE', str(tmp_path/'cache1'))
    assert _sweep(tmp_path/'one', grid, workers=1)['ok'] == 2
    monkeypatch.setenv('MR_NTK_CACHE', str(tmp_path/'cache2'))
    assert _sweep(tmp_path/'two', grid, workers=2)['ok'] == 2
    one, two = _records(tmp_path/'one'), _records(tmp_path/'two')
    assert [p.name for p in one] == [p.name for p in two]
    for a, b in zip(one, two): assert _outcome(json.loads(a.read_text())) == _outcome(json.loads(b.read_text())), a.name

# ---- 4. the report counts each run once and flags edited outcomes ----

def test_report_deduplicates_copies_and_flags_an_edited_outcome(tmp_path):
    from mr_ntk.report import write_report, load_records
    sweep = tmp_path/'results'/'s'
    _sweep(sweep, [POINT, dict(POINT, transform='fc')])
    shutil.copytree(sweep, tmp_path/'results'/'s.bak')                            # a backup copy
    rec = _records(sweep)[0]
    (sweep/'records'/'alias.json').symlink_to(rec)                                 # and a symlink under another name
    rep = write_report(tmp_path/'results', converged_only=False, n_boot=50)        # the report itself, once (it is slow)
    assert len(rep['runs']) == 2 and rep['excluded']['reason'].str.startswith('duplicate of').sum() == 3
    r = json.loads(rec.read_text()); r['metrics']['target_acc'] = 0.99; rec.write_text(json.dumps(r))   # a hand edit
    shutil.rmtree(tmp_path/'results'/'s.bak'); (sweep/'records'/'alias.json').unlink()
    ok, failed, bad = load_records(tmp_path/'results')                             # what the report reads
    assert len(ok) == 1 and [why[:22] for _, why in bad] == ['outcome does not match']
    assert _sweep(sweep, [POINT, dict(POINT, transform='fc')])['ok'] == 1        # the sweep reruns the edited point

# ---- 5. smaller items ----

def test_depth_above_six_reaches_the_head(tmp_path):
    assert _sweep(tmp_path/'s', [dict(POINT, depth=7)], max_depth=7)['ok'] == 1
    (rec,) = _records(tmp_path/'s')
    assert json.loads(rec.read_text())['source_head']['depth'] == 7

def test_in_test_never_replaces_passed_parameters(tmp_path):
    out = tmp_path/'out'
    env = dict(os.environ, IN_TEST='1', MPLBACKEND='Agg')
    r = subprocess.run([sys.executable, '-m', 'papermill', str(REPO/'nbs'/'exp_depth.ipynb'), str(tmp_path/'o.ipynb'),
                        '-p', 'profile', 'smoke', '-p', 'out_dir', str(out), '-p', 'epochs', '1', '--log-output'],
                       env=env, capture_output=True, text=True, cwd=REPO, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'running them as given' in r.stdout + r.stderr
    (rec,) = out.glob('*.json')
    assert json.loads(rec.read_text())['config']['epochs'] == 1

"End-to-end checks of the sweep command: interrupt and resume, the papermill runner, failures recorded."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parent.parent

def sweep(root, *args, **popen_kw):
    "Start `mr_ntk_sweep` (smoke profile) as a separate process."
    cmd = [sys.executable, '-c', 'import sys; from mr_ntk.sweep import main; sys.exit(main())',
           '--root', str(root), '-p', 'profile', 'smoke', *args]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen_kw)

@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv('MR_NTK_CACHE', str(tmp_path/'cache'))
    monkeypatch.delenv('IN_TEST', raising=False)
    return tmp_path

def records(d): return {p.name: json.loads(p.read_text())['status'] for p in (d/'records').glob('*.json')}

def test_interrupt_and_resume(env):
    args = ['--name', 's', '--depths', '1', '2', '3', '--transforms', 'vp', '--seeds', '0', '--runner', 'inprocess']
    p = sweep(env, *args)
    first = env/'s'/'records'/'d1_vp_identity_s0.json'
    t0 = time.time()
    while not first.exists() and time.time() - t0 < 240: time.sleep(0.2)
    assert first.exists(), p.communicate()[0]
    p.send_signal(signal.SIGINT) # Ctrl-C mid-sweep
    p.wait(60)
    assert p.returncode != 0
    done = records(env/'s')
    assert done['d1_vp_identity_s0.json'] == 'ok' and len(done) < 3
    mtime = first.stat().st_mtime
    p = sweep(env, *args); out = p.communicate(timeout=300)[0]
    assert p.returncode == 0, out
    assert records(env/'s') == {f'd{d}_vp_identity_s0.json': 'ok' for d in (1, 2, 3)}
    assert first.stat().st_mtime == mtime # nothing finished was recomputed
    assert "'skipped': 1" in out or "'skipped': 2" in out

def test_papermill_runner_and_failure(env):
    # one good point through papermill, one impossible point (FC far over the memory budget) recorded as failed
    p = sweep(env, '--name', 'pm', '--depths', '1', '--transforms', 'vp', 'fc', '--seeds', '0', '-p', 'target_size', '4096')
    out = p.communicate(timeout=400)[0]
    assert p.returncode == 1, out # failures make the exit status non-zero
    recs = records(env/'pm')
    assert recs == {'d1_vp_identity_s0.json': 'ok', 'd1_fc_identity_s0.json': 'failed'}, out
    fail = json.loads((env/'pm'/'records'/'d1_fc_identity_s0.json').read_text())
    assert 'target_size' in fail['error'] or 'memory' in fail['error'], fail['error']
    ok = json.loads((env/'pm'/'records'/'d1_vp_identity_s0.json').read_text())
    assert ok['pretrained'] is False and ok['config']['depth'] == 1
    assert (env/'pm'/'notebooks'/'d1_vp_identity_s0.ipynb').exists()

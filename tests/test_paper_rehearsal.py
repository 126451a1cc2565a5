"""The paper profile (CLIP ViT-B-32 at 224 px, CIFAR-10 -> SVHN, FC at paper size) end to end at full model size, on random
weights and synthesised CIFAR-10 / SVHN files in their real formats, through benchmarks/paper_profile_timing.py.
Opt-in (minutes; FC at paper size peaks at about 13 GB of memory): `pytest -m slow tests`."""
import json, subprocess, sys
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
QUICK = ['--per-class', '1', '--ntk-per-class', '1', '--step-images', '2']

def _rehearse(out, *args):
    r = subprocess.run([sys.executable, 'benchmarks/paper_profile_timing.py', '--device', 'cpu', '--out', str(out), *QUICK, *args],
                       cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads((out/'paper_profile_cpu.json').read_text())['rows'], (out/'paper_profile_cpu.md').read_text()

def test_every_transform_runs_every_step_at_paper_size(tmp_path):
    rows, md = _rehearse(tmp_path)
    assert [r['transform'] for r in rows] == ['vp', 'fc', 'vpfc']
    for r in rows:
        assert 'refused' not in r and r['backbone'].startswith('RANDOM-INIT clip:ViT-B-32')
        for step in ('source_train', 'source_eval', 'target_ntk', 'predictors', 'reprogram', 'target_eval'): assert r['timings'][step] > 0, (r['transform'], step)
        assert all(v > 0 for v in r['step_s_per_image'].values()) and r['extrapolated_hours']['total'] > 0
    fc = {r['transform']: r for r in rows}['fc']
    assert fc['n_trainable'] >= 3 * 32 * 32 * 3 * 224 * 224   # the paper-size FC layer: 462M weights (plus its bias)
    assert 'RANDOM-INIT' in md and 'EXTRAPOLATION' in md

def test_fc_at_paper_size_is_refused_by_a_small_budget(tmp_path):
    rows, md = _rehearse(tmp_path, '--transforms', 'fc', '--fc-budget-gb', '1')
    assert 'memory_budget_gb=1.0' in rows[0]['refused'] and 'use target_size <=' in rows[0]['refused']
    assert 'refused' in md

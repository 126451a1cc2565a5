"""Audit of the committed study (`results/`, `checks/`): what issue 10 promises of every reported run, checked on the files.

Reads JSON and CSV only through the torch-free `mr_ntk.records` (checked below), so it runs in seconds. A record that lands without the report being rebuilt fails
`test_report_is_built_from_every_record`: rebuild with `write_report('results', out='results/report')`.
"""
import json
from pathlib import Path
import numpy as np, pandas as pd
import pytest
import subprocess, sys
from mr_ntk.records import is_complete_record, outcome_check, load_records

REPO = Path(__file__).resolve().parent.parent
EPS32 = float(np.finfo(np.float32).eps)
_records = lambda d: sorted(p for p in (REPO/d).glob('**/records/*.json') if not p.name.startswith('.'))   # as `load_records` reads them
STUDY, CHECKS = _records('results'), _records('checks')

def _load(p): return json.loads(p.read_text())

@pytest.mark.skipif(not STUDY, reason='no committed study in results/')
@pytest.mark.parametrize('path', STUDY + CHECKS, ids=lambda p: f'{p.parent.parent.name}/{p.stem[-12:]}')
def test_every_committed_run_is_complete_converged_and_precise(path):
    r = _load(path)
    assert is_complete_record(r), f'{path}: incomplete, or its config does not hash to its config_id'
    assert outcome_check(r) == 'ok', f'{path}: outcome checksum {outcome_check(r)} (seal new records with records.seal_folder)'
    assert r['pretrained'], f'{path}: a random-init backbone has no place in the study'
    tr = r['metrics']['reprogram_training']
    # converged: stopped by patience, or at the cap while no longer improving by more than the stated tolerance
    assert tr['converged'] and (tr['stop_reason'] == 'patience' or tr['final_improvement'] <= tr['convergence_tol']), (path, tr)
    for key, n_of in (('target_ntk_full', 'full'), ('target_ntk_trace', 'trace')):
        s = r['metrics'][key]
        assert s['lambda_min_resolved'] == (s['lambda_min'] > s['resolution']), (path, key, s)
        assert np.isclose(s['lambda_min_over_max'], s['lambda_min'] / s['lambda_max'], rtol=1e-9), (path, key)
        if s['dtype'] == 'float32':   # the precision rule: float32 kept only when lambda_min clears eps32 * lambda_max * N
            assert s['lambda_min'] > EPS32 * s['lambda_max'] * s['n'], (path, key, s)
    assert r['metrics']['target_ntk_dtype'] in ('float32', 'float64') and r['metrics']['target_ntk_rule']

@pytest.mark.skipif(not STUDY, reason='no committed study in results/')
def test_report_is_built_from_every_record():
    runs = pd.read_csv(REPO/'results'/'report'/'runs.csv')
    names = {_load(p)['record_name'] for p in STUDY}
    assert set(runs['record_name']) == names, (f"results/report is stale: records not in it {sorted(names - set(runs['record_name']))}, "
                                               f"rows with no record {sorted(set(runs['record_name']) - names)}")
    claims = pd.read_csv(REPO/'results'/'report'/'claims.csv')
    assert {'estimate', 'ci_low', 'ci_high', 'interval', 'p', 'verdict', 'seeds'} <= set(claims.columns)
    # a verdict other than 'undecided' always rests on a finite interval on one side of 0 and p < 0.05
    assert set(claims['verdict'].str.split(' ').str[0]) <= {'supported', 'contradicted', 'undecided'}
    assert (claims.loc[claims.verdict == 'supported', 'ci_low'] > 0).all() and (claims.loc[claims.verdict == 'contradicted', 'ci_high'] < 0).all()
    assert (claims.loc[~claims['verdict'].str.startswith('undecided'), 'p'] < .05).all()
    # predictor intervals: none on fewer than 5 source models (runs sharing a backbone + head are not independent)
    for name in ('predictors', 'predictor_differences'):
        t = pd.read_csv(REPO/'results'/'report'/f'{name}.csv')
        few = t[t['n_source_models'] < 5]
        assert few.filter(like='ci_').drop(columns='ci_level', errors='ignore').isna().all().all(), (name, few)

def test_checks_stay_out_of_the_study():
    "Runs in checks/ (e.g. a fixed-LR rerun of a failed seed) must never be read into the study's verdicts."
    study = {_load(p)['record_name'] for p in STUDY}
    assert not study & {_load(p)['record_name'] for p in CHECKS}

_HEAD_KEY = ['backbone', 'source', 'n_source', 'source_size', 'depth', 'seed']

@pytest.mark.skipif(not STUDY, reason='no committed study in results/')
def test_source_head_ids_name_one_head_each():
    "Runs that share a `source_head_id` share the head (same settings, and the same source accuracy on the same source test"
    "set); one that differs has another id. One head measured on 2k and on 10k test images has two accuracies, one id."
    runs = pd.read_csv(REPO/'results'/'report'/'runs.csv').assign(n_source_test=lambda d: d['n_source_test'].fillna(-1))
    assert runs['source_head_id'].notna().all()
    assert (runs.groupby('source_head_id')[_HEAD_KEY].nunique() == 1).all().all()
    assert (runs.groupby(['source_head_id', 'n_source_test'])['source_acc'].nunique() == 1).all()
    accs = runs.groupby(_HEAD_KEY + ['n_source_test'])[['source_acc', 'source_head_id']].nunique()
    assert (accs['source_head_id'] >= accs['source_acc']).all(), accs[accs['source_head_id'] < accs['source_acc']]

@pytest.mark.skipif(not STUDY, reason='no committed study in results/')
def test_vp_fc_pairs_share_one_source_head():
    "A head retrained on another machine (the cache is per machine) is another source model: VP - FC pairs never mix two heads."
    runs = pd.read_csv(REPO/'results'/'report'/'runs.csv')
    runs = runs[runs['converged']]   # the claims are computed on converged runs
    claims = pd.read_csv(REPO/'results'/'report'/'claims.csv').query("claim == 'VP beats FC'")
    for _, c in claims.iterrows():
        vp_arm, fc_arm = c['scope'].split(': ', 1)[1].split(' vs ')
        vp, fc = runs[runs['arm'] == vp_arm], runs[runs['arm'] == fc_arm]
        same_head = vp.merge(fc, on=['depth', 'seed', 'source_head_id'])
        assert c['n_runs'] == 2 * len(same_head), (c['scope'], c['n_runs'], len(same_head))
        assert ('left unpaired' in c['effect']) == (len(vp.merge(fc, on=['depth', 'seed'])) > len(same_head)), c['effect']

@pytest.mark.skipif(not STUDY, reason='no committed study in results/')
def test_study_is_one_record_per_run():
    "No run is in results/ twice (a copy, a symlink, a backup folder): the report would count it once and list the rest."
    ok, failed, bad = load_records(REPO/'results')
    assert not bad and len(ok) == len(STUDY), bad

DOSE = sorted((REPO/'results'/'lite0_source_dose'/'records').glob('*.json'))

@pytest.mark.skipif(not DOSE, reason='no source-quality intervention records yet')
def test_source_quality_runs_measure_source_accuracy_on_the_whole_test_split():
    "Issue 24: the intervention's heads are judged on all 10,000 Fashion-MNIST test images (binomial SE about 0.003)."
    for p in DOSE:
        r = _load(p)
        if r.get('status') != 'ok': continue
        c, m = r['config'], r['metrics']
        assert c['n_source_test'] is None and c['source'] == 'fashion_mnist' and c['depth'] == 3, p
        assert m.get('source_n_test', 10_000) >= 10_000, p
        assert (c['source_epochs'] == 0) == (m['source_training']['stop_reason'] == 'untrained'), p

def test_reading_records_and_building_report_tables_needs_no_torch():
    "The record layer and the report's tables load all of results/ without importing torch."
    code = ("import sys; from mr_ntk.records import load_records; from mr_ntk.report import records_table, claims_table; "
            "ok, failed, bad = load_records('results'); t = records_table(ok); "
            "assert 'torch' not in sys.modules, 'torch was imported'; print(len(t))")
    r = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]

@pytest.mark.skipif(not STUDY, reason='no committed study in results/')
def test_readme_findings_are_the_reports_tables_in_words():
    "The README's findings block is results/report/findings.md, which is findings_markdown of the committed tables."
    from mr_ntk.report import findings_markdown
    rep = REPO/'results'/'report'
    text = (rep/'findings.md').read_text()
    assert text == findings_markdown(pd.read_csv(rep/'claims.csv'), pd.read_csv(rep/'predictors.csv')), \
        'findings.md is stale: rebuild with mr_ntk report results --out results/report'
    readme = (REPO/'README.md').read_text()
    block = readme.split('<!-- findings:start -->\n', 1)[1].split('\n<!-- findings:end -->', 1)[0]
    assert block == text.strip(), 'README findings differ from results/report/findings.md: run python scripts/readme.py'
    assert len(readme.splitlines()) <= 130, f'README has {len(readme.splitlines())} lines (at most 130)'

@pytest.mark.skipif(not STUDY, reason='no committed study in results/')
def test_predictor_tables_hold_baselines_headline_and_regret():
    rep = REPO/'results'/'report'
    p = pd.read_csv(rep/'predictors.csv')
    head = p[p['scope'].str.startswith('within-arm mean')]
    assert len(head) and head[['tau_ci_low', 'tau_ci_high']].notna().all().all()
    for b in ('base.not_vp', 'base.not_vp_then_shallower', 'base.shallower', 'base.source_acc', 'base.log_trainable'):
        assert b in set(p['score']), b
    r = pd.read_csv(rep/'regret.csv')
    assert {'arm', 'score', 'regret', 'best_setup', 'picked_setup'} <= set(r.columns) and (r['regret'].dropna() >= -1e-12).all()

"""The installed `mr_ntk` command, as a user runs it (what a notebook cannot check: a fresh interpreter, the console script)."""
import os, subprocess, sys
from pathlib import Path
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

def _mr_ntk(*args, env=None, timeout=600):
    return subprocess.run([str(BIN/'mr_ntk'), *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout)

def test_help_lists_every_subcommand():
    r = _mr_ntk('--help')
    assert r.returncode == 0
    for cmd in ('run', 'sweep', 'status', 'rank', 'rescore', 'report'): assert cmd in r.stdout

def test_status_reads_results_without_torch():
    code = ("import sys; from mr_ntk.cli import main; rc = main(['status', '--root', 'results']); "
            "assert 'torch' not in sys.modules, 'status loaded torch'; sys.exit(rc)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr
    assert 'lite0' in r.stdout and 'complete' in r.stdout

def test_sweep_subcommand_is_mr_ntk_sweep():
    r = _mr_ntk('sweep', '--help')
    assert r.returncode == 0 and '--depths' in r.stdout

def test_bad_input_is_one_line():
    r = _mr_ntk('status', '--root', 'no/such/folder')
    assert r.returncode == 2 and r.stderr.strip().count('\n') == 0 and "'no/such/folder' is not a folder" in r.stderr
    r = _mr_ntk('rank', '--target', 'digits', '-g', 'depth', '1', '-p', 'profile', 'smoke', '--by', 'accuracy')
    assert r.returncode == 2 and "by='accuracy' is not a score" in r.stderr

def test_rank_end_to_end_on_the_smoke_profile(tmp_path):
    env = dict(os.environ, MR_NTK_CACHE=str(tmp_path/'cache'), OMP_NUM_THREADS='1')
    out = tmp_path/'ranked.csv'
    r = _mr_ntk('rank', '--target', 'digits', '-g', 'depth', '1', '2', '-p', 'profile', 'smoke', '--out', str(out), env=env)
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(out)
    assert sorted(t['depth']) == [1, 2] and t['predicted_acc'].is_monotonic_decreasing
    assert (t['weights'] == 'random-init (not a finding)').all() and 'random-init (not a finding)' in r.stdout

def test_main_job_shows_progress_in_the_terminal(tmp_path):
    "The README's main command (papermill --log-output ... -p progress lines) prints a line per training epoch as it runs."
    env = dict(os.environ, MR_NTK_CACHE=str(tmp_path/'cache'), OMP_NUM_THREADS='1')
    r = subprocess.run([str(BIN/'papermill'), '--log-output', 'nbs/exp_depth.ipynb', str(tmp_path/'out.ipynb'), '-p', 'profile', 'smoke',
                        '-p', 'progress', 'lines', '-p', 'out_dir', str(tmp_path/'runs')], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert 'head d=2 epoch 1/3' in out and 'reprogram vp epoch 2/2' in out

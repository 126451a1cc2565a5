"""The thread policy (issue 28, section 4): mr_ntk sets a passive OpenMP wait policy only when it can and may, and the
size rule changes threads, not results."""
import os, subprocess, sys
import torch
from mr_ntk import core
from mr_ntk import ntk
from mr_ntk.ntk import cntk_gap

def _policy_after(code:str, **env) -> str:
    e = {k: v for k, v in os.environ.items() if k != 'OMP_WAIT_POLICY'} | env
    r = subprocess.run([sys.executable, '-c', code + "; import os; print(os.environ.get('OMP_WAIT_POLICY', 'unset'))"],
                       env=e, capture_output=True, text=True, check=True)
    return r.stdout.split()[-1]

def test_passive_wait_policy_when_imported_before_torch():
    assert _policy_after('import mr_ntk') == 'PASSIVE'

def test_the_users_wait_policy_wins():
    assert _policy_after('import mr_ntk', OMP_WAIT_POLICY='ACTIVE') == 'ACTIVE'

def test_no_policy_once_torch_is_loaded():
    "torch read the environment when it loaded: setting the variable afterwards would only mislead the record."
    assert _policy_after('import torch, mr_ntk') == 'unset'

def test_size_rule_changes_threads_not_the_kernel(monkeypatch):
    x = torch.randn(12, 16, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).relu()
    seen, blocked = [], ntk._blocked
    monkeypatch.setattr(ntk, '_blocked', lambda *a: seen.append(torch.get_num_threads()) or blocked(*a))
    torch.set_num_threads(2); n0 = torch.get_num_threads()
    K_rule = cntk_gap(x, depth=3)                  # 12*12*256 pixel pairs < SMALL_WORK: one thread
    assert seen[-1] == 1 and torch.get_num_threads() == n0   # one thread inside, the count restored after
    monkeypatch.setattr(core, 'SMALL_WORK', 0)     # rule off: torch's count
    K_all = cntk_gap(x, depth=3)
    assert seen[-1] == n0
    assert torch.allclose(K_rule, K_all, rtol=1e-13, atol=0)

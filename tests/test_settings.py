"""One declaration per setting (issue 26): outside `mr_ntk/settings.py`, no module-level constant of the library lists
settings (a tuple, list, set or dict of three or more setting names, or a `dict(...)` of them), so a setting is
declared, checked, defaulted and documented in one place."""
import ast
from pathlib import Path
from mr_ntk.settings import NAMES

LIB = Path(__file__).resolve().parent.parent/'mr_ntk'

def _names_in(node) -> set:
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in NAMES: out.add(n.value)
        if isinstance(n, ast.keyword) and n.arg in NAMES: out.add(n.arg)
    return out

ALLOWED = {'report.py:_HEAD_COLS': 'the columns of source_heads.csv (a file format, not a declaration of settings)',
           'sweep.py:_OWN_FLAGS': "the sweep's own command-line flags for four settings"}

def test_no_module_lists_settings_but_settings_py():
    found = {}
    for f in sorted(LIB.glob('*.py')):
        if f.name in ('settings.py', '_modidx.py'): continue
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Call)):
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                key = f"{f.name}:{getattr(target, 'id', node.lineno)}"
                if len(names := _names_in(node.value)) >= 3 and key not in ALLOWED: found[key] = sorted(names)
    assert not found, f'settings listed outside mr_ntk/settings.py: {found}'

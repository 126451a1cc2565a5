"Lines of the library stay at 120 characters or fewer (issue 26), except the two kinds nbdev writes itself."
from pathlib import Path

LIMIT = 120
LIB = Path(__file__).resolve().parents[1]/'mr_ntk'

def _generated(path:Path, line:str) -> bool:
    """nbdev's own output: `_modidx.py` (pprint width 140, nbdev/doclinks.py) and the first `__all__` line
    (wrapped at 120 before nbdev adds the 10-character `__all__ = ` prefix, nbdev/maker.py)."""
    return path.name == '_modidx.py' or line.startswith('__all__ = [')

def test_no_authored_line_over_limit():
    long = [f'{p.name}:{i}: {len(l)}' for p in sorted(LIB.glob('*.py'))
            for i, l in enumerate(p.read_text().splitlines(), 1) if len(l) > LIMIT and not _generated(p, l)]
    assert not long, f'lines over {LIMIT} characters (split them in the notebook, then nbdev_export): {long}'

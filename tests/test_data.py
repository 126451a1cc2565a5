"What the notebooks cannot check for `mr_ntk.data` (its behaviour is tested in nbs/01_data.ipynb and nbs/01a_shapes.ipynb)."
import subprocess, sys


def test_import_is_light():
    "A fresh interpreter imports mr_ntk.data without the heavy optional dependencies (needs a subprocess)."
    code = ("import sys, mr_ntk.data as D; "
            "print(sorted(m for m in ('torchvision', 'matplotlib', 'sklearn', 'mlxtend', 'scipy.io') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'

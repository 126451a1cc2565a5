"Write README.md from nbs/index.ipynb without Quarto: markdown cells as they are, code cells fenced, nbdev directives dropped."
import json, pathlib, re
root = pathlib.Path(__file__).resolve().parent.parent
nb = json.loads((root/'nbs'/'index.ipynb').read_text())
parts = []
for c in nb['cells']:
    src = ''.join(c['source'])
    if c['cell_type'] == 'markdown': parts.append(src)
    elif c['cell_type'] == 'code':
        code = '\n'.join(l for l in src.splitlines() if not re.match(r'\s*#\|', l)).strip()
        if code: parts.append(f"```python\n{code}\n```")
(root/'README.md').write_text('\n\n'.join(parts) + '\n')
print('README.md written from nbs/index.ipynb')

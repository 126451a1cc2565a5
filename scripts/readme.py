"""Write README.md from nbs/index.ipynb without Quarto: markdown cells as they are, code cells fenced, nbdev directives dropped.

First the generated findings (results/report/findings.md, written by `mr_ntk report`) are copied into the index's
findings block, between `<!-- findings:start -->` and `<!-- findings:end -->`, so the README's findings are the
report's tables in words and cannot drift from them (tests/test_results.py checks it)."""
import json, pathlib, re
root = pathlib.Path(__file__).resolve().parent.parent
nb_path, findings = root/'nbs'/'index.ipynb', root/'results'/'report'/'findings.md'
nb = json.loads(nb_path.read_text())
START, END = '<!-- findings:start -->', '<!-- findings:end -->'
if findings.exists():
    block = re.compile(re.escape(START) + r'.*?' + re.escape(END), re.S)
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'markdown' and START in src:
            c['source'] = block.sub(lambda m: f"{START}\n{findings.read_text().strip()}\n{END}", src).splitlines(keepends=True)
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
parts = []
for c in nb['cells']:
    src = ''.join(c['source'])
    if c['cell_type'] == 'markdown': parts.append(src)
    elif c['cell_type'] == 'code':
        code = '\n'.join(l for l in src.splitlines() if not re.match(r'\s*#\|', l)).strip()
        if code: parts.append(f"```python\n{code}\n```")
(root/'README.md').write_text('\n\n'.join(parts) + '\n')
print('README.md written from nbs/index.ipynb' + (' with results/report/findings.md' if findings.exists() else ' (no findings.md yet)'))

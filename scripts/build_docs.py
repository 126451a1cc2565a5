"""Offline HTML docs without Quarto: nbs/*.ipynb (sorted, no `_*`) -> _docs/*.html.
Notebooks without saved outputs are executed first (cells flagged with `tst_flags` skipped, like nbdev_test), then nbdev's
doc processors run (show_doc, hidden cells, frontmatter) and nbconvert writes pages with a side navigation and a local MathJax.
The report notebook (an `exp_*` notebook with a `sweep_dir` parameter) renders from a copy of the committed `results/`.
Exit status 1 when any notebook failed; the site is still written, with the error on the failing page.
The executed report page is cached under the package cache (MR_NTK_CACHE) by the SHA-256 of the report notebook, every file
under results/ and the package's sources, so a rebuild with nothing changed does not execute it again.
Only public APIs of nbdev, nbclient and nbconvert are used. `pytest -m docs tests` builds the site and checks it;
`mr_ntk docs` runs scripts/docs.sh."""
import hashlib, html, os, re, shutil, sys, tempfile, time, traceback, warnings
from unittest import mock
from pathlib import Path
import nbformat
from jinja2 import DictLoader
from jupyter_core.paths import jupyter_path
from nbconvert import HTMLExporter
from nbclient import NotebookClient
from execnb.nbio import dict2nb, nb2str
from nbdev.config import get_config
from nbdev.process import extract_directives
from nbdev.processors import FilterDefaults

warnings.filterwarnings('ignore', message='Cell is missing an id field')  # nbdev's added show_doc cells
ROOT = Path(__file__).resolve().parent.parent
MATHJAX = Path('/usr/share/javascript/mathjax')  # Debian libjs-mathjax (MathJax 2)
MJ_PARTS = ['MathJax.js', 'config/TeX-AMS_CHTML.js', 'extensions', 'jax/input/TeX', 'jax/output/CommonHTML', 'jax/element',
            'fonts/HTML-CSS/TeX/woff', 'fonts/HTML-CSS/TeX/otf', 'localization/en']
TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{% from 'mathjax.html.j2' import mathjax %}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{% block notebook_css %}<link rel="stylesheet" href="lab.css"><link rel="stylesheet" href="theme-light.css"><link rel="stylesheet" href="site.css">{% endblock notebook_css %}
{%- block html_head_js_mathjax -%}{{ mathjax('mathjax/MathJax.js?config=TeX-AMS_CHTML') }}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block body_header -%}
<body class="jp-Notebook" data-jp-theme-light="true" data-jp-theme-name="JupyterLab Light">
<nav id="site-nav">{{ resources.nav }}</nav><main>
<h1 class="page-title">{{ resources.page_title | e }}</h1>{% if resources.description %}<p class="description">{{ resources.description | e }}</p>{% endif %}
{{ resources.banner }}
{%- endblock body_header -%}"""
CSS = """body{margin:0} #site-nav{position:fixed;top:0;left:0;width:14rem;height:100vh;overflow:auto;padding:1rem;
background:#f6f6f6;border-right:1px solid #ddd;font:14px sans-serif} #site-nav a{display:block;padding:.2rem 0;color:#2a5db0}
#site-nav a.current{font-weight:bold;color:#000} main{margin-left:16rem;max-width:60rem;padding:1rem}
.description{color:#555;font-size:1.1em} .build-note{border:1px solid #c90;background:#fff6db;padding:.6rem}
.build-error{border:2px solid #c00;background:#fee;padding:.6rem;white-space:pre-wrap;font-family:monospace}"""

FAILED = []  # notebooks whose execution failed

def notebooks(nbs): return [p for p in sorted(nbs.glob('*.ipynb')) if not p.name.startswith('_')]
def has_outputs(nb): return any(c.get('outputs') for c in nb.cells if c.cell_type == 'code')
def is_report(p, nb): return p.name.startswith('exp_') and any('parameters' in c.metadata.get('tags', []) and
                                                              re.search(r'^sweep_dir\b', c.source, re.M) for c in nb.cells)
def note(text, cls='build-note'): return f'<div class="{cls}">{text}</div>'

def page_name(p:Path) -> str: return re.sub(r'^\d+[a-zA-Z0-9]*_', '', p.name.lower()).removesuffix('.ipynb') + '.html'  # as nbdev_docs names it

class SkipFlagged(NotebookClient):
    "Execute like nbdev_test: skip cells carrying one of `flags`, `eval: false`, or calling nbdev_export."
    flags = set()
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        d = extract_directives(nbformat.from_dict(cell), remove=False) if cell.cell_type == 'code' else {}
        if cell.cell_type != 'code' or self.flags & d.keys() or 'nbdev_export(' in cell.source or \
           d.get('eval:', [''])[0].lower() == 'false': return cell
        return await super().async_execute_cell(cell, cell_index, execution_count, store_history)

def drop_stderr(nb):
    """Pages show results: the kernel's stderr (warnings, progress bars, log lines, with the kernel's temporary paths)
    is left out, as Quarto's `execute: warning: false` would; `nbdev_test` still shows it. A cell marked
    `#| output: false` shows no output at all, as in Quarto."""
    for c in nb.cells:
        if c.cell_type != 'code': continue
        if re.search(r'^#\|\s*output:\s*false\s*$', c.source, re.M | re.I): c.outputs = []
        c.outputs = [o for o in c.get('outputs', []) if not (o.get('output_type') == 'stream' and o.get('name') == 'stderr')]
    return nb

def execute(nb, path, in_test=True):
    "Run `nb` in a fresh kernel in nbs/ (its own environment: IN_TEST set for the API pages, MPLBACKEND unset); '' or the error."
    env = {k: v for k, v in os.environ.items() if k not in ('MPLBACKEND', 'IN_TEST')}
    if in_test: env['IN_TEST'] = '1'
    client = SkipFlagged(nb, timeout=1800, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}})
    client.flags = set(get_config().get('tst_flags', '').split())
    try: client.execute(env=env); return ''   # kwargs go to the kernel manager's start_kernel
    except Exception as e: return f'{type(e).__name__}: {e}'

def _report_key(path, results) -> str:
    "SHA-256 of what the report page shows: its notebook, every file under `results`, the package's sources."
    h = hashlib.sha256()
    files = [path] + sorted(p for p in Path(results).rglob('*') if p.is_file()) + sorted((ROOT/'mr_ntk').glob('*.py'))
    for f in files: h.update(str(f.relative_to(ROOT) if f.is_relative_to(ROOT) else f.name).encode() + b'\0' + f.read_bytes())
    return h.hexdigest()

def _cache_path(key):
    from mr_ntk.core import cache_dir
    return cache_dir()/'docs'/f'report_{key[:32]}.ipynb'

def execute_report(nb, path, results, tmp):
    "The report executed on a copy of `results`, or its cached execution when nothing it shows has changed; (nb, error, cached)."
    cached = _cache_path(_report_key(path, results))
    if cached.is_file():
        try: return nbformat.read(cached, as_version=4), '', True
        except Exception: cached.unlink(missing_ok=True)   # a damaged cache entry is executed again
    inject_results(nb, results, tmp)
    err = execute(nb, path, in_test=False)
    if not err:
        cached.parent.mkdir(parents=True, exist_ok=True)
        part = cached.with_suffix('.part'); nbformat.write(nb, part); os.replace(part, cached)
    return nb, err, False

def inject_results(nb, results, tmp):
    "Point the report at a temporary copy of `results` (the report writes into its sweep folder)."
    shutil.copytree(results, tmp/'results')
    i = next(i for i, c in enumerate(nb.cells) if 'parameters' in c.metadata.get('tags', []))
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(f"#| hide\nsweep_dir = {str(tmp/'results')!r}"))   # hidden: no build path on the page

def prepare(path, results, tmp):
    "Executed (where needed) notebook and an HTML note/error banner for its page."
    nb = nbformat.read(path, as_version=4)
    if is_report(path, nb):
        if not results.is_dir():
            return nb, note(f'The study results are not there yet: <code>{results.name}/</code> is not committed. '
                            'This page shows the report code only; it renders the results once they are committed.')
        nb, err, cached = execute_report(nb, path, results, tmp)
        if cached: print(f'[docs] {path.name}: nothing it shows changed, the cached execution is used')
        return nb, note(f'Rendered from the committed <code>{results.name}/</code> folder.') + _err(path, err)
    if path.name.startswith('exp_'):
        return nb, note('Experiment run template (run with papermill or <code>mr_ntk_sweep</code>): not executed for the docs; '
                        'see the report page for the study\'s results.')
    if has_outputs(nb): return nb, ''
    return nb, _err(path, execute(nb, path))

def _err(path, err):
    if not err: return ''
    err = re.sub(r'\x1b\[[0-9;]*m', '', err)  # the kernel's traceback colours
    FAILED.append(path.name); print(f'[docs] ERROR executing {path.name}:\n{err[-3000:]}', file=sys.stderr)
    return note('Executing this notebook failed during the docs build; outputs below stop at the error.\n' +
                html.escape(err[-3000:]), 'build-error')

def nbdev_process(nb, path):
    "nbdev's doc processors (as `nbdev_proc_nbs` runs them, without its Quarto installer); returns nb, frontmatter."
    d = dict2nb(nbformat.from_dict(nb)); d.path_ = str(path)
    with mock.patch.dict(os.environ, IN_TEST='1'): FilterDefaults()(d)   # show_doc cells are rendered, not run
    fm = dict(getattr(d, 'frontmatter_', {}))  # copy: nbdev reuses the dict across notebooks
    out = nbformat.reads(nb2str(d), as_version=4); out.cells = [c for c in out.cells if not _is_frontmatter(c)]
    out.metadata.pop('widgets', None)  # widget state would pull the widget manager from a CDN
    for c in out.cells: _apply_directives(c)
    return out, fm

def _is_frontmatter(c): return c.cell_type == 'raw' and c.source.startswith('---')

def _apply_directives(c):
    "Quarto's job for the `#|` options the processors leave: echo/output/include false; then drop the option lines."
    if c.cell_type != 'code': return
    opts = dict(re.findall(r'^\s*#\|\s*([\w-]+):\s*(.*?)\s*$', c.source, re.M))
    c.source = '\n'.join(l for l in c.source.splitlines() if not re.match(r'\s*#\|', l))
    if opts.get('echo') == 'false' or opts.get('include') == 'false': c.metadata['transient'] = {'remove_source': True}
    if opts.get('output') == 'false' or opts.get('include') == 'false': c.outputs = []

def nav_html(pages, current):
    return '\n'.join(f'<a href="{f}"{" class=current" if f == current else ""}>{t}</a>' for f, t in pages)

def write_assets(out):
    (out/'site.css').write_text(CSS)
    lab = next(d for p in jupyter_path('nbconvert', 'templates') if (d := Path(p)/'lab/static').exists())
    shutil.copy(lab/'index.css', out/'lab.css'); shutil.copy(lab/'theme-light.css', out/'theme-light.css')
    for p in MJ_PARTS:
        src, dst = MATHJAX/p, out/'mathjax'/p
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)

def main(out=ROOT/'_docs', execute_nbs=True):
    start, cfg = time.time(), get_config()
    if not MATHJAX.exists(): sys.exit(f'[docs] no MathJax at {MATHJAX}: install Debian libjs-mathjax (scripts/docs.sh does)')
    if not execute_nbs: globals()['execute'] = lambda *a, **k: ''
    shutil.rmtree(out, ignore_errors=True); out.mkdir(parents=True)
    built = []
    with tempfile.TemporaryDirectory() as tmp:
        for p in notebooks(cfg.nbs_path):
            t = time.time(); nb, banner = prepare(p, ROOT/'results', Path(tmp))
            drop_stderr(nb)   # before nbdev's processors, which may strip the `#| output: false` directive
            try: nb, fm = nbdev_process(nb, p)
            except Exception: fm = {}; banner += _err(p, 'nbdev doc processors: ' + traceback.format_exc())
            drop_stderr(nb)
            built.append((p, nb, fm, banner)); print(f'[docs] {p.name}: {time.time() - t:.0f} s')
    pages = [(page_name(p), fm.get("title", p.stem)) for p, _, fm, _ in built]
    pages.sort(key=lambda x: x[0] != 'index.html')  # the index first, then reading order
    exp = HTMLExporter(template_name='lab', extra_loaders=[DictLoader({'docs.html.j2': TEMPLATE})], template_file='docs.html.j2',
                       exclude_input_prompt=True, exclude_output_prompt=True)
    for p, nb, fm, banner in built:
        name = page_name(p)
        body, _ = exp.from_notebook_node(nb, resources=dict(nav=nav_html(pages, name), page_title=fm.get('title', p.stem),
                                                            description=fm.get('description', ''), banner=banner))
        host = f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip('/') + '/'
        (out/name).write_text(body.replace(host, ''))  # nbdev's symbol links point at the published site: make them relative
    write_assets(out)
    print(f'[docs] {len(built)} pages in {out} ({time.time() - start:.0f} s)' + (f'; FAILED: {", ".join(FAILED)}' if FAILED else ''))
    return 1 if FAILED else 0

if __name__ == '__main__': sys.exit(main(execute_nbs='--no-exec' not in sys.argv))

"""The documentation site, built as `bash scripts/docs.sh` builds it without Quarto, then read as a user reads it.
Opt-in (it executes every notebook without saved outputs): `pytest -m docs tests`."""
import re, shutil, subprocess, sys
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.docs

@pytest.fixture(scope='module')
def site():
    r = subprocess.run([sys.executable, 'scripts/build_docs.py'], cwd=REPO, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return REPO/'_docs'

def test_every_navigation_label_is_its_pages_title(site):
    pages = sorted(site.glob('*.html'))
    assert len(pages) >= 15
    for f in pages:
        t = f.read_text()
        h1 = re.search(r'<h1 class="page-title">(.*?)</h1>', t).group(1)
        nav = dict(re.findall(r'<a[^>]*href="([^"]+)"[^>]*>(.*?)</a>', re.search(r'<nav id="site-nav">(.*?)</nav>', t, re.S).group(1)))
        assert nav.get(f.name) == h1, (f.name, nav.get(f.name), h1)

def test_no_page_shows_a_build_path(site):
    for f in site.glob('*.html'): assert '/tmp/' not in f.read_text(), f.name

def test_the_site_works_offline_in_a_browser(site):
    if not (shutil.which('chromium') or shutil.which('chromium-browser')): pytest.skip('no Chromium here')
    r = subprocess.run([sys.executable, 'scripts/check_docs_browser.py', str(site)], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]

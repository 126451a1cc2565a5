"""Open the built site (_docs/) in headless Chromium and check: math typeset by MathJax, navigation links resolve,
every page reachable from the index, and no request leaves the machine.
Installs nothing (Debian's `chromium`, Python's standard library): Chromium's `--dump-dom` gives the page after its
scripts ran, and a local server that is both the site's host and Chromium's proxy records every request the browser makes.
Exit 0 with 'SKIPPED: ...' when no Chromium is found; 1 on any failed check."""
import os, re, shutil, subprocess, sys, tempfile, threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, unquote
from urllib.request import urlopen

DOCS = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent/'_docs')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--no-first-run', '--disable-sync', '--virtual-time-budget=30000',
         # Chromium's own background traffic (time, updates, sign-in), which would otherwise show up as external requests
         '--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter,AutofillServerCommunication',
         '--disable-domain-reliability', '--no-pings', '--disable-client-side-phishing-detection', '--disable-default-apps',
         '--disable-extensions', '--metrics-recording-only', '--no-default-browser-check']
# Chromium's own services: it calls them with any page, flags notwithstanding (a blank page does the same); not the site's
BROWSER_HOSTS = {'update.googleapis.com', 'accounts.google.com', 'clients2.google.com'}
REQUESTS = []  # every request the server saw: (method, url)

class SiteAndProxy(SimpleHTTPRequestHandler):
    "Serves _docs/; as Chromium's proxy it also sees (and refuses) any request for another host."
    def log_message(self, *a): pass
    def _own(self):
        u = urlsplit(self.path)
        REQUESTS.append((self.command, self.path if u.netloc else f'http://{self.headers["Host"]}{self.path}'))
        if u.netloc and u.netloc != f'127.0.0.1:{self.server.server_port}': self.send_error(502, 'external'); return False
        self.path = u.path + (f'?{u.query}' if u.query else ''); return True
    def do_GET(self):
        if self._own(): super().do_GET()
    def do_HEAD(self):
        if self._own(): super().do_HEAD()
    def do_CONNECT(self): REQUESTS.append(('CONNECT', self.path)); self.send_error(502, 'external')
    do_POST = do_GET

class Server(ThreadingHTTPServer):
    def handle_error(self, *a): pass  # Chromium closing a connection early is not a site error

def chromium():
    return next((p for p in (os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome') if p and shutil.which(p)), None)

def dump_dom(exe, url, port):
    "The page's DOM after its scripts ran (virtual time lets MathJax finish)."
    proxy = [f'--proxy-server=http://127.0.0.1:{port}', '--proxy-bypass-list=<-loopback>']
    with tempfile.TemporaryDirectory() as profile:  # a fresh profile: no sign-in, no synced state
        r = subprocess.run([exe, *FLAGS, *proxy, f'--user-data-dir={profile}', '--dump-dom', url], capture_output=True, text=True, timeout=180)
    if r.returncode: sys.exit(f'FAIL: chromium exited {r.returncode} on {url}: {r.stderr[-1000:]}')
    return r.stdout

def nav_links(dom): return re.findall(r'href="([^"]+)"', re.search(r'<nav id="site-nav">(.*?)</nav>', dom, re.S).group(1))

def check_math(dom, name):
    "MathJax CommonHTML output present, no raw $$ or MathJax error left in the rendered text."
    n = len(re.findall(r'class="mjx-chtml', dom))
    text = re.sub(r'<[^>]+>', ' ', re.sub(r'<(script|style)\b.*?</\1>', ' ', dom.split('<main>', 1)[-1], flags=re.S))
    errs = [f'{name}: raw $$ left in text'] * ('$$' in text) + [f'{name}: Math Processing Error'] * ('Math Processing Error' in text)
    return n, errs

def static_external():
    "Every page: no script, style sheet, image or frame from another host (catches what a run might not load)."
    pat = re.compile(r'<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)="((?:https?:)?//[^"]+)"', re.I)
    return [f'{p.name} loads {u}' for p in sorted(DOCS.glob('*.html')) for u in pat.findall(p.read_text())]

def main():
    if not (DOCS/'index.html').exists(): sys.exit(f'FAIL: {DOCS}/index.html missing: run scripts/docs.sh first')
    exe = chromium()
    if not exe: print('SKIPPED: no Chromium found (install Debian `chromium`, or set CHROMIUM=/path/to/chrome)'); return 0
    srv = Server(('127.0.0.1', 0), partial(SiteAndProxy, directory=str(DOCS)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port, errors, n_math, links = srv.server_port, [], {}, set()
    theory = sorted(DOCS.glob('*theory*.html'))
    if not theory: errors.append('no *theory*.html page')
    for page in ['index.html'] + [p.name for p in theory[:1]]:
        dom = dump_dom(exe, f'http://127.0.0.1:{port}/{page}', port)
        n_math[page], errs = check_math(dom, page); errors += errs
        links |= set(nav_links(dom))
    if theory and not n_math[theory[0].name]: errors.append(f'{theory[0].name}: no MathJax output elements')
    for l in sorted(links):
        try: status = urlopen(f'http://127.0.0.1:{port}/{l.split("#")[0]}', timeout=10).status
        except Exception as e: status = e
        if status != 200: errors.append(f'nav link {l}: {status}')
    unreached = {p.name for p in DOCS.glob('*.html')} - {unquote(l.split('#')[0]) for l in links}
    if unreached: errors.append(f'pages not reachable from the navigation: {sorted(unreached)}')
    hosts = [(m, u, (urlsplit(u).hostname or u.split(':')[0])) for m, u in REQUESTS]
    external = [(m, u) for m, u, h in hosts if h != '127.0.0.1' and h not in BROWSER_HOSTS]
    background = sorted({h for m, u, h in hosts if h in BROWSER_HOSTS})
    errors += [f'external request: {m} {u}' for m, u in external] + static_external()
    srv.shutdown()
    print(f'[browser] {exe}: pages checked {len(n_math)}, MathJax elements {n_math}, nav links checked {len(links)}, '
          f'requests {len(REQUESTS)} (external {len(external)}; Chromium background traffic ignored: {background or "none"})')
    for e in errors: print(f'FAIL: {e}')
    print('[browser] OK' if not errors else f'[browser] {len(errors)} failure(s)')
    return 1 if errors else 0

if __name__ == '__main__': sys.exit(main())

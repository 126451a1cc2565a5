"Markers: `docs` tests build the documentation site (minutes); they run only when asked for: `pytest -m docs tests`."
import pytest

def pytest_configure(config):
    config.addinivalue_line('markers', 'docs: builds and checks the documentation site (opt-in: pytest -m docs)')

def pytest_collection_modifyitems(config, items):
    if 'docs' in (config.getoption('-m') or ''): return
    skip = pytest.mark.skip(reason='opt-in: pytest -m docs tests')
    for item in items:
        if 'docs' in item.keywords: item.add_marker(skip)

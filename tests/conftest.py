"""Opt-in markers: `docs` tests build the documentation site, `slow` tests rehearse the paper profile at full model size
(minutes each). They run only when asked for: `pytest -m docs tests`, `pytest -m slow tests`."""
import pytest

OPT_IN = {'docs': 'builds and checks the documentation site (opt-in: pytest -m docs)',
          'slow': 'the paper profile at full model size on random weights, minutes (opt-in: pytest -m slow)'}

def pytest_configure(config):
    for name, doc in OPT_IN.items(): config.addinivalue_line('markers', f'{name}: {doc}')

def pytest_collection_modifyitems(config, items):
    asked = config.getoption('-m') or ''
    for name in OPT_IN:
        if name in asked: continue
        skip = pytest.mark.skip(reason=f'opt-in: pytest -m {name} tests')
        for item in items:
            if name in item.keywords: item.add_marker(skip)

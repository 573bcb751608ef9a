"""Fixtures of the integration tests; see harness.py."""

import pytest

from harness import ansible, sim, sim_session  # noqa: F401  pylint: disable=unused-import


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which reads the marks to group the items
def pytest_collection_modifyitems(items):
    """Under pytest-xdist (`-n N --dist loadgroup`), keep the tests of a module on one worker when they share
    a module-scoped fixture (an ansible-runner job, a peer, a simulator of their own), so it is set up once;
    the other tests spread over the workers one by one."""
    for item in items:
        defs = getattr(item, "_fixtureinfo", None)
        scopes = {d.scope for name in item.fixturenames for d in (defs.name2fixturedefs.get(name, ()) if defs else ())}
        if "module" in scopes:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))

"""Shared pytest set-up: importing testlib makes ``ansible_collections.taskstatus.infra`` importable."""

import testlib  # noqa: F401  pylint: disable=unused-import


def pytest_configure(config):
    config.addinivalue_line("markers", "smoke: the smoke run every cell of the support matrix makes (noxfile.py)")

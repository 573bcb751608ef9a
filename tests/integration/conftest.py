"""Fixtures of the integration tests; see harness.py."""

from harness import ansible, sim, sim_session  # noqa: F401  pylint: disable=unused-import

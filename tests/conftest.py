"""Shared pytest set-up: importing testlib makes ``ansible_collections.taskstatus.infra`` importable."""

import testlib  # noqa: F401  pylint: disable=unused-import

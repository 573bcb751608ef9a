# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nox sessions of taskstatus.infra: the support matrix and Galaxy's import check (make matrix, make galaxy-importer).

Run through tests/tools/matrix.sh, which puts the machine's real interpreters on PATH. `nox -l` lists them.

- matrix-<core>-py<python>: every ansible-core that meta/runtime.yml claims, each on the oldest and the newest
  controller Python it supports (antsibull-nox's table of ansible-core releases) that this project's machines
  have (MACHINE_PYTHONS). In a venv of its own (.nox/), with that core from PyPI, each cell runs
  `ansible-test sanity` (tests/tools/sanity.sh: offline, no ignore files, on the collection as built: every
  test on the core's oldest Python, compile and import on its newest), the unit tests of the plugins, and the
  smoke run of real playbooks against the simulator (tests/integration/test_smoke.py). The oldest cell and the
  newest one run the whole integration suite instead of the smoke run. Steps go through tests/tools/stage.sh,
  so their times land in the summary that .ci/run prints.
- build-import-check (antsibull-nox.toml): builds the collection and runs galaxy-importer on the tarball, as
  Galaxy and Automation Hub do on upload, offline (tests/galaxy-importer.cfg).
"""

from __future__ import annotations

import os
import time

import antsibull_nox
import nox
from antsibull_nox.ansible import get_ansible_core_info
from antsibull_nox.utils import Version

antsibull_nox.load_antsibull_nox_toml()

# The newest release of every ansible-core line that meta/runtime.yml's requires_ansible claims.
CORES = {
    "2.17": "2.17.14",
    "2.18": "2.18.19",
    "2.19": "2.19.14",
    "2.20": "2.20.10",
    "2.21": "2.21.5",
}
# The Pythons this project's machines have (pyenv); tests/tools/matrix.sh links them into .nox/pythons.
MACHINE_PYTHONS = ("3.10", "3.11", "3.12", "3.13")
REPO = os.path.dirname(os.path.abspath(__file__))


def controller_pythons(core):
    """The oldest and the newest controller Python of ``core`` that the machines have."""
    supported = [str(v) for v in get_ansible_core_info(Version.parse(core)).controller_python_versions]
    usable = [v for v in supported if v in MACHINE_PYTHONS]
    if not usable:
        raise ValueError("ansible-core %s supports Python %s on the controller; none of them is on this machine"
                         % (core, ", ".join(supported)))
    return sorted({usable[0], usable[-1]}, key=lambda v: tuple(map(int, v.split("."))))


CELLS = [(core, python) for core in CORES for python in controller_pythons(core)]
# The core and Python of the dev venv (requirements-dev.txt, tests/tools/venv.sh): its cell checks the whole
# tree (tests and simulator too, as `make sanity` does), the others the collection as built.
DEV_CELL = ("2.19", "3.11")
# The whole integration suite runs on the oldest core with its oldest Python and on the newest core with its
# newest Python; the other cells make the smoke run.
FULL = {CELLS[0], CELLS[-1]}


def record_time(name, seconds):
    """One line in the stage timings that .ci/run prints (tests/tools/stage.sh writes the others)."""
    if os.environ.get("STAGE_TIMINGS"):
        with open(os.environ["STAGE_TIMINGS"], "a", encoding="utf-8") as handle:
            handle.write("%-24s %-20s %6ds\n" % (name, "passed", round(seconds)))


def make_cell(core, python):
    full = (core, python) in FULL
    label = "%s-py%s" % (core, python)

    def cell(session):
        started = time.monotonic()
        session.install("ansible-core==%s" % CORES[core], "-r", "tests/requirements-matrix.txt", "-r", "requirements.txt")
        record_time("%s install" % label, time.monotonic() - started)
        venv = session.virtualenv.location
        # ansible-test itself says which controller Pythons this core supports: the cell must be one of them
        session.run("python", "-c", "import sys; from ansible_test._util.target.common.constants import "
                    "CONTROLLER_PYTHON_VERSIONS as C; v = '%s'; sys.exit(0 if v in C else "
                    "'ansible-test %s: Python ' + v + ' is not a controller Python (' + ', '.join(C) + ')')"
                    % (python, CORES[core]), silent=True)
        # sanity with --local --requirements, as tox-ansible runs it: its requirements go into this venv, instead
        # of a venv per sanity test under ~/.ansible/test (a third less CPU when they are all new)
        env = {"VENV": venv, "SANITY_PYTHON": python, "SANITY_CONTENT": "tree" if (core, python) == DEV_CELL else "built",
               "SANITY_LOCAL": "1"}
        stage = os.path.join(REPO, "tests", "tools", "stage.sh")
        tools = os.path.join(REPO, "tests", "tools")
        # every sanity test on the core's oldest Python; on its newest, the ones that depend on the Python
        sanity = [] if python == controller_pythons(core)[0] else ["--test", "compile", "--test", "import"]
        session.run(stage, "%s sanity" % label, os.path.join(tools, "sanity.sh"), *sanity, env=env, external=True)
        session.run(stage, "%s units" % label, os.path.join(tools, "pytest.sh"), "tests/unit/plugins", "-q",
                    env=env, external=True)
        if full:
            # after sanity, so that these pins win over what sanity installed
            started = time.monotonic()
            session.install("-r", "tests/requirements-integration.txt")
            session.run("python", "-m", "pip", "check", silent=True)
            record_time("%s install-integration" % label, time.monotonic() - started)
            # two workers (the machines have two cores): much of a test's time is waiting for simulated tasks;
            # by module, so that a module-scoped fixture (an ansible-runner job, a peer) is set up once
            session.run(stage, "%s integration" % label, os.path.join(tools, "pytest.sh"), "tests/integration",
                        "-q", "-n", "2", "--dist", "loadscope", "--durations", "15", env=env, external=True)
        else:
            session.run(stage, "%s smoke" % label, os.path.join(tools, "pytest.sh"), "tests/integration",
                        "-q", "-m", "smoke", env=env, external=True)

    cell.__doc__ = "ansible-core %s on Python %s: sanity (%s), units, %s" % (
        CORES[core], python, "all tests" if python == controller_pythons(core)[0] else "compile, import",
        "the whole integration suite" if full else "the smoke run")
    nox.session(name="matrix-%s" % label, python=python, tags=["matrix", "matrix-full" if full else "matrix-smoke"])(cell)


for _core, _python in CELLS:
    make_cell(_core, _python)

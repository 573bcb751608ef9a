# Build and test toolchain of the taskstatus.infra collection (GNU make).
# Shell logic lives in tests/tools/*.sh; each target is one line.
#
#   make test        everything CI runs (.ci/run): unit, validators, molecule,
#                    lint, docs-lint, changelog-lint, galaxy-importer, and the
#                    support matrix (every ansible-core: sanity, units, smoke
#                    run; the integration suite on the oldest and the newest);
#                    stops at#                    the first failure
#   make demo        the README demo against the simulator
#   make help        the list of targets
#
# Needs only python3.11 (PATH or pyenv; or PYTHON=/path/to/python3.11), git,
# network access to PyPI, and for `make validators` unshare (util-linux) and ip
# (iproute2) with the right to make a network namespace (root, or user
# namespaces); everything else goes into .venv or ~/.cache/taskstatus. The
# matrix also needs Python 3.10, 3.12 and 3.13 (PATH or pyenv); its venvs go
# into .nox.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV  := .venv
STAMP := $(VENV)/.requirements.stamp
TOOLS := tests/tools
STAGE := $(TOOLS)/stage.sh

# Extra arguments: make test-unit PYTEST_ARGS='-k waiter -x'
#                  make sanity SANITY_ARGS='--test validate-modules'
PYTEST_ARGS ?=
SANITY_ARGS ?=
LINT_ARGS ?=
DEMO_ARGS ?=
NOX_ARGS ?=
export PYTEST_ARGS

.PHONY: help venv install test test-unit test-integration validators molecule sanity lint \
        docs-lint changelog-lint galaxy-importer matrix demo clean distclean

help:
	@echo 'make venv              create/update .venv from requirements-dev.txt (only when they changed)'
	@echo 'make install           build build/taskstatus-infra-*.tar.gz, install it into .venv/collections'
	@echo 'make test              all stages below, in order, stopping at the first failure (CI: .ci/run)'
	@echo 'make test-unit         pytest tests/unit'
	@echo 'make test-integration  pytest tests/integration (against the simulator)'
	@echo 'make validators        DMTF Redfish Service and Protocol Validators on every Redfish flavour (unshare --net)'
	@echo 'make molecule          molecule test of roles/rollout_wait (against the simulator)'
	@echo 'make sanity            ansible-test sanity --venv --python 3.11, offline, no ignore files'
	@echo 'make lint              ansible-lint, production profile, offline'
	@echo 'make docs-lint         antsibull-docs lint-collection-docs --plugin-docs'
	@echo 'make changelog-lint    antsibull-changelog lint'
	@echo 'make galaxy-importer   build the collection, run galaxy-importer on the tarball (nox, offline)'
	@echo 'make matrix            every ansible-core x its oldest and newest Python: sanity, units, smoke run;'
	@echo '                       the integration suite on the oldest and the newest (nox; NOX_ARGS=-l lists them)'
	@echo 'make demo              simulator + ansible-playbook playbooks/demo.yml (the rollout_wait role)'
	@echo 'make clean             remove build and test outputs (distclean: also .venv)'

venv: $(STAMP)
	@:

$(STAMP): requirements-dev.txt requirements.txt
	@$(TOOLS)/venv.sh

install: venv
	@$(TOOLS)/install.sh >/dev/null

# The integration suite runs inside the matrix, on the oldest and the newest ansible-core; `make sanity` (the
# whole tree, on the dev venv's core and Python) is the matrix's cell matrix-2.19-py3.11.
test: venv
	@$(STAGE) unit        $(MAKE) test-unit
	@$(STAGE) validators  $(MAKE) validators
	@$(STAGE) molecule    $(MAKE) molecule
	@$(STAGE) lint        $(MAKE) lint
	@$(STAGE) docs-lint   $(MAKE) docs-lint
	@$(STAGE) changelog   $(MAKE) changelog-lint
	@$(STAGE) galaxy-importer $(MAKE) galaxy-importer
	@$(STAGE) matrix      $(MAKE) matrix
	@echo 'make test: all stages passed'

test-unit: venv
	@$(TOOLS)/pytest.sh tests/unit

test-integration: venv
	@$(TOOLS)/pytest.sh tests/integration

validators: venv
	@$(TOOLS)/validators.sh

molecule: venv
	@$(TOOLS)/molecule.sh test

sanity: venv
	@$(TOOLS)/sanity.sh $(SANITY_ARGS)

lint: venv
	@$(TOOLS)/lint.sh $(LINT_ARGS)

docs-lint: venv
	@$(TOOLS)/docs-lint.sh

changelog-lint: venv
	@$(VENV)/bin/antsibull-changelog lint

galaxy-importer: venv
	@$(TOOLS)/matrix.sh -s build-import-check

matrix: venv
	@$(if $(NOX_ARGS),$(TOOLS)/matrix.sh $(NOX_ARGS),$(TOOLS)/matrix-all.sh)

demo: venv
	@$(TOOLS)/demo.sh $(DEMO_ARGS)

clean:
	rm -rf build tests/output collections .ansible .pytest_cache .sim .nox/pythons
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) .nox

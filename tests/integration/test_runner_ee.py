"""The execution environment for AWX/AAP: tests/tools/ee.sh runs `ansible-builder create` (the build itself
needs a container engine, absent here), and ansible-builder's own introspection reads this collection's
meta/execution-environment.yml from an installed copy, as it does inside the image build.
"""

import os
import subprocess
import sys

import pytest
import yaml

from harness import REPO

BIN = os.path.dirname(sys.executable)


def run(*cmd, **kwargs):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(list(cmd), capture_output=True, text=True, timeout=300, env=env, check=False, **kwargs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    out = tmp_path_factory.mktemp("ee")
    printed = run(os.path.join(REPO, "tests", "tools", "ee.sh"), str(out / "ee")).strip()
    assert printed == str(out / "ee" / "context")
    return out / "ee" / "context"


def test_ansible_builder_create_writes_a_build_context(context):
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==2.19.14 ansible-runner==2.4.3"' in containerfile
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "introspect.py introspect" in containerfile  # reads meta/execution-environment.yml in the image
    tarballs = list((context / "_build" / "collections").glob("taskstatus-infra-*.tar.gz"))
    assert len(tarballs) == 1
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements == {"collections": [{"name": "collections/" + tarballs[0].name, "type": "file"}]}


def test_the_collection_declares_requests_and_no_runtime_system_package(context, tmp_path):
    tarball = next((context / "_build" / "collections").glob("taskstatus-infra-*.tar.gz"))
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(tmp_path), "--offline",
        "--force")
    installed = tmp_path / "ansible_collections" / "taskstatus" / "infra"
    assert (installed / "meta" / "execution-environment.yml").is_file()
    assert not (installed / "roles" / "rollout_wait" / "molecule").exists()  # build_ignore
    found = yaml.safe_load(run(os.path.join(BIN, "ansible-builder"), "introspect", str(tmp_path)))
    assert found["python"] == ["requests>=2.25  # from collection taskstatus.infra"], found
    system = tmp_path / "bindep.txt"
    system.write_text("\n".join(found["system"]) + "\n")
    # what the image build installs with bindep: nothing, every entry is for the [test] profile
    assert run(os.path.join(BIN, "bindep"), "-l", "newline", "-f", str(system)).strip() == ""

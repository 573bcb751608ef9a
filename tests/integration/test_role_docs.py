"""The role's documentation: ansible-doc reads meta/argument_specs.yml, and docs/plugins (made by
antsibull-docs from the plugins' and the role's own docs) matches what antsibull-docs makes now.
"""

import filecmp
import json
import os
import subprocess
import sys

from harness import REPO
from testlib import COLLECTION_ROOT

BIN = os.path.dirname(sys.executable)
REGENERATE = ("tests/tools/with-collection-root.sh antsibull-docs collection --use-current --squash-hierarchy "
              "--output-format simplified-rst --cleanup everything --dest-dir docs/plugins taskstatus.infra")


def env():
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT,
                PATH=BIN + os.pathsep + os.environ.get("PATH", ""))


def test_ansible_doc_shows_the_role_argument_spec():
    proc = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "role", "--json", "taskstatus.infra.rollout_wait"],
                          capture_output=True, text=True, env=env(), timeout=120, check=True)
    spec = json.loads(proc.stdout)["taskstatus.infra.rollout_wait"]["entry_points"]["main"]["options"]
    assert spec["rollout_wait_kinds"]["default"] == ["firmware_update", "config_export", "repository_export"]
    assert spec["rollout_wait_timeout"]["type"] == "float" and spec["rollout_wait_timeout"]["default"] == 3600
    assert all(name.startswith("rollout_wait_") and opt.get("description") and opt.get("type")
               for name, opt in spec.items())


def test_generated_plugin_docs_are_current(tmp_path):
    subprocess.run([os.path.join(BIN, "antsibull-docs"), "collection", "--use-current", "--squash-hierarchy",
                    "--output-format", "simplified-rst", "--dest-dir", str(tmp_path), "taskstatus.infra"],
                   capture_output=True, text=True, env=env(), timeout=300, check=True)
    committed = os.path.join(REPO, "docs", "plugins")
    made = sorted(os.listdir(str(tmp_path)))
    assert made == sorted(os.listdir(committed)), "regenerate with: " + REGENERATE
    _same, differ, errors = filecmp.cmpfiles(committed, str(tmp_path), made, shallow=False)
    assert not differ and not errors, "docs/plugins is stale (%s); regenerate with: %s" % (differ, REGENERATE)

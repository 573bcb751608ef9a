"""Ad-hoc use, as docs/guide.md shows it: ``ansible localhost -m taskstatus.infra.task_info -a '...'``.

Credentials come from TASKSTATUS_USERNAME / TASKSTATUS_PASSWORD, so nothing secret is on the command line.
"""

import json
import os
import re
import subprocess
import sys

from harness import PASSWORD
from testlib import COLLECTION_ROOT

ANSIBLE = os.path.join(os.path.dirname(sys.executable), "ansible")
RESULT = re.compile(r"^localhost \| (SUCCESS|FAILED!) => (\{.*\})\s*\Z", re.S | re.M)


def adhoc(tmp_path, module, args, env=None):
    full_env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTION_ROOT, ANSIBLE_NOCOLOR="1",
                    ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                    ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOAD_CALLBACK_PLUGINS="0",
                    TASKSTATUS_USERNAME="admin", TASKSTATUS_PASSWORD=PASSWORD)
    full_env.update(env or {})
    proc = subprocess.run([ANSIBLE, "localhost", "-m", module, "-a", args], env=full_env, cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=120, check=False)
    assert PASSWORD not in proc.stdout + proc.stderr
    match = RESULT.search(proc.stdout)
    assert match, proc.stdout + proc.stderr
    return proc.returncode, match.group(1), json.loads(match.group(2))


def test_task_info_and_task_wait_ad_hoc(sim, tmp_path):
    made = sim.create_tasks("idrac", 2, scenario="success", duration=1)
    conn = "platform=redfish host=%s ca_path=%s" % (sim.host("idrac"), sim.ca)
    ids = ",".join(m["id"] for m in made)

    rc, status, result = adhoc(tmp_path, "taskstatus.infra.task_info", "%s task_ids=%s" % (conn, ids))
    assert (rc, status) == (0, "SUCCESS"), result
    assert [t["id"] for t in result["tasks"]] == [m["id"] for m in made]
    assert all(t["platform"] == "redfish" and t["kind"] == "firmware_update" for t in result["tasks"]), result
    assert result["changed"] is False

    rc, status, result = adhoc(tmp_path, "taskstatus.infra.task_wait",
                               "%s task_ids=%s interval=0.5 timeout=30" % (conn, ids))
    assert (rc, status) == (0, "SUCCESS"), result
    assert [t["state"] for t in result["tasks"]] == ["succeeded", "succeeded"]
    assert result["msg"] == "2 of 2 tasks succeeded"
    assert sim.stats("idrac")["sessions_open"] == 0


def test_ad_hoc_unknown_id_fails_with_its_name(sim, tmp_path):
    rc, status, result = adhoc(tmp_path, "taskstatus.infra.task_info",
                               "platform=redfish host=%s ca_path=%s task_ids=JID_404404404404"
                               % (sim.host("idrac"), sim.ca))
    assert rc != 0 and status == "FAILED!"
    assert "JID_404404404404" in result["msg"], result
    assert sim.stats("idrac")["sessions_open"] == 0

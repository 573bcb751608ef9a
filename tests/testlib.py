"""Test helpers shared by unit and integration tests: make ``ansible_collections.taskstatus.infra`` importable.

The collection is linked into a temporary collection root outside the work
tree (so ansible-test and ansible-lint never walk it), and that root is put
on ``sys.path`` and exported as ANSIBLE_COLLECTIONS_PATH for the
``ansible-playbook`` runs of the integration tests.
"""

import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("TASKSTATUS_SHARED", os.path.join(os.path.dirname(REPO), "shared"))


def _collection_root():
    root = os.environ.get("TASKSTATUS_COLLECTION_ROOT")
    if not root:
        root = tempfile.mkdtemp(prefix="taskstatus-coll-")
        os.environ["TASKSTATUS_COLLECTION_ROOT"] = root
    link = os.path.join(root, "ansible_collections", "taskstatus", "infra")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(REPO, link)
    return root


COLLECTION_ROOT = _collection_root()
if COLLECTION_ROOT not in sys.path:
    sys.path.insert(0, COLLECTION_ROOT)
if REPO not in sys.path:
    sys.path.insert(0, REPO)

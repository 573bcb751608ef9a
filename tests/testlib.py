"""Test helpers shared by unit and integration tests: make ``ansible_collections.taskstatus.infra`` importable.

The collection is linked into a temporary collection root outside the work
tree (so ansible-test and ansible-lint never walk it), and that root is put
on ``sys.path`` and exported as ANSIBLE_COLLECTIONS_PATH for the
``ansible-playbook`` runs of the integration tests.
"""

import hashlib
import os
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("TASKSTATUS_SHARED", os.path.join(os.path.dirname(REPO), "shared"))


def _collection_root():
    root = os.environ.get("TASKSTATUS_COLLECTION_ROOT")
    if not root:
        # One root per work tree, reused by every run (make sets its own and removes it afterwards).
        digest = hashlib.sha1(REPO.encode("utf-8")).hexdigest()[:12]
        root = os.path.join(tempfile.gettempdir(), "taskstatus-coll-%d-%s" % (os.getuid(), digest))
        os.environ["TASKSTATUS_COLLECTION_ROOT"] = root
    link = os.path.join(root, "ansible_collections", "taskstatus", "infra")
    if os.path.islink(link) and os.readlink(link) != REPO:
        os.unlink(link)
    if not os.path.lexists(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        try:
            os.symlink(REPO, link)
        except FileExistsError:  # another process made it first
            pass
    return root


COLLECTION_ROOT = _collection_root()
if COLLECTION_ROOT not in sys.path:
    sys.path.insert(0, COLLECTION_ROOT)
if REPO not in sys.path:
    sys.path.insert(0, REPO)

"""The normalized task: its fields, how it prints, and the small value cleaners."""

import pytest

from ansible_collections.taskstatus.infra.plugins.module_utils import _models


@pytest.mark.parametrize("value,expected", [
    (45, 45), ("45", 45), (45.6, 46), (-3, 0), (250, 100), (None, None), ("n/a", None), (True, None),
    (float("nan"), None), (float("inf"), None),
])
def test_clamp_percent(value, expected):
    assert _models.clamp_percent(value) == expected


@pytest.mark.parametrize("value,expected", [
    ("2026-11-22T14:01:22Z", "2026-11-22T14:01:22Z"), ("2012-03-07T14:44+06:00", "2012-03-07T14:44+06:00"),
    ("TIME_NA", None), ("TIME_NOW", None), ("", None), (None, None), (1700000000, None),
])
def test_iso_time(value, expected):
    assert _models.iso_time(value) == expected


@pytest.mark.parametrize("value,expected", [
    ("JID_1", "JID_1"), ("a\r\nX: 1", "a\\r\\nX: 1"), ("x" * 100, "x" * 80 + "..."), (545, "545"),
])
def test_show(value, expected):
    assert _models.show(value) == expected


def test_unknown_state_and_kind_are_normalized():
    task = _models.Task("1", "redfish", state="Completed", kind="reboot")
    assert (task.state, task.kind, task.terminal) == ("unknown", "other", False)


def test_to_dict_has_exactly_the_documented_fields():
    task = _models.Task("7", "redfish", name="Task 7", state="failed", percent=40, vendor_state="Exception",
                        messages=[_models.message("Image verification failed", "Critical", "Update.1.0.VerificationFailed")],
                        raw={"Id": "7"})
    assert list(task.to_dict()) == list(_models.Task.FIELDS)
    assert task.to_dict(include_raw=True)["raw"] == {"Id": "7"}
    assert task.describe() == "7 (Task 7): failed [Exception] 40% - Image verification failed"
    assert task.matches({"exception"}) and task.matches({"failed"}) and not task.matches({"succeeded"})

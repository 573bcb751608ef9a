# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The normalized task every adapter returns, and its states and kinds."""

from __future__ import annotations

import math
import re

PENDING = "pending"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
UNKNOWN = "unknown"

STATES = (PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, UNKNOWN)
TERMINAL_STATES = frozenset((SUCCEEDED, FAILED, CANCELLED))

KINDS = (
    "firmware_update",
    "config_export",
    "config_import",
    "repository_export",
    "support_export",
    "deployment",
    "backup",
    "other",
)

SEVERITIES = ("ok", "info", "warning", "critical")


def as_list(value):
    """``value`` when the payload has a JSON array there, else ``[]`` (a vendor field of the wrong type)."""
    return value if isinstance(value, list) else []


def as_dict(value):
    """``value`` when the payload has a JSON object there, else ``{}``."""
    return value if isinstance(value, dict) else {}


def text_or_none(value):
    """A scalar payload field as text (names, ids, targets); None for null, objects and arrays."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value)
    return text if text else None


def message(text, severity=None, message_id=None):
    """One entry of ``messages``."""
    return {
        "severity": _severity(severity),
        "text": "" if text is None else (text if isinstance(text, str) else str(text)),
        "id": text_or_none(message_id),
    }


def _severity(value):
    if not value or not isinstance(value, str):
        return "info"
    value = value.strip().lower()
    if value in ("ok", "success", "informational", "information"):
        return "info" if value != "ok" else "ok"
    if value in ("warning", "warn", "minor"):
        return "warning"
    if value in ("critical", "error", "fatal", "major", "failed", "failure"):
        return "critical"
    return "info"


def settle(state, children, what="subtasks"):
    """One rule for every platform: a parent that finished well is failed when one of its children did not.

    ``children`` are ``(label, state)`` pairs. Returns ``(state, message or None)``; a parent still running
    keeps running (the children's messages say what went wrong so far).
    """
    bad = [(label, child) for label, child in children if child in (FAILED, CANCELLED)]
    if state != SUCCEEDED or not bad:
        return state, None
    text = "finished, but %d of %d %s did not succeed: %s" % (
        len(bad), len(children), what, ", ".join("%s (%s)" % (show(label), child) for label, child in bad))
    return FAILED, message(text, "critical")


def show(value, limit=80):
    """An id or name as it may appear in a one-line message: control characters escaped, long text cut."""
    text = str(value)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        text = repr(text)[1:-1]
    return text if len(text) <= limit else text[:limit] + "..."


def iso_time(value):
    """An ISO 8601 time as given, or None for placeholders such as iDRAC's ``TIME_NA``."""
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return value
    return None


def clamp_percent(value):
    """An int in 0..100, or None when the platform gives nothing usable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if math.isnan(number) or math.isinf(number):
        return None
    return int(max(0, min(100, round(number))))


def ratio(done, total):
    """``100 * done / total`` for two JSON numbers with ``total > 0``, else None (never an overflow)."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (done, total))
    if not numbers or not total > 0:
        return None
    try:
        value = 100.0 * (done / total)
    except (OverflowError, ZeroDivisionError):
        return None
    return None if math.isnan(value) or math.isinf(value) else value


class Task:
    """A normalized task.

    ``aliases`` are extra vendor words (for instance iDRAC's ``Scheduled``
    job state) that the ``states`` option may name; they are not returned.
    ``gone`` marks a task that was seen and then disappeared.
    """

    FIELDS = (
        "id", "platform", "name", "kind", "state", "terminal", "percent",
        "message", "messages", "started", "ended", "vendor_state", "target",
        "url", "found",
    )

    def __init__(self, task_id, platform, name=None, kind="other", state=UNKNOWN,
                 percent=None, messages=None, started=None, ended=None,
                 vendor_state=None, target=None, url=None, found=True, raw=None,
                 aliases=(), extra=None):
        if state not in STATES:
            state = UNKNOWN
        if kind not in KINDS:
            kind = "other"
        self.id = task_id
        self.platform = platform
        self.name = text_or_none(name)
        self.kind = kind
        self.state = state
        self.percent = clamp_percent(percent)
        self.messages = list(messages or [])
        self.started = iso_time(started)
        self.ended = iso_time(ended)
        # The platform's own words, unchanged; a vendor that sends an object there gets it as text.
        self.vendor_state = vendor_state if vendor_state is None or isinstance(vendor_state, str) \
            else str(vendor_state)
        self.target = text_or_none(target)
        self.url = url
        self.found = found
        self.raw = raw
        self.aliases = tuple(a for a in aliases if isinstance(a, str) and a)
        self.extra = dict(extra or {})
        self.gone = False

    @property
    def terminal(self):
        return self.state in TERMINAL_STATES

    @property
    def message(self):
        for entry in reversed(self.messages):
            if entry.get("text"):
                return entry["text"]
        return None

    def matches(self, wanted):
        """True when the normalized or a vendor state is in ``wanted`` (lower-cased)."""
        if self.state in wanted:
            return True
        words = (self.vendor_state,) + self.aliases
        return any(w is not None and str(w).lower() in wanted for w in words)

    def label(self):
        """``id (name)`` for messages a person reads."""
        if self.name and self.name != self.id:
            return "%s (%s)" % (show(self.id), show(self.name))
        return show(self.id)

    def describe(self):
        """One line: id, name, state, percent and the vendor message."""
        text = "%s: %s" % (self.label(), self.state)
        if self.vendor_state and str(self.vendor_state).lower() != self.state:
            text += " [%s]" % self.vendor_state
        if self.percent is not None:
            text += " %d%%" % self.percent
        if self.message:
            text += " - %s" % self.message
        return text

    def to_dict(self, include_raw=False):
        result = {
            "id": self.id,
            "platform": self.platform,
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "terminal": self.terminal,
            "percent": self.percent,
            "message": self.message,
            "messages": self.messages,
            "started": self.started,
            "ended": self.ended,
            "vendor_state": self.vendor_state,
            "target": self.target,
            "url": self.url,
            "found": self.found,
        }
        result.update(self.extra)
        if include_raw:
            result["raw"] = self.raw
        return result


def missing_task(task_id, platform, message_text):
    """The placeholder for an id the platform does not know."""
    return Task(task_id, platform, state=UNKNOWN, found=False,
                messages=[message(message_text, "warning")])

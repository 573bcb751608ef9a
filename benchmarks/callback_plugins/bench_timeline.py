# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark helper: when each task started and each host's result arrived, and the polls each wait made.

Enabled by benchmarks/fleet.py (ANSIBLE_CALLBACK_PLUGINS, ANSIBLE_CALLBACKS_ENABLED=bench_timeline); writes
JSON to $BENCH_TIMELINE at the end of the playbook. Not part of the collection.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_timeline
type: aggregate
short_description: timeline of a benchmark run
description: Writes task start times, per-host result times and wait polls to $BENCH_TIMELINE.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timeline"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.tasks = []
        self.current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.current = {"name": task.get_name(), "start": time.time(), "results": {}}
        self.tasks.append(self.current)

    def _record(self, result, status):
        if self.current is None:
            return
        data = result._result  # noqa: SLF001 - a benchmark's own callback
        entry = {"time": time.time(), "status": status}
        for key in ("polls", "elapsed", "attempts", "failed", "timed_out"):
            if key in data:
                entry[key] = data[key]
        if isinstance(data.get("targets"), dict):
            entry["target_polls"] = sum(t.get("polls", 0) for t in data["targets"].values())
            entry["target_tasks"] = sum(len(t.get("tasks", [])) for t in data["targets"].values())
            entry["summary"] = data.get("summary")
        if isinstance(data.get("tasks"), list):
            entry["tasks"] = len(data["tasks"])
        self.current["results"][result._host.get_name()] = entry  # noqa: SLF001

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("BENCH_TIMELINE")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump({"tasks": self.tasks, "end": time.time()}, handle)

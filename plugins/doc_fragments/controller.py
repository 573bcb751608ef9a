# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Where the modules run: an action plugin on the controller, the module only on a delegated host.
    DOCUMENTATION = r"""
attributes:
  diff_mode:
    support: none
  platform:
    platforms: all
  action:
    support: full
    details: The module's code runs in the controller's worker process; the inventory host's connection is not used.
  async:
    support: none
  become:
    support: none
  bypass_host_loop:
    support: none
  connection:
    support: partial
    details: Used only when the task is delegated to a host with a connection other than C(local), where the module runs.
  delegation:
    support: full
    details: >-
      With C(delegate_to) a host reached by a real connection (a jump host on the management network), the module runs
      there and needs C(requests) there; C(delegate_to=localhost) runs on the controller like no delegation.
"""

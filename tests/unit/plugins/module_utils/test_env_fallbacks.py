"""The TASKSTATUS_* environment variables that AWX/AAP credentials of the collection's credential types inject
(extensions/awx/credential_types), validated the way every ansible-core of the support matrix validates module
arguments: fallbacks fill required options before the required check, an empty variable counts as unset, and
secrets from the environment are no_log values."""

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.taskstatus.infra.plugins.module_utils import _module, _spec
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import OptionError

VARIABLES = ("TASKSTATUS_PLATFORM", "TASKSTATUS_HOST", "TASKSTATUS_USERNAME", "TASKSTATUS_PASSWORD",
             "TASKSTATUS_TOKEN", "TASKSTATUS_VALIDATE_CERTS", "TASKSTATUS_CA_PATH")


@pytest.fixture
def env(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def validate(params):
    return ArgumentSpecValidator(_spec.wait_argument_spec(), **{
        k: v for k, v in _module.MODULE_KWARGS.items() if k != "supports_check_mode"}).validate(params)


@pytest.mark.parametrize("injected,expected", [
    # Redfish BMC credential: platform, host, user, password, the CA file AWX wrote, certificates checked
    ({"TASKSTATUS_PLATFORM": "redfish", "TASKSTATUS_HOST": "bmc1.example.com", "TASKSTATUS_USERNAME": "admin",
      "TASKSTATUS_PASSWORD": "pw-1", "TASKSTATUS_CA_PATH": "/runner/env/tmpca", "TASKSTATUS_VALIDATE_CERTS": "True"},
     {"platform": "redfish", "host": "bmc1.example.com", "username": "admin", "password": "pw-1",
      "ca_path": "/runner/env/tmpca", "validate_certs": True, "token": None}),
    # cdFMC credential: an API token and a base URL; the fields left empty come as empty strings
    ({"TASKSTATUS_PLATFORM": "cdfmc", "TASKSTATUS_HOST": "https://api.us.security.cisco.com/firewall",
      "TASKSTATUS_TOKEN": "tok-1", "TASKSTATUS_USERNAME": "", "TASKSTATUS_PASSWORD": "", "TASKSTATUS_CA_PATH": "",
      "TASKSTATUS_VALIDATE_CERTS": "False"},
     {"platform": "cdfmc", "host": "https://api.us.security.cisco.com/firewall", "token": "tok-1", "username": None,
      "password": None, "ca_path": None, "validate_certs": False}),
])
def test_injected_variables_fill_the_connection(env, injected, expected):
    for name, value in injected.items():
        env.setenv(name, value)
    result = validate({"task_ids": ["1"]})
    assert not result.error_messages, result.error_messages
    assert {k: result.validated_parameters[k] for k in expected} == expected
    for secret in ("pw-1", "tok-1"):
        if secret in injected.values():
            assert secret in result._no_log_values


def test_task_arguments_win_over_the_environment(env):
    env.setenv("TASKSTATUS_HOST", "from-env.example.com")
    env.setenv("TASKSTATUS_PLATFORM", "vsphere")
    result = validate({"platform": "redfish", "host": "bmc9.example.com", "task_ids": ["1"]})
    assert not result.error_messages
    assert (result.validated_parameters["platform"], result.validated_parameters["host"]) == ("redfish",
                                                                                              "bmc9.example.com")


@pytest.mark.parametrize("injected", [{}, {"TASKSTATUS_HOST": "", "TASKSTATUS_PLATFORM": ""}])
def test_required_options_missing_everywhere_are_named(env, injected):
    # host and platform are checked after the argument spec (task_wait may take them from its targets)
    for name, value in injected.items():
        env.setenv(name, value)
    result = validate({"task_ids": ["1"]})
    assert not result.error_messages, result.error_messages
    with pytest.raises(OptionError) as err:
        _spec.validate(dict(result.validated_parameters), waiting=True)
    assert "missing required arguments: host, platform" in str(err.value)


def test_a_bad_platform_from_the_environment_is_refused(env):
    env.setenv("TASKSTATUS_PLATFORM", "ilo")
    env.setenv("TASKSTATUS_HOST", "bmc1")
    result = validate({"task_ids": ["1"]})
    assert any("platform" in m and "ilo" in m for m in result.error_messages), result.error_messages

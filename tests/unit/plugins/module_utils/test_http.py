"""Host parsing, id quoting, Retry-After and answer checking of the HTTP layer."""

import pytest

from ansible_collections.taskstatus.infra.plugins.module_utils import _http
from ansible_collections.taskstatus.infra.plugins.module_utils._errors import BadResponse, OptionError


@pytest.mark.parametrize("host,expected", [
    ("bmc1.example.com", ("https", "bmc1.example.com", "")),
    ("10.0.0.5:8443", ("https", "10.0.0.5:8443", "")),
    ("[::1]:8443", ("https", "[::1]:8443", "")),
    ("https://api.us.security.cisco.com/firewall", ("https", "api.us.security.cisco.com", "/firewall")),
    ("https://api.us.security.cisco.com/firewall/", ("https", "api.us.security.cisco.com", "/firewall")),
    ("http://lab-bmc:8000", ("http", "lab-bmc:8000", "")),
    (" bmc1 ", ("https", "bmc1", "")),
])
def test_parse_host(host, expected):
    assert _http.parse_host(host, "redfish") == expected


@pytest.mark.parametrize("host,words", [
    ("", "must not be empty"),
    ("   ", "must not be empty"),
    (None, "must not be empty"),
    ("bmc1/redfish/v1", "has a path but no scheme"),
    ("ftp://bmc1", "scheme must be https:// or http://"),
    ("https://user:pw@bmc1", "must not carry credentials"),
    ("https://bmc1/?x=1", "must not have a query"),
    ("bmc1:99999", "invalid port"),
    ("https://bmc1:notaport", "invalid port"),
    ("bmc 1", "white space"),
    ("https://", "no host name"),
])
def test_parse_host_refuses(host, words):
    with pytest.raises(OptionError) as err:
        _http.parse_host(host, "redfish")
    assert words in str(err.value)
    assert str(err.value).startswith("redfish")
    assert "pw" not in str(err.value)


@pytest.mark.parametrize("task_id,quoted", [
    ("545", "545"),
    ("../../SessionService/Sessions", "..%2F..%2FSessionService%2FSessions"),
    ("..", "%2E%2E"),
    (".", "%2E"),
    ("a?b#c", "a%3Fb%23c"),
    ("line\nbreak\x00", "line%0Abreak%00"),
    ("52f0:com.vmware.esx", "52f0%3Acom.vmware.esx"),
])
def test_quote_segment(task_id, quoted):
    assert _http.quote_segment(task_id) == quoted
    assert "/" not in _http.quote_segment(task_id)


@pytest.mark.parametrize("value,expected", [
    ("5", 5.0), ("0", 0.0), (" 2 ", 2.0), ("-3", 0.0), ("", None), (None, None), ("soon", None),
    ("Sun, 22 Nov 2026 14:00:30 GMT", 30.0),
    ("Sun, 22 Nov 2026 13:59:00 GMT", 0.0),
])
def test_parse_retry_after(value, expected):
    now = 1795356000.0  # 2026-11-22T14:00:00Z
    assert _http.parse_retry_after(value, now=now) == expected


@pytest.mark.parametrize("seconds,clamped", [(0, 1.0), (0.2, 1.0), (7, 7), (120, 120), (3600, 120.0), (None, None)])
def test_retry_after_bounds(seconds, clamped):
    assert _http.clamp_retry_after(seconds) == clamped


def response(body, status=200, ctype="application/json"):
    return _http.Response(status, {"Content-Type": ctype}, body, "/redfish/v1/TaskService/Tasks/1", "redfish")


@pytest.mark.parametrize("body,ctype,expect,words", [
    (b"<html><body>Login</body></html>", "text/html", dict, "is HTML"),
    (b'{"TaskState": "Runn', "application/json", dict, "not valid JSON"),
    (b"[1, 2]", "application/json", dict, "is a JSON array where the API documents an object"),
    (b'"x"', "application/json", (dict, list), "is a JSON string where the API documents an object or an array"),
    (b"", "application/json", dict, "empty body"),
    (b"\xff\xfe", "application/json", dict, "not valid JSON"),
])
def test_bad_answers(body, ctype, expect, words):
    with pytest.raises(BadResponse) as err:
        response(body, ctype=ctype).json(expect)
    text = str(err.value)
    assert words in text
    assert text.startswith("redfish /redfish/v1/TaskService/Tasks/1 HTTP 200: ")


def test_good_answer():
    assert response(b'{"a": 1}').json(dict) == {"a": 1}
    assert response(b"").json(dict, allow_empty=True) is None


def test_url_stays_on_host():
    client = _http.HttpClient("https://bmc1:8443/prefix", "redfish")
    assert client.url("/redfish/v1") == "https://bmc1:8443/prefix/redfish/v1"
    assert client.url("/prefix/redfish/v1") == "https://bmc1:8443/prefix/redfish/v1"
    assert client.url("https://BMC1:8443/prefix/redfish/v1?x=1") == "https://bmc1:8443/prefix/redfish/v1?x=1"
    for other in ("https://evil:8443/prefix/redfish/v1", "http://bmc1:8443/prefix/x", "https://bmc1/prefix/x"):
        with pytest.raises(OptionError) as err:
            client.url(other)
        assert "another host" in str(err.value)
    with pytest.raises(OptionError):
        client.url("https://bmc1:8443/elsewhere/redfish")
    client.close()

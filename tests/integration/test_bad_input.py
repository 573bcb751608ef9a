"""Bad input and bad answers: each one a clear error naming the option or task and the platform,
never a traceback, never a secret, and no session left open."""

from harness import PASSWORD


def assert_clean(result, *words):
    assert result.get("failed"), result
    msg = result["msg"]
    assert "Traceback" not in str(result) and "module_stderr" not in result, result
    assert PASSWORD not in msg and PASSWORD not in str(result.get("invocation", ""))
    assert "\n" not in msg and len(msg) < 600, msg
    for word in words:
        assert word in msg, (word, msg)


def test_bad_options(sim, ansible):
    conn = sim.connection("bmc")
    cases = [
        (dict(conn, platform="ucsm"), ["value of platform must be one of:", "got: ucsm"]),
        (dict(conn, host=""), ["redfish: option host must not be empty"]),
        (dict(conn, host="bmc1/redfish/v1"), ["option host 'bmc1/redfish/v1' has a path but no scheme"]),
        (dict(conn, timeout=0), ["option timeout must be greater than 0"]),
        (dict(conn, timeout=-5), ["option timeout must be greater than 0"]),
        (dict(conn, interval=30, timeout=10), ["option interval (30.0 s) is longer than timeout (10.0 s)"]),
        (dict(conn, interval=5, max_interval=1), ["option max_interval (1.0 s) is shorter than interval"]),
        (dict(conn, task_ids=[]), ["option task_ids is empty"]),
        (dict(conn, task_ids=["1"], filters={"state": ["running"]}), ["mutually exclusive: task_ids|filters"]),
        (dict(conn, task_ids=["x" * 4096]), ["redfish: task id 'xxxx", "4096 characters long"]),
        (dict(conn, task_ids=["https://evil.example.com/redfish/v1/TaskService/Tasks/1"]),
         ["points at another host than https://127.0.0.1"]),
        (dict(conn, task_ids=["/redfish/v1/TaskService/Tasks/../../SessionService/Sessions"]),
         ["must be a plain path below /redfish/v1/"]),
        (dict(conn, password="wrong"), ["redfish /redfish/v1/SessionService/Sessions HTTP 401",
                                        "credentials for user 'admin' were refused"]),
        (dict(conn, validate_certs=True, ca_path=None), ["TLS verification of 127.0.0.1", "not trusted", "ca_path"]),
        (dict(conn, states=["sucess"]), ["option states: 'sucess' (did you mean 'success'?) is neither a normalized"]),
        (dict(conn, fail_on=["failed", "exploded"]), ["option fail_on: 'exploded' is neither"]),
    ]
    calls = []
    for args, _words in cases:
        call = dict(args, interval=args.get("interval", 0.5), timeout=args.get("timeout", 10))
        call.setdefault("task_ids", ["1"])
        calls.append(call)
    results, _proc = ansible.cases("task_wait", calls)
    for (args, words), result in zip(cases, results):
        assert_clean(result, *words)
    stats = sim.stats("bmc")
    assert stats["sessions_open"] == 0 and stats["logins_failed"] == 1


def test_bare_ids_that_could_leave_the_task_service_are_refused_before_any_request(sim, ansible):
    # A front end that decodes %2F before routing (nginx does) would serve whatever a quoted "../.." names.
    refused = ["../../SessionService/Sessions", "../../AccountService/Accounts/1", "1?$expand=*", "1#x",
               "a\r\nX-Injected: 1", "..", "a\\b"]
    results, _proc = ansible.cases("task_info", [dict(sim.connection("bmc"), task_ids=[i]) for i in refused])
    for result in results:
        assert_clean(result, "redfish: task id", "is refused: a bare id must not contain")
    assert sim.stats("bmc")["requests_total"] == 0
    # An id that only looks odd is data, quoted into one path segment below the task service.
    odd = ["%2e%2e", "task 7"]
    results, _proc = ansible.cases("task_info", [dict(sim.connection("bmc"), task_ids=[i]) for i in odd])
    for result in results:
        assert_clean(result, "redfish: no such task:")
    requested = sim.stats("bmc")["requests"]
    assert [p for p in requested if p.startswith("GET /redfish/v1/TaskService/Tasks/")] == [
        "GET /redfish/v1/TaskService/Tasks/%252e%252e", "GET /redfish/v1/TaskService/Tasks/task%207"], requested
    assert sim.stats("bmc")["sessions_open"] == 0


def test_bad_answers_from_the_server(sim, ansible):
    task_path = "/redfish/v1/TaskService/Tasks/"
    canned = {
        "html": dict(status=200, body="<html><body>Please log in</body></html>", content_type="text/html"),
        "truncated": dict(status=200, body='{"TaskState": "Runn', content_type="application/json"),
        "array": dict(status=200, body='[{"TaskState": "Running"}]', content_type="application/json"),
        "notatask": dict(status=200, body='{"Id": "notatask"}', content_type="application/json"),
        "error500": dict(status=500, content_type="application/json",
                         body='{"error": {"code": "Base.1.8.InternalError", "message": "The request failed due '
                              'to an internal service error.  The service is still operational."}}'),
        "slow": dict(status=200, body='{"TaskState": "Running"}', delay=4),
    }
    sim.control("bmc", "config", {"respond": [dict(rule, path=task_path + name, count=-1)
                                              for name, rule in canned.items()]})
    results, _proc = ansible.cases("task_info", [dict(sim.connection("bmc"), task_ids=[name], request_timeout=1.5)
                                                 for name in canned])
    expected = {
        "html": ["redfish /redfish/v1/TaskService/Tasks/html HTTP 200", "is HTML"],
        "truncated": ["Tasks/truncated HTTP 200", "not valid JSON", '{"TaskState": "Runn'],
        "array": ["Tasks/array HTTP 200", "a JSON array where the API documents an object"],
        "notatask": ["Tasks/notatask", "not a Task or Job resource"],
        "error500": ["Tasks/error500 HTTP 500", "The request failed due to an internal service error"],
        "slow": ["redfish /redfish/v1/TaskService/Tasks/slow", "no answer within 1.5 s (request_timeout)"],
    }
    for name, result in zip(canned, results):
        assert_clean(result, *expected[name])
    assert sim.stats("bmc")["sessions_open"] == 0


def test_throttling_and_busy_answers_are_retried(sim, ansible):
    task = sim.create_tasks("bmc", 1, scenario="success", duration=0.1)[0]
    sim.control("bmc", "config", {"burst": {"status": 429, "count": 2, "retry_after": 1}})
    results, _proc = ansible.cases("task_info", [dict(sim.connection("bmc"), task_ids=[task["id"]], auth_method="basic")])
    assert results[0]["tasks"][0]["state"] == "succeeded"
    sim.control("bmc", "config", {"burst": {"status": 503, "count": 50, "retry_after": 1}})
    results, _proc = ansible.cases("task_info", [dict(sim.connection("bmc"), task_ids=[task["id"]], auth_method="basic")])
    assert_clean(results[0], "HTTP 503")

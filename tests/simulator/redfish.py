"""Redfish for the test simulator: protocol, routes, sessions, tasks, task monitors, vendor flavours.

The protocol follows DMTF DSP0266 as DMTF's Service Validator and Protocol
Validator check it (tests/tools/validators.sh runs both in ``make test``):

- public: ``/redfish``, ``/redfish/v1``, the OData service document
  ``/redfish/v1/odata`` and metadata document ``/redfish/v1/$metadata``, and
  the session login (POST to ``Sessions`` or ``Sessions/Members``); all else
  needs a session token or HTTP Basic credentials. A request that carries an
  ``X-Auth-Token`` is judged by that token alone.
- every answer has ``OData-Version: 4.0``; a successful GET/HEAD also
  ``Allow``, ``Cache-Control`` and (for DMTF types) a ``Link; rel=describedby``
  naming the JSON schema of the ``@odata.type`` version.
- ``OData-Version`` other than 4.0: 412; an ``Accept`` the resource cannot
  meet: 406; a body that is not ``application/json``: 415; a ``$`` query
  parameter other than ``$expand``: 501; a method the URI does not allow: 405
  with ``Allow``; a method nobody implements: 501. Errors are Redfish error
  bodies whose ``code`` is the MessageId of their one message.
- messages come from DMTF registries (Base 1.22, TaskEvent 1.0, Update 1.1,
  see MESSAGES) with ``MessageSeverity`` and the deprecated ``Severity``.

Vendor flavours (one class each, picked by the device's ``vendor``):

- ``generic``: DMTF style, as the DMTF mockups in shared/specs/redfish.
  SimpleUpdate answers 202, a task monitor in ``Location`` and the Task.
- ``dell``: iDRAC. Task ids ``JID_<12 digits>``, ``Oem.Dell`` job data in the
  Task, the same jobs as DellJob resources under
  ``/redfish/v1/Managers/iDRAC.Embedded.1/Jobs``; a failed job may show as
  ``TaskState: Completed`` + ``TaskStatus: Critical`` (scenario critical).
  SimpleUpdate answers 202 with ``Location: /redfish/v1/TaskService/Tasks/JID_...``
  and an empty body; a finished task leaves TaskService ``task_retention``
  seconds after it ended (iDRAC before 5.00: seconds; from 5.00: 600, the
  default here) while its job stays in the job queue
  (dell/iDRAC-Redfish-Scripting#160, dell/dellemc-openmanage-ansible-modules#420).
- ``cisco``: CIMC. The ten fixed task slots of the seed
  (data/cisco_cimc_tasks.json); an update drives slot ``CIMCFwUpdate``
  whose ``Oem.Cisco.UpdateStatus`` moves while ``TaskState`` stays the stale
  ``Completed``. SimpleUpdate answers with the slot's Task URI in
  ``Location`` (no task monitor is advertised); that URI answers 200 at once,
  so a client must read the OEM status, as on a real CIMC.
- ``jobservice``: a service with a DMTF JobService. An update is handed to a
  Job at ``/redfish/v1/JobService/Jobs/{id}`` (Job.v1_2_5: JobState,
  JobStatus, PercentComplete, Messages): SimpleUpdate answers 202 with a task
  monitor whose Task completes at once with the DMTF Update registry's
  ``OperationTransitionedToJob`` message naming the Job; the Job then runs
  the scenario. A client that stops at the Task calls the update done
  while it has not started.
- ``openbmc``: bmcweb-like. Task ids count from 0 and the tasks live in
  memory: every reboot forgets them and restarts the count. The monitor
  answers 202 while running, 204 once when done, then 404. A BMC firmware
  update that succeeds ends in a reboot (bmcweb: "as firmware update often
  results in a reboot, the task may never complete"): nobody sees it
  Completed; after the reboot ``/redfish/v1/UpdateService/FirmwareInventory/<id>``
  (the Manager's ``Links.ActiveSoftwareImage``) shows the new version.

Every flavour has an EventService (push subscriptions kept, never delivered);
generic, dell and openbmc stream TaskEvent messages as Server-Sent Events
(``ServerSentEventUri``: bmcweb's ``/redfish/v1/EventService/SSE``, 10 streams;
iDRAC's ``/redfish/v1/SSE``, 2 streams), with ``$filter`` on RegistryPrefix,
MessageId and EventFormatType, Last-Event-ID replay and heartbeats; knobs
``sse*`` (core.DEFAULTS), docs/simulator-fidelity.md "Server-Sent Events".

Task payloads are checked against Task.v1_7_4.json by the unit tests; every
answer of every flavour passes DMTF's validators against the CSDL schemas in
tests/data/redfish/csdl.
"""

import copy
import hashlib
import json
import os
import re
import secrets
import time
import urllib.parse
import uuid

from .core import (
    KINDS,
    Conflict,
    ConfigError,
    EventStream,
    Platform,
    Response,
    SimTask,
    basic_credentials,
    iso,
    json_response,
)

ROOT = "/redfish/v1"
TASKS = ROOT + "/TaskService/Tasks"
MONITORS = ROOT + "/TaskService/TaskMonitors"
SESSIONS = ROOT + "/SessionService/Sessions"
ACCOUNTS = ROOT + "/AccountService/Accounts"
ROLES = ROOT + "/AccountService/Roles"
UPDATE_SERVICE = ROOT + "/UpdateService"
SIMPLE_UPDATE = UPDATE_SERVICE + "/Actions/UpdateService.SimpleUpdate"
FIRMWARE = UPDATE_SERVICE + "/FirmwareInventory"
DELL_JOBS = ROOT + "/Managers/iDRAC.Embedded.1/Jobs"
JOBS = ROOT + "/JobService/Jobs"
EVENT_SERVICE = ROOT + "/EventService"
SUBSCRIPTIONS = EVENT_SERVICE + "/Subscriptions"
EVENT_SERVICE_TYPE = "#EventService.v1_10_0.EventService"
DESTINATION_TYPE = "#EventDestination.v1_14_1.EventDestination"
EVENT_TYPE = "#Event.v1_7_0.Event"
SSE_TYPES = ("text/event-stream", "text/*", "*/*")
TASK_TYPE = "#Task.v1_7_4.Task"
MESSAGE_TYPE = "#Message.v1_1_1.Message"
DMTF_SCHEMAS = "https://redfish.dmtf.org/schemas/v1/"
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")

EXPAND_RE = re.compile(r"^([.*~])(?:\(\$levels=(\d+)\))?$")
SUPPORTED_QUERY = ("$expand",)
JSON_TYPES = ("application/json", "application/*", "*/*")
XML_TYPES = ("application/xml", "application/*", "*/*")
# SimpleUpdate parameters of UpdateService_v1.xml: the ones this service takes, and the ones it knows but refuses.
SIMPLE_UPDATE_PARAMS = ("ImageURI", "TransferProtocol", "Targets", "Username", "Password", "ForceUpdate")
SIMPLE_UPDATE_REFUSED = ("Stage", "LocalImage", "ExcludeTargets")

# ---- messages ---------------------------------------------------------------

# The DMTF message registries (shared/specs/redfish/registries) this service names, and the
# messages it sends from each: (text with %1.. arguments, MessageSeverity). A unit test holds this
# table to the registry files, so a message id, its text or its argument count cannot drift.
MESSAGES = {
    "Base.1.22": {
        "Success": ("The request completed successfully.", "OK"),
        "GeneralError": (
            "A general error has occurred.  See Resolution for information on how to resolve the error, or "
            "@Message.ExtendedInfo if Resolution is not provided.",
            "Critical",
        ),
        "NoValidSession": ("There is no valid session established with the implementation.", "Critical"),
        "ResourceAtUriUnauthorized": (
            "While accessing the resource at '%1', the service received an authorization error '%2'.",
            "Critical",
        ),
        "SessionLimitExceeded": (
            "The session establishment failed due to the number of simultaneous sessions exceeding the limit of the "
            "implementation.",
            "Critical",
        ),
        "QueryParameterValueFormatError": (
            "The value '%1' for the parameter %2 is not a format that the parameter can accept.",
            "Warning",
        ),
        "QueryParameterUnsupported": ("Query parameter '%1' is not supported.", "Warning"),
        "ActionParameterMissing": ("The action %1 requires the parameter %2 to be present in the request body.", "Critical"),
        "ActionParameterUnknown": ("The action %1 was submitted with the invalid parameter %2.", "Warning"),
        "ActionParameterNotSupported": (
            "The parameter %1 for the action %2 is not supported on the target resource.",
            "Warning",
        ),
        "ActionParameterValueTypeError": (
            "The value '%1' for the parameter %2 in the action %3 is not a type that the parameter can accept.",
            "Warning",
        ),
        "MalformedJSON": (
            "The request body submitted was malformed JSON and could not be parsed by the receiving service.",
            "Critical",
        ),
        "ServiceTemporarilyUnavailable": ("The service is temporarily unavailable.  Retry in %1 seconds.", "Critical"),
        "ResourceInUse": (
            "The change to the requested resource failed because the resource is in use or in transition.",
            "Warning",
        ),
        "OperationNotAllowed": ("The HTTP method is not allowed on this resource.", "Critical"),
        "ResourceMissingAtURI": ("The resource at the URI '%1' was not found.", "Critical"),
        "CreateFailedMissingReqProperties": (
            "The create operation failed because the required property %1 was missing from the request.",
            "Critical",
        ),
        "HeaderInvalid": ("Header '%1' is invalid.", "Critical"),
        "InternalError": (
            "The request failed due to an internal service error.  The service is still operational.",
            "Critical",
        ),
        "EventSubscriptionLimitExceeded": (
            "The event subscription failed due to the number of simultaneous subscriptions exceeding the limit of "
            "the implementation.",
            "Critical",
        ),
        "PropertyMissing": ("The property %1 is a required property and must be included in the request.", "Warning"),
        "PropertyUnknown": ("The property %1 is not in the list of valid properties for the resource.", "Warning"),
        "PropertyValueNotInList": (
            "The value '%1' for the property %2 is not in the list of acceptable values.",
            "Warning",
        ),
        "PropertyValueTypeError": (
            "The value '%1' for the property %2 is not a type that the property can accept.",
            "Warning",
        ),
    },
    "TaskEvent.1.0": {
        "TaskStarted": ("The task with Id '%1' has started.", "OK"),
        "TaskCompletedOK": ("The task with Id '%1' has completed.", "OK"),
        "TaskCancelled": (
            "Work on the task with Id '%1' was halted prior to completion due to an explicit request.",
            "Warning",
        ),
        "TaskAborted": ("The task with Id '%1' has completed with errors.", "Critical"),
        "TaskProgressChanged": ("The task with Id '%1' has changed to progress %2 percent complete.", "OK"),
    },
    "Update.1.1": {
        "UpdateSuccessful": ("Device '%1' successfully updated with image '%2'.", "OK"),
        "ApplyFailed": ("Installation of image '%1' to '%2' failed.", "Critical"),
        "OperationTransitionedToJob": ("The update operation has transitioned to the job at URI '%1'.", "OK"),
    },
}
REGISTRY_OF = {prefix.split(".")[0]: prefix for prefix in MESSAGES}
# The registry message an error of a status gets when the caller names none.
STATUS_MESSAGE = {401: "NoValidSession", 404: "ResourceMissingAtURI", 405: "OperationNotAllowed",
                  500: "InternalError", 501: "OperationNotAllowed"}


def registry_message(key, *args):
    """A Message from MESSAGES: ``key`` is ``Name`` (Base) or ``Registry.Name`` (TaskEvent, Update)."""
    registry, _dot, name = key.rpartition(".")
    prefix = REGISTRY_OF[registry or "Base"]
    text, severity = MESSAGES[prefix][name]
    args = [str(a) for a in args]
    wanted = len(set(re.findall(r"%(\d+)", text)))
    if len(args) != wanted:
        raise ValueError("message %s takes %d arguments, got %d" % (key, wanted, len(args)))
    filled = re.sub(r"%(\d+)", lambda m: args[int(m.group(1)) - 1], text)
    return {
        "MessageId": "%s.%s" % (prefix, name),
        "Message": filled,
        "MessageArgs": args,
        "MessageSeverity": severity,
    }


# The TaskEvent messages of the event streams: registry TaskEvent 1.0.3, as bmcweb sends them (MessageId
# "TaskEvent.1.0.3.<Key>"); a unit test holds this table to shared/specs/redfish/registries/TaskEvent.1.0.3.json.
EVENT_REGISTRY = "TaskEvent.1.0.3"
EVENT_MESSAGES = {
    "TaskStarted": ("The task with Id '%1' has started.", "OK"),
    "TaskProgressChanged": ("The task with Id '%1' has changed to progress %2 percent complete.", "OK"),
    "TaskCompletedOK": ("The task with Id '%1' has completed.", "OK"),
    "TaskCompletedWarning": ("The task with Id '%1' has completed with warnings.", "Warning"),
    "TaskAborted": ("The task with Id '%1' has completed with errors.", "Critical"),
    "TaskCancelled": (
        "Work on the task with Id '%1' has been halted prior to completion due to an explicit request.",
        "Warning",
    ),
    "TaskRemoved": ("The task with Id '%1' has been removed.", "Warning"),
    "TaskPaused": ("The task with Id '%1' has been paused.", "Warning"),
    "TaskResumed": ("The task with Id '%1' has been resumed.", "OK"),
}
# The event that ends a task, by outcome (critical: Dell's Completed + Critical, a failure).
TASK_END_EVENT = {"success": "TaskCompletedOK", "fail": "TaskAborted", "critical": "TaskAborted",
                  "cancel": "TaskCancelled"}


def event_message(name, *args):
    """A TaskEvent 1.0.3 message (MessageId, Message, MessageArgs, MessageSeverity) of an event stream."""
    text, severity = EVENT_MESSAGES[name]
    args = [str(a) for a in args]
    return {
        "MessageId": "%s.%s" % (EVENT_REGISTRY, name),
        "Message": re.sub(r"%(\d+)", lambda m: args[int(m.group(1)) - 1], text),
        "MessageArgs": args,
        "MessageSeverity": severity,
    }


# $filter of an event stream (DSP0266 "Server-sent events"): the properties this service filters on, as
# EventService.SSEFilterPropertiesSupported says; eq/ne, and/or/not, parentheses.
SSE_FILTER_SUPPORTED = {"EventFormatType": True, "MessageId": True, "RegistryPrefix": True, "ResourceType": False,
                        "OriginResource": False, "MetricReportDefinition": False,
                        "SubordinateResources": False}
FILTER_TOKEN = re.compile(r"\s*(?:(\()|(\))|'((?:[^']|'')*)'|([A-Za-z_][A-Za-z0-9_.]*))")
# Properties a push subscription may carry (EventDestination); others: 400 PropertyUnknown.
PUSH_PROPERTIES = ("Destination", "Protocol", "Context", "EventFormatType", "RegistryPrefixes", "MessageIds",
                   "ResourceTypes", "SubscriptionType", "HttpHeaders", "DeliveryRetryPolicy", "EventTypes",
                   "IncludeOriginOfCondition", "OriginResources", "Oem")


class FilterError(ValueError):
    """A $filter this service cannot apply (answered with 400)."""


def message_key(message_id):
    """``TaskEvent.1.0.3.TaskStarted`` and ``TaskEvent.TaskStarted`` -> ("TaskEvent", "TaskStarted"): a
    MessageId filter ignores the registry version (DSP0266)."""
    parts = message_id.split(".")
    return parts[0], parts[-1]


def _filter_value(record, prop):
    if prop == "RegistryPrefix":
        return record["MessageId"].split(".", 1)[0]
    if prop == "EventFormatType":
        return "Event"
    return record["MessageId"]


def parse_sse_filter(text):
    """A stream's $filter -> predicate(record); FilterError when it is malformed or names a property
    the service does not filter on."""
    if text is None or not text.strip():
        return lambda record: True
    tokens = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = FILTER_TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FilterError("cannot read the $filter at %r" % text[pos:pos + 20])
        pos = match.end()
        if match.group(1):
            tokens.append(("(", None))
        elif match.group(2):
            tokens.append((")", None))
        elif match.group(3) is not None:
            tokens.append(("str", match.group(3).replace("''", "'")))
        else:
            tokens.append(("word", match.group(4)))
    tokens.append(("end", None))
    at = [0]

    def peek():
        return tokens[at[0]]

    def take():
        token = tokens[at[0]]
        at[0] += 1
        return token

    def keyword(word):
        kind, value = peek()
        if kind == "word" and value.lower() == word:
            take()
            return True
        return False

    def atom():
        if keyword("not"):
            inner = atom()
            return lambda r: not inner(r)
        kind, value = take()
        if kind == "(":
            inner = disjunction()
            if take()[0] != ")":
                raise FilterError("a ( without its )")
            return inner
        if kind != "word":
            raise FilterError("expected a property name")
        if value not in SSE_FILTER_SUPPORTED:
            raise FilterError("%s is not a property an event stream filters on" % value)
        if not SSE_FILTER_SUPPORTED[value]:
            raise FilterError("this service does not filter on %s (SSEFilterPropertiesSupported); it filters on "
                              "RegistryPrefix, MessageId and EventFormatType" % value)
        op = take()
        if op[0] != "word" or op[1].lower() not in ("eq", "ne"):
            raise FilterError("expected eq or ne after %s" % value)
        kind, wanted = take()
        if kind != "str":
            raise FilterError("expected a quoted string after %s %s" % (value, op[1]))
        prop, negate = value, op[1].lower() == "ne"
        if prop == "MessageId":
            wanted_key = message_key(wanted)
            return lambda r: (message_key(r["MessageId"]) == wanted_key) != negate
        return lambda r: (_filter_value(r, prop) == wanted) != negate

    def conjunction():
        terms = [atom()]
        while keyword("and"):
            terms.append(atom())
        return terms[0] if len(terms) == 1 else (lambda r: all(t(r) for t in terms))

    def disjunction():
        terms = [conjunction()]
        while keyword("or"):
            terms.append(conjunction())
        return terms[0] if len(terms) == 1 else (lambda r: any(t(r) for t in terms))

    predicate = disjunction()
    if peek()[0] != "end":
        raise FilterError("unexpected %r in the $filter" % (peek()[1] or peek()[0]))
    return predicate


def oem_message(message_id, text, severity="OK", args=None):
    """A message of a vendor registry the simulator cannot check (iDRAC's IDRAC.2.9.*), with the
    deprecated ``Severity`` next to ``MessageSeverity`` as the iDRAC sends it."""
    return {
        "MessageId": message_id,
        "Message": text,
        "MessageArgs": [str(a) for a in args or []],
        "MessageSeverity": severity,
        "Severity": severity,
    }


def is_registry_key(key):
    registry, _dot, name = key.rpartition(".")
    prefix = REGISTRY_OF.get(registry or "Base")
    return prefix is not None and name in MESSAGES[prefix]


def error_body(info):
    """The Redfish error answer around one message: ``code`` is that message's id."""
    info = dict(info, **{"@odata.type": MESSAGE_TYPE})
    return {"error": {"code": info["MessageId"], "message": info["Message"], "@Message.ExtendedInfo": [info]}}


# ---- small helpers ------------------------------------------------------------


def q(task_id):
    return urllib.parse.quote(task_id, safe="")


def task_uri(task_id):
    return "%s/%s" % (TASKS, q(task_id))


def monitor_uri(task_id):
    return "%s/%s" % (MONITORS, q(task_id))


def media_type(value):
    return (value or "").split(";", 1)[0].strip().lower()


def accepts(header, offered):
    """True when an Accept header (absent: anything) admits one of ``offered`` media ranges."""
    if not header or not header.strip():
        return True
    return any(media_type(item) in offered for item in header.split(","))


def safe_body(body):
    """The request body as a Task/Job Payload shows it: an image server's password is not echoed."""
    if not isinstance(body, dict):
        return body
    return {k: (None if k.lower() == "password" else v) for k, v in body.items()}


def odata_namespace(odata_type):
    """``#Task.v1_7_4.Task`` -> ``Task.v1_7_4``; ``#TaskCollection.TaskCollection`` -> ``TaskCollection``."""
    return odata_type.lstrip("#").rsplit(".", 1)[0]


class Route:
    """The methods one URI takes: ``{"GET": handler(req, now), ...}``; ``public``: methods that need no login;
    ``offered``: the media ranges a GET answers (None: JSON); ``queries``: ``$`` parameters taken besides $expand."""

    def __init__(self, methods, public=(), offered=None, queries=()):
        self.methods = dict(methods)
        self.public = set(public)
        self.offered = offered
        self.queries = tuple(queries)
        if "GET" in self.methods:
            self.methods.setdefault("HEAD", self.methods["GET"])

    @property
    def allow(self):
        order = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        return [m for m in order if m in self.methods]


# TaskState / TaskStatus for each phase or outcome (generic and Dell).
TASK_STATE = {
    "new": ("New", "OK"),
    "running": ("Running", "OK"),
    "success": ("Completed", "OK"),
    "fail": ("Exception", "Critical"),
    "cancel": ("Cancelled", "Warning"),
    "critical": ("Completed", "Critical"),  # Dell style: done, but failed
}

# DMTF types every flavour serves, and the CSDL file (DSP8010) of each namespace. $metadata refers
# to these files; tests/data/redfish/csdl holds them for the Service Validator.
COMMON_TYPES = (
    "#ServiceRoot.v1_15_0.ServiceRoot",
    "#SessionService.v1_1_8.SessionService",
    "#SessionCollection.SessionCollection",
    "#Session.v1_4_0.Session",
    "#TaskService.v1_3_0.TaskService",
    "#TaskCollection.TaskCollection",
    TASK_TYPE,
    "#UpdateService.v1_11_0.UpdateService",
    "#AccountService.v1_5_0.AccountService",
    "#ManagerAccountCollection.ManagerAccountCollection",
    "#ManagerAccount.v1_4_0.ManagerAccount",
    "#RoleCollection.RoleCollection",
    "#Role.v1_2_4.Role",
    MESSAGE_TYPE,
    EVENT_SERVICE_TYPE,
    "#EventDestinationCollection.EventDestinationCollection",
    DESTINATION_TYPE,
)


def csdl_file(namespace):
    return namespace.split(".", 1)[0] + "_v1.xml"


class RedfishPlatform(Platform):
    name = "redfish"
    vendors = ("generic", "dell", "cisco", "jobservice", "openbmc")
    default_vendor = "generic"

    def __init__(self, device):
        super().__init__(device)
        self.flavour = FLAVOURS[device.vendor](self)

    # ---- answers ---------------------------------------------------------

    def error_response(self, status, message, message_id=None, message_args=None, headers=None):
        """A Redfish error. ``message_id``: a registry key of MESSAGES (its text wins over ``message``),
        a vendor id (``message`` is its text), or None: the status's usual message, else GeneralError with
        ``message`` as its Resolution."""
        message_id = message_id or STATUS_MESSAGE.get(status)
        if message_id and is_registry_key(message_id):
            info = registry_message(message_id, *(message_args or []))
        elif message_id and message_id.count(".") >= 3:
            info = oem_message(message_id, message, "Critical", message_args)
        else:
            info = registry_message("GeneralError")
            info["Resolution"] = message
        return self.error_with(status, info, headers)

    def error_with(self, status, info, headers=None):
        headers = dict(headers or {})
        headers.setdefault("OData-Version", "4.0")
        return json_response(status, error_body(info), headers)

    def ok(self, obj, status=200, headers=None):
        headers = dict(headers or {})
        headers.setdefault("OData-Version", "4.0")
        return json_response(status, obj, headers)

    def empty(self, status, headers=None):
        headers = dict(headers or {})
        headers.setdefault("OData-Version", "4.0")
        return Response(status, b"", headers, content_type=None)

    def not_found(self, req):
        return self.error_response(404, None, "ResourceMissingAtURI", [req.path])

    def not_allowed(self, req, allow):
        return self.error_response(405, None, "OperationNotAllowed", headers={"Allow": ", ".join(allow)})

    def unauthorized(self, req):
        return self.error_response(
            401, None, "NoValidSession", headers={"WWW-Authenticate": 'Basic realm="Redfish"'}
        )

    # ---- routing ---------------------------------------------------------

    def handle(self, req):
        segs = req.segments()  # unquoted: a task id may hold "/" or spaces
        if not segs or segs[0] != "redfish":
            return self.not_found(req)
        odata_version = req.headers.get("OData-Version")
        if odata_version is not None and odata_version.strip() != "4.0":
            return self.error_response(412, None, "HeaderInvalid", ["OData-Version: %s" % odata_version.strip()])
        route = self.route(segs)
        method = req.method
        if not (route is not None and method in route.public) and not self.authenticated(req):
            return self.unauthorized(req)
        if route is None:
            return self.not_found(req)
        if method not in route.methods:
            return self.not_allowed(req, route.allow)
        offered = route.offered or (XML_TYPES if segs[2:] == ["$metadata"] else JSON_TYPES)
        if method in ("GET", "HEAD") and not accepts(req.headers.get("Accept"), offered):
            return self.error_response(406, None, "HeaderInvalid", ["Accept: %s" % req.headers.get("Accept")])
        for name in req.query:
            if name.startswith("$") and name not in SUPPORTED_QUERY + route.queries:
                return self.error_response(501, None, "QueryParameterUnsupported", [name])
        resp = route.methods[method](req, time.monotonic())
        if method in ("GET", "HEAD") and 200 <= resp.status < 300:
            self.describe(resp, route)
            etag = resp.headers.get("ETag")
            if etag and etag in [t.strip() for t in (req.headers.get("If-None-Match") or "").split(",")]:
                return Response(304, b"", {k: v for k, v in resp.headers.items() if k != "Content-Type"},
                                content_type=None)
        return resp

    def describe(self, resp, route):
        """Allow, Cache-Control, ETag (weak, of the body) and Link (rel=describedby) on a successful GET or HEAD."""
        resp.headers.setdefault("Allow", ", ".join(route.allow))
        resp.headers.setdefault("Cache-Control", "no-cache")
        if resp.body:
            resp.headers.setdefault("ETag", 'W/"%s"' % hashlib.sha1(resp.body).hexdigest()[:16])
        if resp.headers.get("Content-Type", "").startswith("application/json") and resp.body:
            try:
                odata_type = json.loads(resp.body.decode("utf-8")).get("@odata.type")
            except (ValueError, AttributeError):
                odata_type = None
            if isinstance(odata_type, str) and odata_type in self.dmtf_types():
                resp.headers.setdefault("Link", "<%s%s.json>; rel=describedby" % (
                    DMTF_SCHEMAS, odata_namespace(odata_type)))

    def dmtf_types(self):
        return set(COMMON_TYPES) | set(self.flavour.odata_types)

    def route(self, segs):
        """The Route of a path (segments), or None."""
        if segs == ["redfish"]:
            return Route({"GET": lambda req, now: self.ok({"v1": "/redfish/v1/"})}, public=("GET", "HEAD"))
        if segs[1] != "v1":
            return None
        rest = segs[2:]
        anyone = ("GET", "HEAD")
        if not rest:
            return Route({"GET": lambda req, now: self.ok(self.service_root())}, public=anyone)
        if rest == ["odata"]:
            return Route({"GET": lambda req, now: self.ok(self.odata_service())}, public=anyone)
        if rest == ["$metadata"]:
            return Route({"GET": lambda req, now: self.metadata()}, public=anyone)
        if rest == ["SessionService"]:
            return Route({"GET": lambda req, now: self.ok(self.session_service())})
        if rest == ["SessionService", "Sessions"]:
            return Route({"GET": lambda req, now: self.ok(self.session_collection()), "POST": self.login},
                         public=("POST",))
        if rest == ["SessionService", "Sessions", "Members"]:
            return Route({"POST": self.login}, public=("POST",))  # DSP0266: POST to Members = POST to the collection
        if len(rest) == 3 and rest[:2] == ["SessionService", "Sessions"]:
            sid = rest[2]
            return Route({"GET": lambda req, now: self.session_member(req, sid),
                          "DELETE": lambda req, now: self.session_member(req, sid)})
        if rest[0] == "AccountService":
            return self.account_route(rest[1:])
        if rest == ["TaskService"]:
            return Route({"GET": lambda req, now: self.ok(self.flavour.task_service())})
        if rest == ["TaskService", "Tasks"]:
            return Route({"GET": self.flavour.get_tasks})
        if len(rest) == 3 and rest[:2] == ["TaskService", "Tasks"]:
            return Route({"GET": lambda req, now: self.flavour.get_task(req, rest[2], now)})
        if len(rest) == 3 and rest[:2] == ["TaskService", "TaskMonitors"]:
            return Route({"GET": lambda req, now: self.flavour.monitor(req, rest[2], now)})
        if rest == ["UpdateService"]:
            return Route({"GET": lambda req, now: self.ok(self.update_service())})
        if rest == ["UpdateService", "Actions", "UpdateService.SimpleUpdate"]:
            return Route({"POST": self.simple_update})
        if rest[0] == "EventService" or ("/" + "/".join(segs)) == self.sse_path():
            route = self.event_route(segs)
            if route is not None:
                return route
        return self.flavour.route(rest)

    # ---- auth and sessions -----------------------------------------------

    def authenticated(self, req):
        token = req.headers.get("X-Auth-Token")
        if token is not None:  # a token is judged alone: a stale token is no login, whatever else comes along
            return bool(token) and self.device.session_by_token(token) is not None
        creds = basic_credentials(req.headers.get("Authorization"))
        if creds is not None:
            return self.device.check_password(*creds)
        return False

    def json_body(self, req):
        """``(body, None)``, or ``(None, the Redfish error answer)`` when the body is not JSON (415, 400)."""
        ctype = req.headers.get("Content-Type")
        if media_type(ctype) != "application/json":
            return None, self.error_response(415, None, "HeaderInvalid", ["Content-Type: %s" % (ctype or "")])
        try:
            return req.json(), None
        except ValueError:
            return None, self.error_response(400, None, "MalformedJSON")

    def login(self, req, now=None):
        body, malformed = self.json_body(req)
        if malformed:
            return malformed
        if not isinstance(body, dict) or not isinstance(body.get("UserName"), str) or "Password" not in body:
            missing = "UserName" if not isinstance(body, dict) or "UserName" not in body else "Password"
            return self.error_response(400, None, "CreateFailedMissingReqProperties", [missing])
        if not self.device.check_password(body["UserName"], body.get("Password")):
            return self.error_response(401, None, "ResourceAtUriUnauthorized", [SESSIONS, "Unauthorized"])
        session = self.device.open_session(body["UserName"])
        if session is None:
            return self.error_response(503, None, "SessionLimitExceeded")
        location = "%s%s/%s" % (self.device.config["session_location"] or "", SESSIONS, session.id)
        return self.ok(self.session_resource(session), 201, {"X-Auth-Token": session.token, "Location": location})

    def session_resource(self, session):
        return {
            "@odata.id": "%s/%s" % (SESSIONS, session.id),
            "@odata.type": "#Session.v1_4_0.Session",
            "Id": session.id,
            "Name": "User Session",
            "Description": "Manager User Session",
            "UserName": session.user,
            "CreatedTime": iso(session.created),
        }

    def session_member(self, req, session_id):
        with self.device.lock:
            session = self.device.sessions.get(session_id)
            if session is None:
                return self.not_found(req)
            if req.method == "DELETE":
                self.device.close_session(session_id)
                return self.empty(204)
            return self.ok(self.session_resource(session))

    def session_collection(self):
        with self.device.lock:
            self.device.expire_sessions()
            members = [{"@odata.id": "%s/%s" % (SESSIONS, sid)} for sid in self.device.sessions]
        return {
            "@odata.id": SESSIONS,
            "@odata.type": "#SessionCollection.SessionCollection",
            "Name": "Session Collection",
            "Members": members,
            "Members@odata.count": len(members),
        }

    def session_service(self):
        return {
            "@odata.id": ROOT + "/SessionService",
            "@odata.type": "#SessionService.v1_1_8.SessionService",
            "Id": "SessionService",
            "Name": "Session Service",
            "ServiceEnabled": True,
            "SessionTimeout": int(self.device.config["session_timeout"]),
            "Status": {"State": "Enabled", "Health": "OK"},
            "Sessions": {"@odata.id": SESSIONS},
        }

    # ---- accounts and roles (read-only: one account, the standard roles) ---

    ROLE_PRIVILEGES = {
        "Administrator": ["Login", "ConfigureManager", "ConfigureUsers", "ConfigureSelf", "ConfigureComponents"],
        "Operator": ["Login", "ConfigureSelf", "ConfigureComponents"],
        "ReadOnly": ["Login", "ConfigureSelf"],
    }

    def account_route(self, rest):
        if not rest:
            return Route({"GET": lambda req, now: self.ok(self.account_service())})
        if rest == ["Accounts"]:
            return Route({"GET": lambda req, now: self.ok(self.listing(
                ACCOUNTS, "#ManagerAccountCollection.ManagerAccountCollection", "Accounts Collection", ["1"]))})
        if rest == ["Accounts", "1"]:
            return Route({"GET": lambda req, now: self.ok(self.account())})
        if rest == ["Roles"]:
            return Route({"GET": lambda req, now: self.ok(self.listing(
                ROLES, "#RoleCollection.RoleCollection", "Roles Collection", list(self.ROLE_PRIVILEGES)))})
        if len(rest) == 2 and rest[0] == "Roles" and rest[1] in self.ROLE_PRIVILEGES:
            role = rest[1]
            return Route({"GET": lambda req, now: self.ok(self.role(role))})
        return None

    @staticmethod
    def listing(uri, odata_type, name, ids):
        members = [{"@odata.id": "%s/%s" % (uri, q(i))} for i in ids]
        return {"@odata.id": uri, "@odata.type": odata_type, "Name": name, "Members": members,
                "Members@odata.count": len(members)}

    def account_service(self):
        return {
            "@odata.id": ROOT + "/AccountService",
            "@odata.type": "#AccountService.v1_5_0.AccountService",
            "Id": "AccountService",
            "Name": "Account Service",
            "ServiceEnabled": True,
            "Status": {"State": "Enabled", "Health": "OK"},
            "Accounts": {"@odata.id": ACCOUNTS},
            "Roles": {"@odata.id": ROLES},
        }

    def account(self):
        return {
            "@odata.id": ACCOUNTS + "/1",
            "@odata.type": "#ManagerAccount.v1_4_0.ManagerAccount",
            "Id": "1",
            "Name": "User Account",
            "UserName": self.device.config["username"],
            "Password": None,
            "RoleId": "Administrator",
            "AccountTypes": ["Redfish"],
            "Enabled": True,
            "Locked": False,
            "Links": {"Role": {"@odata.id": ROLES + "/Administrator"}},
        }

    def role(self, role):
        return {
            "@odata.id": "%s/%s" % (ROLES, role),
            "@odata.type": "#Role.v1_2_4.Role",
            "Id": role,
            "Name": "%s Role" % role,
            "RoleId": role,
            "IsPredefined": True,
            "AssignedPrivileges": list(self.ROLE_PRIVILEGES[role]),
        }

    # ---- fixed resources -------------------------------------------------

    def service_root(self):
        vendor, product = self.flavour.vendor_product
        root = {
            "@odata.id": ROOT,
            "@odata.type": "#ServiceRoot.v1_15_0.ServiceRoot",
            "Id": "RootService",
            "Name": "Root Service",
            "RedfishVersion": "1.17.0",
            "UUID": str(uuid.uuid5(uuid.NAMESPACE_URL, "taskstatus-sim/" + self.device.name)),
            "Vendor": vendor,
            "Product": product,
            "ProtocolFeaturesSupported": {
                "ExpandQuery": {"ExpandAll": True, "Levels": True, "MaxLevels": 3, "Links": True, "NoLinks": True},
                "FilterQuery": False,
                "SelectQuery": False,
                "OnlyMemberQuery": False,
            },
            "AccountService": {"@odata.id": ROOT + "/AccountService"},
            "SessionService": {"@odata.id": ROOT + "/SessionService"},
            "Tasks": {"@odata.id": ROOT + "/TaskService"},
            "UpdateService": {"@odata.id": UPDATE_SERVICE},
            "EventService": {"@odata.id": EVENT_SERVICE},
            "Links": {"Sessions": {"@odata.id": SESSIONS}},
        }
        root.update(self.flavour.service_root_extra())
        return root

    def odata_service(self):
        """The OData service document: the service root and each resource linked from it."""
        value = [{"name": "Service", "kind": "Singleton", "url": ROOT + "/"}]
        for name, link in sorted(self.service_root().items()):
            if isinstance(link, dict) and set(link) == {"@odata.id"}:
                value.append({"name": name, "kind": "Singleton", "url": link["@odata.id"]})
        return {"@odata.context": ROOT + "/$metadata", "value": value}

    def metadata(self):
        """The OData metadata document: a reference to the CSDL file of every DMTF namespace served."""
        namespaces = {}
        for odata_type in sorted(self.dmtf_types()):
            versioned = odata_namespace(odata_type)
            base = versioned.split(".", 1)[0]
            namespaces.setdefault(base, set()).update({base, versioned})
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">']
        for base in sorted(namespaces):
            lines.append('  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/%s">' % csdl_file(base))
            lines.extend('    <edmx:Include Namespace="%s"/>' % ns for ns in sorted(namespaces[base]))
            lines.append("  </edmx:Reference>")
        lines += [
            "  <edmx:DataServices>",
            '    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service">',
            '      <EntityContainer Name="Service" Extends="ServiceRoot.v1_15_0.ServiceContainer"/>',
            "    </Schema>",
            "  </edmx:DataServices>",
            "</edmx:Edmx>",
            "",
        ]
        return Response(200, "\n".join(lines), {"OData-Version": "4.0"}, content_type="application/xml")

    def update_service(self):
        service = {
            "@odata.id": UPDATE_SERVICE,
            "@odata.type": "#UpdateService.v1_11_0.UpdateService",
            "Id": "UpdateService",
            "Name": "Update Service",
            "ServiceEnabled": True,
            "Status": {"State": "Enabled", "Health": "OK"},
            "Actions": {
                "#UpdateService.SimpleUpdate": {
                    "target": SIMPLE_UPDATE,
                    "TransferProtocol@Redfish.AllowableValues": ["HTTP", "HTTPS", "NFS", "CIFS"],
                }
            },
        }
        service.update(self.flavour.update_service_extra())
        return service

    # ---- collections and $expand -----------------------------------------

    def collection(self, req, head, items, render, uri):
        expand = req.query.get("$expand")
        levels = 0
        if expand is not None:
            match = EXPAND_RE.match(expand.strip())
            if not match:
                return self.error_response(400, None, "QueryParameterValueFormatError", [expand, "$expand"])
            levels = int(match.group(2) or 1)
        with self.device.lock:
            members = [render(t) if levels else {"@odata.id": uri(t)} for t in items]
        body = dict(head)
        body["Members"] = members
        body["Members@odata.count"] = len(members)
        return self.ok(body)

    # ---- the update action -----------------------------------------------

    def simple_update(self, req, now=None):
        body, malformed = self.json_body(req)
        if malformed:
            return malformed
        action = "UpdateService.SimpleUpdate"
        if not isinstance(body, dict):
            return self.error_response(400, None, "ActionParameterMissing", [action, "ImageURI"])
        for key in body:
            if key in SIMPLE_UPDATE_REFUSED:
                return self.error_response(400, None, "ActionParameterNotSupported", [key, action])
            if key not in SIMPLE_UPDATE_PARAMS and not key.startswith("@"):
                return self.error_response(400, None, "ActionParameterUnknown", [action, key])
        if "ImageURI" not in body:
            return self.error_response(400, None, "ActionParameterMissing", [action, "ImageURI"])
        if not isinstance(body["ImageURI"], str) or not body["ImageURI"]:
            return self.error_response(400, None, "ActionParameterValueTypeError",
                                       [json.dumps(body["ImageURI"]), "ImageURI", action])
        try:
            task = self.flavour.start_task(
                self.device.next_scenario(), self.device.config["duration"], "firmware_update", request=body
            )
        except Conflict:
            return self.error_response(409, None, "ResourceInUse")
        return self.flavour.update_accepted(task, time.monotonic())

    # ---- the control API ---------------------------------------------------

    def create_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None):
        task = self.flavour.start_task(scenario, duration, kind, task_id=task_id, started_ago=started_ago, name=name)
        return self.flavour.control_answer(task)

    def reset(self):
        self.flavour.reset()
        self.subscriptions = {}  # push subscriptions (EventDestination payloads), by id
        self.subscription_seq = 0
        self.sse_seen = {}

    def rebooting(self):
        self.flavour.rebooting()

    # ---- EventService, subscriptions, Server-Sent Events --------------------

    def sse_enabled(self):
        value = self.device.config["sse"]
        return self.flavour.sse_default if value is None else value

    def sse_path(self):
        return self.device.config["sse_path"] or self.flavour.sse_path

    def sse_limit(self):
        value = self.device.config["sse_max_streams"]
        return self.flavour.sse_max_streams if value is None else value

    def event_route(self, segs):
        rest = segs[2:]
        if self.sse_enabled() and ("/" + "/".join(segs)) == self.sse_path():
            return Route({"GET": self.sse_open}, offered=SSE_TYPES, queries=("$filter",))
        if rest == ["EventService"]:
            return Route({"GET": lambda req, now: self.ok(self.event_service())})
        if rest == ["EventService", "Subscriptions"]:
            return Route({"GET": self.get_subscriptions, "POST": self.subscribe})
        if len(rest) == 3 and rest[:2] == ["EventService", "Subscriptions"]:
            sub_id = rest[2]
            return Route({"GET": lambda req, now: self.subscription(req, sub_id),
                          "DELETE": lambda req, now: self.subscription(req, sub_id)})
        return None

    def event_service(self):
        service = {
            "@odata.id": EVENT_SERVICE,
            "@odata.type": EVENT_SERVICE_TYPE,
            "Id": "EventService",
            "Name": "Event Service",
            "ServiceEnabled": True,
            "Status": {"State": "Enabled", "Health": "OK"},
            "DeliveryRetryAttempts": 3,
            "DeliveryRetryIntervalSeconds": 60,
            "EventFormatTypes": ["Event"],
            "RegistryPrefixes": ["Base", "TaskEvent"],
            "ResourceTypes": ["Task"],
            "Subscriptions": {"@odata.id": SUBSCRIPTIONS},
        }
        if self.sse_enabled():
            service["ServerSentEventUri"] = self.sse_path()
            service["SSEFilterPropertiesSupported"] = dict(SSE_FILTER_SUPPORTED)
        return service

    def next_subscription_id(self):
        with self.device.lock:
            self.subscription_seq += 1
            return str(self.subscription_seq)

    def sse_streams(self):
        """{EventDestination id: stream} of the open streams."""
        with self.device.lock:
            return {s.info["dest_id"]: s for s in self.device.events.streams.values() if "dest_id" in s.info}

    def get_subscriptions(self, req, now):
        with self.device.lock:
            ids = sorted(list(self.subscriptions) + list(self.sse_streams()), key=int)
        return self.ok(self.listing(SUBSCRIPTIONS, "#EventDestinationCollection.EventDestinationCollection",
                                    "Event Destination Collection", ids))

    def subscription(self, req, sub_id):
        with self.device.lock:
            stream = self.sse_streams().get(sub_id)
            if stream is not None:
                if req.method == "DELETE":
                    stream.close("end")  # DSP0266: deleting the EventDestination closes its stream
                    return self.empty(204)
                return self.ok(self.sse_destination(stream))
            push = self.subscriptions.get(sub_id)
            if push is None:
                return self.not_found(req)
            if req.method == "DELETE":
                del self.subscriptions[sub_id]
                return self.empty(204)
            return self.ok(copy.deepcopy(push))

    def sse_destination(self, stream):
        dest_id = stream.info["dest_id"]
        host, port = (stream.client or ("127.0.0.1", 0))[:2]
        return {
            "@odata.id": "%s/%s" % (SUBSCRIPTIONS, dest_id),
            "@odata.type": DESTINATION_TYPE,
            "Id": dest_id,
            "Name": "Server-Sent Events connection",
            "Context": stream.info["context"],
            "Destination": "redfish-sse://%s:%s" % (host, port),
            "Protocol": "Redfish",
            "SubscriptionType": "SSE",
            "EventFormatType": "Event",
            "Status": {"State": "Enabled", "Health": "OK"},
        }

    def subscribe(self, req, now):
        """POST to Subscriptions: a push subscription (Protocol Redfish). It is kept and listed; the simulator
        talks only to loopback and never POSTs an event to its Destination."""
        body, malformed = self.json_body(req)
        if malformed:
            return malformed
        if not isinstance(body, dict):
            return self.error_response(400, None, "MalformedJSON")
        for key in body:
            if key not in PUSH_PROPERTIES and not key.startswith("@"):
                return self.error_response(400, None, "PropertyUnknown", [key])
        for key in ("Destination", "Protocol"):
            if key not in body:
                return self.error_response(400, None, "PropertyMissing", [key])
        for key in ("Destination", "Protocol", "Context", "EventFormatType"):
            if key in body and not isinstance(body[key], str):
                return self.error_response(400, None, "PropertyValueTypeError", [json.dumps(body[key]), key])
        if body["Protocol"] != "Redfish":
            return self.error_response(400, None, "PropertyValueNotInList", [body["Protocol"], "Protocol"])
        if not body["Destination"].startswith(("http://", "https://")):
            return self.error_response(400, None, "PropertyValueNotInList", [body["Destination"], "Destination"])
        if body.get("EventFormatType", "Event") != "Event":
            return self.error_response(400, None, "PropertyValueNotInList",
                                       [body["EventFormatType"], "EventFormatType"])
        for key in ("RegistryPrefixes", "MessageIds", "ResourceTypes"):
            if key in body and not (isinstance(body[key], list) and all(isinstance(v, str) for v in body[key])):
                return self.error_response(400, None, "PropertyValueTypeError", [json.dumps(body[key]), key])
        sub_id = self.next_subscription_id()
        uri = "%s/%s" % (SUBSCRIPTIONS, sub_id)
        payload = {
            "@odata.id": uri,
            "@odata.type": DESTINATION_TYPE,
            "Id": sub_id,
            "Name": "Event Subscription %s" % sub_id,
            "Context": body.get("Context", ""),
            "Destination": body["Destination"],
            "Protocol": "Redfish",
            "SubscriptionType": "RedfishEvent",
            "EventFormatType": "Event",
            "Status": {"State": "Enabled", "Health": "OK"},
        }
        for key in ("RegistryPrefixes", "MessageIds", "ResourceTypes"):
            if key in body:
                payload[key] = list(body[key])
        with self.device.lock:
            self.subscriptions[sub_id] = payload
        return self.ok(copy.deepcopy(payload), 201, {"Location": uri})

    def sse_refusal(self):
        """The answer to a stream the device will not open now (sse_refuse, the stream limit), or None."""
        status = self.device.config["sse_refuse"]
        if status is not None:
            if status == 503:
                retry = self.device.config["retry_after"]
                return self.error_response(503, None, "ServiceTemporarilyUnavailable", [str(retry)],
                                           headers={"Retry-After": str(retry)})
            return self.error_response(status, "The simulator refuses event streams (sse_refuse).")
        if len(self.device.events.streams) >= self.sse_limit():
            return self.error_response(503, None, "EventSubscriptionLimitExceeded")
        return None

    def sse_open(self, req, now):
        """GET on ServerSentEventUri: 200 text/event-stream, then the events (core.EventStream)."""
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "OData-Version": "4.0"}
        if req.method == "HEAD":
            return Response(200, b"", headers, content_type=None)
        if self.device.config["sse_open_delay"]:
            time.sleep(self.device.config["sse_open_delay"])  # in this connection's thread; events from here on
        text = req.query.get("$filter")
        try:
            accept = parse_sse_filter(text)
        except FilterError as exc:
            info = registry_message("QueryParameterValueFormatError", text, "$filter")
            info["Resolution"] = str(exc)
            return self.error_with(400, info)
        device = self.device
        with device.lock:
            refused = self.sse_refusal()
            if refused is not None:
                device.stats.sse_refused += 1
                return refused
        session_id = None
        token = req.headers.get("X-Auth-Token")
        if token:
            session = device.session_by_token(token)
            session_id = session.id if session is not None else None
        last = (req.headers.get("Last-Event-ID") or "").strip()
        last = int(last) if last.isdigit() else None
        stream = None

        def admit_check():
            refused = self.sse_refusal()  # again: another stream may have opened meanwhile
            if refused is None:
                stream.info["dest_id"] = self.next_subscription_id()
            return refused

        stream = EventStream(device.events, admit_check, accept, self.sse_render, session_id=session_id,
                             last_event_id=last, info={"context": "sse-" + secrets.token_hex(6), "filter": text})
        return Response(200, b"", headers, content_type=None, stream=stream)

    @staticmethod
    def sse_render(event_id, record, stream):
        event = {
            "EventId": str(event_id),
            "EventTimestamp": iso(record["time"]),
            "EventType": "Other",
            "MessageId": record["MessageId"],
            "MessageArgs": record["MessageArgs"],
            "Message": record["Message"],
            "MessageSeverity": record["MessageSeverity"],
            "OriginOfCondition": {"@odata.id": record["origin"]},
        }
        body = {"@odata.type": EVENT_TYPE, "Id": str(event_id), "Name": "Task event",
                "Context": stream.info["context"], "Events": [event]}
        return ("id: %d\ndata: %s\n\n" % (event_id, json.dumps(body, separators=(",", ":")))).encode("utf-8")

    def sse_forget(self):
        self.sse_seen = {}

    def sse_tick(self, now, baseline=False):
        """TaskEvent records of every task change since the last tick (device lock held)."""
        flavour = self.flavour
        current = {}
        records = []
        for task in list(self.device.tasks.values()):
            p = flavour.progress(task, now)
            if p is None:  # a slot nobody started (CIMC)
                continue
            state = (p.phase, p.percent, p.outcome, flavour.removed(task, now))
            current[task] = state
            prev = self.sse_seen.get(task)
            if not baseline and prev != state:
                records.extend(self.task_events(task, prev or ("new", 0, None, False), state))
        if not baseline:
            for task, prev in self.sse_seen.items():
                if task not in current and not prev[3]:
                    records.append(self.task_event("TaskRemoved", task))
        self.sse_seen = current
        return records

    def task_events(self, task, prev, state):
        events = []
        if prev[0] == "new" and state[0] != "new":
            events.append(self.task_event("TaskStarted", task))
        if state[0] == "running" and state[1] != prev[1]:
            events.append(self.task_event("TaskProgressChanged", task, state[1]))
        if state[0] == "done" and prev[0] != "done":
            events.append(self.task_event(TASK_END_EVENT[state[2]], task))
        if state[3] and not prev[3]:
            events.append(self.task_event("TaskRemoved", task))
        return events

    def task_event(self, name, task, *args):
        record = event_message(name, task.id, *args)
        record.update(origin=self.flavour.event_origin(task), time=time.time(), registry="TaskEvent")
        return record


# --------------------------------------------------------------------------
# Vendor flavours
# --------------------------------------------------------------------------

# (HttpOperation, TargetUri, example JsonBody, Name) per task kind.
GENERIC_KINDS = {
    "firmware_update": ("POST", SIMPLE_UPDATE, {"ImageURI": "http://192.0.2.10/fw/bmc.bin"}, "Firmware Update"),
    # No DMTF action exports a manager's configuration; this OEM path is the simulator's own.
    "config_export": (
        "POST",
        ROOT + "/Managers/1/Actions/Oem/Contoso.ExportConfiguration",
        {"ShareType": "Local"},
        "Configuration Export",
    ),
    "support_export": (
        "POST",
        ROOT + "/Managers/1/LogServices/Dump/Actions/LogService.CollectDiagnosticData",
        {"DiagnosticDataType": "Manager"},
        "Diagnostic Data Collection",
    ),
    "other": ("PATCH", ROOT + "/Systems/1/Bios/Settings", {"Attributes": {"BootMode": "Uefi"}}, "BIOS Configuration"),
}


class GenericFlavour:
    vendor_product = ("Contoso", "Simulated Redfish BMC")
    kinds = GENERIC_KINDS
    odata_types = ()  # DMTF types beyond COMMON_TYPES this flavour serves
    default_retention = None  # s a finished task stays in TaskService; None: until reset
    sse_default = True  # EventService.ServerSentEventUri offered (knob sse)
    sse_path = EVENT_SERVICE + "/SSE"  # bmcweb's (knob sse_path)
    sse_max_streams = 10  # bmcweb's limit (knob sse_max_streams)

    def __init__(self, platform):
        self.platform = platform
        self.device = platform.device
        self.seq = 0

    # ids and life cycle

    def reset(self):
        self.seq = 0
        self.device.tasks.clear()

    def rebooting(self):
        """The device goes down; tasks survive a reboot here (a service that keeps them on flash)."""

    def new_id(self):
        while True:
            self.seq += 1
            candidate = self.format_id(self.seq)
            if candidate not in self.device.tasks:
                return candidate

    def format_id(self, seq):
        return str(seq)

    def start_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None, request=None):
        op, target, example, default_name = self.kinds[kind]
        with self.device.lock:
            if task_id is None:
                task_id = self.new_id()
            elif task_id in self.device.tasks:
                raise Conflict("task id %r exists" % task_id)
            task = SimTask(
                task_id,
                kind,
                scenario,
                duration,
                name=name or default_name,
                started_ago=started_ago,
                extra={"op": op, "target": target, "body": request if request is not None else example},
            )
            return self.device.add_task(task)

    def retention(self):
        keep = self.device.config.get("task_retention")
        return self.default_retention if keep is None else keep

    def removed(self, task, now):
        """True once a finished task has left TaskService: scenario delete, or task_retention after its end."""
        if task.gone(now):
            return True
        keep = self.retention()
        if keep is None:
            return False
        p = task.progress(now)
        return p is not None and p.done and now - (task.created + task.duration) >= keep

    def find(self, task_id, now):
        task = self.device.tasks.get(task_id)
        return None if task is None or self.removed(task, now) else task

    def visible_tasks(self, now):
        with self.device.lock:
            return [t for t in self.device.tasks.values() if not self.removed(t, now)]

    def location(self, task):
        return monitor_uri(task.id)

    def update_accepted(self, task, now):
        """The answer to an accepted SimpleUpdate: 202, the task monitor, the Task (DSP0266)."""
        with self.device.lock:
            payload = self.task_payload(task, now)
        headers = {"Location": self.location(task), "Retry-After": str(self.device.config["retry_after"])}
        return self.platform.ok(payload, 202, headers)

    def control_answer(self, task):
        return {"id": task.id, "task_uri": task_uri(task.id), "monitor_uri": monitor_uri(task.id)}

    def event_origin(self, task):
        """OriginOfCondition of a task's events: the URI a client polls for it."""
        return task_uri(task.id)

    # routes

    def route(self, rest):
        """Routes of this flavour beyond the common ones, or None."""
        return None

    def get_tasks(self, req, now):
        return self.platform.collection(
            req,
            self.task_collection_head(),
            self.visible_tasks(now),
            lambda t: self.task_payload(t, now),
            lambda t: task_uri(t.id),
        )

    def get_task(self, req, task_id, now):
        with self.device.lock:
            task = self.find(task_id, now)
            return self.platform.ok(self.task_payload(task, now)) if task else self.platform.not_found(req)

    def monitor(self, req, task_id, now):
        platform = self.platform
        with self.device.lock:
            task = self.device.tasks.get(task_id)
            if task is None or (self.removed(task, now) and not task.gone(now)):
                return platform.not_found(req)
            p = self.progress(task, now)
            if task.scenario == "delete" and p.done:
                if task.final_served:
                    return platform.not_found(req)
                task.final_served = True
                return platform.empty(204)
            if p is not None and not p.done:
                retry = str(self.device.config["retry_after"])
                return platform.ok(self.task_payload(task, now), 202,
                                   {"Retry-After": retry, "Location": monitor_uri(task.id)})
            outcome = p.outcome if p is not None else "success"
            if outcome == "success":
                return platform.ok(self.result_body(task))
            return platform.error_with(500, self.failure_message(task, p))

    # rendering

    def progress(self, task, now):
        return task.progress(now)

    def task_service(self):
        return {
            "@odata.id": ROOT + "/TaskService",
            "@odata.type": "#TaskService.v1_3_0.TaskService",
            "Id": "TaskService",
            "Name": "Task Service",
            "CompletedTaskOverWritePolicy": "Oldest",
            "LifeCycleEventOnTaskStateChange": True,
            "ServiceEnabled": True,
            "Status": {"State": "Enabled", "Health": "OK"},
            "Tasks": {"@odata.id": TASKS},
        }

    def task_collection_head(self):
        return {"@odata.id": TASKS, "@odata.type": "#TaskCollection.TaskCollection", "Name": "Task Collection"}

    def service_root_extra(self):
        return {}

    def update_service_extra(self):
        return {}

    @staticmethod
    def state_key(p):
        return p.phase if not p.done else p.outcome

    def image(self, task):
        return (task.extra.get("body") or {}).get("ImageURI", "")

    def messages(self, task, p):
        if p.phase == "new":
            return []
        started = registry_message("TaskEvent.TaskStarted", task.id)
        if p.phase == "running":
            return [started]
        if p.outcome == "success":
            if task.kind == "firmware_update":
                return [started, registry_message("Update.UpdateSuccessful", "BMC", self.image(task))]
            return [started, registry_message("TaskEvent.TaskCompletedOK", task.id)]
        return [started, self.failure_message(task, p)]

    def failure_message(self, task, p):
        """The message of a task that did not succeed (its last Messages entry, the monitor's error)."""
        if p is not None and p.outcome == "cancel":
            return registry_message("TaskEvent.TaskCancelled", task.id)
        if task.kind == "firmware_update":
            return registry_message("Update.ApplyFailed", self.image(task), "BMC")
        return registry_message("TaskEvent.TaskAborted", task.id)

    def result_body(self, task):
        if task.kind == "firmware_update":
            info = registry_message("Update.UpdateSuccessful", "BMC", self.image(task))
        else:
            info = registry_message("Success")
        return {"@Message.ExtendedInfo": [info]}

    def payload(self, task):
        return {
            "HttpOperation": task.extra["op"],
            "TargetUri": task.extra["target"],
            "HttpHeaders": [],
            "JsonBody": json.dumps(safe_body(task.extra["body"]), sort_keys=True),
        }

    def task_payload(self, task, now):
        p = self.progress(task, now)
        state, status = TASK_STATE[self.state_key(p)]
        payload = {
            "@odata.id": task_uri(task.id),
            "@odata.type": TASK_TYPE,
            "Id": task.id,
            "Name": task.name,
            "TaskState": state,
            "TaskStatus": status,
            "PercentComplete": p.percent,
            "StartTime": iso(task.start_epoch()),
            "Messages": self.messages(task, p),
            "TaskMonitor": monitor_uri(task.id),
            "Payload": self.payload(task),
        }
        if p.done:
            payload["EndTime"] = iso(task.end_epoch())
        return payload


# ---- Dell iDRAC ----------------------------------------------------------

DELL_MANAGER = ROOT + "/Managers/iDRAC.Embedded.1"
DELL_KINDS = {
    "firmware_update": (
        "POST",
        SIMPLE_UPDATE,
        {"ImageURI": "http://192.0.2.10/fw/BIOS_1.bin"},
        "Firmware Update: BIOS",
    ),
    "config_export": (
        "POST",
        DELL_MANAGER + "/Actions/Oem/EID_674_Manager.ExportSystemConfiguration",
        {"ExportFormat": "XML", "ShareParameters": {"Target": ["ALL"]}},
        "Export: Server Configuration Profile",
    ),
    "support_export": (
        "POST",
        ROOT + "/Dell/Managers/iDRAC.Embedded.1/DellLCService/Actions/DellLCService.SupportAssistCollection",
        {"ShareType": "Local", "DataSelectorArrayIn": ["HWData"]},
        "SupportAssist Collection",
    ),
    "other": (
        "PATCH",
        ROOT + "/Systems/System.Embedded.1/Bios/Settings",
        {"Attributes": {"BootMode": "Uefi"}},
        "Configure: BIOS.Setup.1-1",
    ),
}
DELL_JOB_TYPE = {
    "firmware_update": "FirmwareUpdate",
    "config_export": "ExportConfiguration",
    "support_export": "SACollectExportHealthData",
    "other": "BIOSConfiguration",
}
# (JobState, MessageId, Message) per phase/outcome. RED001 is iDRAC's real
# "Job completed successfully."; the others are illustrative iDRAC-style ids.
DELL_JOB = {
    "new": ("New", "JCP001", "Task successfully scheduled."),
    "running": ("Running", "PR20", "Job in progress."),
    "success": ("Completed", "RED001", "Job completed successfully."),
    "fail": ("Failed", "SUP0518", "Unable to complete the operation because the image is not valid for this system."),
    "critical": (
        "Failed",
        "SUP0518",
        "Unable to complete the operation because the image is not valid for this system.",
    ),
    "cancel": ("Failed", "SUP0535", "Job was cancelled by the user."),
}
DELL_SEVERITY = {"fail": "Critical", "critical": "Critical", "cancel": "Warning"}


class DellFlavour(GenericFlavour):
    vendor_product = ("Dell", "Integrated Dell Remote Access Controller")
    kinds = DELL_KINDS
    odata_types = ("#ManagerCollection.ManagerCollection", "#Manager.v1_9_0.Manager")
    default_retention = 600.0  # iDRAC 5.00 and later; older firmware: a few seconds (set task_retention)
    sse_path = ROOT + "/SSE"  # iDRAC9
    sse_max_streams = 2  # iDRAC9: at most 2 SSE connections
    JID_BASE = 878000000000

    def format_id(self, seq):
        return "JID_%012d" % (self.JID_BASE + seq * 137)

    def service_root_extra(self):
        return {"Managers": {"@odata.id": ROOT + "/Managers"}}

    def update_accepted(self, task, now):
        """iDRAC: 202, the Task URI (Tasks/JID_...) in Location, and no body at all."""
        return self.platform.empty(202, {"Location": task_uri(task.id)})

    def job_fields(self, task, p):
        key = self.state_key(p)
        job_state, message_id, text = DELL_JOB[key]
        if key == "new" and task.kind == "firmware_update":
            job_state = "Scheduled"
        return job_state, message_id, text

    def messages(self, task, p):
        message_id, text = self.job_fields(task, p)[1:]
        return [oem_message("IDRAC.2.9." + message_id, text, DELL_SEVERITY.get(self.state_key(p), "OK"))]

    def failure_message(self, task, p):
        message_id, text = self.job_fields(task, p)[1:]
        return oem_message("IDRAC.2.9." + message_id, text, DELL_SEVERITY.get(self.state_key(p), "Critical"))

    def task_payload(self, task, now):
        payload = super().task_payload(task, now)
        p = task.progress(now)
        job_state, message_id, text = self.job_fields(task, p)
        payload["Oem"] = {
            "Dell": {
                "@odata.type": "#DellJob.v1_5_0.DellJob",
                "Id": task.id,
                "Name": task.name,
                "JobState": job_state,
                "JobType": DELL_JOB_TYPE[task.kind],
                "PercentComplete": p.percent,
                "Message": text,
                "MessageId": message_id,
                "MessageArgs": [],
                "CompletionTime": iso(task.end_epoch(), tz=False) if p.done else None,
            }
        }
        return payload

    def job_resource(self, task, now):
        p = task.progress(now)
        job_state, message_id, text = self.job_fields(task, p)
        return {
            "@odata.context": "/redfish/v1/$metadata#DellJob.DellJob",
            "@odata.id": "%s/%s" % (DELL_JOBS, q(task.id)),
            "@odata.type": "#DellJob.v1_5_0.DellJob",
            "ActualRunningStartTime": iso(task.start_epoch(), tz=False) if p.phase != "new" else None,
            "ActualRunningStopTime": iso(task.end_epoch(), tz=False) if p.done else None,
            "CompletionTime": iso(task.end_epoch(), tz=False) if p.done else None,
            "Description": "Job Instance",
            "EndTime": "TIME_NA",
            "Id": task.id,
            "JobState": job_state,
            "JobType": DELL_JOB_TYPE[task.kind],
            "Message": text,
            "MessageArgs": [],
            "MessageArgs@odata.count": 0,
            "MessageId": message_id,
            "Name": task.name,
            "PercentComplete": p.percent,
            "StartTime": "TIME_NOW",
            "TargetSettingsURI": None,
        }

    def manager(self):
        return {
            "@odata.id": DELL_MANAGER,
            "@odata.type": "#Manager.v1_9_0.Manager",
            "Id": "iDRAC.Embedded.1",
            "Name": "Manager",
            "Description": "BMC",
            "ManagerType": "BMC",
            "Model": "14G Monolithic",
            "FirmwareVersion": "7.00.00.00",
            "Status": {"State": "Enabled", "Health": "OK"},
            # The job queue is Dell's own resource (DellJobCollection), linked the way the iDRAC links it.
            "Links": {"Oem": {"Dell": {"Jobs": {"@odata.id": DELL_JOBS}}}},
        }

    def route(self, rest):
        platform = self.platform
        if rest == ["Managers"]:
            return Route({"GET": lambda req, now: platform.ok(platform.listing(
                ROOT + "/Managers", "#ManagerCollection.ManagerCollection", "Manager Collection",
                ["iDRAC.Embedded.1"]))})
        if rest == ["Managers", "iDRAC.Embedded.1"]:
            return Route({"GET": lambda req, now: platform.ok(self.manager())})
        if rest == ["Managers", "iDRAC.Embedded.1", "Jobs"]:
            return Route({"GET": self.get_jobs})
        if len(rest) == 4 and rest[:3] == ["Managers", "iDRAC.Embedded.1", "Jobs"]:
            return Route({"GET": lambda req, now: self.get_job(req, rest[3], now)})
        if rest == ["Managers", "iDRAC.Embedded.1", "Actions", "Oem", "EID_674_Manager.ExportSystemConfiguration"]:
            return Route({"POST": self.export_system_configuration})
        return None

    def get_jobs(self, req, now):
        head = {
            "@odata.context": "/redfish/v1/$metadata#DellJobCollection.DellJobCollection",
            "@odata.id": DELL_JOBS,
            "@odata.type": "#DellJobCollection.DellJobCollection",
            "Name": "JobQueue",
            "Description": "Collection of Job Instances",
        }
        with self.device.lock:
            jobs = list(self.device.tasks.values())  # the job queue keeps what TaskService forgets
        return self.platform.collection(req, head, jobs, lambda t: self.job_resource(t, now),
                                        lambda t: "%s/%s" % (DELL_JOBS, q(t.id)))

    def get_job(self, req, job_id, now):
        with self.device.lock:
            task = self.device.tasks.get(job_id)
            return self.platform.ok(self.job_resource(task, now)) if task else self.platform.not_found(req)

    def export_system_configuration(self, req, now):
        """The iDRAC's Server Configuration Profile export: 202 and the job's Task URI in Location."""
        platform = self.platform
        body, malformed = platform.json_body(req)
        if malformed:
            return malformed
        action = "EID_674_Manager.ExportSystemConfiguration"
        if not isinstance(body, dict) or not isinstance(body.get("ShareParameters"), dict):
            return platform.error_response(400, None, "ActionParameterMissing", [action, "ShareParameters"])
        task = self.start_task(self.device.next_scenario(), self.device.config["duration"], "config_export",
                               request=body)
        with self.device.lock:
            payload = self.task_payload(task, now)
        return platform.ok(payload, 202, {"Location": task_uri(task.id)})


# ---- Cisco CIMC ----------------------------------------------------------

CISCO_KIND_SLOT = {
    "firmware_update": "CIMCFwUpdate",
    "config_export": "CIMCExportConfig",
    "support_export": "CIMCTechSupportExport",
    "other": "CIMCImportConfig",
}


def _load_cisco():
    with open(os.path.join(DATA_DIR, "cisco_cimc_tasks.json")) as handle:
        return json.load(handle)


def _slot_kind(slot_id):
    if slot_id.endswith("FwUpdate"):
        return "firmware_update"
    if slot_id.endswith("TechSupportExport"):
        return "support_export"
    if slot_id.endswith("ExportConfig"):
        return "config_export"
    return "other"


class CiscoFlavour(GenericFlavour):
    """Fixed slots; only Oem.Cisco.<X>Status moves, TaskState/TaskStatus stay stale."""

    vendor_product = ("Cisco Systems Inc.", "UCS S3260 Storage Server (simulated CIMC)")
    odata_types = ("#TaskService.v1_1_2.TaskService", "#Task.v1_3_0.Task")
    sse_default = False  # CIMC: an EventService for push subscriptions, no ServerSentEventUri
    _data = None

    def __init__(self, platform):
        super().__init__(platform)
        if CiscoFlavour._data is None:
            CiscoFlavour._data = _load_cisco()

    def reset(self):
        self.device.tasks.clear()
        for seed in self._data["slots"]:
            slot_id = seed["Id"]
            self.device.tasks[slot_id] = SimTask(
                slot_id, _slot_kind(slot_id), None, 0, name=seed["Name"], extra={"seed": seed}
            )

    def removed(self, task, now):
        return False  # fixed slots never leave

    def task_service(self):
        return copy.deepcopy(self._data["TaskService"])

    def task_collection_head(self):
        head = copy.deepcopy(self._data["TaskCollection"])
        head.pop("Members", None)
        head.pop("Members@odata.count", None)
        return head

    def location(self, task):
        return task_uri(task.id)  # CIMC points at the Task itself, not at a monitor

    def start_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None, request=None):
        slot_id = task_id or CISCO_KIND_SLOT[kind]
        if scenario == "delete":
            scenario = "success"  # fixed slots cannot vanish; a CIMC keeps them
        with self.device.lock:
            slot = self.device.tasks.get(slot_id)
            if slot is None:
                raise ConfigError("CIMC has no task slot %r; slots: %s" % (slot_id, ", ".join(self.device.tasks)))
            p = slot.progress()
            if p is not None and not p.done:
                raise Conflict("task slot %s is busy with a running operation" % slot_id)
            task = SimTask(
                slot_id,
                slot.kind,
                scenario,
                duration,
                name=slot.name,
                started_ago=started_ago,
                extra={"seed": slot.extra["seed"], "body": request or {}},
            )
            return self.device.add_task(task)

    @staticmethod
    def status_key(seed):
        for key in ("UpdateStatus", "ExportStatus", "ImportStatus"):
            if key in seed.get("Oem", {}).get("Cisco", {}):
                return key
        return None

    def status_text(self, task, p):
        update = task.kind == "firmware_update"
        if p.phase == "new":
            return "Starting (0%)"
        if p.phase == "running":
            return "In Progress (%d%%)" % p.percent
        if p.outcome == "success":
            return "Success (100%)" if update else "Completed Successfully"
        if p.outcome == "fail":
            return "Failed (%d%%)" % p.percent
        if p.outcome == "cancel":
            return "Cancelled (%d%%)" % p.percent
        return "Error: Image verification failed" if update else "Error: Operation failed"

    def task_payload(self, task, now):
        seed = task.extra["seed"]
        payload = copy.deepcopy(seed)
        p = task.progress(now)
        key = self.status_key(seed)
        if p is not None and key:
            payload["Oem"]["Cisco"][key] = self.status_text(task, p)
        return payload

    def failure_message(self, task, p):
        info = registry_message("GeneralError")
        info["Resolution"] = self.status_text(task, p)
        return info

    def result_body(self, task):
        return {"@Message.ExtendedInfo": [registry_message("Success")]}


# ---- a service with a DMTF JobService ----------------------------------------

JOB_TYPE = "#Job.v1_2_5.Job"
# JobState / JobStatus for each phase or outcome (Job.v1_2_5: JobState, JobStatus = Resource.Health).
JOB_STATE = {
    "new": ("New", "OK"),
    "running": ("Running", "OK"),
    "success": ("Completed", "OK"),
    "fail": ("Exception", "Critical"),
    "cancel": ("Cancelled", "Warning"),
    "critical": ("Completed", "Critical"),
}


class HandOff:
    """The short Task of a JobService service's update: done at once, pointing at its Job."""

    def __init__(self, task_id, job):
        self.id = task_id
        self.job = job
        self.created_wall = time.time()


class JobServiceFlavour(GenericFlavour):
    """Updates run as Jobs of a DMTF JobService; the Task of the request only hands over to the Job.

    TaskService holds one completed hand-off Task per update (Messages: TaskStarted, then the Update
    registry's OperationTransitionedToJob with the Job's URI, whose Resolution says "Follow the
    referenced job"); its monitor answers 200 with that message at once. The Job runs the scenario at
    ``/redfish/v1/JobService/Jobs/{id}``. /_sim/tasks makes the same pair; ``task_uri`` is the Job's.
    """

    vendor_product = ("Contoso", "Simulated Redfish BMC with a JobService")
    odata_types = ("#JobService.v1_0_6.JobService", "#JobCollection.JobCollection", JOB_TYPE)
    sse_default = False

    def event_origin(self, task):
        return self.job_uri(task)  # the task the ticks see is the Job

    def reset(self):
        super().reset()
        self.handoffs = {}
        self.task_seq = 0

    def service_root_extra(self):
        return {"JobService": {"@odata.id": ROOT + "/JobService"}}

    def start_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None, request=None):
        job = super().start_task(scenario, duration, kind, task_id, started_ago, name, request)
        with self.device.lock:
            self.task_seq += 1
            handoff = HandOff(str(self.task_seq), job)
            self.handoffs[handoff.id] = handoff
            job.extra["handoff"] = handoff.id
        return job

    def job_uri(self, job):
        return "%s/%s" % (JOBS, q(job.id))

    def handoff_message(self, handoff):
        return registry_message("Update.OperationTransitionedToJob", self.job_uri(handoff.job))

    def update_accepted(self, task, now):
        handoff = self.handoffs[task.extra["handoff"]]  # the task is the Job; its hand-off Task answers
        headers = {"Location": monitor_uri(handoff.id), "Retry-After": str(self.device.config["retry_after"])}
        return self.platform.ok(self.handoff_payload(handoff), 202, headers)

    def control_answer(self, task):
        handoff = task.extra["handoff"]
        return {"id": task.id, "task_uri": self.job_uri(task), "monitor_uri": monitor_uri(handoff),
                "handoff_task_uri": task_uri(handoff)}

    # the hand-off Tasks

    def visible_tasks(self, now):
        with self.device.lock:
            return list(self.handoffs.values())

    def handoff_payload(self, handoff):
        return {
            "@odata.id": task_uri(handoff.id),
            "@odata.type": TASK_TYPE,
            "Id": handoff.id,
            "Name": "Update request",
            "TaskState": "Completed",
            "TaskStatus": "OK",
            "PercentComplete": 100,
            "StartTime": iso(handoff.created_wall),
            "EndTime": iso(handoff.created_wall),
            "Messages": [registry_message("TaskEvent.TaskStarted", handoff.id), self.handoff_message(handoff)],
            "TaskMonitor": monitor_uri(handoff.id),
            "Payload": self.payload(handoff.job),
        }

    def get_tasks(self, req, now):
        return self.platform.collection(req, self.task_collection_head(), self.visible_tasks(now),
                                        self.handoff_payload, lambda h: task_uri(h.id))

    def get_task(self, req, task_id, now):
        with self.device.lock:
            handoff = self.handoffs.get(task_id)
            return self.platform.ok(self.handoff_payload(handoff)) if handoff else self.platform.not_found(req)

    def monitor(self, req, task_id, now):
        with self.device.lock:
            handoff = self.handoffs.get(task_id)
            if handoff is None:
                return self.platform.not_found(req)
            return self.platform.ok({"@Message.ExtendedInfo": [self.handoff_message(handoff)]})

    # the Jobs

    def route(self, rest):
        platform = self.platform
        if rest == ["JobService"]:
            return Route({"GET": lambda req, now: platform.ok(self.job_service())})
        if rest == ["JobService", "Jobs"]:
            return Route({"GET": self.get_jobs})
        if len(rest) == 3 and rest[:2] == ["JobService", "Jobs"]:
            return Route({"GET": lambda req, now: self.get_job(req, rest[2], now)})
        return None

    def job_service(self):
        return {
            "@odata.id": ROOT + "/JobService",
            "@odata.type": "#JobService.v1_0_6.JobService",
            "Id": "JobService",
            "Name": "Job Service",
            "DateTime": iso(time.time()),
            "ServiceEnabled": True,
            "ServiceCapabilities": {"MaxJobs": 100, "MaxSteps": None, "Scheduling": False},
            "Status": {"State": "Enabled", "Health": "OK"},
            "Jobs": {"@odata.id": JOBS},
        }

    def get_jobs(self, req, now):
        head = {"@odata.id": JOBS, "@odata.type": "#JobCollection.JobCollection", "Name": "Job Collection"}
        return self.platform.collection(req, head, GenericFlavour.visible_tasks(self, now),
                                        lambda t: self.job_payload(t, now), self.job_uri)

    def get_job(self, req, job_id, now):
        with self.device.lock:
            job = GenericFlavour.find(self, job_id, now)
            return self.platform.ok(self.job_payload(job, now)) if job else self.platform.not_found(req)

    def job_payload(self, job, now):
        p = job.progress(now)
        state, status = JOB_STATE[self.state_key(p)]
        payload = {
            "@odata.id": self.job_uri(job),
            "@odata.type": JOB_TYPE,
            "Id": job.id,
            "Name": job.name,
            "JobState": state,
            "JobStatus": status,
            "PercentComplete": p.percent,
            "StartTime": iso(job.start_epoch()),
            "CreatedBy": self.device.config["username"],
            "HidePayload": False,
            "Payload": self.payload(job),
            "Messages": self.messages(job, p),
        }
        if p.done:
            payload["EndTime"] = iso(job.end_epoch())
        return payload


# ---- OpenBMC (bmcweb) ----------------------------------------------------------

OBMC_MANAGER = ROOT + "/Managers/bmc"
OBMC_START_VERSION = "2.16.0-dev-212-g5e1a4f3"


def obmc_image_id(version):
    """bmcweb names a software image by its D-Bus object: 8 hex digits derived from the version."""
    return hashlib.sha1(version.encode("utf-8")).hexdigest()[:8]


class OpenBmcFlavour(GenericFlavour):
    """bmcweb-like: tasks in memory, lost in every reboot; a BMC update ends in one."""

    vendor_product = ("OpenBMC", "Simulated OpenBMC (bmcweb)")
    odata_types = (
        "#ManagerCollection.ManagerCollection",
        "#Manager.v1_11_0.Manager",
        "#SoftwareInventoryCollection.SoftwareInventoryCollection",
        "#SoftwareInventory.v1_1_0.SoftwareInventory",
        "#Task.v1_4_3.Task",
    )
    REBOOTS_AT_END = ("success", "delete")  # scenarios whose BMC update finishes by rebooting into the image

    def reset(self):
        super().reset()
        self.active = OBMC_START_VERSION
        self.updates = 0

    def format_id(self, seq):
        return str(seq - 1)  # bmcweb counts tasks from 0, anew after each start

    def rebooting(self):
        """Memory is lost: every task, the task count, images not made active."""
        for task in self.device.tasks.values():
            if task.extra.get("activate"):
                self.active = task.extra["version"]
        self.device.tasks.clear()
        self.seq = 0

    def start_task(self, scenario, duration, kind, task_id=None, started_ago=0.0, name=None, request=None):
        task = super().start_task(scenario, duration, kind, task_id, started_ago, name, request)
        if kind == "firmware_update":
            with self.device.lock:
                self.updates += 1
                digest = hashlib.sha1(("%s/%d" % (self.image(task), self.updates)).encode("utf-8")).hexdigest()
                task.extra["version"] = "2.16.0-dev-%d-g%s" % (212 + self.updates, digest[:7])
                if scenario in self.REBOOTS_AT_END:
                    self.device.schedule(task.duration - task.elapsed(), self.finish_update, task)
        return task

    def finish_update(self, task):
        """The image is written: the BMC reboots into it (the task goes with the rest of memory)."""
        with self.device.lock:
            if self.device.tasks.get(task.id) is not task:
                return
            task.extra["activate"] = True
        self.device.reboot()

    def progress(self, task, now):
        p = task.progress(now)
        if (p is not None and p.done and task.kind == "firmware_update"
                and task.scenario in self.REBOOTS_AT_END):
            return type(p)("running", 100)  # written, about to reboot: nobody sees it Completed
        return p

    def monitor(self, req, task_id, now):
        """bmcweb: 202 and the Task while running; once done 204, once, then 404."""
        platform = self.platform
        with self.device.lock:
            task = self.device.tasks.get(task_id)
            if task is None or task.final_served:
                return platform.not_found(req)
            p = self.progress(task, now)
            if not p.done:
                retry = str(self.device.config["retry_after"])
                return platform.ok(self.task_payload(task, now), 202,
                                   {"Retry-After": retry, "Location": monitor_uri(task.id)})
            task.final_served = True
            return platform.empty(204)

    def task_payload(self, task, now):
        payload = super().task_payload(task, now)
        payload["@odata.type"] = "#Task.v1_4_3.Task"
        payload["Name"] = "Task %s" % task.id
        payload["HidePayload"] = False
        if task.final_served:
            payload.pop("TaskMonitor")  # bmcweb drops it once the monitor gave its 204
        if payload["TaskState"] == "Exception":
            payload["TaskStatus"] = "Warning"  # bmcweb's failed update
        return payload

    def messages(self, task, p):
        if p.phase == "running" and p.percent:
            return [registry_message("TaskEvent.TaskStarted", task.id),
                    registry_message("TaskEvent.TaskProgressChanged", task.id, p.percent)]
        if p.done and p.outcome != "success":
            return [registry_message("TaskEvent.TaskStarted", task.id), self.failure_message(task, p)]
        return super().messages(task, p)

    def failure_message(self, task, p):
        if p is not None and p.outcome == "cancel":
            return registry_message("TaskEvent.TaskCancelled", task.id)
        return registry_message("TaskEvent.TaskAborted", task.id)

    # firmware inventory and manager

    def service_root_extra(self):
        return {"Managers": {"@odata.id": ROOT + "/Managers"}}

    def update_service_extra(self):
        return {"FirmwareInventory": {"@odata.id": FIRMWARE}}

    def images(self, now):
        """``{id: (version, state, health)}``: the running image, and images of updates under way or failed."""
        images = {obmc_image_id(self.active): (self.active, "Enabled", "OK")}
        for task in self.device.tasks.values():
            version = task.extra.get("version")
            if not version or obmc_image_id(version) in images:
                continue
            p = self.progress(task, now)
            if not p.done:
                images[obmc_image_id(version)] = (version, "Updating", "OK")
            elif p.outcome != "success":
                images[obmc_image_id(version)] = (version, "Disabled", "Warning")
        return images

    def software(self, image_id, version, state, health):
        return {
            "@odata.id": "%s/%s" % (FIRMWARE, image_id),
            "@odata.type": "#SoftwareInventory.v1_1_0.SoftwareInventory",
            "Id": image_id,
            "Name": "Software Inventory",
            "Description": "BMC image",
            "Version": version,
            "Updateable": True,
            "Status": {"State": state, "Health": health},
            "RelatedItem": [{"@odata.id": OBMC_MANAGER}],
            "RelatedItem@odata.count": 1,
        }

    def manager(self):
        active = obmc_image_id(self.active)
        return {
            "@odata.id": OBMC_MANAGER,
            "@odata.type": "#Manager.v1_11_0.Manager",
            "Id": "bmc",
            "Name": "OpenBmc Manager",
            "Description": "Baseboard Management Controller",
            "ManagerType": "BMC",
            "FirmwareVersion": self.active,
            "Status": {"State": "Enabled", "Health": "OK"},
            "Links": {
                "ActiveSoftwareImage": {"@odata.id": "%s/%s" % (FIRMWARE, active)},
                "SoftwareImages": [{"@odata.id": "%s/%s" % (FIRMWARE, active)}],
                "SoftwareImages@odata.count": 1,
            },
        }

    def route(self, rest):
        platform = self.platform
        if rest == ["Managers"]:
            return Route({"GET": lambda req, now: platform.ok(platform.listing(
                ROOT + "/Managers", "#ManagerCollection.ManagerCollection", "Manager Collection", ["bmc"]))})
        if rest == ["Managers", "bmc"]:
            return Route({"GET": lambda req, now: platform.ok(self.manager())})
        if rest == ["UpdateService", "FirmwareInventory"]:
            return Route({"GET": self.get_inventory})
        if len(rest) == 3 and rest[:2] == ["UpdateService", "FirmwareInventory"]:
            return Route({"GET": lambda req, now: self.get_software(req, rest[2], now)})
        return None

    def get_inventory(self, req, now):
        with self.device.lock:
            images = sorted(self.images(now).items())
        head = {"@odata.id": FIRMWARE, "@odata.type": "#SoftwareInventoryCollection.SoftwareInventoryCollection",
                "Name": "Software Inventory Collection"}
        return self.platform.collection(req, head, images, lambda item: self.software(item[0], *item[1]),
                                        lambda item: "%s/%s" % (FIRMWARE, item[0]))

    def get_software(self, req, image_id, now):
        with self.device.lock:
            image = self.images(now).get(image_id)
        return self.platform.ok(self.software(image_id, *image)) if image else self.platform.not_found(req)


FLAVOURS = {
    "generic": GenericFlavour,
    "dell": DellFlavour,
    "cisco": CiscoFlavour,
    "jobservice": JobServiceFlavour,
    "openbmc": OpenBmcFlavour,
}
assert set(FLAVOURS) == set(RedfishPlatform.vendors)
assert set(GENERIC_KINDS) == set(DELL_KINDS) == set(CISCO_KIND_SLOT) == set(KINDS)

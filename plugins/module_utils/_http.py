# -*- coding: utf-8 -*-
# Copyright: (c) 2026, taskstatus.infra contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One ``requests.Session`` per module run: TLS, timeouts, retries, redirects.

Adapters call :meth:`HttpClient.request` with a path (or a URL on the
configured host) and get a :class:`Response`; every failure becomes one of
the exceptions in ``_errors``.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
import traceback
from urllib.parse import quote, urlsplit, urlunsplit

from ansible_collections.taskstatus.infra.plugins.module_utils._errors import (
    BadResponse,
    OptionError,
    Redirected,
    TaskStatusError,
    TransientError,
)

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from urllib3.exceptions import HTTPError as Urllib3Error
except ImportError:  # pragma: no cover - exercised by the sanity import test
    requests = None
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    READ_ERRORS = (OSError,)
else:
    READ_ERRORS = (requests.exceptions.RequestException, Urllib3Error, OSError)

MAX_BODY = 32 * 1024 * 1024
RETRY_STATUSES = frozenset((429, 502, 503, 504))
REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
MAX_REDIRECTS = 5
MIN_RETRY_AFTER = 1.0
MAX_RETRY_AFTER = 120.0
# A logout is bounded by this, not by what is left of the wait: a timed-out wait still closes its session.
LOGOUT_TIMEOUT = 10.0
DEFAULT_PORTS = {"https": 443, "http": 80}


def origin(scheme, netloc):
    """``(scheme, host, port)`` with the default port filled in, for comparing origins."""
    parts = urlsplit("%s://%s" % (scheme, netloc))
    try:
        port = parts.port
    except ValueError:
        port = None
    return (scheme.lower(), (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme.lower()))


def show_origin(scheme, netloc):
    """``https://host:port`` for messages (no user info, no path)."""
    parts = urlsplit("%s://%s" % (scheme, netloc))
    host = parts.hostname or "?"
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s%s" % (scheme, host, ":%s" % parts.port if parts.port else "")


def quote_segment(value):
    """A task id as one URL path segment: ``/``, ``?``, ``#``, ``..`` cannot escape."""
    text = str(value)
    quoted = quote(text, safe="")
    if quoted in (".", ".."):
        quoted = quoted.replace(".", "%2E")
    return quoted


def parse_retry_after(value, now=None):
    """Seconds from a ``Retry-After`` header (delta seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        now = time.time() if now is None else now
        seconds = when.timestamp() - now
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


def clamp_retry_after(seconds):
    """A server's ``Retry-After`` is honoured within [1, 120] s."""
    if seconds is None:
        return None
    return min(MAX_RETRY_AFTER, max(MIN_RETRY_AFTER, seconds))


def parse_host(host, platform):
    """``(scheme, netloc, prefix)`` from the ``host`` option."""
    if host is None or not str(host).strip():
        raise OptionError("option host must not be empty", platform=platform)
    host = str(host).strip()
    if any(ord(c) < 33 for c in host):
        raise OptionError("option host %r contains white space or control characters" % host, platform=platform)
    if "://" in host:
        parts = urlsplit(host)
        if parts.scheme not in ("https", "http"):
            raise OptionError("option host %r: the scheme must be https:// or http://" % host, platform=platform)
        if not parts.hostname:
            raise OptionError("option host %r has no host name" % host, platform=platform)
        if parts.username or parts.password:
            raise OptionError("option host must not carry credentials; use username and password", platform=platform)
        if parts.query or parts.fragment:
            raise OptionError("option host %r must not have a query or a fragment" % host, platform=platform)
        try:
            parts.port  # noqa: B018 - validates the port
        except ValueError:
            raise OptionError("option host %r has an invalid port" % host, platform=platform)
        return parts.scheme, parts.netloc, parts.path.rstrip("/")
    if "/" in host or "?" in host or "#" in host or "@" in host:
        raise OptionError(
            "option host %r has a path but no scheme: give a bare name or address "
            "(optionally with :port), or a full URL such as https://%s" % (host, host),
            platform=platform)
    try:
        parsed = urlsplit("https://" + host)
        parsed.port  # noqa: B018 - validates the port
    except ValueError:
        raise OptionError("option host %r has an invalid port" % host, platform=platform)
    if not parsed.hostname:
        raise OptionError("option host %r has no host name" % host, platform=platform)
    return "https", host, ""


class Response:
    """What an adapter needs of an answer: status, headers, body, parsed JSON."""

    def __init__(self, status, headers, body, path, platform):
        self.status = status
        self.headers = headers
        self.body = body
        self.path = path
        self.platform = platform

    def header(self, name):
        return self.headers.get(name)

    @property
    def retry_after(self):
        return parse_retry_after(self.headers.get("Retry-After"))

    def text(self, limit=300):
        text = self.body.decode("utf-8", "replace").strip()
        return text if len(text) <= limit else text[:limit] + "..."

    def json(self, expect=None, allow_empty=False):
        """The body as JSON; ``expect`` is ``dict``, ``list`` or a tuple of types."""
        if not self.body.strip():
            if allow_empty:
                return None
            raise BadResponse("the answer has an empty body where JSON was expected",
                              platform=self.platform, path=self.path, status=self.status)
        ctype = (self.headers.get("Content-Type") or "").lower()
        try:
            data = json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            kind = "HTML" if "html" in ctype or self.body.lstrip()[:1] == b"<" else "not valid JSON"
            raise BadResponse("the answer is %s (%s), not the JSON the API documents; it starts with: %s"
                              % (kind, exc.__class__.__name__, self.text(80)),
                              platform=self.platform, path=self.path, status=self.status)
        if expect is not None and not isinstance(data, expect):
            raise BadResponse("the answer is a JSON %s where the API documents %s"
                              % (_json_type(data), _type_names(expect)),
                              platform=self.platform, path=self.path, status=self.status)
        return data

    def json_or_none(self):
        """The body as JSON when it is JSON (error bodies, optional bodies), else None."""
        try:
            return self.json(allow_empty=True)
        except BadResponse:
            return None


def _json_type(data):
    if isinstance(data, dict):
        return "object"
    if isinstance(data, list):
        return "array"
    if isinstance(data, str):
        return "string"
    if data is None:
        return "null"
    return "number or boolean"


def _type_names(expect):
    types = expect if isinstance(expect, tuple) else (expect,)
    names = {dict: "an object", list: "an array", str: "a string"}
    return " or ".join(names.get(t, t.__name__) for t in types)


class HttpClient:
    """A kept-alive session to one manager.

    ``deadline`` is a callable returning the seconds left of the whole module
    run (or None); no request waits longer than that.
    """

    def __init__(self, host, platform, validate_certs=True, ca_path=None,
                 request_timeout=30.0, retries=2, deadline=None, sleep=time.sleep):
        if requests is None:
            raise TaskStatusError("the Python library requests is required")
        self.platform = platform
        self.scheme, self.netloc, self.prefix = parse_host(host, platform)
        self.base = "%s://%s%s" % (self.scheme, self.netloc, self.prefix)
        self.request_timeout = float(request_timeout)
        self.retries = retries
        self.deadline = deadline or (lambda: None)
        self.sleep = sleep
        self.requests_made = 0
        self.limiter = None  # a request budget (_pacing), shared with the other users of this manager
        self.session = requests.Session()
        # No CA bundle, netrc credentials or proxy settings taken silently from the environment;
        # only the proxy variables are honoured, as users behind a proxy expect (cdFMC is a cloud service).
        self.session.trust_env = False
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base))
        self.session.headers["Accept"] = "application/json"
        self.session.headers["User-Agent"] = "taskstatus.infra"
        # True (system CAs), the ca_path bundle, or off only when validate_certs=false was asked for.
        self.session.verify = (ca_path or True) if validate_certs else validate_certs
        if not validate_certs:
            try:
                requests.packages.urllib3.disable_warnings()
            except AttributeError:  # pragma: no cover
                pass

    @classmethod
    def from_params(cls, params, deadline=None):
        """The client of the connection options every entry point shares (modules, fleet targets, EDA)."""
        return cls(params["host"], params["platform"], validate_certs=params["validate_certs"],
                   ca_path=params["ca_path"], request_timeout=params["request_timeout"], deadline=deadline)

    def close(self):
        self.session.close()

    def cookie(self, name):
        """A cookie the manager set (XClarity's ``csrf``), or None."""
        return self.session.cookies.get(name)

    def clear_cookies(self):
        self.session.cookies.clear()

    # URLs -------------------------------------------------------------
    def url(self, path):
        """The full URL of ``path`` (a path below the prefix, or a URL on this host)."""
        if "://" in path:
            parts = urlsplit(path)
            if origin(parts.scheme, parts.netloc) != origin(self.scheme, self.netloc):
                raise OptionError("%s points at another host than %s; a task URI must stay on the configured host"
                                  % (_short(path), show_origin(self.scheme, self.netloc)), platform=self.platform)
            if not parts.path.startswith(self.prefix + "/") and self.prefix:
                raise OptionError("%s is outside %s" % (_short(path), self.base), platform=self.platform)
            return urlunsplit((self.scheme, self.netloc, parts.path, parts.query, ""))
        if not path.startswith("/"):
            path = "/" + path
        if self.prefix and path.startswith(self.prefix + "/"):
            return self.scheme + "://" + self.netloc + path
        return self.base + path

    def path_of(self, url):
        """The path of ``url`` without the query, for messages."""
        return urlsplit(url).path or "/"

    def local_path(self, uri):
        """The path of a URI the manager gave about itself, to be used on the configured host.

        A session's ``Location`` or a Task's ``TaskMonitor`` may name the manager by its IP address, or with
        ``:443``: it is still the manager's own resource, so only its path counts (None when it has none).
        """
        return urlsplit(str(uri)).path or None

    # Requests ---------------------------------------------------------
    def _timeout(self, final=False):
        if final:
            return min(self.request_timeout, LOGOUT_TIMEOUT)
        left = self.deadline()
        timeout = self.request_timeout
        if left is not None:
            if left <= 0:
                raise TransientError("no time is left for another request", platform=self.platform)
            timeout = min(timeout, max(0.5, left))
        return timeout

    def request(self, method, path, headers=None, json_body=None, params=None, auth=None,
                retry=None, data=None, final=False):
        """Send one request, following same-origin redirects of bodiless requests, retrying idempotent ones.

        Returns a :class:`Response` for every HTTP status; raises ``TransientError`` when the manager could
        not be reached (after retries), ``Redirected`` for a redirect that is not followed, and
        ``TaskStatusError`` for TLS problems. ``final`` marks a logout: it is bounded by its own short
        timeout instead of the wait's deadline, and is not retried.
        """
        method = method.upper()
        if retry is None:
            retry = method in ("GET", "HEAD", "DELETE") and not final
        url = self.url(path)
        attempt = 0
        while True:
            try:
                response = self._send(method, url, headers, json_body, params, auth, data, final)
            except TransientError:
                if not retry or attempt >= self.retries or not self._pause(attempt, None):
                    raise
                attempt += 1
                continue
            if response.status in RETRY_STATUSES and retry and attempt < self.retries and \
                    self._pause(attempt, response.retry_after):
                attempt += 1
                continue
            return response

    def _pause(self, attempt, retry_after):
        """Sleep before a retry; False (no sleep) when the wait's deadline comes first."""
        wait = clamp_retry_after(retry_after) if retry_after is not None else min(4.0, 0.5 * (2 ** attempt))
        left = self.deadline()
        if left is not None and left <= wait:
            return False
        self.sleep(wait)
        return True

    def _send(self, method, url, headers, json_body, params, auth, data, final):
        has_body = json_body is not None or data is not None
        for _hop in range(MAX_REDIRECTS + 1):
            path = self.path_of(url)
            if self.limiter is not None:
                # A logout is counted but never held back: the session must close, and the budget keeps
                # headroom under the manager's own limit for it.
                self.limiter.acquire(self.deadline(), self.platform, force=final)
            timeout = self._timeout(final)
            try:
                self.requests_made += 1
                resp = self.session.request(method, url, headers=headers, json=json_body, data=data,
                                            params=params, auth=auth, timeout=timeout,
                                            allow_redirects=False, stream=True)
            except requests.exceptions.SSLError as exc:
                raise TaskStatusError(_tls_message(exc, self.netloc), platform=self.platform, path=path)
            except requests.exceptions.Timeout:
                raise TransientError("no answer within %.1f s (request_timeout)" % timeout,
                                     platform=self.platform, path=path)
            except requests.exceptions.ConnectionError as exc:
                raise TransientError("cannot connect to %s (%s)" % (self.netloc, _conn_reason(exc)),
                                     platform=self.platform, path=path)
            except requests.exceptions.RequestException as exc:
                raise TaskStatusError("request failed: %s" % exc.__class__.__name__,
                                      platform=self.platform, path=path)
            try:
                body = self._read(resp, path, timeout)
            finally:
                resp.close()
            if resp.status_code not in REDIRECT_STATUSES:
                return Response(resp.status_code, resp.headers, body, path, self.platform)
            url = self._follow(method, url, resp, has_body)
            params = None
        raise Redirected("more than %d redirects" % MAX_REDIRECTS, platform=self.platform, path=self.path_of(url))

    def _follow(self, method, url, resp, has_body):
        """The next URL of a redirect, or ``Redirected`` when it is not followed."""
        path, status = self.path_of(url), resp.status_code
        location = resp.headers.get("Location")
        if not location:
            raise Redirected("the answer is a redirect without a Location", platform=self.platform, path=path,
                             status=status)
        target = urlsplit(requests.compat.urljoin(url, location))
        here = urlsplit(url)
        if origin(target.scheme, target.netloc) != origin(here.scheme, here.netloc):
            raise Redirected("redirected from %s to %s; the collection follows no redirect to another scheme, host "
                             "or port (credentials would go with it): set host to the address the manager answers on"
                             % (show_origin(here.scheme, here.netloc), show_origin(target.scheme, target.netloc)),
                             platform=self.platform, path=path, status=status)
        if has_body or method not in ("GET", "HEAD", "DELETE"):
            raise Redirected("%s %s was redirected to %s; a request with a body is not sent again"
                             % (method, path, _short(target.path or "/")), platform=self.platform, path=path,
                             status=status)
        return urlunsplit((here.scheme, here.netloc, target.path, target.query, ""))

    def _read(self, resp, path, timeout):
        chunks = []
        size = 0
        # A server that trickles its answer never trips the socket timeout: bound the whole read.
        limit = time.monotonic() + timeout
        try:
            for chunk in _chunks(resp):
                size += len(chunk)
                if size > MAX_BODY:
                    raise BadResponse("the answer is larger than %d MiB" % (MAX_BODY // (1024 * 1024)),
                                      platform=self.platform, path=path, status=resp.status_code)
                if time.monotonic() > limit:
                    raise TransientError("the answer took longer than %.1f s (request_timeout) to arrive" % timeout,
                                         platform=self.platform, path=path, status=resp.status_code)
                chunks.append(chunk)
        except READ_ERRORS as exc:
            raise TransientError("the answer was cut off after %d bytes (%s)" % (size, _cut_reason(exc)),
                                 platform=self.platform, path=path, status=resp.status_code)
        return b"".join(chunks)


def _chunks(resp):
    """The body as it arrives: ``read1`` returns what is there instead of waiting for a whole chunk."""
    raw = resp.raw
    if not hasattr(raw, "read1"):  # urllib3 < 2.3
        yield from resp.iter_content(65536)
        return
    while True:
        chunk = raw.read1(65536, decode_content=True)
        if not chunk:
            return
        yield chunk


def _short(text, limit=120):
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."


def _conn_reason(exc):
    text = str(exc)
    for word in ("Connection refused", "Name or service not known", "No route to host",
                 "Connection reset", "Network is unreachable", "timed out", "Remote end closed"):
        if word.lower() in text.lower():
            return word.lower()
    return exc.__class__.__name__


def _cut_reason(exc):
    text = str(exc)
    if "IncompleteRead" in text or "incomplete" in text.lower():
        return "shorter than its Content-Length"
    if "timed out" in text.lower():
        return "no more data within request_timeout"
    return exc.__class__.__name__


TLS_REASONS = (
    ("hostname mismatch", "the certificate is not valid for this host name (host-name mismatch): set host to a "
                          "name the certificate was issued for"),
    ("ip address mismatch", "the certificate is not valid for this IP address (host-name mismatch): set host to "
                            "a name or address the certificate was issued for"),
    ("certificate has expired", "the certificate has expired"),
    ("self-signed certificate", "the certificate is self-signed and not trusted; give it (or its CA) with ca_path"),
    ("unable to get local issuer certificate", "the certificate's CA is not trusted; give the manager's CA with "
                                               "ca_path, or set validate_certs=false for a lab"),
    ("certificate verify failed", "the certificate is not trusted; give the manager's CA with ca_path, or set "
                                  "validate_certs=false for a lab"),
    ("wrong version number", "the manager does not speak TLS on this port (wrong version number): is it http://?"),
)


def _tls_message(exc, netloc):
    """What went wrong in the TLS handshake, with the real reason first (not only 'verify failed')."""
    text = str(exc).lower()
    for word, advice in TLS_REASONS:
        if word in text:
            return "TLS verification of %s failed: %s" % (netloc, advice)
    return "TLS handshake with %s failed (%s)" % (netloc, _short(str(exc), 160))

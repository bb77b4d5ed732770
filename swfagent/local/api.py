"""The WSGI layer: SWF requests go through the engine and answer as SWF does; everything else goes to moto.

Per SWF request: injected throttling first, then SWF's size limits (1 MB a request, each field's
length from botocore's own model of SWF), then the operation under the engine's lock. moto's
SWFResponse parses and answers; the operations where moto differs from SWF are overridden here.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import html
import io
import json
import logging
import os
import re
import select
import socket
import zlib
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.model import ListShape, Shape, StructureShape
from werkzeug.wrappers import Response

from ..ids import NAME_FORBIDDEN
from ..limits import MAX_PAGE, MAX_REQUEST_BYTES, MAX_RETENTION_DAYS, MAX_TIMEOUT
from .engine import ACTIVITY, DECISION, Engine, UnknownRegion
from .faults import describe_limits, parse_faults
from .models import Execution
from .moto_adapter import (
    DecisionTask,
    MotoRequestHandler,
    Request,
    SWFClientError,
    SWFResponse,
    SWFValidationException,
    camelcase_to_underscores,
    moto_app,
)

log = logging.getLogger("swfagent.local")

TARGET_PREFIX = "SimpleWorkflowService."
EMPTY_POLL = {"taskToken": "", "startedEventId": 0}  # SWF's answer when no task came: the SDKs read "" as none
JSON = "application/x-amz-json-1.0"


class InjectedFailure(Exception):
    """A failure --faults asked for, answered as SWF's InternalFailure."""


class LocalRequest(Request):
    """A request that came through this server (moto answers such requests without a Date header)."""

    from_wsgi_server = True


# Operations that change nothing, answered without a journal record (a poll's take is recorded by the engine)
READ_ONLY = ("List", "Describe", "Count", "Get", "PollFor")
CREDENTIAL = re.compile(r"Credential=[^,\s]+")


def answer_crc(out: str | bytes | None) -> int:
    """The CRC-32 of an answer's body, which the journal keeps to check a replay against."""
    return zlib.crc32(out.encode() if isinstance(out, str) else out or b"")


def run(engine: Engine, operation: str, scope: str, body: bytes) -> tuple[int, dict[str, str], Any]:
    """One changing request, made of what the journal keeps of it (durable.py replays it here; the lock held):
    the operation, the signature's credential scope (region, access key) and the account header, the body."""
    credential, _, account = scope.partition("|")
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5055", "HTTP_HOST": "127.0.0.1:5055", "wsgi.url_scheme": "http", "CONTENT_TYPE": JSON,
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "HTTP_X_AMZ_TARGET": TARGET_PREFIX + operation,
        "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 {credential}, SignedHeaders=host, Signature=0",
        **({"HTTP_X_MOTO_ACCOUNT_ID": account} if account else {}),
    }
    engine.catch_up()
    status, headers, out = SwfApi(engine)._dispatch(LocalRequest(environ))
    return int(status), headers, out


def _encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _decode(token: Any) -> dict[str, Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
    except (ValueError, binascii.Error):
        raise SWFValidationException("Invalid nextPageToken") from None
    if not isinstance(data, dict):
        raise SWFValidationException("Invalid nextPageToken")
    return data


def _page_size(params: dict[str, Any]) -> int:
    size = params.get("maximumPageSize") or MAX_PAGE
    if not isinstance(size, int) or not 1 <= size <= MAX_PAGE:
        raise SWFValidationException(f"maximumPageSize must be between 1 and {MAX_PAGE}")
    return size


def _page(items: list[Any], params: dict[str, Any], extra: dict[str, Any] | None = None) -> tuple[list[Any], str | None]:
    """One page of items from nextPageToken's offset, and the token of the next page if there is one."""
    size = _page_size(params)
    offset = int(_decode(params["nextPageToken"]).get("offset", 0)) if params.get("nextPageToken") else 0
    page = items[offset:offset + size]
    more = offset + size < len(items)
    return page, _encode({**(extra or {}), "offset": offset + size}) if more else None


def decision_page(task: DecisionTask, params: dict[str, Any], offset: int = 0) -> dict[str, Any]:
    """A decision task with one page of its history: the events up to its DecisionTaskStarted."""
    wfe = task.workflow_execution
    events = wfe._events[: task.started_event_id]
    if params.get("reverseOrder"):
        events = events[::-1]
    size = _page_size(params)
    answer: dict[str, Any] = {
        "taskToken": task.task_token,
        "workflowExecution": wfe.to_short_dict(),
        "workflowType": task.workflow_type.to_short_dict(),
        "startedEventId": task.started_event_id,
        "previousStartedEventId": task.previous_started_event_id or 0,
        "events": [e.to_dict() for e in events[offset:offset + size]],
    }
    if offset + size < len(events):
        answer["nextPageToken"] = _encode({"task": task.task_token, "offset": offset + size})
    return answer


class SwfApi(SWFResponse):
    """moto's SWF answers, bound to the engine's backends, with SWF's where moto's differ."""

    def __init__(self, engine: Engine, gone: Callable[[], bool] | None = None):
        super().__init__()
        self.engine = engine
        self.gone = gone

    @property
    def swf_backend(self) -> Any:
        return self.engine.backend(self.current_account, self.region)

    @functools.cached_property
    def _params(self) -> Any:  # moto parses the body again on every parameter read
        return json.loads(self.body)

    def _domain(self) -> Any:
        name = self._params["domain"]
        self._check_string(name)
        return self.swf_backend._get_domain(name)

    # -- polls: long, one taker per task, the history in pages --------------------------------------

    def poll_for_activity_task(self) -> str:
        p = self._params
        self._check_none_or_string(p.get("identity"))
        task = self.engine.poll(self._domain(), ACTIVITY, p["taskList"]["name"], p.get("identity"), self.gone)
        return json.dumps(task.to_full_dict() if task is not None else EMPTY_POLL)

    def poll_for_decision_task(self) -> str:
        p = self._params
        if p.get("nextPageToken"):  # a further page of a task already handed out: no new task
            if self.engine.faults.page_failed():
                raise InjectedFailure("injected internal failure on a further page (--faults page-errors)")
            page = _decode(p["nextPageToken"])
            task = self.engine.tokens.get(str(page.get("task")))
            if not isinstance(task, DecisionTask):
                raise SWFValidationException("Invalid nextPageToken")
            return json.dumps(decision_page(task, p, int(page.get("offset", 0))))
        task = self.engine.poll(self._domain(), DECISION, p["taskList"]["name"], p.get("identity"), self.gone)
        if task is None:
            return json.dumps({**EMPTY_POLL, "previousStartedEventId": 0})
        return json.dumps(decision_page(task, p))

    # -- registrations, types and tags ---------------------------------------------------------------

    def start_workflow_execution(self) -> str:
        p = self._params  # moto passes no taskPriority
        wfe = self.swf_backend.start_workflow_execution(
            p["domain"], p["workflowId"], p["workflowType"]["name"], p["workflowType"]["version"],
            task_list=(p.get("taskList") or {}).get("name"), child_policy=p.get("childPolicy"),
            execution_start_to_close_timeout=p.get("executionStartToCloseTimeout"), workflow_input=p.get("input"),
            tag_list=p.get("tagList"), task_start_to_close_timeout=p.get("taskStartToCloseTimeout"),
            task_priority=p.get("taskPriority"))
        return json.dumps({"runId": wfe.run_id})

    def register_activity_type(self) -> str:
        p = self._params  # moto keeps no defaultTaskPriority for an activity type
        self.swf_backend.register_type(
            "activity", p["domain"], p["name"], p["version"], task_list=(p.get("defaultTaskList") or {}).get("name"),
            default_task_heartbeat_timeout=p.get("defaultTaskHeartbeatTimeout"),
            default_task_schedule_to_close_timeout=p.get("defaultTaskScheduleToCloseTimeout"),
            default_task_schedule_to_start_timeout=p.get("defaultTaskScheduleToStartTimeout"),
            default_task_start_to_close_timeout=p.get("defaultTaskStartToCloseTimeout"),
            default_task_priority=p.get("defaultTaskPriority"), description=p.get("description"))
        return ""

    def register_domain(self) -> str:
        p = self._params
        tags = p.get("tags") or []
        self.swf_backend.check_domain_tags(tags)
        self.swf_backend.register_domain(
            p["name"], p["workflowExecutionRetentionPeriodInDays"], description=p.get("description"),
            tags=[{"Key": t["key"], "Value": t.get("value", "")} for t in tags])  # SWF: the value is optional
        return ""

    def tag_resource(self) -> str:
        self.swf_backend.tag(self._params["resourceArn"], self._params.get("tags") or [])
        return ""

    def list_tags_for_resource(self) -> str:
        arn = self._params["resourceArn"]
        self.swf_backend.domain_for_arn(arn)
        tags = self.swf_backend.tagger.list_tags_for_resource(arn).get("Tags", [])
        return json.dumps({"tags": [{"key": t["Key"], **({"value": t["Value"]} if t["Value"] else {})} for t in tags]})

    def untag_resource(self) -> str:
        arn = self._params["resourceArn"]
        self.swf_backend.domain_for_arn(arn)
        self.swf_backend.tagger.untag_resource_using_names(arn, self._params.get("tagKeys") or [])
        return ""

    def list_domains(self) -> str:
        p = self._params
        domains = self.swf_backend.list_domains(p["registrationStatus"], reverse_order=p.get("reverseOrder"))
        page, token = _page(list(domains), p)
        return json.dumps({"domainInfos": [d.to_short_dict() for d in page], **({"nextPageToken": token} if token else {})})

    def list_workflow_types(self) -> str:
        return self._types("workflow")

    def list_activity_types(self) -> str:
        return self._types("activity")

    def _types(self, kind: str) -> str:
        p = self._params
        found = self.swf_backend.list_types(kind, p["domain"], p["registrationStatus"], reverse_order=p.get("reverseOrder"))
        found = [t for t in found if p.get("name") in (None, t.name)]
        page, token = _page(found, p)
        return json.dumps({"typeInfos": [t.to_medium_dict() for t in page], **({"nextPageToken": token} if token else {})})

    def delete_workflow_type(self) -> str:
        wanted = self._params["workflowType"]
        self.swf_backend.delete_type("workflow", self._params["domain"], wanted["name"], wanted["version"])
        return ""

    def delete_activity_type(self) -> str:
        wanted = self._params["activityType"]
        self.swf_backend.delete_type("activity", self._params["domain"], wanted["name"], wanted["version"])
        return ""

    def get_workflow_execution_history(self) -> str:
        domain_name, run_id, workflow_id = self._get_workflow_execution_params()
        wfe = self.swf_backend.describe_workflow_execution(domain_name, run_id, workflow_id)
        p = self._params
        upto = int(_decode(p["nextPageToken"]).get("upto", 0)) if p.get("nextPageToken") else len(wfe._events)
        events = wfe._events[:upto]
        if p.get("reverseOrder"):
            events = events[::-1]
        page, token = _page(events, p, {"upto": upto})
        answer: dict[str, Any] = {"events": [e.to_dict() for e in page]}
        if token:
            answer["nextPageToken"] = token
        return json.dumps(answer)

    # -- cancellation --------------------------------------------------------------------------------

    def record_activity_task_heartbeat(self) -> str:
        p = self._params
        self._check_string(p["taskToken"])
        self._check_none_or_string(p.get("details"))
        self.swf_backend.record_activity_task_heartbeat(p["taskToken"], details=p.get("details"))
        task = self.engine.tokens[p["taskToken"]]
        return json.dumps({"cancelRequested": hasattr(task, "cancel_requested_event_id")})

    def respond_activity_task_canceled(self) -> str:
        p = self._params
        self._check_string(p["taskToken"])
        self._check_none_or_string(p.get("details"))
        self.swf_backend.respond_activity_task_canceled(p["taskToken"], p.get("details"))
        return ""

    def request_cancel_workflow_execution(self) -> str:
        p = self._params
        for key in ("domain", "workflowId"):
            self._check_string(p.get(key))
        self._check_none_or_string(p.get("runId"))
        self.swf_backend.request_cancel_workflow_execution(p["domain"], p["workflowId"], p.get("runId"))
        return ""

    def signal_workflow_execution(self) -> str:
        p = self._params  # moto requires an input; SWF does not
        for key in ("domain", "signalName", "workflowId"):
            self._check_string(p.get(key))
        self._check_none_or_string(p.get("input"))
        self._check_none_or_string(p.get("runId"))
        self.swf_backend.signal_workflow_execution(p["domain"], p["signalName"], p["workflowId"], p.get("input"),
                                                   p.get("runId"))
        return ""

    # -- visibility: SWF's filters, order, pages ------------------------------------------------------

    def list_open_workflow_executions(self) -> str:
        return self._list(open_=True)

    def list_closed_workflow_executions(self) -> str:
        return self._list(open_=False)

    def count_open_workflow_executions(self) -> str:
        return json.dumps({"count": len(self._filtered(open_=True)), "truncated": False})  # moto has no count calls

    def count_closed_workflow_executions(self) -> str:
        return json.dumps({"count": len(self._filtered(open_=False)), "truncated": False})

    def _list(self, open_: bool) -> str:
        page, token = _page(self._filtered(open_), self._params)
        answer: dict[str, Any] = {"executionInfos": [w.to_list_dict() for w in page]}
        if token:
            answer["nextPageToken"] = token
        return json.dumps(answer)

    def _filtered(self, open_: bool) -> list[Execution]:
        """The executions a list or count call asks for, in the order SWF lists them."""
        p = self._params
        self._check_string(p.get("domain"))
        exclusive = [k for k in ("executionFilter", "typeFilter", "tagFilter", "closeStatusFilter") if p.get(k)]
        if len(exclusive) > 1:
            raise SWFValidationException(f"Cannot specify more than one exclusive filters in the same query: {exclusive}")
        times = [k for k in ("startTimeFilter", "closeTimeFilter") if p.get(k)]
        if open_ and times != ["startTimeFilter"] or not open_ and len(times) != 1:
            raise SWFValidationException("Must specify time filter" if not times else f"Cannot specify both {' and '.join(times)}")
        when = "start_timestamp" if times == ["startTimeFilter"] else "close_timestamp"
        window = p[times[0]]
        rows: list[Execution] = [w for w in self.swf_backend.executions(p["domain"]) if w.open == open_]
        rows = [w for w in rows if _matches(w, p) and _within(getattr(w, when), window)]
        rows.sort(key=lambda w: getattr(w, when) or 0, reverse=not p.get("reverseOrder"))
        return rows


def _within(value: float | None, window: dict[str, Any]) -> bool:
    if value is None:
        return False
    latest = window.get("latestDate")
    return bool(float(window.get("oldestDate", 0)) <= value and (latest is None or value <= float(latest)))


def _matches(wfe: Execution, p: dict[str, Any]) -> bool:
    if p.get("executionFilter") and wfe.workflow_id != p["executionFilter"].get("workflowId"):
        return False
    wanted = p.get("typeFilter")
    if wanted and (wfe.workflow_type.name != wanted.get("name")
                   or wanted.get("version") not in (None, wfe.workflow_type.version)):
        return False
    if p.get("tagFilter") and p["tagFilter"].get("tag") not in (wfe.tag_list or []):
        return False
    return not (p.get("closeStatusFilter") and wfe.close_status != p["closeStatusFilter"].get("status"))


def client_gone(environ: dict[str, Any]) -> Callable[[], bool]:
    """A check that the request's client has closed its connection (werkzeug's server gives the socket)."""
    sock = environ.get("werkzeug.socket")

    def gone() -> bool:
        if sock is None:
            return False
        try:
            if hasattr(select, "poll"):
                poller = select.poll()
                poller.register(sock, select.POLLIN)
                if not poller.poll(0):
                    return False
            elif not select.select([sock], [], [], 0)[0]:
                return False
            # readable: either more bytes (a pipelined request: still there) or the end of the stream
            return bool(sock.recv(1, socket.MSG_PEEK) == b"")
        except (OSError, ValueError):  # reset, or closed under us
            return True

    return gone


# ---- SWF's input rules, from botocore's model of the service -------------------------------------------

VALIDATION = "com.amazon.coral.validate#ValidationException"
SERIALIZATION = "com.amazon.coral.service#SerializationException"
ID_RULE = "must not contain a <code>:</code> (colon)"  # the model's words on the members that follow SWF's id rules


class Invalid(Exception):
    """A request SWF refuses before doing anything: its error code and message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@functools.lru_cache(maxsize=1)
def _service_model() -> Any:
    return botocore.session.get_session().get_service_model("swf")


def operations() -> frozenset[str]:
    """Every operation SWF has."""
    return frozenset(_service_model().operation_names)


def validate(operation: str, params: Any) -> None:
    """Raise Invalid for the first value SWF's model refuses: a missing or null member, a wrong type, a value out
    of its length, range or enum, an id against SWF's character rules."""
    shape = _service_model().operation_model(operation).input_shape
    if shape is not None:
        _validate(shape, params, "", False)


def _invalid(where: str, value: Any, constraint: str) -> Invalid:
    shown = "null" if value is None else f"'{value}'" if isinstance(value, str) and len(value) <= 64 else f"of {_size(value)}"
    return Invalid(VALIDATION, f"1 validation error detected: Value {_printable(shown)} at '{where}' failed to satisfy "
                               f"constraint: {constraint}")


def _size(value: Any) -> str:
    return f"{len(value)} characters" if isinstance(value, str) else type(value).__name__


def _printable(text: str) -> str:
    return re.sub(r"[\u0000-\u001f\u007f-\u009f]", "?", text)


def _wrong_type(where: str, wanted: str) -> Invalid:
    return Invalid(SERIALIZATION, f"the value at '{where or 'the body'}' is not {wanted}")


def _validate(shape: Shape, value: Any, where: str, id_rule: bool) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise _wrong_type(where, "an object")
        assert isinstance(shape, StructureShape)
        for name in shape.required_members:
            if value.get(name) is None:
                raise _invalid(f"{where}.{name}" if where else name, None, "Member must not be null")
        for name, member in shape.members.items():
            if name in value:
                here = f"{where}.{name}" if where else name
                if value[name] is None:
                    raise Invalid(SERIALIZATION, f"the value at '{here}' is null")
                _validate(member, value[name], here, ID_RULE in (member.documentation or ""))
    elif kind == "list":
        if not isinstance(value, list):
            raise _wrong_type(where, "a list")
        assert isinstance(shape, ListShape)
        _bounds(shape, len(value), where, value, "length")
        for i, item in enumerate(value, 1):
            if item is None:
                raise Invalid(SERIALIZATION, f"the value at '{where}.{i}.member' is null")
            _validate(shape.member, item, f"{where}.{i}.member", id_rule)
    elif kind == "map":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise _wrong_type(where, "an object of strings")
    elif kind in ("string", "blob"):
        if not isinstance(value, str):
            raise _wrong_type(where, "a string")
        _bounds(shape, len(value), where, value, "length")
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            raise _invalid(where, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        if id_rule:
            _id_rule(where, value)
        if shape.name in DURATIONS:
            _duration(shape.name, where, value)
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _wrong_type(where, "an integer")
        _bounds(shape, value, where, value, "value")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _wrong_type(where, "true or false")
    elif kind in ("timestamp", "double", "float") and (
            not isinstance(value, (int, float)) or isinstance(value, bool) or value != value or abs(value) > 1e12):
        raise _wrong_type(where, "a number (seconds since 1970)" if kind == "timestamp" else "a number")
    if id_rule and kind == "structure" and "name" in value:  # a task list: the rule is on its name
        _id_rule(f"{where}.name", value["name"])


# SWF's durations: whole seconds (NONE where the shape is optional), and days for a domain's retention.
DURATIONS = {"DurationInSeconds": MAX_TIMEOUT, "DurationInSecondsOptional": MAX_TIMEOUT,
             "DurationInDays": MAX_RETENTION_DAYS}


def _duration(shape: str, where: str, value: str) -> None:
    """A duration SWF refuses: not a whole number (or NONE), or over its ceiling."""
    if value == "NONE" and shape != "DurationInSeconds":
        return
    unit = "days" if shape == "DurationInDays" else "seconds"
    if not (value.isascii() and value.isdigit()):
        raise _invalid(where, value, f"Member must be a whole number of {unit}"
                                     + (" or NONE" if shape != "DurationInSeconds" else ""))
    if int(value) > DURATIONS[shape]:
        raise _invalid(where, value, f"Member must be at most {DURATIONS[shape]} {unit}")


def _bounds(shape: Shape, n: int, where: str, value: Any, what: str) -> None:
    least, most = shape.metadata.get("min"), shape.metadata.get("max")
    if least is not None and n < least:
        raise _invalid(where, value, f"Member must have {what} greater than or equal to {least}")
    if most is not None and n > most:
        raise _invalid(where, value, f"Member must have {what} less than or equal to {most}")


def _id_rule(where: str, value: Any) -> None:
    """SWF's rule for ids and names: no ':', '/', '|' or control characters, not the string 'arn'."""
    if not isinstance(value, str):
        return
    if NAME_FORBIDDEN.search(value) or value == "arn":
        raise _invalid(where, value, "Member must not contain ':', '/', '|' or control characters, nor be 'arn'")
    if value != value.strip():
        raise _invalid(where, value, "Member must not start or end with whitespace")


# ---- the shape contract: every answer against botocore's output shapes ---------------------------------------

SHAPE_CHECK = "SWFAGENT_SHAPE_CHECK"  # set (the tests set it): every answer is checked, a mismatch is a 500


def shape_problems(operation: str, body: Any) -> list[str]:
    """What in a successful answer differs from botocore's output shape of the operation: a required member
    missing, a member the shape does not have, a wrong type, a value outside its enum."""
    shape = _service_model().operation_model(operation).output_shape
    text = body.decode() if isinstance(body, bytes) else str(body or "")
    if shape is None:
        return [] if text.strip() in ("", "{}") else [f"{operation} has no output, answered {text[:100]!r}"]
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return [f"{operation}: the answer is not JSON"]
    # an empty poll: SWF answers the token "" and no task (the developer guide), not the task's required members
    empty = operation in ("PollForActivityTask", "PollForDecisionTask") and value.get("taskToken") == ""
    problems: list[str] = []
    _shape_check(shape, value, operation, problems, required=not empty)
    return problems


def _shape_check(shape: Shape, value: Any, where: str, problems: list[str], required: bool = True) -> None:
    kind = shape.type_name
    wanted: dict[str, Any] = {"structure": dict, "map": dict, "list": list, "string": str, "blob": str, "boolean": bool,
              "integer": int, "long": int, "timestamp": (int, float), "double": (int, float), "float": (int, float)}
    if not isinstance(value, wanted[kind]) or (kind in ("integer", "long", "timestamp") and isinstance(value, bool)):
        problems.append(f"{where}: {type(value).__name__}, not {kind}")
        return
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        if required:
            problems.extend(f"{where}.{n}: required, missing" for n in shape.required_members if n not in value)
        for name, item in value.items():
            if name not in shape.members:
                problems.append(f"{where}.{name}: not in botocore's shape {shape.name}")
            elif item is not None:
                _shape_check(shape.members[name], item, f"{where}.{name}", problems)
    elif kind == "list":
        assert isinstance(shape, ListShape)
        for i, item in enumerate(value):
            _shape_check(shape.member, item, f"{where}[{i}]", problems)
    elif kind == "string" and getattr(shape, "enum", None) and value not in shape.enum:
        problems.append(f"{where}: {value!r} not in {shape.name}'s values")


# ---- the WSGI application ------------------------------------------------------------------------------


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {"Content-Type": JSON}, json.dumps({"__type": code, "message": message})


# moto's IAM codes (XML, HTTP 403) and SWF's for the same refusal (JSON, HTTP 400)
_IAM_CODES = {"AccessDenied": "AccessDeniedException", "InvalidClientTokenId": "UnrecognizedClientException"}

# answers that are not refusals: what was asked for is already so (register's "already exists")
ORDINARY = frozenset({"DomainAlreadyExistsFault", "TypeAlreadyExistsFault"})

TEST_API = ("/swfagent-api/", "/moto-api/")  # the operator endpoints: only with --test-api
OTHER_MAX = 64 * MAX_REQUEST_BYTES  # 64 MB: a request body to moto's other services (S3 results, SNS alerts)
READ_CHUNK = 64 * 1024
DENIED = "com.amazon.coral.service#AccessDeniedException"
SIGNATURE = re.compile(r"AWS4-HMAC-SHA256 Credential=[^/\s]+/\d{8}/[a-z0-9-]+/[a-z0-9-]+/aws4_request,")


def _json_refusal(xml: str) -> tuple[int, str]:
    """An IAM refusal moto wrote as an XML page, as SWF writes it: JSON, HTTP 400."""
    found = dict(re.findall(r"<(Code|Message)>([^<]*)</\1>", xml))
    code = found.get("Code", "AccessDenied")
    return 400, json.dumps({"__type": _IAM_CODES.get(code, code), "message": html.unescape(found.get("Message", ""))})


def _no_cors(start_response: Any) -> Any:
    """start_response without any Access-Control-* header: no web page may read an answer of this server."""
    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [(k, v) for k, v in headers if not k.lower().startswith("access-control-")],
                              exc_info)
    return start


def _read_upto(stream: Any, most: int) -> bytes:
    """At most `most` bytes from the stream (fewer at its end)."""
    parts: list[bytes] = []
    left = most
    while left > 0:
        part = stream.read(min(READ_CHUNK, left))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


class _Input:
    """The connection's input, read a chunk at a time and not at all once the answer says the rest is unread.

    werkzeug reads and drops whatever a client sends past what the app read, up to 10 GB, 10 MB at a time.
    """

    def __init__(self, raw: Any):
        self.raw = raw
        self.stopped = False

    def read(self, size: int = -1) -> bytes:
        if self.stopped:
            return b""
        return bytes(self.raw.read(size if 0 <= size <= READ_CHUNK else READ_CHUNK))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class Handler(MotoRequestHandler):
    """moto's request handler: its own refusals (a request it cannot parse) are SWF's JSON, not an HTML page, and
    what a refused request still sends is not read."""

    def setup(self) -> None:
        super().setup()
        self.rfile = _Input(self.rfile)  # type: ignore[assignment]

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ["swfagent.stop_reading"] = self._stop_reading
        return environ

    def _stop_reading(self) -> None:
        self.rfile.stopped = True  # type: ignore[attr-defined]

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        body = json.dumps({"__type": SERIALIZATION if code < 500 else "com.amazon.coral.service#InternalFailure",
                           "message": _printable(message or explain or "bad request")[:300]}).encode()
        self.close_connection = True
        try:
            self.send_response(code)
            self.send_header("Content-Type", JSON)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:  # the client has gone
            pass


class Layer:
    """The WSGI app of the embedded SWF: SWF through the engine, /swfagent-api/ for settings, the rest to moto."""

    def __init__(self, engine: Engine, *, test_api: bool = False, shape_check: bool | None = None):
        self.engine = engine
        self.test_api = test_api
        self.shape_check = bool(os.environ.get(SHAPE_CHECK)) if shape_check is None else shape_check

    @functools.cached_property
    def moto_app(self) -> Any:
        """moto's own app, for every other service (SNS alerts, S3): made on first use (it loads Flask)."""
        return moto_app()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        start_response = _no_cors(start_response)
        refusal = self.screen(environ)
        if refusal is not None:
            what = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO', '')}"
            return self._answer(environ, start_response, self._refused(_printable(what)[:120], refusal), close=True)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        path = environ.get("PATH_INFO", "")
        # signed for SWF: this layer answers it, whatever its target (moto's own SWF would answer the rest)
        swf = target.startswith(TARGET_PREFIX) or "/swf/aws4_request" in environ.get("HTTP_AUTHORIZATION", "")
        operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else target
        refusal = self._take_body(environ, self.engine.faults.limits.max_request if swf else OTHER_MAX,
                                  operation if swf else path)
        if refusal is not None:
            return self._answer(environ, start_response, refusal, close=True)
        if swf:
            return self._answer(environ, start_response, self.swf(environ, operation))
        if path.startswith("/swfagent-api/"):
            return self.settings(environ, start_response)
        if path == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            self.engine.reset()
            self._settle()
        try:
            return self._moto(environ, start_response)
        except (NotImplementedError, UnicodeError) as exc:  # an action moto does not know, a body not text: the
            # request's fault, not the server's
            code = "UnknownOperationException" if isinstance(exc, NotImplementedError) else "SerializationException"
            return self._answer(environ, start_response, self._refused(_printable(path)[:100], _error(
                400, f"com.amazon.coral.service#{code}", _printable(str(exc))[:300])))
        except Exception as exc:  # moto's Flask app in debug mode lets them through: one line, not a traceback page
            log.error("%s %s: internal error: %r", environ.get("REQUEST_METHOD"), _printable(path)[:200], exc)
            return self._answer(environ, start_response, _error(
                500, "com.amazon.coral.service#InternalFailure", f"the embedded SWF failed: {exc!r}"[:500]))

    def _moto(self, environ: dict[str, Any], start_response: Any) -> Any:
        """moto's answer, unless it is an HTML page (Flask's 404 for a path no service has): then JSON."""
        got: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            got["status"], got["headers"] = status, headers
            return lambda data: None  # moto's Flask app never writes through it

        body = self.moto_app(environ, keep)
        kind = next((v for k, v in got["headers"] if k.lower() == "content-type"), "")
        if "html" not in kind.lower():
            start_response(got["status"], got["headers"])
            return body
        data = b"".join(body)  # moto's pages are small
        if hasattr(body, "close"):
            body.close()
        if not re.match(rb"\s*(<!doctype html|<html|<title)", data[:200], re.IGNORECASE):  # XML (IAM's refusals)
            start_response(got["status"], got["headers"])
            return [data]
        status = int(str(got["status"]).split()[0])
        code = "UnknownOperationException" if status in (404, 405) else "InternalFailure" if status >= 500 else \
            "SerializationException"
        return self._answer(environ, start_response, self._refused(
            _printable(environ.get("PATH_INFO", ""))[:100],
            _error(status, f"com.amazon.coral.service#{code}", str(got["status"]))))

    @staticmethod
    def _answer(environ: dict[str, Any], start_response: Any, answer: tuple[int, dict[str, str], Any],
                close: bool = False) -> Any:
        status, headers, body = answer
        if close and "swfagent.stop_reading" in environ:
            environ["swfagent.stop_reading"]()  # the rest of the request stays unread, however much comes
        return Response(body, status, headers)(environ, start_response)

    def screen(self, environ: dict[str, Any]) -> tuple[int, dict[str, str], Any] | None:
        """The refusal of a request a web page could have sent, or one for another host; None for the others.

        A browser sends `Origin` with every cross-origin request that can change anything, and
        `Sec-Fetch-Site` with the others; no page can send a request without them, nor an AWS signature.
        """
        port = environ.get("SERVER_PORT", "")
        host = environ.get("HTTP_HOST", "")
        if host.lower() not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return _error(403, DENIED, f"this server answers for 127.0.0.1:{port} and localhost:{port} only, "
                                       f"not for Host {_printable(host[:100])!r}")
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            return _error(403, DENIED, "no cross-origin requests: preflights are refused")
        if environ.get("HTTP_ORIGIN") is not None or environ.get("HTTP_SEC_FETCH_SITE", "none") != "none":
            return _error(403, DENIED, "requests from web pages are refused")
        path = environ.get("PATH_INFO", "")
        if path.startswith(TEST_API):
            if not self.test_api:
                return _error(404, "com.amazon.coral.service#UnknownOperationException",
                              f"{_printable(path[:100])}: the test API is off (swfagent local --test-api)")
            return None
        authorization = environ.get("HTTP_AUTHORIZATION")
        if not authorization:
            return _error(400, "com.amazon.coral.service#MissingAuthenticationTokenException",
                          "Request is missing Authentication Token")
        if not SIGNATURE.match(authorization):
            return _error(400, "com.amazon.coral.service#IncompleteSignatureException",
                          "the Authorization header is not an AWS signature (AWS4-HMAC-SHA256 Credential=...)")
        return None

    def _take_body(self, environ: dict[str, Any], most: int, what: str) -> tuple[int, dict[str, str], Any] | None:
        """Read the body, at most `most` bytes however it is sent, and put it back for the app; else the refusal."""
        stream = environ.get("wsgi.input")
        chunked = bool(environ.get("wsgi.input_terminated")) or "chunked" in environ.get(
            "HTTP_TRANSFER_ENCODING", "").lower()
        taker = "SWF takes" if what in operations() else "this server takes"
        over = f"the request is over {most} bytes; {taker} at most {most} in one request"
        try:
            if chunked:
                body = _read_upto(stream, most + 1) if stream is not None else b""
                if len(body) > most:
                    return self._refused(what, _error(400, VALIDATION, over))
            else:
                length = (environ.get("CONTENT_LENGTH") or "0").strip()
                if not length.isdigit() or not length.isascii():
                    return _error(400, SERIALIZATION, f"Content-Length {_printable(length[:40])!r} is not a number")
                size = int(length)
                if size > most:
                    return self._refused(what, _error(
                        400, VALIDATION, f"the request is {size} bytes; {taker} at most {most} in one request"))
                body = _read_upto(stream, size) if stream is not None and size else b""
        except (OSError, ValueError) as exc:  # a broken chunked encoding, a connection gone
            return _error(400, SERIALIZATION, f"the request body could not be read: {exc}"[:300])
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return None

    def swf(self, environ: dict[str, Any], operation: str) -> tuple[int, dict[str, str], Any]:
        """One SWF request, answered as SWF answers it."""
        if operation not in operations():
            return self._refused(_printable(operation[:100]), _error(  # SWF: HTTP 404 for an operation it lacks
                404, "com.amazon.coral.service#UnknownOperationException", "unknown operation"))
        if not hasattr(SwfApi, camelcase_to_underscores(operation)):
            return self._refused(operation, _error(
                400, "com.amazon.coral.service#UnknownOperationException",
                f"{operation}: not implemented by the embedded SWF (the agent does not use it)"))
        if self.engine.faults.throttled(operation):
            log.info("%s: injected ThrottlingException (--faults throttle)", operation)
            return _error(400, "com.amazon.coral.availability#ThrottlingException", "Rate exceeded")
        if self.engine.faults.failed(operation):
            log.info("%s: injected InternalFailure (--faults errors)", operation)
            return _error(500, "com.amazon.coral.service#InternalFailure", "injected internal failure (--faults errors)")
        request = LocalRequest(environ)
        try:
            params = json.loads(request.get_data() or b"{}")
            if not isinstance(params, dict):
                raise Invalid(SERIALIZATION, "the request body is not a JSON object")
            validate(operation, params)
        except (ValueError, RecursionError):
            return self._refused(operation, _error(400, SERIALIZATION, "the request body is not JSON"))
        except Invalid as exc:
            return self._refused(operation, _error(400, exc.code, exc.message))
        journal = self.engine.journal
        try:
            with self.engine.lock:
                if journal is not None and not operation.startswith(READ_ONLY):
                    status, headers, body = self._recorded(journal, operation, environ, request.get_data())
                else:
                    self.engine.catch_up()
                    status, headers, body = SwfApi(self.engine, client_gone(environ))._dispatch(request)
                if journal is not None:
                    seq = journal.appended  # what this answer may show: it leaves once all of that is on disk
                    journal.maybe_snapshot()
            if journal is not None:
                journal.wait(seq)
        except UnknownRegion as exc:
            self._settle()
            answer = _error(400, "com.amazon.coral.service#UnrecognizedClientException",
                            f"unknown region {_printable(str(exc))[:100]}: SWF has no such region (e.g. us-east-1)")
            return self._refused(operation, answer)
        except InjectedFailure as exc:
            self._settle()
            log.info("%s: %s", operation, exc)
            return _error(500, "com.amazon.coral.service#InternalFailure", str(exc))
        except SWFClientError as exc:  # raised outside moto's own handling (e.g. reading the backend)
            self._settle()
            return self._refused(operation, (exc.code, {"Content-Type": JSON}, exc.get_body()))
        except Exception as exc:  # a bug here or in moto: one line, not a traceback page
            self._settle()
            log.error("%s: internal error: %r", operation, exc)
            return _error(500, "com.amazon.coral.service#InternalFailure", f"the embedded SWF failed: {exc!r}"[:500])
        headers = {k: v for k, v in headers.items() if k.lower() != "status"}
        headers["Content-Type"] = JSON
        if isinstance(body, str) and body.lstrip().startswith("<"):  # moto's IAM refusals are XML pages
            status, body = _json_refusal(body)
        if int(status) >= 400:
            self._refused(operation, (int(status), headers, body))
        elif self.shape_check:
            problems = shape_problems(operation, body)
            if problems:
                log.error("%s: the answer breaks botocore's shape: %s", operation, "; ".join(problems[:5]))
                return _error(500, "com.amazon.coral.service#InternalFailure",
                              f"shape contract: {'; '.join(problems[:5])}"[:500])
        return int(status), headers, body

    def _recorded(self, journal: Any, operation: str, environ: dict[str, Any], body: bytes) -> tuple[int, Any, Any]:
        """A change, journaled with its time, seed and answer: made of what the journal keeps, as its replay is."""
        credential = CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        scope = (credential.group(0) if credential else "") + (
            f"|{environ['HTTP_X_MOTO_ACCOUNT_ID']}" if environ.get("HTTP_X_MOTO_ACCOUNT_ID") else "")
        with journal.change() as record:
            record[:] = ["req", operation, scope, body]
            status, headers, out = run(self.engine, operation, scope, body)
            record += [int(status), answer_crc(out)]
        return status, headers, out

    def _refused(self, operation: str, answer: tuple[int, dict[str, str], Any]) -> tuple[int, dict[str, str], Any]:
        """Log one line for a refused request (an ordinary answer such as "already exists" is no refusal)."""
        status, _, body = answer
        try:
            data = json.loads(body)
            code = str(data.get("__type", "")).split("#")[-1]
            what = f"{code}: {data.get('message') or data.get('Message') or ''}"
        except (ValueError, AttributeError):
            code, what = "", str(body)[:200]
        line = " ".join(_printable(what).split())[:300]
        if code in ORDINARY:
            log.debug("%s answered (%s): %s", operation, status, line)
        else:
            log.info("%s refused (%s): %s", operation, status, line)
        return answer

    def _settle(self) -> None:
        """Wait until every change made so far is on disk: for an answer other than an ordinary one."""
        journal = self.engine.journal
        if journal is not None:
            with contextlib.suppress(OSError):  # the journal failed: it has said so; the answer is an error anyway
                journal.wait(journal.appended)

    def settings(self, environ: dict[str, Any], start_response: Any) -> Any:
        """GET or POST /swfagent-api/settings: the faults in force and the long-poll time, as JSON."""
        if environ.get("PATH_INFO") != "/swfagent-api/settings":
            return Response("not found", 404)(environ, start_response)
        if environ.get("REQUEST_METHOD") == "POST":
            request = LocalRequest(environ)
            try:
                data = json.loads(request.get_data() or b"{}")
                with self.engine.lock:
                    if "faults" in data:
                        self.engine.set_limits(parse_faults(data["faults"]))
                    if "poll_seconds" in data:
                        self.engine.poll_seconds = float(data["poll_seconds"])
                self._settle()
            except Exception as exc:
                return Response(json.dumps({"error": str(exc)}), 400, {"Content-Type": "application/json"})(
                    environ, start_response)
        body = {"faults": describe_limits(self.engine.faults.limits), "poll_seconds": self.engine.poll_seconds}
        return Response(json.dumps(body), 200, {"Content-Type": "application/json"})(environ, start_response)

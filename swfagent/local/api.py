"""The WSGI layer: SWF requests go through the engine and answer as SWF does; everything else goes to moto.

Per SWF request: injected throttling first, then SWF's size limits (1 MB a request, each field's
length from botocore's own model of SWF), then the operation under the engine's lock. moto's
SWFResponse parses and answers; the operations where moto differs from SWF are overridden here.
"""

from __future__ import annotations

import base64
import binascii
import functools
import html
import json
import logging
import re
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StringShape, StructureShape
from moto.core.request import Request
from moto.swf.exceptions import SWFClientError, SWFValidationException
from moto.swf.models.decision_task import DecisionTask
from moto.swf.responses import SWFResponse
from werkzeug.wrappers import Response

from ..limits import MAX_PAGE
from .engine import ACTIVITY, DECISION, Engine, UnknownRegion
from .faults import describe_limits, parse_faults
from .models import Execution

log = logging.getLogger("swfagent.local")

TARGET_PREFIX = "SimpleWorkflowService."
JSON = "application/x-amz-json-1.0"


class InjectedFailure(Exception):
    """A failure --faults asked for, answered as SWF's InternalFailure."""


class LocalRequest(Request):
    """A request that came through this server (moto answers such requests without a Date header)."""

    from_wsgi_server = True


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

    def __init__(self, engine: Engine):
        super().__init__()
        self.engine = engine

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
        task = self.engine.poll(self._domain(), ACTIVITY, p["taskList"]["name"], p.get("identity"))
        return json.dumps(task.to_full_dict() if task is not None else {"startedEventId": 0})

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
        task = self.engine.poll(self._domain(), DECISION, p["taskList"]["name"], p.get("identity"))
        if task is None:
            return json.dumps({"previousStartedEventId": 0, "startedEventId": 0})
        return json.dumps(decision_page(task, p))

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


# ---- SWF's length limits, from botocore's model of the service --------------------------------------


@functools.lru_cache(maxsize=1)
def _service_model() -> Any:
    return botocore.session.get_session().get_service_model("swf")


def too_long(operation: str, params: Any) -> str | None:
    """SWF's ValidationException text for the first value over its model's length limit, or None."""
    try:
        shape = _service_model().operation_model(operation).input_shape
    except Exception:  # an operation botocore does not know: moto answers it
        return None
    return _check(shape, params, "") if shape is not None else None


def _check(shape: Shape, value: Any, where: str) -> str | None:
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                problem = _check(member, value[name], f"{where}.{name}" if where else name)
                if problem:
                    return problem
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for i, item in enumerate(value, 1):
            problem = _check(shape.member, item, f"{where}.{i}.member")
            if problem:
                return problem
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        return None
    elif isinstance(shape, StringShape) and isinstance(value, str):
        most = shape.metadata.get("max")
        if most is not None and len(value) > most:
            return (f"1 validation error detected: Value of {len(value)} characters at '{where}' failed to satisfy "
                    f"constraint: Member must have length less than or equal to {most}")
    return None


# ---- the WSGI application ------------------------------------------------------------------------------


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {"Content-Type": JSON}, json.dumps({"__type": code, "message": message})


# moto's IAM codes (XML, HTTP 403) and SWF's for the same refusal (JSON, HTTP 400)
_IAM_CODES = {"AccessDenied": "AccessDeniedException", "InvalidClientTokenId": "UnrecognizedClientException"}


def _json_refusal(xml: str) -> tuple[int, str]:
    """An IAM refusal moto wrote as an XML page, as SWF writes it: JSON, HTTP 400."""
    found = dict(re.findall(r"<(Code|Message)>([^<]*)</\1>", xml))
    code = found.get("Code", "AccessDenied")
    return 400, json.dumps({"__type": _IAM_CODES.get(code, code), "message": html.unescape(found.get("Message", ""))})


class Layer:
    """The WSGI app of the embedded SWF: SWF through the engine, /swfagent-api/ for settings, the rest to moto."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @functools.cached_property
    def moto_app(self) -> Any:
        """moto's own app, for every other service (SNS alerts, S3): made on first use (it loads Flask)."""
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        return DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        path = environ.get("PATH_INFO", "")
        if target.startswith(TARGET_PREFIX):
            status, headers, body = self.swf(environ, target[len(TARGET_PREFIX):])
            return Response(body, status, headers)(environ, start_response)
        if path.startswith("/swfagent-api/"):
            return self.settings(environ, start_response)
        if path == "/moto-api/reset" and environ.get("REQUEST_METHOD") == "POST":
            self.engine.reset()
        return self.moto_app(environ, start_response)

    def swf(self, environ: dict[str, Any], operation: str) -> tuple[int, dict[str, str], Any]:
        """One SWF request, answered as SWF answers it."""
        limits = self.engine.faults.limits
        if self.engine.faults.throttled(operation):
            return _error(400, "com.amazon.coral.availability#ThrottlingException", "Rate exceeded")
        if self.engine.faults.failed(operation):
            return _error(500, "com.amazon.coral.service#InternalFailure", "injected internal failure (--faults errors)")
        size = int(environ.get("CONTENT_LENGTH") or 0)
        if size > limits.max_request:
            return self._refused(operation, _error(
                400, "com.amazon.coral.validate#ValidationException",
                f"the request is {size} bytes; SWF takes at most {limits.max_request} in one request"))
        request = LocalRequest(environ)
        try:
            problem = too_long(operation, json.loads(request.get_data() or b"{}"))
        except ValueError:
            problem = "the request body is not JSON"
        if problem:
            return self._refused(operation, _error(400, "com.amazon.coral.validate#ValidationException", problem))
        try:
            with self.engine.lock:
                self.engine.catch_up()
                status, headers, body = SwfApi(self.engine)._dispatch(request)
        except UnknownRegion as exc:
            answer = _error(400, "com.amazon.coral.service#UnrecognizedClientException",
                            f"unknown region {exc}: SWF has no such region (e.g. us-east-1)")
            return self._refused(operation, answer)
        except InjectedFailure as exc:
            return _error(500, "com.amazon.coral.service#InternalFailure", str(exc))
        except SWFClientError as exc:  # raised outside moto's own handling (e.g. reading the backend)
            return self._refused(operation, (exc.code, {"Content-Type": JSON}, exc.get_body()))
        except Exception as exc:  # a bug here or in moto: one line, not a traceback page
            log.error("%s: internal error: %r", operation, exc)
            return _error(500, "com.amazon.coral.service#InternalFailure", f"the embedded SWF failed: {exc!r}"[:500])
        headers = {k: v for k, v in headers.items() if k.lower() != "status"}
        headers["Content-Type"] = JSON
        if isinstance(body, str) and body.lstrip().startswith("<"):  # moto's IAM refusals are XML pages
            status, body = _json_refusal(body)
        if int(status) >= 400:
            self._refused(operation, (int(status), headers, body))
        return int(status), headers, body

    def _refused(self, operation: str, answer: tuple[int, dict[str, str], Any]) -> tuple[int, dict[str, str], Any]:
        """Log one line for a refused request; the answer goes back as it is."""
        status, _, body = answer
        try:
            data = json.loads(body)
            what = f"{str(data.get('__type', '')).split('#')[-1]}: {data.get('message') or data.get('Message') or ''}"
        except (ValueError, AttributeError):
            what = str(body)[:200]
        log.info("%s refused (%s): %s", operation, status, " ".join(what.split())[:300])
        return answer

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
            except Exception as exc:
                return Response(json.dumps({"error": str(exc)}), 400, {"Content-Type": "application/json"})(
                    environ, start_response)
        body = {"faults": describe_limits(self.engine.faults.limits), "poll_seconds": self.engine.poll_seconds}
        return Response(json.dumps(body), 200, {"Content-Type": "application/json"})(environ, start_response)

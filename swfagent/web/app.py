"""The web console's pages: the AWS console's SWF pages, server-rendered, with the live flow chart.

It talks to whatever SWF the client it is given points at. Jinja escapes every value that reaches a page;
every state-changing request is a POST carrying the page's CSRF token; the Host header must be the console's
own address (no DNS rebinding); with a token (required off loopback) nothing is served until it is given.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import secrets
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, abort, g, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import executions, graph
from ..client import describe_error, error_code
from ..config import Config
from ..live import LiveConfig
from ..errors import NotFound, SwfAgentError, UsageError
from ..limits import MAX_DATA, last_lines, shorten
from ..register import compare_registered
from ..render import duration, local_time
from ..status import Shown

PAGE_SIZE = 25
COOKIE = "swfagent_console"
TABS = ("summary", "events", "activities")
WHICH = ("all", "open", "closed", *executions.CLOSE_STATUSES)
ACTIONS = ("signal", "cancel", "terminate")
NOTES = {  # what a redirect after a POST tells the page to say; never text from the request
    "started": "Started.",
    "already-open": "That workflow id is already open: this is its open run; nothing was started.",
    "signaled": "Signal sent: the decider gets a decision task for it.",
    "cancel": "Cancel requested: the decider cancels the execution on its next decision task.",
    "terminate": "Terminated.",
}
HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
REFRESH, REFRESH_LONG, LONG_HISTORY = 2, 10, 1000  # seconds between an open execution's refreshes; a long history
# is read whole at each one, so it is read less often
EVENT_VALUE = 300  # characters of an attribute shown in the Events tab; the Activities tab has them whole


def _same(given: str | None, expected: str) -> bool:
    return hmac.compare_digest((given or "").encode(), expected.encode())


def _value(value: Any) -> str:
    """An event attribute as text: a type as 'name version', a structure as JSON."""
    if isinstance(value, dict) and set(value) == {"name", "version"}:
        return f"{value['name']} {value['version']}"
    if isinstance(value, dict) and set(value) == {"name"}:
        return str(value["name"])
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


def _row(e: dict[str, Any]) -> dict[str, Any]:
    ex = e["execution"]
    return {"workflow_id": ex["workflowId"], "run_id": ex["runId"],
            "type": f"{e['workflowType']['name']} {e['workflowType']['version']}",
            "status": e.get("closeStatus") or e.get("executionStatus", "-"),
            "started": local_time(e.get("startTimestamp")), "closed": local_time(e.get("closeTimestamp")),
            "took": duration(e.get("startTimestamp"), e.get("closeTimestamp")),
            "execution": ex}


def create_app(client: Any, config: Config | LiveConfig, *, token: str | None = None,
               hosts: frozenset[str] | None = None) -> Flask:
    """The console's Flask app; `hosts`: the Host headers it answers to (None: any, when a token guards it).

    Each request sees config.yaml as it is then: an edit is shown at the next page, as the looping pollers run it.
    """
    app = Flask(__name__)
    live = config if isinstance(config, LiveConfig) else LiveConfig(config)

    def cfg() -> Config:
        """The config this request is served with (read once per request)."""
        if "config" not in g:
            g.config = live.current()
        return g.config  # type: ignore[no-any-return]

    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    key = secrets.token_bytes(32)

    def derived(what: str) -> str:
        return hmac.new(key, what.encode(), hashlib.sha256).hexdigest()

    # the cookie a given token leaves: derived, so the token itself is not stored, and void once the console stops
    session = derived(f"session:{token or ''}")
    # the forms' CSRF token: only pages served after the token was given carry it (the login form has its own)
    csrf, login_csrf = derived("csrf"), derived("login")
    lookups = ThreadPoolExecutor(max_workers=8, thread_name_prefix="console-lookup")

    @functools.lru_cache(maxsize=20_000)
    def closed_step(config: Config, workflow_id: str, run_id: str) -> str | None:
        """A closed execution's last step: its history no longer changes, so it is read once (per config loaded)."""
        return executions.latest_activity(client, config, {"workflowId": workflow_id, "runId": run_id})

    def current_step(config: Config, row: dict[str, Any]) -> str | None:
        try:
            if row["status"] == "OPEN":
                return executions.latest_activity(client, config, row["execution"])
            return closed_step(config, row["workflow_id"], row["run_id"])
        except (ClientError, BotoCoreError):  # one row's history out of reach (throttled): the list is still shown
            return "?"

    @app.context_processor
    def common() -> dict[str, Any]:
        if not g.get("allowed"):  # the login page, a refused request: nothing about the SWF behind it
            return {"csrf": login_csrf, "config": None, "endpoint": None, "Shown": Shown}
        return {"csrf": csrf, "config": cfg(), "endpoint": client.meta.endpoint_url, "Shown": Shown}

    @app.before_request
    def guard() -> Response | None:
        if hosts is not None and request.host not in hosts:
            abort(400, "This console answers only at its own address.")  # a rebound DNS name
        if request.endpoint in ("login", "static"):
            if request.method == "POST" and not _same(request.form.get("csrf"), login_csrf):
                abort(403, "This form is stale or was not sent from this console: reload the page and send it again.")
            return None
        bearer = request.headers.get("Authorization", "")
        by_bearer = token is not None and bearer.startswith("Bearer ") and _same(bearer[7:], token)
        if token is not None and not (by_bearer or _same(request.cookies.get(COOKIE), session)):
            if request.method == "GET":
                return redirect(url_for("login", next=request.full_path))
            abort(401, "Give the console's token first.")
        g.allowed = True
        # a browser sends a cookie by itself, never an Authorization header: only a cookie's session needs the form's token
        if request.method == "POST" and not by_bearer and not _same(request.form.get("csrf"), csrf):
            abort(403, "This form is stale or was not sent from this console: reload the page and send it again.")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        return render_template("error.html", message=exc.description, title=exc.name), exc.code or 500

    @app.errorhandler(SwfAgentError)
    def our_error(exc: SwfAgentError) -> tuple[str, int]:
        code, title = ((404, "Not found") if isinstance(exc, NotFound) else (400, "Cannot do that")
                       if isinstance(exc, UsageError) else (502, "SWF refused"))
        return render_template("error.html", message=str(exc), title=title), code

    @app.errorhandler(ClientError)
    @app.errorhandler(BotoCoreError)
    def swf_error(exc: Exception) -> tuple[str, int]:
        return render_template("error.html", message=describe_error(exc), title="SWF refused"), 502

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        target = _local_path(request.values.get("next", "/"))
        if request.method == "POST":
            if token is not None and _same(request.form.get("token"), token):
                response = redirect(target, 303)
                response.set_cookie(COOKIE, session, httponly=True, samesite="Strict", secure=request.is_secure)
                return response
            return render_template("login.html", next=target, wrong=True), 401
        return render_template("login.html", next=target, wrong=False)

    @app.get("/")
    def executions_list() -> str:
        config = cfg()
        which = request.args.get("which", "all")
        if which not in WHICH:
            abort(400, f"Show one of: {', '.join(WHICH)}.")
        since_text = request.args.get("since", "").strip()
        since = (executions.parse_since(since_text, dt.datetime.now(dt.timezone.utc), "Started in the last")
                 if since_text else None)
        if request.args.get("oldest"):  # a further page: SWF wants the first page's arguments again, to the second
            since = _timestamp(request.args["oldest"])
        workflow_id = request.args.get("workflow_id", "").strip() or None
        status = which if which in executions.CLOSE_STATUSES else None
        kinds = ("open", "closed") if which == "all" else ("open",) if which == "open" else ("closed",)
        sections: list[dict[str, Any]] = []
        for kind in kinds:
            try:
                infos, next_token = executions.executions_page(
                    client, config, kind, since=since, workflow_id=workflow_id, status=status,
                    token=request.args.get("page") if which != "all" else None, size=PAGE_SIZE)
            except ClientError as exc:
                if error_code(exc) != "ValidationException" or not request.args.get("page"):
                    raise
                abort(400, "That page cannot be had again: start from the first page.")
            sections.append({"kind": kind, "rows": [_row(e) for e in infos], "next": next_token,
                             "which": kind if which == "all" else which})
        rows = [r for s in sections for r in s["rows"]]
        steps = lookups.map(functools.partial(current_step, config), rows)
        for row, step in zip(rows, steps, strict=True):
            row["step"] = step or "-"
        more = {"since": since_text, "workflow_id": workflow_id or "", "oldest": since.isoformat() if since else ""}
        return render_template("executions.html", sections=sections, which=which, since=since_text,
                               workflow_id=workflow_id or "", filters={k: v for k, v in more.items() if v})

    @app.get("/execution")
    def execution() -> str:
        workflow_id = request.args.get("workflow_id") or abort(400, "Which execution? Give its workflow id.")
        config = cfg()
        tab = request.args.get("tab", "summary")
        if tab not in TABS:
            abort(400, f"Tabs: {', '.join(TABS)}.")
        data = executions.show_data(client, config, workflow_id, request.args.get("run_id") or None)
        summary = data["summary"]
        # only the tab shown is formatted: an open execution's page reloads itself, most often on its Summary
        events = [{**e, "time": local_time(e["time"]),
                   "attributes": [(k, shorten(_value(v), EVENT_VALUE)) for k, v in e["attributes"].items()]}
                  for e in data["events"]] if tab == "events" else []
        activities = [{**a, "scheduled": local_time(a["scheduled"]), "started": local_time(a["started"]),
                       "closed": local_time(a["closed"]), "took": duration(a["started"], a["closed"]),
                       "tail": last_lines(a["details"])}
                      for a in data["activities"]] if tab == "activities" else []
        return render_template(
            "execution.html", s=summary, tab=tab, events=events, activities=activities,
            chart=Markup(graph.svg(config.workflow, data["steps"])),
            is_open=summary["status"] == "OPEN", note=NOTES.get(request.args.get("said", "")),
            refresh=REFRESH if len(data["events"]) < LONG_HISTORY else REFRESH_LONG,
            started=local_time(summary["started"]), closed=local_time(summary["closed"]),
            took=duration(summary["started"], summary["closed"]))

    @app.route("/start", methods=["GET", "POST"])
    def start() -> Any:
        config = cfg()
        form = {"workflow_id": "", "id_template": "", "input": ""}
        if request.method == "GET":
            return render_template("start.html", form=form, error=None)
        form = {key: request.form.get(key, "") for key in form}
        try:
            text = _input(form["input"], request.files.get("input_file"))
            workflow_id = executions.new_workflow_id(config, form["workflow_id"].strip() or None,
                                                     form["id_template"].strip() or None, dt.datetime.now())
        except UsageError as exc:
            return render_template("start.html", form=form, error=str(exc)), 400
        run_id, started = executions.start_execution(client, config, workflow_id, text)
        return redirect(url_for("execution", workflow_id=workflow_id, run_id=run_id,
                                said="started" if started else "already-open"), 303)

    @app.route("/action", methods=["GET", "POST"])
    def action() -> Any:
        config = cfg()
        do = request.values.get("do", "")
        workflow_id = request.values.get("workflow_id") or abort(400, "Which execution? Give its workflow id.")
        run_id = request.values.get("run_id") or None
        if do not in ACTIONS:
            abort(400, f"Actions: {', '.join(ACTIONS)}.")

        def confirm(error: str | None = None) -> str:
            return render_template("confirm.html", do=do, workflow_id=workflow_id, run_id=run_id or "", error=error)

        if request.method == "GET":
            return confirm()
        if do == "terminate":
            reason = request.form.get("reason", "").strip()
            if not reason:
                return confirm("Give a reason: it goes into the history."), 400
            executions.terminate(client, config, workflow_id, reason, run_id)
        elif do == "cancel":
            executions.request_cancel(client, config, workflow_id, run_id)
        else:
            name = request.form.get("signal_name", "").strip()
            if not name:
                return confirm("Give the signal a name."), 400
            executions.signal_execution(client, config, workflow_id, name,
                                        _input(request.form.get("input", ""), None), run_id)
        said = "signaled" if do == "signal" else do
        return redirect(url_for("execution", workflow_id=workflow_id, run_id=run_id, said=said), 303)

    @app.get("/types")
    def types() -> str:
        lines = [(ok, *line.partition(": ")[::2]) for ok, line in compare_registered(client, cfg())]
        return render_template("types.html", lines=lines)

    return app


def _timestamp(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"oldest={text!r}: not a date and time") from None


def _local_path(target: str) -> str:
    """A path on this console to go back to, or '/': never another site (`//host`, `/\\host`, hidden controls)."""
    target = "".join(c for c in target if c.isprintable() and not c.isspace())
    parts = urllib.parse.urlsplit(target)
    if not target.startswith("/") or target.startswith(("//", "/\\")) or parts.scheme or parts.netloc:
        return "/"
    return target


def _input(text: str, upload: Any) -> str | None:
    """The input from the text box or an uploaded file (not both); None when neither has any."""
    if upload is not None and upload.filename:
        if text:
            raise UsageError("Give the input as text or as a file, not both.")
        data = upload.read(4 * MAX_DATA + 1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{upload.filename}: not UTF-8 text; SWF's input is text") from None
    if len(text) > MAX_DATA:
        raise UsageError(f"The input is {len(text)} characters; SWF takes at most {MAX_DATA}.")
    return text or None

"""The console's pages, as a Blueprint: the AWS console's SWF pages, server-rendered, with the live flow chart.

What the pages share (the SWF client, config.yaml as it is now, the lookups' pool and cache) is a ConsoleState in
app.extensions, closed when the console stops. The guard in front of every page is security.py's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from markupsafe import Markup

from .. import executions, graph
from ..client import error_code
from ..config import Config
from ..errors import UsageError
from ..limits import MAX_DATA, last_lines, shorten
from ..live import LiveConfig
from ..register import compare_registered
from ..render import duration, local_time
from ..status import ExecutionStatus, Which
from ..views import ExecutionRow

PAGE_SIZE = 25
TABS = ("summary", "events", "activities")
WHICH = (*Which, *executions.CLOSE_STATUSES)  # the Status filter: which executions, or closed with this status
SIGNAL, CANCEL, TERMINATE = ACTIONS = ("signal", "cancel", "terminate")  # what the action form may ask
NOTES = {  # what a redirect after a POST tells the page to say; never text from the request
    "started": "Started.",
    "already-open": "That workflow id is already open: this is its open run; nothing was started.",
    "signaled": "Signal sent: the decider gets a decision task for it.",
    "cancel": "Cancel requested: the decider cancels the execution on its next decision task.",
    "terminate": "Terminated.",
}
REFRESH, REFRESH_LONG, LONG_HISTORY = 2, 10, 1000  # seconds between an open execution's refreshes; a long history
# is read whole at each one, so it is read less often
EVENT_VALUE = 300  # characters of an attribute shown in the Events tab; the Activities tab has them whole
EXTENSION = "swfagent"

bp = Blueprint("console", __name__)


class ConsoleState:
    """What the pages share: the client, the config as the file is now, the lookups' thread pool and cache."""

    def __init__(self, client: Any, config: Config | LiveConfig):
        self.client = client
        self.live = config if isinstance(config, LiveConfig) else LiveConfig(config)
        self.lookups = ThreadPoolExecutor(max_workers=8, thread_name_prefix="console-lookup")
        self.closed_step = functools.lru_cache(maxsize=20_000)(self._closed_step)

    def _closed_step(self, config: Config, workflow_id: str, run_id: str) -> str | None:
        """A closed execution's last step: its history no longer changes, so it is read once (per config loaded)."""
        return executions.latest_activity(self.client, config, {"workflowId": workflow_id, "runId": run_id})

    def current_step(self, config: Config, row: ExecutionRow) -> str | None:
        """An execution's current or last step, for the list; '?' when its history is out of reach (throttled)."""
        try:
            if row.status == ExecutionStatus.OPEN:
                return executions.latest_activity(self.client, config, row.info["execution"])
            return self.closed_step(config, row.workflow_id, row.run_id)
        except (ClientError, BotoCoreError):
            return "?"

    def chains(self, config: Config, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The runs to number the listed ones among (executions.chain_runs), looked up in the pool."""
        return executions.chain_runs(self.client, config, listed, self.lookups.map)

    def close(self) -> None:
        """Stop the lookups' threads (the console is stopping)."""
        self.lookups.shutdown(wait=False, cancel_futures=True)


def console() -> ConsoleState:
    """The state of the app serving this request."""
    state: ConsoleState = current_app.extensions[EXTENSION]
    return state


def current_config() -> Config:
    """The config this request is served with, read once per request."""
    if "config" not in g:
        g.config = console().live.current()
    config: Config = g.config
    return config


def _value(value: Any) -> str:
    """An event attribute as text: a type as 'name version', a structure as JSON."""
    if isinstance(value, dict) and set(value) == {"name", "version"}:
        return f"{value['name']} {value['version']}"
    if isinstance(value, dict) and set(value) == {"name"}:
        return str(value["name"])
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)



@bp.get("/")
def executions_list() -> str:
    state, config = console(), current_config()
    which = request.args.get("which", Which.ALL)
    if which not in WHICH:
        abort(400, f"Show one of: {', '.join(WHICH)}.")
    since_text = request.args.get("since", "").strip()
    since = (executions.parse_since(since_text, dt.datetime.now(dt.timezone.utc), "Started in the last")
             if since_text else None)
    if request.args.get("oldest"):  # a further page: SWF wants the first page's arguments again, to the second
        since = _timestamp(request.args["oldest"])
    workflow_id = request.args.get("workflow_id", "").strip() or None
    status = which if which in executions.CLOSE_STATUSES else None
    kinds = Which.CLOSED.kinds if status else Which(which).kinds
    sections: list[dict[str, Any]] = []
    for kind in kinds:
        try:
            infos, next_token = executions.executions_page(
                state.client, config, kind, since=since, workflow_id=workflow_id, status=status,
                token=request.args.get("page") if which != Which.ALL else None, size=PAGE_SIZE)
        except ClientError as exc:
            if error_code(exc) != "ValidationException" or not request.args.get("page"):
                raise
            abort(400, "That page cannot be had again: start from the first page.")
        sections.append({"kind": kind, "rows": infos, "next": next_token,
                         "which": kind if which == Which.ALL else which})
    among = state.chains(config, [e for s in sections for e in s["rows"]])
    for section in sections:
        section["rows"] = executions.execution_rows(section["rows"], among)
    rows = [r for s in sections for r in s["rows"]]
    steps = iter(list(state.lookups.map(functools.partial(state.current_step, config), rows)))
    for section in sections:  # the rows in the order they were looked up
        section["rows"] = [dataclasses.replace(r, step=next(steps) or "-") for r in section["rows"]]
    more = {"since": since_text, "workflow_id": workflow_id or "", "oldest": since.isoformat() if since else ""}
    return render_template("executions.html", sections=sections, which=which, choices=WHICH, since=since_text,
                           workflow_id=workflow_id or "", filters={k: v for k, v in more.items() if v})

@bp.get("/execution")
def execution() -> str:
    workflow_id = request.args.get("workflow_id") or abort(400, "Which execution? Give its workflow id.")
    state, config = console(), current_config()
    tab = request.args.get("tab", "summary")
    if tab not in TABS:
        abort(400, f"Tabs: {', '.join(TABS)}.")
    data = executions.show_data(state.client, config, workflow_id, request.args.get("run_id") or None)
    summary = data.summary
    name, _, version = summary.workflow_type.rpartition(" ")
    config = executions.about_type(config, {"name": name, "version": version})
    # only the tab shown is formatted: an open execution's page reloads itself, most often on its Summary
    events = [{"id": e.id, "type": e.type, "time": local_time(e.time),
               "attributes": [(k, shorten(_value(v), EVENT_VALUE)) for k, v in e.attributes.items()]}
              for e in data.events] if tab == "events" else []
    activities = [{**a.as_json(), "scheduled": local_time(a.scheduled), "started": local_time(a.started),
                   "closed": local_time(a.closed), "took": duration(a.started, a.closed), "tail": last_lines(a.details)}
                  for a in data.activities] if tab == "activities" else []
    return render_template(
        "execution.html", s=summary, tab=tab, events=events, activities=activities,
        chart=Markup(graph.svg(config.workflow, data.steps, data.notes)), waiting_for=data.waiting_for,
        step_rows=data.step_rows,
        is_open=summary.status == ExecutionStatus.OPEN, note=NOTES.get(request.args.get("said", "")),
        refresh=REFRESH if len(data.events) < LONG_HISTORY else REFRESH_LONG,
        started=local_time(summary.started), closed=local_time(summary.closed),
        took=duration(summary.started, summary.closed))

@bp.route("/start", methods=["GET", "POST"])
def start() -> Any:
    state, config = console(), current_config()
    form = {"workflow": config.workflow.name, "workflow_id": "", "id_template": "", "input": ""}
    if request.method == "GET":
        return render_template("start.html", form=form, error=None)
    form = {key: request.form.get(key, default) for key, default in form.items()}
    try:
        config = config.about(config.workflow_named(form["workflow"]))
        text = _input(form["input"], request.files.get("input_file"))
        workflow_id = executions.new_workflow_id(config, form["workflow_id"].strip() or None,
                                                 form["id_template"].strip() or None, dt.datetime.now())
    except UsageError as exc:
        return render_template("start.html", form=form, error=str(exc)), 400
    run_id, started = executions.start_execution(state.client, config, workflow_id, text)
    return redirect(url_for(".execution", workflow_id=workflow_id, run_id=run_id,
                            said="started" if started else "already-open"), 303)

@bp.route("/action", methods=["GET", "POST"])
def action() -> Any:
    state, config = console(), current_config()
    do = request.values.get("do", "")
    workflow_id = request.values.get("workflow_id") or abort(400, "Which execution? Give its workflow id.")
    run_id = request.values.get("run_id") or None
    if do not in ACTIONS:
        abort(400, f"Actions: {', '.join(ACTIONS)}.")

    def confirm(error: str | None = None) -> str:
        return render_template("confirm.html", do=do, workflow_id=workflow_id, run_id=run_id or "", error=error,
                               signal_name=request.values.get("signal_name", ""))

    if request.method == "GET":
        return confirm()
    if do == TERMINATE:
        reason = request.form.get("reason", "").strip()
        if not reason:
            return confirm("Give a reason: it goes into the history."), 400
        executions.terminate(state.client, config, workflow_id, reason, run_id)
    elif do == CANCEL:
        executions.request_cancel(state.client, config, workflow_id, run_id)
    else:
        name = request.form.get("signal_name", "").strip()
        if not name:
            return confirm("Give the signal a name."), 400
        executions.signal_execution(state.client, config, workflow_id, name,
                                    _input(request.form.get("input", ""), None), run_id)
    said = "signaled" if do == SIGNAL else do
    return redirect(url_for(".execution", workflow_id=workflow_id, run_id=run_id, said=said), 303)

@bp.get("/types")
def types() -> str:
    lines = [(ok, *line.partition(": ")[::2]) for ok, line in compare_registered(console().client, current_config())]
    return render_template("types.html", lines=lines)


def _timestamp(text: str) -> dt.datetime:
    """A further page's `oldest`: an ISO time SWF can take (0001-01-01+14:00 is before any time there is)."""
    try:
        when = dt.datetime.fromisoformat(text)
        when.astimezone(dt.timezone.utc)  # as SWF's client sends it: out of range for the first and last days
        return when
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"oldest={text[:60]!r}: not a date and time SWF takes") from None


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

"""The throughput bench's analysis of a run (histories and probe files) and its printed report."""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from typing import Any

from throughput_runs import OURS

# ---- analysis ------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation; nan for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def med(values: list[float]) -> float:
    return pct(values, 0.5)


def ts(event: dict[str, Any]) -> float:
    value = event["eventTimestamp"]
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def analyse(run: dict[str, Any]) -> dict[str, Any]:
    n = run["executions"]
    out: dict[str, Any] = {"kind": run["kind"], "executions": n, "timed_out": run.get("timed_out", False)}
    # -- histories: throughput, latency, where an execution's time goes
    starts, closes, lat = [], [], []
    phases: dict[str, list[float]] = defaultdict(list)
    statuses: Counter[str] = Counter()
    for events in run["histories"]:
        if not events:
            continue
        by_id = {e["eventId"]: e for e in events}
        first = events[0]
        starts.append(ts(first))
        last = events[-1]
        kind = last["eventType"]
        if kind.startswith("WorkflowExecution") and kind != "WorkflowExecutionStarted" and "Signaled" not in kind:
            statuses[kind] += 1
            closes.append(ts(last))
            lat.append(ts(last) - ts(first))
        else:
            statuses["open"] += 1
        for e in events:
            et = e["eventType"]
            if et == "DecisionTaskStarted":
                a = e["decisionTaskStartedEventAttributes"]
                phases["decision task queued"].append(ts(e) - ts(by_id[a["scheduledEventId"]]))
            elif et == "DecisionTaskCompleted":
                a = e["decisionTaskCompletedEventAttributes"]
                phases["decision task started->completed"].append(ts(e) - ts(by_id[a["startedEventId"]]))
            elif et == "ActivityTaskStarted":
                a = e["activityTaskStartedEventAttributes"]
                phases["activity task queued"].append(ts(e) - ts(by_id[a["scheduledEventId"]]))
            elif et in ("ActivityTaskCompleted", "ActivityTaskFailed"):
                a = e[et[0].lower() + et[1:] + "EventAttributes"]
                phases["activity task started->closed"].append(ts(e) - ts(by_id[a["startedEventId"]]))
    out["statuses"] = dict(statuses)
    span = (max(closes) - min(starts)) if closes else float("nan")
    out["span"] = span
    out["eps"] = len(closes) / span if closes and span > 0 else float("nan")
    out["lat_median"], out["lat_p95"] = med(lat), pct(lat, 0.95)
    out["phases"] = {k: (med(v), pct(v, 0.95), len(v)) for k, v in phases.items()}
    # -- probe records: per-decision and per-task time, calls
    recs = run["records"]
    calls = [r for r in recs if r.get("k") == "call"]
    subs = [r for r in recs if r.get("k") == "sub"]
    polls: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in calls:
        if r["op"].startswith("PollFor") and r.get("tok"):
            polls[r["tok"]].append(r)
    subs_by_tok: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in subs:
        subs_by_tok[s.get("tok") or ""].append(s)

    def spans(op: str, poll_op: str) -> dict[str, list[float]]:
        d: dict[str, list[float]] = defaultdict(list)
        for r in calls:
            if r["op"] != op or not r.get("tok") or r.get("t0") is None:
                continue
            ps = [p for p in polls.get(r["tok"], []) if p["op"] == poll_op and p["t2"] <= r["tb"]]
            if not ps:
                continue
            p = max(ps, key=lambda x: x["t2"])
            sub = sum(s["t1"] - s["t0"] for s in subs_by_tok.get(r["tok"], []))
            total = r["t0"] - p["t1"]
            d["total"].append(total)
            d["overhead"].append(total - sub)
            d["sub"].append(sub)
            d["parse"].append(p["t2"] - p["t1"])
            d["handler"].append(r["tb"] - p["t2"] - sub)
            d["build"].append(r["t0"] - r["tb"])
            d["poll_rtt"].append(p["t1"] - p["t0"])
            if r.get("t1") is not None:
                d["respond_rtt"].append(r["t1"] - r["t0"])
        return d

    out["decision"] = spans("RespondDecisionTaskCompleted", "PollForDecisionTask")
    out["activity"] = spans("RespondActivityTaskCompleted", "PollForActivityTask")
    out["task_cpu"] = sum(s.get("cpu", 0.0) for s in subs)
    out["task_count"] = len(subs)
    # calls answered between the first start and the last close (a long poll made before the window and
    # answered inside it brought a task of the run); the pollers' start-up calls apart
    w0, w1 = run.get("window") or (float("-inf"), float("inf"))
    useful: Counter[str] = Counter()
    empty: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for r in calls:
        if r["t2"] is None or not (w0 <= r["t2"] <= w1):
            if not r.get("empty"):
                outside[r["op"]] += 1
            continue
        (empty if r.get("empty") else useful)[r["op"]] += 1
    useful["StartWorkflowExecution"] += n  # made by the bench
    out["useful"] = dict(useful)
    out["empty"] = dict(empty)
    out["outside"] = dict(outside)
    # seconds each poller spent in empty polls inside the window
    idle: dict[str, float] = defaultdict(float)
    for r in recs:
        if r.get("k") == "call" and r.get("empty") and r.get("t0") is not None:
            idle[r["poller"]] += max(0.0, min(r["t2"], w1) - max(r["t0"], w0))
    out["idle"] = dict(idle)
    out["failed_tasks"] = useful.get("RespondActivityTaskFailed", 0)
    cpu = run.get("cpu", {})
    out["cpu_decider"] = sum(cpu.get("decider", (0, 0)))
    out["cpu_workers"] = sum(cpu.get("workers", (0, 0)))
    out["cpu_server"] = sum(cpu.get("server", (0, 0)))
    out["cpu_others"] = cpu.get("machine", 0.0) - out["cpu_decider"] - out["cpu_workers"] - out["cpu_server"] \
        - cpu.get("bench", 0.0)
    out["stats_lines"] = run.get("stats_lines", {})
    out["beat_every"] = run.get("beat_every", float("nan"))
    out["wall"] = run.get("wall_seconds", float("nan"))
    out["start_seconds"] = run.get("start_seconds", float("nan"))
    if run["kind"] == OURS and run.get("logs"):
        out["log_decision_ms"] = log_spans(run["logs"].get("decider", ""), "Received a Decision Task", "Decision Made")
        worker_logs = run["logs"].get("worker1", "") + "\n" + run["logs"].get("worker2", "")
        out["log_task_ms"] = log_spans(worker_logs, "Received an Activity Task", " succeeded with output")
    return out


def log_spans(text: str, first: str, last: str) -> list[float]:
    """From --log-format json lines: ms from `first` to the next `last` of the same workflow id (ms resolution)."""
    import datetime as dt

    opened: dict[str, float] = {}
    out = []
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        msg, wid = rec.get("message", ""), rec.get("workflow_id")
        when = dt.datetime.strptime(rec["time"], "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000
        if msg.startswith(first):
            opened[wid] = when
        elif last in msg and wid in opened:
            out.append(when - opened.pop(wid))
    return out


# ---- printing ------------------------------------------------------------------------------------


def ms(x: float) -> str:
    return f"{x * 1000:.1f}"


def report(a: dict[str, Any]) -> None:
    n = a["executions"]
    print(f"  {a['kind']}: {a['eps']:.2f} executions/s ({n} in {a['span']:.2f} s, first start to last close); "
          f"latency median {a['lat_median']:.2f} s, p95 {a['lat_p95']:.2f} s; closes {a['statuses']}"
          + ("; TIMED OUT" if a["timed_out"] else ""))
    print(f"    starting the {n} executions took {a['start_seconds']:.2f} s from the bench")
    for label, key in (("decision", "decision"), ("activity task", "activity")):
        d = a[key]
        if not d.get("total"):
            print(f"    per {label}: no data")
            continue
        extra = ""
        if key == "activity":
            extra = (f"; overhead beyond the subprocess: median {ms(med(d['overhead']))}, p95 {ms(pct(d['overhead'], .95))}"
                     f" (subprocess median {ms(med(d['sub']))})")
        print(f"    per {label} (n={len(d['total'])}), ms, poll answered -> respond sent: median {ms(med(d['total']))}, "
              f"p95 {ms(pct(d['total'], .95))}{extra}")
        print(f"      of which: botocore parse {ms(med(d['parse']))}, handler {ms(med(d['handler']))}"
              f"{' (subprocess apart)' if key == 'activity' else ''}, botocore request build {ms(med(d['build']))}"
              f"; round trips: poll {ms(med(d['poll_rtt']))}, respond {ms(med(d['respond_rtt']))}")
    if a.get("log_decision_ms"):
        ld, lt = a["log_decision_ms"], a.get("log_task_ms") or []
        print(f"    cross-check from --log-format json (ms resolution, includes the respond's round trip): "
              f"decision median {med(ld):.0f} ms, activity task median {med(lt):.0f} ms (subprocess included)")
    print(f"    CPU per execution: decider {ms(a['cpu_decider'] / n)} ms; workers {ms(a['cpu_workers'] / n)} ms, of which "
          f"task scripts {ms(a['task_cpu'] / n)} ms ({a['task_count']} subprocesses), workers' own "
          f"{ms((a['cpu_workers'] - a['task_cpu']) / n)} ms")
    print(f"    embedded SWF's CPU per execution {ms(a['cpu_server'] / n)} ms; the rest of the machine (not this run) "
          f"used {a['cpu_others']:.1f} CPU-s of {os.cpu_count() * a['wall']:.1f} during the run")
    per = ", ".join(f"{op}={c / n:g}" for op, c in sorted(a["useful"].items()))
    total = sum(a["useful"].values()) / n
    print(f"    API calls per execution: {total:g} useful ({per}); empty polls: "
          f"{sum(a['empty'].values())} {dict(a['empty'])}; failed tasks: {a['failed_tasks']}"
          + (f"; start-up calls before the window: {a['outside']}" if a["outside"] else ""))
    idle = a["idle"]
    print(f"    time in empty polls between first start and last close: decider {idle.get('decider', 0):.1f} s, "
          f"workers {idle.get('worker1', 0):.1f} s + {idle.get('worker2', 0):.1f} s")
    phases = "; ".join(f"{k} {ms(v[0])}/{ms(v[1])}" for k, v in a["phases"].items())
    print(f"    history phases, ms median/p95: {phases}")
    for name, lines in a["stats_lines"].items():
        for line in lines:
            print(f"    {name} --stats: {line}")


BUCKETS = (("swfagent", "swfagent (fold, decide, run_task, logging calls)"), ("botocore", "botocore"),
           ("urllib3", "urllib3"), ("http/client", "http.client"), ("logging", "logging"), ("json", "json"),
           ("subprocess", "subprocess"), ("selectors", "selectors"), ("socket", "socket"), ("email", "email"),
           ("dateutil", "dateutil"), ("hashlib", "hashlib/hmac"), ("hmac", "hashlib/hmac"))


def print_profile(name: str, path: str, per: int) -> None:
    """Where a poller's CPU went (cProfile with process_time, own time by package), per execution."""
    import pstats

    stats = pstats.Stats(path).stats  # type: ignore[attr-defined]
    buckets: Counter[str] = Counter()
    funcs: Counter[str] = Counter()
    for (file, line, func), (_, _, tt, _, _) in stats.items():
        label = next((lab for key, lab in BUCKETS if key in file), "builtins/C" if file == "~" else "other Python")
        buckets[label] += tt
        funcs[f"{os.path.basename(file)}:{line}({func})" if file != "~" else func] += tt
    total = sum(buckets.values()) or 1e-9
    ours = next(lab for key, lab in BUCKETS if key == "swfagent")
    print(f"    {name} CPU profile from its first task on (cProfile inflates it): {total:.2f} s; "
          f"{ours}: {100 * buckets[ours] / total:.1f}%; own time by package: "
          + ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in buckets.most_common(8)))
    print("      top functions (own time): " + "; ".join(f"{k} {100 * v / total:.1f}%" for k, v in funcs.most_common(8)))


def goals(a: dict[str, Any], ratio: float | None) -> None:
    n = a["executions"]
    d = med(a["decision"].get("total", []))
    w = med(a["activity"].get("overhead", []))
    useful = sum(a["useful"].values()) / n
    heartbeats = a["useful"].get("RecordActivityTaskHeartbeat", 0)
    longest = max(a["activity"].get("sub", [0.0]))
    print("Goals (swfagent):")
    if ratio is not None:
        print(f"  throughput >= 1.5x simpleflow: {ratio:.2f}x -> {'met' if ratio >= 1.5 else 'MISSED'}")
    print(f"  decision < 10 ms: median {ms(d)} ms -> {'met' if d < 0.010 else 'MISSED'}")
    print(f"  worker overhead < 10 ms beyond the task's process: median {ms(w)} ms -> {'met' if w < 0.010 else 'MISSED'}")
    print(f"  11 useful calls per execution: {useful:g} -> {'met' if abs(useful - 11) < 1e-9 else 'MISSED'}")
    print(f"  heartbeats only for tasks outliving a heartbeat interval: {heartbeats} heartbeats, longest task "
          f"{ms(longest)} ms, interval {a['beat_every']:g} s (heartbeat_timeout / 3) -> "
          f"{'met' if heartbeats == 0 or longest > a['beat_every'] else 'MISSED'}"
          " (this bench has no task long enough to show the other half: a long task does beat)")

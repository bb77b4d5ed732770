"""The web console's speed: an execution's page with 1,000 events, and the executions page with 1,000 executions.

    python bench/web.py [--events 1000] [--executions 1000] [--fan 300] [--repeat 9]

Runs the embedded SWF in this process and fills it: one demo execution signalled until its history holds
--events events; --executions more, half of them closed; and one execution of a --fan step fan-out run to the
end (a big chart). Then times each page, its SWF calls included: its first view, then the median through Flask's
test client (made server-side, no network) and over HTTP from the console's own server. A closed execution's
last step is read once and kept (its history no longer changes), so a first view of the executions page costs
more. Prints milliseconds. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from swfagent.client import make_client  # noqa: E402
from swfagent.config import Config, load_config  # noqa: E402
from swfagent.decision_tasks import handle_decision_task, poll_decision_task  # noqa: E402
from swfagent.executions import fetch_history  # noqa: E402
from swfagent.local import EmbeddedSWF  # noqa: E402
from swfagent.servers import target_of  # noqa: E402
from swfagent.web import WebConsole  # noqa: E402
from swfagent.web.app import create_app  # noqa: E402
from swfagent.web.pages import PAGE_SIZE  # noqa: E402
from tests.e2e import Driver  # noqa: E402
from tests.support import demo_config_data, write_config  # noqa: E402


def fill(client: Any, config: Config, events: int, executions: int) -> str:
    """The big execution (its run id) and the many small ones."""
    d = Driver(client, config)
    run_id = d.start("big")
    d.decide()
    while len(fetch_history(client, config, "big", run_id)) < events:
        for i in range(100):
            client.signal_workflow_execution(domain=config.domain.name, workflowId="big", signalName="tick",
                                             input=f"tick {i} " * 4)
    for i in range(executions):
        d.start(f"many-{i:04}")
        if i % 2:
            client.terminate_workflow_execution(domain=config.domain.name, workflowId=f"many-{i:04}", reason="done")
    return run_id


def fan_out(client: Any, folder: Path, steps: int) -> tuple[Config, str]:
    """An execution of `steps` parallel steps run to COMPLETED: a chart of that many boxes."""
    data = demo_config_data()
    data["workflow"]["task_list"] = "FanTasks"
    data["workflow"]["steps"] = [{"id": f"s{i:03}", "activity": "Test_Task_A"} for i in range(steps)]
    config = load_config(write_config(folder / "fan.yaml", data))
    run_id = Driver(client, config).start("fan", taskList={"name": "FanTasks"})
    while True:
        task = poll_decision_task(client, config, "FanTasks", "bench")
        if task is not None:
            decisions = handle_decision_task(client, config, task).decisions
            if any(x["decisionType"] == "CompleteWorkflowExecution" for x in decisions):
                return config, run_id
        while True:
            task = client.poll_for_activity_task(domain=config.domain.name, taskList={"name": "FanTasks"})
            if not task.get("taskToken"):
                break
            client.respond_activity_task_completed(taskToken=task["taskToken"], result="x")


def median_ms(get: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        get()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--fan", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedSWF(poll_seconds=0.2) as swf:
        folder = Path(tmp)
        config = load_config(write_config(folder / "config.yaml", demo_config_data()))
        client = make_client(target=target_of(swf))
        filled = time.perf_counter()
        run_id = fill(client, config, args.events, args.executions)
        fan_config, fan_run = fan_out(client, folder, args.fan)
        count = len(fetch_history(client, config, "big", run_id))
        fan_count = len(fetch_history(client, fan_config, "fan", fan_run))
        print(f"filled in {time.perf_counter() - filled:.1f} s: 'big' has {count} events, {args.executions} more "
              f"executions, 'fan' has {args.fan} steps and {fan_count} events")
        pages = {
            f"execution, {count} events: Summary": (config, f"/execution?workflow_id=big&run_id={run_id}"),
            f"execution, {count} events: Events": (config, f"/execution?workflow_id=big&run_id={run_id}&tab=events"),
            f"executions, {args.executions + 2} in all ({PAGE_SIZE} open + {PAGE_SIZE} closed shown)": (config, "/"),
            f"executions, closed only ({PAGE_SIZE} shown)": (config, "/?which=closed"),
            f"execution, {args.fan}-step chart, {fan_count} events: Summary": (
                fan_config, f"/execution?workflow_id=fan&run_id={fan_run}"),
        }
        apps = {id(c): create_app(client, c).test_client() for c in (config, fan_config)}
        consoles = {id(c): WebConsole(client, c, port=0).start() for c in (config, fan_config)}
        try:
            print(f"{'page':<62} {'first view':>11} {'server-side':>12} {'over HTTP':>10}")
            for name, (cfg, path) in pages.items():
                app, web = apps[id(cfg)], consoles[id(cfg)]
                started = time.perf_counter()
                assert app.get(path).status_code == 200, path
                first = (time.perf_counter() - started) * 1000
                local = median_ms(lambda app=app, path=path: app.get(path).get_data(), args.repeat)
                url = web.url.rstrip("/") + path
                http = median_ms(lambda url=url: urllib.request.urlopen(url, timeout=60).read(),
                                 args.repeat)
                print(f"{name:<62} {first:>8.1f} ms {local:>9.1f} ms {http:>7.1f} ms")
        finally:
            for web in consoles.values():
                web.stop()


if __name__ == "__main__":
    main()

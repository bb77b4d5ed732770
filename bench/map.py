#!/usr/bin/env python3
"""Maps on the embedded SWF (prints numbers, asserts none):

    python bench/map.py                  # a 2,000-item map, then 500 items as one map against 500 executions
    python bench/map.py --items 2000 --cap 50 --compare 500
    python bench/map.py --batched 10000 --batch-size 500 --cap 1000 [--against 10000]   # the map in child executions

- A map of --items items (max_concurrency --cap): the decider's time per decision task (its answer received ->
  its respond returned: fold + decide + respond), the number of decision tasks, and the history's size, which must
  stay under SWF's 25,000 events.
- --batched items as one map with batch_size (max_concurrency --cap over all items): wall time, the decider's time
  per decision task, and the largest history of the parent and its children (each under 25,000 events).
- --compare items as one map (max_concurrency --cap), against the same number of executions of the article's
  workflow (A then B) started at once: wall time and activity tasks per second for each.

The decider and two workers run as threads of this process, as decider.py and worker.py call the library; the
workers answer at once (no script runs), so the numbers are the orchestration's own: SWF's calls and the decider.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from swfagent.client import make_client  # noqa: E402
from swfagent.config import Config  # noqa: E402
from swfagent.decision_tasks import handle_decision_task, poll_decision_task  # noqa: E402
from swfagent.executions import fetch_history  # noqa: E402
from swfagent.limits import MAX_DATA  # noqa: E402
from swfagent.local import EmbeddedSWF  # noqa: E402
from swfagent.logs import log  # noqa: E402
from swfagent.payloads import S3Store  # noqa: E402
from swfagent.register import register_all  # noqa: E402
from tests.flows import config_from  # noqa: E402


def map_config(cap: int, batch_size: int | None = None) -> Config:
    if batch_size is None:
        return config_from([{"activity": "List"}, {"id": "Convert", "activity": "One", "for_each": "List",
                                                   "max_concurrency": cap}], max_history_events=25_000)
    return config_from([{"activity": "List"}, {"id": "Convert", "activity": "One", "for_each": "List",
                                               "max_concurrency": cap, "batch_size": batch_size}],
                       max_history_events=25_000, results={"s3": "s3://bench/values"})


class MemoryS3:
    """An S3 client's put_object and get_object, in memory: a list of 10,000 items is over SWF's 32,768 characters,
    and the embedded SWF has no S3."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, Bucket: str, Key: str, Body: Any) -> None:  # noqa: N803 (boto3's names)
        self.objects[(Bucket, Key)] = Body if isinstance(Body, bytes) else Body.read()

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        return {"Body": io.BytesIO(self.objects[(Bucket, Key)])}


ARTICLE = config_from([{"activity": "Test_Task_A"}, {"activity": "Test_Task_B", "after": ["Test_Task_A"]}])


class Pollers:
    """A decider thread and two worker threads until stopped; the decider's time per decision task kept."""

    def __init__(self, config: Config, items: int):
        self.config, self.items = config, items
        self.short = config.workflow.steps[-1].batch_size is not None  # results of 1: 10,000 of them fit in SWF
        memory = MemoryS3()
        self.store = S3Store(config.results, lambda: memory) if config.results is not None else None
        self.stop = threading.Event()
        self.decision_ms: list[float] = []
        self.threads = [threading.Thread(target=self._decider, daemon=True),
                        *(threading.Thread(target=self._worker, args=(f"w{i}",), daemon=True) for i in (1, 2))]

    def __enter__(self) -> Pollers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(10)

    def _decider(self) -> None:
        client = make_client()
        while not self.stop.is_set():
            task = poll_decision_task(client, self.config, self.config.workflow.task_list, "decider")
            if isinstance(task, dict):
                started = time.perf_counter()
                handle_decision_task(client, self.config, task, self.store)
                self.decision_ms.append((time.perf_counter() - started) * 1000)

    def _worker(self, name: str) -> None:
        client = make_client()
        while not self.stop.is_set():
            task = client.poll_for_activity_task(domain=self.config.domain.name,
                                                 taskList={"name": self.config.workflow.task_list}, identity=name)
            if task.get("taskToken"):
                result = (json.dumps([f"f{i}" for i in range(self.items)]) if task["activityId"].startswith("List-")
                          else "1" if self.short else task.get("input", "").upper() or "a")
                if len(result) > MAX_DATA and self.store is not None:
                    result = self.store.put_text(result, f"{task['workflowExecution']['workflowId']}/list")
                client.respond_activity_task_completed(taskToken=task["taskToken"], result=result)


def closed(client: Any, config: Config) -> int:
    pages = client.get_paginator("list_closed_workflow_executions").paginate(
        domain=config.domain.name, startTimeFilter={"oldestDate": 0})
    return sum(len(p["executionInfos"]) for p in pages)


def run(swf: EmbeddedSWF, config: Config, executions: int, items: int) -> tuple[float, Pollers, int, int]:
    """Start `executions` executions, run them to their close (children too): wall seconds, the pollers, the history
    sizes' sum and the largest."""
    urllib.request.urlopen(urllib.request.Request(f"{swf.endpoint}/moto-api/reset", method="POST"), timeout=10).read()
    swf.engine.reset()
    client = make_client()
    register_all(client, config)
    w = config.workflow
    with Pollers(config, items) as pollers:
        started = time.perf_counter()
        for i in range(executions):
            client.start_workflow_execution(domain=config.domain.name, workflowId=f"bench-{i}",
                                            workflowType={"name": w.name, "version": w.version})
        while not _done(client, config, executions):
            time.sleep(0.2)
        took = time.perf_counter() - started
    sizes = []
    for page in client.get_paginator("list_closed_workflow_executions").paginate(
            domain=config.domain.name, startTimeFilter={"oldestDate": 0}):
        for info in page["executionInfos"]:
            ex = info["execution"]
            sizes.append(len(fetch_history(client, config, ex["workflowId"], ex["runId"])))
    return took, pollers, sum(sizes), max(sizes)


def _done(client: Any, config: Config, executions: int) -> bool:
    """The started executions closed (a batched map's children close before their parent)."""
    pages = client.get_paginator("list_closed_workflow_executions").paginate(
        domain=config.domain.name, startTimeFilter={"oldestDate": 0})
    return sum(1 for p in pages for i in p["executionInfos"] if i["execution"]["workflowId"].startswith("bench-")
               and "--" not in i["execution"]["workflowId"]) >= executions


def batched(swf: EmbeddedSWF, items: int, batch_size: int, cap: int, against: int) -> None:
    """The map in child executions: its numbers; with `against`, as many executions of the article's workflow."""
    took, pollers, _, largest = run(swf, map_config(cap, batch_size), 1, items)
    ms = pollers.decision_ms
    print(f"A map of {items:,} items in batches of {batch_size} ({cap} at a time): {took:.1f} s, "
          f"{items / took:.0f} items/s; largest history {largest:,} events (SWF's limit 25,000); {len(ms)} decision "
          f"tasks, median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms, {sum(ms) / 1000:.1f} s deciding in all")
    if against:
        took_many, _, _, _ = run(swf, ARTICLE, against, 1)
        print(f"{against:,} executions of the article's workflow (2 tasks each): {took_many:.1f} s, "
              f"{against / took_many:.0f} executions/s, {2 * against / took_many:.0f} tasks/s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=2000)
    p.add_argument("--cap", type=int, default=50, help="the map's max_concurrency")
    p.add_argument("--compare", type=int, default=500, help="items in the map against executions of the article's")
    p.add_argument("--batched", type=int, default=0, help="run only a map of this many items in child executions")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--against", type=int, default=0, help="with --batched: then this many executions of the article's")
    args = p.parse_args(argv)
    log.disabled = True
    with EmbeddedSWF(poll_seconds=0.2, test_api=True) as swf:
        os.environ.update(swf.env())
        if args.batched:
            batched(swf, args.batched, args.batch_size, args.cap, args.against)
            return 0
        took, pollers, events, _ = run(swf, map_config(args.cap), 1, args.items)
        ms = pollers.decision_ms
        print(f"A map of {args.items} items, {args.cap} at a time: {took:.1f} s; history {events:,} events "
              f"(SWF's limit 25,000); {len(ms)} decision tasks, median {statistics.median(ms):.1f} ms, "
              f"p95 {sorted(ms)[int(len(ms) * 0.95)]:.1f} ms, max {max(ms):.1f} ms per decision task")
        took_map, _, events_map, _ = run(swf, map_config(args.cap), 1, args.compare)
        took_many, _, events_many, _ = run(swf, ARTICLE, args.compare, 1)
        print(f"{args.compare} items as one map: {took_map:.1f} s, {args.compare / took_map:.0f} items/s, "
              f"{events_map:,} events")
        print(f"{args.compare} executions of the article's workflow (2 tasks each): {took_many:.1f} s, "
              f"{args.compare / took_many:.0f} executions/s, {2 * args.compare / took_many:.0f} tasks/s, "
              f"{events_many:,} events")
    return 0


if __name__ == "__main__":
    sys.exit(main())

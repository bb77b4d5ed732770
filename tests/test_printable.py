"""Control characters from a task's output (ESC, BEL, NUL, CR, C1) reach no text log and no terminal table."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from swfagent.logs import printable, setup_logging
from swfagent.render import format_activity, format_executions
from swfagent.status import ActivityStatus
from swfagent.views import ActivityRow, ExecutionRow

HOSTILE = "red\x1b[31m bell\x07 nul\x00 back\x08 cr\r csi\x9b2J del\x7f"
CONTROLS = [chr(c) for c in (*range(0, 9), *range(11, 32), *range(0x7f, 0xa0))]


def test_printable_keeps_text_and_line_breaks_only() -> None:
    assert printable(HOSTILE) == "red[31m bell nul back cr csi2J del"
    assert printable("a\tb\nc") == "a\tb\nc" and printable("a\tb\nc", lines=False) == "a b c"
    assert not any(c in printable("".join(CONTROLS) + "é ✓") for c in CONTROLS)
    assert printable("é ✓") == "é ✓"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_logs_carry_no_control_characters(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(fmt)
    try:
        logging.getLogger("swfagent").info("Test_Task_A succeeded with output: %s", HOSTILE)
        logging.getLogger("swfagent").error("failed:\n  | %s", HOSTILE)
    finally:
        logging.getLogger("swfagent").handlers[:] = []
    out, err = capsys.readouterr()
    assert not any(c in out + err for c in CONTROLS)
    if fmt == "text":
        assert "output: red[31m bell nul" in out and err.count("\n") == 2  # the line break of the message kept
    else:
        assert json.loads(out)["message"].endswith(HOSTILE)  # JSON escapes them: nothing is lost


def test_terminal_tables_carry_no_control_characters() -> None:
    when = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    rows = [ExecutionRow.of({"execution": {"workflowId": HOSTILE, "runId": "r\x1b]0;title\x07"},
                             "workflowType": {"name": "W", "version": "1"}, "startTimestamp": when,
                             "executionStatus": "OPEN"})]
    text = format_executions(rows)
    assert not any(c in text for c in CONTROLS) and "red[31m" in text
    activity = ActivityRow("a\x1b[2J", "T", "1", ActivityStatus.FAILED, when, when, when, input=HOSTILE, result=None,
                           reason="boom\x07", details=f"line 1 {HOSTILE}\nline 2\x1b[1A")
    text = format_activity(activity)
    assert not any(c in text for c in CONTROLS) and "line 1 red[31m" in text and "\n  | line 2[1A" in text

"""The documentation points at things that exist: every link of the README and the guides in docs/ (and its
#anchor), every test file, test, bench script and module they name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TESTS = ROOT / "tests"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text, fence, found = page.read_text(), False, set()
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and line.startswith("#"):
            found.add(_slug(line.lstrip("#")))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_points_at_something_that_exists(page: Path) -> None:
    text = page.read_text()
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links or page.name != "README.md"
    for link in links:
        if re.match(r"\w+://", link):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.name}: {link}"
        if anchor and target.suffix == ".md":
            assert anchor in _anchors(target), f"{page.name}: {link} (no such heading)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_file_and_test_named_exists(page: Path) -> None:
    text = page.read_text()
    defined = set(re.findall(r"^def (test_\w+)", "".join(p.read_text() for p in TESTS.glob("test_*.py")), re.M))
    for name in set(re.findall(r"`(test_\w+\.py)`", text)):
        assert (TESTS / name).exists(), f"{page.name}: {name}"
    for name in set(re.findall(r"`(test_\w+)`", text)) - {n[:-3] for n in re.findall(r"`(test_\w+\.py)`", text)}:
        assert name in defined, f"{page.name}: {name}"
    for path in set(re.findall(r"`((?:bench|swfagent|tests|iam)/[\w/.-]+\.\w+)", text)):
        assert (ROOT / path).exists(), f"{page.name}: {path}"
    ours = {p.name for folder in ("swfagent", "tests", "bench", "tasks") for p in (ROOT / folder).rglob("*.py")}
    ours |= {p.name for p in ROOT.glob("*.py")}
    for module in set(re.findall(r"`(\w+\.py)`", text)):
        assert module in ours, f"{page.name}: {module}"


def test_the_readme_is_what_a_newcomer_needs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150  # the guides hold the rest
    assert readme.index("make demo") < readme.index("## ")  # the two commands come first
    for guide in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{guide.name})" in readme, f"the README links every guide: {guide.name}"


def test_the_workflows_example_in_the_configuration_guide_loads(tmp_path: Path) -> None:
    from swfagent.config import load_config

    text = (ROOT / "docs" / "configuration.md").read_text()
    section = text[text.index("## Several workflows in one file"):]
    example = section[section.index("```yaml\n") + len("```yaml\n"):section.index("```\n", section.index("```yaml"))]
    (tmp_path / "config.yaml").write_text(example)
    config = load_config(tmp_path / "config.yaml")
    assert [w.name for w in config.workflows] == ["TestWorkflow", "Nightly"]
    assert config.task_lists == ("TestTasks", "NightlyTasks")


def test_the_past_one_history_example_in_the_configuration_guide_loads(tmp_path: Path) -> None:
    """Its workflows (a repeat, a batched map, a child step) as written, with a domain and the activities it names."""
    from swfagent.config import StepKind, load_config

    text = (ROOT / "docs" / "configuration.md").read_text()
    section = text[text.index("## Past one history"):]
    example = section[section.index("```yaml\n") + len("```yaml\n"):section.index("```\n", section.index("```yaml"))]
    activities = "".join(f"  {name}:\n    version: \"1.0\"\n    command: [python, tasks/a.py]\n"
                         for name in ("List_Files", "Convert_One", "Build_Report"))
    (tmp_path / "config.yaml").write_text(f"domain:\n  name: TEST_SWF\n{example}activities:\n{activities}")
    config = load_config(tmp_path / "config.yaml")
    nightly = config.workflow_named("Nightly")
    assert nightly is not None and nightly.repeat is not None
    kinds = {s.id: s.kind for s in nightly.steps}
    assert kinds["Report"] is StepKind.CHILD and nightly.step("Convert").batch_size == 500

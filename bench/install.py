"""What an install costs, both ways: `pip install .` (a production host: boto3, PyYAML, Flask, grandalf) against
`pip install '.[local]'` (the embedded SWF too), and what the base install was before the extra (moto[server]),
each in a fresh venv, at constraints.txt's versions.

    python bench/install.py

Prints the wall time of each pip install and the size of each venv's site-packages. Uses pip's cache as it is
(run it twice for a warm cache's figures).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def install(target: str, where: Path) -> tuple[float, float, int]:
    """Seconds, site-packages MB and distributions, for one pip install in a fresh venv."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    pip = [str(where / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    began = time.monotonic()
    subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), *target.split()], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = time.monotonic() - began
    [site] = where.glob("lib/python*/site-packages")
    dists = len(list(site.glob("*.dist-info")))
    return took, size_mb(site), dists


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="swfagent-install-"))
    source = work / "source"  # a copy: a build writes swfagent.egg-info into its source folder
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__",
                                                                ".*_cache", ".hypothesis", "test-artifacts", "bench"))
    try:
        print(f"{'install':<28} {'seconds':>8} {'MB':>8} {'packages':>9}")
        runs = (("pip install .", str(source), "base"), ("pip install '.[local]'", f"{source}[local]", "local"),
                ("before: . with moto[server]", f"{source} moto[server]", "before"))
        for label, target, folder in runs:
            took, mb, dists = install(target, work / folder)
            print(f"{label:<28} {took:>8.1f} {mb:>8.1f} {dists:>9}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

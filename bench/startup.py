"""CLI start-up before and after (issue 14 item 4): the imports and the wall time of `reasoner --help`
and of a `who-can` on the seed snapshot (cases/athena-vpce), for this checkout and for a base
commit checked out into a temporary git worktree, measured interleaved in the same run.

    .venv/bin/python bench/startup.py                 # base: the commit before the start-up work
    .venv/bin/python bench/startup.py --base HEAD~3 --runs 15

Imports: `python -X importtime`, the sum of the top-level imports after interpreter start-up (the
`site` module, the same for both, is left out). CPU (user + system) and wall of plain runs of
`python -m reasoner ...` (the same interpreter and environment; PYTHONPATH selects the tree).
Each figure is printed as minimum / median of `--runs` runs; the ratios are of the minima, the
steadiest figure on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "cases" / "athena-vpce" / "snapshot"
# The last commit before the start-up work (lazy commands, shipped catalogue tables).
DEFAULT_BASE = "8ae7593~1"
COMMANDS = {
    "--help": ["--help"],
    "who-can": [
        "who-can",
        str(SEED),
        "--action",
        "s3:GetObject",
        "--resource",
        "arn:aws:s3:::examplecorp-business-data/revenuedata/x.parquet",
    ],
}
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "NO_COLOR": "1", "COLUMNS": "160"}


def import_seconds(tree: Path, args: list[str]) -> tuple[float, list[tuple[float, str]]]:
    """Seconds of top-level imports (site excluded), and the five largest."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reasoner", *args],
        capture_output=True,
        text=True,
        env=_env(tree),
        cwd=tree,  # `-m` puts the working directory first on sys.path
    )
    top = []
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if m and not m.group(3) and m.group(4) != "site":
            top.append((int(m.group(2)) / 1e6, m.group(4)))
    return sum(s for s, _ in top), sorted(top, reverse=True)[:5]


def run_seconds(tree: Path, args: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run; on a shared machine CPU is the steadier one."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reasoner", *args], capture_output=True, env=_env(tree), cwd=tree)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default=DEFAULT_BASE, help="the commit to compare with")
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    base_tree = Path(tempfile.mkdtemp(prefix="reasoner-startup-base-"))
    shutil.rmtree(base_tree)
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(base_tree), args.base], cwd=ROOT, check=True)
    try:
        trees = {"before": base_tree, "after": ROOT}
        print(
            f"# startup {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; {platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}; "
            f"before = {args.base}, after = the working tree at {head.strip()}; {args.runs} runs each, interleaved"
        )
        for tree in trees.values():  # bytecode compiled before anything is timed
            run_seconds(tree, COMMANDS["who-can"])
        for name, cmd in COMMANDS.items():
            walls: dict[str, list[float]] = {k: [] for k in trees}
            cpus: dict[str, list[float]] = {k: [] for k in trees}
            imports: dict[str, list[float]] = {k: [] for k in trees}
            largest = {}
            for _ in range(args.runs):
                for k, tree in trees.items():
                    seconds, largest[k] = import_seconds(tree, cmd)
                    imports[k].append(seconds)
                    wall, cpu = run_seconds(tree, cmd)
                    walls[k].append(wall)
                    cpus[k].append(cpu)
            print(f"\nreasoner {name}")
            for k in trees:
                top = ", ".join(f"{m} {s * 1e3:.0f}" for s, m in largest[k])
                print(
                    f"  {k:6}  imports {min(imports[k]):.3f} / {statistics.median(imports[k]):.3f} s"
                    f"   cpu {min(cpus[k]):.3f} / {statistics.median(cpus[k]):.3f} s"
                    f"   wall {min(walls[k]):.3f} / {statistics.median(walls[k]):.3f} s"
                    f"   (largest imports, ms: {top})"
                )
            ratio_i = min(imports["before"]) / min(imports["after"])
            ratio_c = min(cpus["before"]) / min(cpus["after"])
            ratio_w = min(walls["before"]) / min(walls["after"])
            print(f"  before/after (minima): imports {ratio_i:.1f}x, cpu {ratio_c:.1f}x, wall {ratio_w:.1f}x")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(base_tree)], cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

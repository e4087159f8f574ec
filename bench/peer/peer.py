"""The reference open evaluator, @cloud-copilot/iam-simulate (npm), for the decide benchmarks.

    from peer import run_peer
    summary = run_peer(Path("bench/out/batch.jsonl"))   # installs it on first use

It is installed on demand into bench/peer/node_modules (package.json pins the version; the folder
is git-ignored) with `npm install`; node 20+ and npm must be on the PATH. driver.mjs evaluates a
`decide --batch` file one request at a time and prints its throughput; lines it cannot express are
skipped and counted (see driver.mjs). Never used by the test suite.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

PEER = Path(__file__).resolve().parent


def ensure_installed() -> None:
    if (PEER / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        return
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("the peer needs node and npm on the PATH")
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=PEER, check=True)


def version() -> str:
    ensure_installed()
    meta = json.loads((PEER / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json").read_text())
    return str(meta["version"])


def run_peer(batch: Path, answers: Path | None = None) -> dict:
    """Evaluate every line of `batch` with the peer, one request at a time. Returns the driver's
    summary: lines, skipped (not expressible), skip_reasons, errors (refused by the peer),
    seconds (parsing, building and simulating every line), per_second (simulated lines / s)."""
    ensure_installed()
    args = ["node", str(PEER / "driver.mjs"), str(batch)] + ([str(answers)] if answers else [])
    out = subprocess.run(args, cwd=PEER, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])

"""Time `reasoner diff` (both directions, classes listed) over every before/after pair of the
Quacky samples (tests/corpus/quacky-samples, see its README):

- `initial.json` -> `fixed.json`, `policy1.json` -> `fix.json`, `policyN.json` -> `policyN+1.json`
  in every sample folder, `X-1.json` -> `X-2.json` in og/;
- every mechanical mutation `mutations/S/E/NAME/STEM/*.json` against its original `S/E/NAME/STEM.json`.

Usage: .venv/bin/python bench/diff_quacky.py [--limit N] [--json]
Prints count, p50, p99, total wall time and the answers (per direction: differs / same / unknown).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUACKY = ROOT / "tests" / "corpus" / "quacky-samples"
sys.path.insert(0, str(ROOT))


def quacky_pairs(root: Path = QUACKY) -> list[tuple[Path, Path]]:
    """(before, after) pairs, in a stable order."""
    pairs: list[tuple[Path, Path]] = []
    for folder in sorted({p.parent for p in root.rglob("*.json")}):
        rel = folder.relative_to(root).parts
        if rel[0] == "mutations":
            continue
        names = {p.name for p in folder.glob("*.json")}
        if {"initial.json", "fixed.json"} <= names:
            pairs.append((folder / "initial.json", folder / "fixed.json"))
        if {"policy1.json", "fix.json"} <= names:
            pairs.append((folder / "policy1.json", folder / "fix.json"))
        numbered = sorted((int(m.group(1)), n) for n in names if (m := re.fullmatch(r"policy(\d+)\.json", n)))
        for (_, a), (_, b) in zip(numbered, numbered[1:]):
            pairs.append((folder / a, folder / b))
        for n in sorted(names):
            m = re.fullmatch(r"(.+)-1\.json", n)
            if m and f"{m.group(1)}-2.json" in names:
                pairs.append((folder / n, folder / f"{m.group(1)}-2.json"))
    for mutant in sorted((root / "mutations").rglob("*.json")):
        stem_dir = mutant.parent
        original = root / stem_dir.relative_to(root / "mutations").parent / f"{stem_dir.name}.json"
        if original.exists():
            pairs.append((original, mutant))
    return pairs


def main() -> None:
    from reasoner.audit.diff import diff, load_policy_set
    from reasoner.errors import InputError

    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=20, help="classes listed per direction")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    pairs = quacky_pairs()
    times, answers, errors = [], Counter(), []
    start = time.perf_counter()
    for before, after in pairs:
        t = time.perf_counter()
        try:
            a = diff(load_policy_set(str(before)), load_policy_set(str(after)), limit=args.limit)
            answers[f"added:{a.added.answer}"] += 1
            answers[f"removed:{a.removed.answer}"] += 1
        except InputError as exc:
            errors.append(exc.one_line())
            answers["bad input"] += 1
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    ms = sorted(x * 1000 for x in times)
    fig = {
        "pairs": len(pairs),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 1),
        "max_ms": round(ms[-1], 1),
        "total_s": round(total, 1),
        "answers": dict(sorted(answers.items())),
    }
    if args.json:
        print(json.dumps({**fig, "errors": errors}, indent=2))
        return
    print(f"diff over {fig['pairs']} Quacky before/after pairs (both directions, up to {args.limit} classes each)")
    print(f"  p50 {fig['p50_ms']} ms   p99 {fig['p99_ms']} ms   max {fig['max_ms']} ms   total {fig['total_s']} s")
    for k, v in fig["answers"].items():
        print(f"  {k:<18} {v}")
    for e in errors[:10]:
        print(f"  error: {e}")


if __name__ == "__main__":
    main()

"""Rule `invariant`: the invariants of `--invariants FILE` (the `reasoner prove` engine), one finding
per invariant: violated = fail with the counterexample path, proved = pass with the scope,
unknown = unknown with the reason. SARIF points at the invariant's line in the file."""

from __future__ import annotations

import re
from pathlib import Path

from reasoner.audit.findings import Finding, HopEvidence, Location, Rule
from reasoner.audit.invariants import Invariant, Prover, load_invariants
from reasoner.audit.rulebase import Context, action_ref, rule
from reasoner.heap import settle

RULE = rule(
    "invariant",
    "Invariants",
    "An invariant of the invariants file (never / only / always / no-public / no-cross-account / "
    "no-privesc) is violated, proved, or could not be decided.",
)
LEVEL = {"no-public": "critical", "no-privesc": "critical", "no-cross-account": "high"}


def invariant_lines(path: str) -> dict[str, int]:
    """Invariant id -> the line of its `id:` entry (1-based)."""
    out: dict[str, int] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return out
    for n, line in enumerate(text.splitlines(), 1):
        m = re.search(r"""["']?id["']?\s*:\s*["']?([A-Za-z0-9][A-Za-z0-9_.-]*)""", line)
        if m and m.group(1) not in out:
            out[m.group(1)] = n
    return out


def run(ctx: Context) -> list[Finding]:
    if not ctx.invariants_file:
        return []
    spec = load_invariants(ctx.invariants_file)
    lines = invariant_lines(ctx.invariants_file)
    prover = Prover(ctx.snap)
    out = []
    for i, inv in enumerate(spec.invariants):
        ctx.progress("invariants", i, len(spec.invariants))
        r = Rule(
            id=RULE.id,
            title=f"{RULE.title}: {inv.id}",
            description=inv.description or RULE.description,
            help_uri=RULE.help_uri,
        )
        loc = Location(file=ctx.invariants_file, json_path=f"$.invariants[{i}]", line=lines.get(inv.id))
        if ctx.out_of_time():
            out.append(
                ctx.finding(
                    r, inv.id, _level(inv), "unknown", f"Invariant {inv.id}", reason=ctx.budget_reason, location=loc
                )
            )
            continue
        out.append(_finding(ctx, r, inv, prover, loc))
        settle()  # between questions (heap.py)
    return out


def _level(inv: Invariant) -> str:
    return LEVEL.get(inv.kind, "high")


def _finding(ctx: Context, r: Rule, inv: Invariant, prover: Prover, loc: Location) -> Finding:
    res = prover.prove(inv)
    status = {"proved": "pass", "violated": "fail", "unknown": "unknown", "vacuous": "unknown"}[res.status]
    hops = []
    for h in res.path:
        ev = HopEvidence(
            kind=str(h.get("kind", "request")),
            principal=str(h.get("principal", res.principal or "")),
            action=str(h.get("action", h.get("technique", ""))),
            resource=str(h.get("resource", h.get("to", ""))),
            called_via=list(h.get("called_via", [])),
            context=dict(h.get("context", {})),
            decide_command=h.get("decide_command"),
        )
        if "technique" not in h and ev.action:
            ctx.attach_statements(ev, ev.principal, ev.action, ev.resource, ev.context)
        hops.append(ev)
    last = hops[-1] if hops else None
    body = inv.body
    actions = [action_ref(a) for a in (getattr(body, "actions", None) or [getattr(body, "action", None)] or []) if a]
    title = {
        "fail": f"Invariant {inv.id} is violated" + (f": {res.reason}" if res.reason else ""),
        "pass": f"Invariant {inv.id} holds",
        "unknown": f"Invariant {inv.id} could not be decided",
    }[status]
    return ctx.finding(
        r,
        inv.id,
        "info" if status == "pass" else _level(inv),
        status,
        title,
        principal=res.principal,
        actions=actions,
        resource=last.resource if last else None,
        conditions=last.context if last else {},
        path=hops,
        decide_command=res.decide_command,
        scope=res.scope or None,
        reason=res.reason if status == "unknown" else None,
        location=loc,
        remediation="Change the policies along the counterexample path (each hop lists the statement that "
        "allows it), or, if the access is intended, change the invariant."
        if status == "fail"
        else "",
        details={"kind": inv.kind, "seconds": res.seconds, "message": res.reason},
    )

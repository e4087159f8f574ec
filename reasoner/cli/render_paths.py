"""Human renderings of who-can, reach and privesc answers (data printed as data)."""

from __future__ import annotations

import json

from rich.table import Table

from reasoner.account.paths import Path, ReachAnswer, WhoCanAnswer
from reasoner.account.privesc import PrincipalPrivesc
from reasoner.cli.output import styled
from reasoner.cli.render import OUTCOME_STYLE, key_value_table


def path_text(p: Path | None) -> str:
    if p is None:
        return ""
    lines = []
    for i, h in enumerate(p.hops, 1):
        via = f" via {' -> '.join(h.called_via)}" if h.called_via else ""
        who = h.principal.rsplit(":", 1)[-1]
        # Keys the hop model fixes (tags, org, ViaAWSService) are not conditions that remain.
        ctx = {
            k: v
            for k, v in h.context.items()
            if not k.lower().startswith("aws:principaltag/")
            and k.lower() not in ("aws:principalorgid", "aws:viaawsservice")
        }
        lines.append(
            f"{i}. {who}: {h.kind} {h.action} on {h.resource}{via}" + (f"\n   context {json.dumps(ctx)}" if ctx else "")
        )
    return "\n".join(lines)


def who_can_table(a: WhoCanAnswer) -> Table:
    t = Table(title=f"who can {a.action} on {a.resource}", show_lines=True)
    t.add_column("principal")
    t.add_column("answer")
    t.add_column("shortest path (the context is what remains to hold)")
    for p in a.principals:
        t.add_row(p.principal, styled(p.outcome, OUTCOME_STYLE[p.outcome]), path_text(p.path))
    for p in a.unknown:
        t.add_row(p.principal, styled("unknown", OUTCOME_STYLE["unknown"]), p.reason or "")
    return t


def who_can_summary(a: WhoCanAnswer, principals: int) -> str:
    outside = f"; {len(a.outside.grants)} outside the snapshot" if a.outside is not None else ""
    return (
        f"{len(a.principals)} can, {len(a.unknown)} unknown, of {principals} principals{outside} "
        f"({a.stats.plain_decisions} concrete decisions, {a.stats.searches} searches, "
        f"{a.stats.seconds:.2f} s)"
    )


def reach_table(a: ReachAnswer, title: str | None = None) -> Table:
    t = key_value_table(title or f"{a.start} -> {a.action} on {a.resource}")
    t.box = None
    t.pad_edge = True
    t.add_row("answer", styled(a.answer, OUTCOME_STYLE[a.answer]))
    for i, p in enumerate(a.paths, 1):
        t.add_row(f"path {i}", path_text(p))
        t.add_row("", f"check the last hop: {p.hops[-1].decide_command}")
    t.add_row(
        "searched",
        f"{len(a.identities)} identities reachable by role assumption: "
        + ", ".join(x.rsplit(":", 1)[-1] for x in a.identities),
    )
    for u in a.unknown[:10]:
        t.add_row("unknown", u)
    return t


_ADMIN = {
    "proved": ("yes", "bold red"),
    "conditional": ("conditional", "red"),  # every chain rests on a precondition outside the snapshot
    "no": ("no", "green"),
    "unknown": ("unknown", "bold yellow"),
}


def privesc_table(rows: list[PrincipalPrivesc]) -> Table:
    t = Table(title="privilege escalation to admin-equivalent (iam:* on *)", show_lines=True)
    t.add_column("principal")
    t.add_column("admin")
    t.add_column("shortest chain")
    for r in rows:
        if r.admin and not r.paths[0]:
            chain = "admin itself"
        elif r.paths:
            chain = "\n".join(
                f"{i}. {s.technique}: {s.source.rsplit(':', 1)[-1]} -> {s.target.rsplit(':', 1)[-1]}"
                f" ({'; '.join(s.via)})" + (f"; assumes {s.assumes}" if s.assumes else "")
                for i, s in enumerate(r.paths[0], 1)
            )
        else:
            chain = r.reason or ""
        t.add_row(r.principal, styled(*_ADMIN[r.status]), chain)
    return t


def outside_table(a: WhoCanAnswer) -> Table | None:
    """who-can's outside principals (reasoner.account.outside), in their own group: each with the
    policy that lets it in, the request, and whether it holds only if their own account allows."""
    if a.outside is None or not (a.outside.grants or a.outside.unknown):
        return None
    t = Table(title="outside the snapshot: other accounts, anonymous, federated identities, services", show_lines=True)
    t.add_column("who")
    t.add_column("access")
    t.add_column("let in by, and the request (the context is what remains to hold)")
    for g in a.outside.grants:
        req = g.request
        ctx = req.get("context") or {}
        via = f"\nthen as the role:\n{path_text(Path(g.target, g.path))}" if g.path else ""
        holds = "\nif their own account allows" if g.needs_their_account else ""
        t.add_row(
            f"{g.label}\n({g.principal})",
            styled(g.access, "bold red" if g.access == "public" else "yellow"),
            f"{g.policy}: {req.get('action')} on {req.get('resource')}"
            + (f"\ncontext {json.dumps(ctx)}" if ctx else "")
            + holds
            + via,
        )
    for u in a.outside.unknown:
        t.add_row("?", styled("unknown", OUTCOME_STYLE["unknown"]), u)
    return t

"""The action dimension of a diff: the catalogue actions some statement of either side covers, in
regions no Action / NotAction pattern can tell apart, with a readable representative each."""

from __future__ import annotations

from dataclasses import dataclass

from reasoner.audit.diff_answers import ActionRegion
from reasoner.engine.facts import FactProgram, StmtInfo
from reasoner.policy import catalogue
from reasoner.policy.coverage import action_matches, service_may_match, statement_covers
from reasoner.search.actions import aws_rule_class, may_need_resource_policy


@dataclass
class ActionTable:
    """The catalogue actions some statement of either side covers, split by their signature over
    every Action / NotAction pattern in scope (plus the RCP and trust-policy flags)."""

    representatives: list[str]
    members: dict[str, list[str]]  # representative -> every action of its region
    bits: dict[str, frozenset[str]]  # representative -> the (lower-case) patterns it matches
    spelling: dict[str, str]  # lower-case pattern -> as written


def service_part(pattern: str) -> str:
    return pattern.split(":", 1)[0] if ":" in pattern else pattern


def action_table(
    diffed: list[StmtInfo], others: list[StmtInfo], program: FactProgram, written: list[str]
) -> ActionTable:
    patterns = sorted({program.action_plain[x] for st in diffed + others for x in st.actions})
    # Shown: the diffed sides' own patterns, as first written (the helper's "*" is not theirs).
    spelling = {p: p for p in sorted({program.action_plain[x] for st in diffed for x in st.actions})}
    for text in written:
        if spelling.get(text.lower()) == text.lower():
            spelling[text.lower()] = text
    services = _services_in_scope(diffed, program)
    hit = _patterns_per_action(patterns, services)
    diffed_patterns = [(st, {program.action_plain[x] for x in st.actions}) for st in diffed]
    regions: dict[tuple, list[str]] = {}
    for svc in services:
        for entry in catalogue.service_actions(svc).values():
            full = f"{svc}:{entry['name']}"
            mine = frozenset(hit.get(full, ()))
            if not any(statement_covers(bool(mine & pats), st.not_action) for st, pats in diffed_patterns):
                continue
            low = full.lower()
            # No RCP layer takes part in a diff: the key / trust policy flag splits further, and so do
            # the built-in rules (protected.lp): iam:PutRolePolicy is refused on an SSO role whatever
            # the policies say, iam:GetRole is not.
            sig = (mine, may_need_resource_policy(low), aws_rule_class(low))
            regions.setdefault(sig, []).append(full)
    named = {service_part(p) for p in patterns}
    reps, members, bits = [], {}, {}
    for sig, acts in regions.items():
        # A readable representative: from a service the patterns name, shortest name first.
        rep = min(acts, key=lambda a: (a.split(":")[0] not in named, len(a), a))
        reps.append(rep)
        members[rep] = sorted(acts)
        bits[rep] = sig[0]
    reps.sort()
    return ActionTable(reps, members, bits, spelling)


def _services_in_scope(diffed: list[StmtInfo], program: FactProgram) -> list[str]:
    """The services whose actions some diffed statement can cover. A statement of neither diffed
    side covering an action means both sides decide it alike (the other layers are the same):
    only actions some diffed statement covers can differ."""
    literal_services = set()
    every_service = False
    for st in diffed:
        if st.not_action:
            every_service = True
        for x in st.actions:
            sp = service_part(program.action_plain[x])
            if "*" in sp or "?" in sp or ":" not in program.action_plain[x]:
                every_service = True
            else:
                literal_services.add(sp)
    return sorted(catalogue.services()) if every_service else sorted(literal_services & catalogue.services())


def _patterns_per_action(patterns: list[str], services: list[str]) -> dict[str, set[str]]:
    """Catalogue action -> the (lower-case) patterns that match it."""
    hit: dict[str, set[str]] = {}
    for p in patterns:
        for svc in services:
            if not service_may_match(p, svc):
                continue
            for entry in catalogue.service_actions(svc).values():
                full = f"{svc}:{entry['name']}"
                if action_matches(p, full):
                    hit.setdefault(full, set()).add(p)
    return hit


def describe_actions(table: ActionTable, rep: str) -> ActionRegion:
    acts = table.members[rep]
    services = sorted({a.split(":")[0] for a in acts})
    matched = table.bits[rep]
    not_matched = [p for p in table.spelling if p not in matched and any(service_may_match(p, s) for s in services)]
    return ActionRegion(
        count=len(acts),
        service_count=len(services),
        services=services[:20],
        examples=acts[:5],
        matches=sorted(table.spelling[p] for p in matched if p in table.spelling),
        not_matches=sorted(table.spelling[p] for p in not_matched)[:20],
    )

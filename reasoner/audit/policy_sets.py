"""The sides of a policy diff: a policy file, a directory of policies or a comma-separated list,
and whether they are identity or resource-based policies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reasoner.errors import InputError
from reasoner.policy.document import load_policy
from reasoner.policy.request import NamedPolicy
from reasoner.search.cover import is_resource_policy

POLICY_SUFFIXES = (".json", ".yaml", ".yml")

PolicyKind = Literal["identity", "resource"]


@dataclass
class PolicySet:
    """One side of a diff: a policy, or the policies of a directory or a comma-separated list."""

    label: str
    policies: list[NamedPolicy]


def load_policy_set(spec: str) -> PolicySet:
    """A file, a directory of .json/.yaml files, or several files separated by commas."""
    parts = [p for p in spec.split(",") if p.strip()] if "," in spec else [spec]
    files: list[Path] = []
    for part in parts:
        p = Path(part.strip())
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in POLICY_SUFFIXES)
            if not found:
                raise InputError("directory holds no .json or .yaml policy file", source=str(p))
            files.extend(found)
        else:
            files.append(p)
    if not files:
        raise InputError("no policy file given", source=spec)
    return PolicySet(spec, [NamedPolicy(str(f), load_policy(f)) for f in files])


def policy_kind(sets: list[PolicySet]) -> PolicyKind:
    """identity when no statement has Principal / NotPrincipal, resource when every policy has one."""
    flags = {(ps.label, p.name): is_resource_policy(p.policy) for ps in sets for p in ps.policies}
    if all(flags.values()):
        return "resource"
    if not any(flags.values()):
        return "identity"
    ident = next(name for (_, name), f in flags.items() if not f)
    res = next(p for ps in sets for p in ps.policies if flags[(ps.label, p.name)])
    index = next(
        i for i, st in enumerate(res.policy.Statement) if st.Principal is not None or st.NotPrincipal is not None
    )
    element = "Principal" if res.policy.Statement[index].Principal is not None else "NotPrincipal"
    raise InputError(
        f"a resource-based policy (it names a principal) compared with an identity policy ({ident} "
        "has no Principal); give --kind or compare like with like",
        source=res.name,
        path=("Statement", index, element),
    )

"""The state one query's search program is compiled into: facts so far, the searched domains, and
the names a model's atoms decode back to. Each dimension's module adds its part."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reasoner.engine.facts import FactProgram
from reasoner.policy.patterns import Template, fill
from reasoner.policy.principals import Principal
from reasoner.search.domains import AbstractionError, Domain
from reasoner.search.query import Query


@dataclass
class Compilation:
    program: FactProgram
    query: Query
    singles: dict[str, str]  # fixed single-valued keys: policy variables are filled from them
    absent: set[str]
    facts: list[str] = field(default_factory=list)
    domains: list[Domain] = field(default_factory=list)
    # Interned ids of regions -> their witnesses, for decoding a model.
    action_names: dict[int, str] = field(default_factory=dict)
    resource_names: dict[int, str] = field(default_factory=dict)
    value_names: dict[int, str] = field(default_factory=dict)
    key_names: dict[int, str] = field(default_factory=dict)
    principal: Principal | None = None
    resource_account: str | None = None  # the request's resource account (aws:ResourceAccount when present)
    now: int = 0  # the earliest request time searched (epoch seconds)
    added_star_region: int | None = None  # the resource region "*" added for resource-less actions
    # A joint region's value id -> the other keys' values it carries (the time dimension).
    derived_context: dict[int, dict[str, str]] = field(default_factory=dict)

    def filled(self, template: Template, what: str) -> tuple[tuple[str, bool], ...] | None:
        """The template with its policy variables filled; None when a variable's key is absent
        (the entry cannot match), an error when it is searched (no finite abstraction)."""
        p = fill(template, self.singles)
        if p is None:
            missing = [k for k in template.keys if k not in self.singles]
            if any(k not in self.absent for k in missing):
                raise AbstractionError(f"{what} {searched_variable_text(missing[0])}")
        return p

    def key_id(self, key: str) -> int:
        return self.program.intern("k:" + key)


# The reason of an answer left unknown by a policy variable whose value would be searched; `can`
# reads the key back from it (searched_variable) to try the variable's fallback (search/relax.py).
_SEARCHED = re.compile(r"uses the policy variable \$\{([^}]+)\}, whose value is searched")


def searched_variable_text(key: str) -> str:
    return f"uses the policy variable ${{{key}}}, whose value is searched; fix it with --where to search the rest"


def searched_variable(reason: str | None) -> str | None:
    """The key of the variable an unknown answer's reason says is searched, or None."""
    found = _SEARCHED.search(reason or "")
    return found.group(1) if found else None

"""The package's architecture, enforced: each subpackage is a layer and imports only the layers
below it, and no module imports another module's private (underscore) names.

    errors, resources, envelope, fanout, heap  <  policy  <  engine  <  search  <  account  <  collect  <  audit
    <  api, cases  <  cli
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import reasoner

PACKAGE = Path(reasoner.__file__).resolve().parent
LAYERS = ["base", "policy", "engine", "search", "account", "collect", "audit", "api", "cli"]
TOP_LEVEL = {
    "errors": "base",
    "resources": "base",
    "envelope": "base",
    "fanout": "base",
    "heap": "base",
    "cases": "api",
    "api": "api",
    "__init__": "api",
    "__main__": "cli",
}


def layer_of(module: str) -> str:
    parts = module.split(".")
    assert parts[0] == "reasoner"
    if len(parts) == 1:
        return "api"
    if parts[1] in LAYERS:
        return parts[1]
    return TOP_LEVEL[parts[1]]


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        out.append((".".join(rel.parts), path))
    return out


def imports(path: Path, module: str) -> list[tuple[str, list[str], int]]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("reasoner")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                pkg = module.split(".")[: -node.level] if not path.name == "__init__.py" else module.split(".")
                base = ".".join(pkg + ([base] if base else []))
            if base.startswith("reasoner"):
                out.append((base, [a.name for a in node.names], node.lineno))
    return out


def test_every_module_belongs_to_a_layer():
    for module, _ in modules():
        assert layer_of(module) in LAYERS, module


@pytest.mark.parametrize("module,path", modules(), ids=[m for m, _ in modules()])
def test_imports_go_down_only(module, path):
    mine = LAYERS.index(layer_of(module))
    for target, names, line in imports(path, module):
        theirs = LAYERS.index(layer_of(target))
        # A name may be a submodule (`from reasoner.policy import catalogue`).
        for name in names or [""]:
            full = f"{target}.{name}" if name and f"{target}.{name}".split(".")[1] in LAYERS else target
            theirs = max(theirs, LAYERS.index(layer_of(full))) if full != target else theirs
        assert theirs <= mine, f"{path.name}:{line}: {layer_of(module)} imports {target} ({LAYERS[theirs]})"


@pytest.mark.parametrize("module,path", modules(), ids=[m for m, _ in modules()])
def test_no_private_names_cross_modules(module, path):
    for target, names, line in imports(path, module):
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{path.name}:{line}: imports private {private} from {target}"
        assert not any(p.startswith("_") for p in target.split(".")[1:] if p != "__main__"), target


def test_layer_check_catches_an_upward_import(tmp_path):
    """The check itself can fail: a policy module importing the engine is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from reasoner.engine.decide import decide_many\n")
    ((target, _, _),) = imports(bad, "reasoner.policy.bad")
    assert LAYERS.index(layer_of(target)) > LAYERS.index(layer_of("reasoner.policy.bad"))

"""What users install: the package holds every module and encoding of the checkout, reads its
files through importlib.resources, and installs no top-level `encodings` module (Python's own
codec package must stay the one imported)."""

from __future__ import annotations

import codecs
import importlib.util
from pathlib import Path

from conftest import ROOT

import reasoner
from reasoner.resources import data_file, encoding_file, encodings_dir

INSTALLED = Path(reasoner.__file__).resolve().parent


def test_every_module_of_the_checkout_is_installed():
    source = {p.relative_to(ROOT / "reasoner") for p in (ROOT / "reasoner").rglob("*.py")}
    installed = {p.relative_to(INSTALLED) for p in INSTALLED.rglob("*.py")}
    assert source - installed == set()


def test_every_encoding_is_installed_and_readable():
    source = sorted(p.relative_to(ROOT / "encodings") for p in (ROOT / "encodings").rglob("*.lp"))
    assert source
    for rel in source:
        assert encoding_file(str(rel)).read_text() == (ROOT / "encodings" / rel).read_text()
    assert {p.relative_to(encodings_dir()) for p in encodings_dir().rglob("*.lp")} == set(source)


def test_every_data_file_is_installed():
    for path in (ROOT / "reasoner" / "data").iterdir():
        assert data_file(path.name).read_bytes() == path.read_bytes()


def test_python_encodings_module_is_not_shadowed():
    spec = importlib.util.find_spec("encodings")
    assert spec is not None and spec.origin is not None
    assert Path(spec.origin).parent == Path(codecs.__file__).parent / "encodings"

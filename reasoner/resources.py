"""Files shipped inside the package: the clingo encodings and the data catalogues.

The repository keeps the IAM semantics in the top-level `encodings/` folder, where a reader looks
for them; the wheel ships that folder as `reasoner/encodings/` (pyproject.toml,
`[tool.setuptools.package-dir]`), so no top-level module named `encodings` (Python's own codec
package) is ever installed. A checkout (editable install) reads the top-level folder itself.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _as_path(traversable: object, what: str) -> Path:
    path = Path(str(traversable))
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} is missing from the installed package")
    return path


def encodings_dir() -> Path:
    """The folder of the .lp files: inside the installed package, or the checkout's own."""
    package = Path(str(resources.files("reasoner")))
    installed = package / "encodings"
    return installed if installed.is_dir() else package.parent / "encodings"


def encoding_file(name: str) -> Path:
    """Path of an encoding, e.g. `decide.lp` or `match/action.lp`."""
    return _as_path(encodings_dir() / name, "encoding")


def data_file(name: str) -> Path:
    """Path of a data catalogue in `reasoner/data/`, e.g. `service_chains.json`."""
    return _as_path(resources.files("reasoner").joinpath("data", name), "data file")

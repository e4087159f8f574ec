"""A local AWS-compatible endpoint (moto in server mode on 127.0.0.1) holding the account of
aws_account.py, started once per test session and stopped at its end."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aws_account import ENV, LocalAws, build_account
from moto.server import ThreadedMotoServer


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    saved = {k: os.environ.get(k) for k in ENV}
    os.environ.update(ENV)  # no profile, no real credentials: every call goes to 127.0.0.1
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    aws = LocalAws(url=f"http://{host}:{port}")
    try:
        build_account(aws)
        yield aws
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@cache
def _suite_conftest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("suite_conftest", Path(__file__).parents[1] / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def __getattr__(name: str) -> Any:
    """pytest registers every conftest.py as the module `conftest` (the last one imported wins),
    and the suite's tests import their helpers with `from conftest import run_cli, ROOT, ...`:
    names this conftest lacks come from tests/conftest.py."""
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(_suite_conftest(), name)

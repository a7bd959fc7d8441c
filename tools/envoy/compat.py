"""Which Envoy each Cilium release ships: the table in envoy/cilium-compat.tsv.

The data file is the one place this fact lives: `nox -s compat` prints it, looks
up one Cilium release or lists the releases of one Envoy series, and README.md's
table is generated from it (`--check` fails when README.md or ENVOY_VERSION
disagree with it).  Versions are ordered with ``packaging``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, TextIO

from packaging.version import InvalidVersion, Version

from tools import readme, repo
from tools.errors import ToolkitError

DATA_FILE = "envoy/cilium-compat.tsv"
HEADER = ("cilium", "envoy")
MAIN = "(main)"
README_BLOCK = "compat-table"
README_HEADER = ("Cilium version", "Envoy version")

# A release as people write it: 1.16.5, v1.16.5, 1.17.0-rc.1 (no epochs, no local parts).
_CILIUM_RE = re.compile(r"v?(\d+\.\d+\.\d+(?:[-.]?[A-Za-z]+[.-]?\d*)?)", re.I)
# In the data file: v1.30.8, or v1.32.x for a series (the main branch's row).
_ENVOY_DATA_RE = re.compile(r"v(\d+)\.(\d+)\.(\d+|x)")
# What --envoy accepts: 1.29, v1.29, 1.29.x or an exact 1.29.7.
_ENVOY_QUERY_RE = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+|x))?", re.I)


@dataclass(frozen=True)
class Row:
    cilium: str  # "(main)" or "v1.16.5", as written in the data file
    envoy: str  # "v1.30.8" or "v1.32.x"
    line: int = 0

    @property
    def is_main(self) -> bool:
        return self.cilium == MAIN

    @property
    def version(self) -> Version | None:
        return None if self.is_main else Version(self.cilium)

    @property
    def release(self) -> Version:
        """The Cilium version of a release row (the (main) row has none): a sort key."""
        if self.is_main:
            raise ValueError(f"the {MAIN} row has no release version")
        return Version(self.cilium)

    @property
    def envoy_series(self) -> tuple[int, int]:
        match = _ENVOY_DATA_RE.fullmatch(self.envoy)
        assert match is not None  # validated by load()
        return int(match.group(1)), int(match.group(2))

    @property
    def envoy_patch(self) -> str:
        return self.envoy.rsplit(".", 1)[1]


def _newest_first(rows: Sequence[Row]) -> tuple[Row, ...]:
    """(main) first, then the releases from the newest down."""
    releases = sorted((r for r in rows if not r.is_main), key=lambda r: r.release, reverse=True)
    return tuple(r for r in rows if r.is_main) + tuple(releases)


def parse(text: str, name: str = DATA_FILE) -> tuple[Row, ...]:
    """The rows of the data file, newest first; every mistake names its line."""
    rows: list[Row] = []
    seen: dict[object, int] = {}
    header_seen = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        cells = [cell.strip() for cell in raw.split("\t")]
        if not header_seen:
            if tuple(c.lower() for c in cells) != HEADER:
                raise ToolkitError(
                    f"{name}:{number}: the first line must be the header `cilium<TAB>envoy`."
                )
            header_seen = True
            continue
        if len(cells) != 2:
            raise ToolkitError(
                f"{name}:{number}: expected two tab-separated columns (Cilium, Envoy), "
                f"found {len(cells)}."
            )
        cilium, envoy = cells
        if cilium != MAIN:
            if not cilium.startswith("v") or not _CILIUM_RE.fullmatch(cilium):
                raise ToolkitError(
                    f"{name}:{number}: `{cilium}` is not a Cilium release; write it like v1.16.5 "
                    f"or {MAIN}."
                )
            key: object = _release(cilium, f"{name}:{number}: ")
        else:
            key = MAIN
        if not _ENVOY_DATA_RE.fullmatch(envoy):
            raise ToolkitError(
                f"{name}:{number}: `{envoy}` is not an Envoy version; write it like v1.30.8 "
                "(or v1.32.x for the main branch)."
            )
        if key in seen:
            raise ToolkitError(
                f"{name}:{number}: Cilium {cilium} is already listed on line {seen[key]}; "
                "keep one row per release."
            )
        seen[key] = number
        rows.append(Row(cilium, envoy, number))
    if not header_seen:
        raise ToolkitError(f"{name} is empty; it needs the header `cilium<TAB>envoy` and rows.")
    if MAIN not in seen:
        raise ToolkitError(
            f"{name} has no {MAIN} row; add one with the main branch's Envoy series."
        )
    return _newest_first(rows)


def load(root: Path | None = None) -> tuple[Row, ...]:
    path = (root or repo.ROOT) / DATA_FILE
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ToolkitError(f"{DATA_FILE} is missing; restore it from git.") from None
    return parse(text)


def _release(text: str, where: str) -> Version:
    """A Cilium release from the user or the data file (``where`` prefixes the error)."""
    match = _CILIUM_RE.fullmatch(text.strip())
    try:
        if match is None:
            raise InvalidVersion(text)
        return Version(match.group(1))
    except InvalidVersion:
        raise ToolkitError(
            f"{where}`{text}` is not a Cilium version; write it like 1.16.5, v1.16.5 or main.",
            status=2,
        ) from None


# --- queries -------------------------------------------------------------------------------


def main_row(rows: Sequence[Row]) -> Row:
    return next(r for r in rows if r.is_main)


def lookup(rows: Sequence[Row], query: str) -> Row:
    """The row of one Cilium release; not listed: ToolkitError naming the nearest ones."""
    if query.strip().lower() in ("main", MAIN):
        return main_row(rows)
    wanted = _release(query, "")
    releases = [r for r in rows if not r.is_main]
    for row in releases:
        if row.version == wanted:
            return row
    older = [r for r in releases if r.release < wanted]
    newer = [r for r in releases if r.release > wanted]
    below = max(older, key=lambda r: r.release) if older else None
    above = min(newer, key=lambda r: r.release) if newer else None
    shown = query.strip()
    hint = "`nox -s compat` prints the whole table."
    if below and above:
        raise ToolkitError(
            f"Cilium {shown} is not listed; the nearest listed releases are {below.cilium} "
            f"(Envoy {below.envoy}) and {above.cilium} (Envoy {above.envoy}); {hint}"
        )
    if below:
        main = main_row(rows)
        raise ToolkitError(
            f"Cilium {shown} is newer than every listed release; the nearest is {below.cilium} "
            f"(Envoy {below.envoy}) and the main branch uses Envoy {main.envoy}; {hint}"
        )
    if above:
        raise ToolkitError(
            f"Cilium {shown} is older than every listed release; the nearest is {above.cilium} "
            f"(Envoy {above.envoy}); {hint}"
        )
    raise ToolkitError(f"No Cilium release is listed in {DATA_FILE}; restore it from git.")


def releases_with_envoy(rows: Sequence[Row], query: str) -> tuple[Row, ...]:
    """The rows whose Envoy is in the series ``1.29`` (or exactly ``1.29.7``)."""
    match = _ENVOY_QUERY_RE.fullmatch(query.strip())
    if match is None:
        raise ToolkitError(
            f"--envoy `{query}` is not an Envoy version; write a series like 1.29 or a release "
            "like 1.29.7.",
            status=2,
        )
    series = (int(match.group(1)), int(match.group(2)))
    patch = match.group(3)
    found = tuple(
        r
        for r in rows
        if r.envoy_series == series and (patch in (None, "x") or r.envoy_patch in (patch, "x"))
    )
    if not found:
        in_series = sorted({r.envoy for r in rows if r.envoy_series == series})
        name = f"{series[0]}.{series[1]}"
        if in_series:
            raise ToolkitError(
                f"No listed Cilium release ships Envoy {name}.{patch}; the {name} series appears as "
                f"{', '.join(in_series)} (`--envoy {name}` lists them)."
            )
        listed = ", ".join(f"{a}.{b}" for a, b in sorted({r.envoy_series for r in rows}))
        raise ToolkitError(
            f"No listed Cilium release ships Envoy {name}.x; the table covers Envoy {listed}."
        )
    return found


# --- output --------------------------------------------------------------------------------


def text_table(rows: Sequence[Row]) -> str:
    width = max([len("Cilium")] + [len(r.cilium) for r in rows])
    lines = [f"{'Cilium':<{width}}  Envoy"]
    lines += [f"{r.cilium:<{width}}  {r.envoy}" for r in rows]
    return "\n".join(lines) + "\n"


def markdown_table(rows: Sequence[Row]) -> str:
    lines = [f"| {README_HEADER[0]} | {README_HEADER[1]} |", "|---|---|"]
    lines += [f"| {r.cilium} | {r.envoy} |" for r in rows]
    return "\n".join(lines) + "\n"


def readme_table(root: Path | None = None) -> str:
    """README.md's table: the text between the compat-table markers."""
    return markdown_table(load(root))


# --- --check -------------------------------------------------------------------------------

_README_ROW_RE = re.compile(r"^\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$")


def _readme_rows(block: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in block.splitlines():
        match = _README_ROW_RE.match(line.strip())
        if not match or set(match.group(1)) <= set("-: "):
            continue
        if match.group(1) == README_HEADER[0]:
            continue
        found[match.group(1)] = match.group(2)
    return found


def check(root: Path | None = None) -> list[str]:
    """What disagrees with the data file (README.md's table, ENVOY_VERSION); empty when all agree."""
    root = root or repo.ROOT
    try:
        rows = load(root)
    except ToolkitError as exc:
        return [exc.message]
    problems: list[str] = []
    regenerate = "regenerate it with `python -m tools.docs`"

    try:
        text = (root / "README.md").read_text()
    except FileNotFoundError:
        text = None
        problems.append("README.md is missing; restore it from git.")
    if text is not None:
        block = readme.read_block(text, README_BLOCK)
        if block is None:
            problems.append(
                f"README.md has no `<!-- {README_BLOCK}:begin -->` ... "
                f"`<!-- {README_BLOCK}:end -->` block; add the markers and {regenerate}."
            )
        elif block != markdown_table(rows):
            shown = _readme_rows(block)
            data = {r.cilium: r.envoy for r in rows}
            before = len(problems)
            for row in rows:
                if row.cilium not in shown:
                    problems.append(
                        f"README.md's compat table lacks Cilium {row.cilium} (Envoy {row.envoy}); "
                        f"{regenerate}."
                    )
                elif shown[row.cilium] != row.envoy:
                    problems.append(
                        f"README.md's compat table says Cilium {row.cilium} ships Envoy "
                        f"{shown[row.cilium]} but {DATA_FILE} says {row.envoy}; {regenerate}."
                    )
            for cilium, envoy in shown.items():
                if cilium not in data:
                    problems.append(
                        f"README.md's compat table lists Cilium {cilium} (Envoy {envoy}), which "
                        f"{DATA_FILE} does not; {regenerate}."
                    )
            if len(problems) == before:
                problems.append(
                    f"README.md's compat table has the right rows but not the generated order or "
                    f"layout; {regenerate}."
                )

    try:
        envoy = repo.envoy_version(root)
    except ToolkitError as exc:
        problems.append(exc.message)
    else:
        main = main_row(rows)
        match = repo.ENVOY_VERSION_RE.fullmatch(envoy)
        assert match is not None  # envoy_version() validated it
        series = (int(match.group(1)), int(match.group(2)))
        if series != main.envoy_series:
            problems.append(
                f"ENVOY_VERSION is {envoy} but the {MAIN} row of {DATA_FILE} says {main.envoy}; "
                f"set that row to v{series[0]}.{series[1]}.x (or fix ENVOY_VERSION), then "
                "regenerate README.md with `python -m tools.docs`."
            )
    return problems


# --- --update -------------------------------------------------------------------------------

#: Cilium supports its newest minor releases: --update reads every patch release of these.
SUPPORTED_MINORS = 3
RELEASES_API = "https://api.github.com/repos/cilium/cilium/releases?per_page=100&page={page}"
IMAGE_DOCKERFILE = "https://raw.githubusercontent.com/cilium/cilium/{tag}/images/cilium/Dockerfile"
_ENVOY_IMAGE_RE = re.compile(r"CILIUM_ENVOY_IMAGE=\S*cilium-envoy:(v\d+\.\d+\.\d+)")
_STABLE_RE = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
UPDATE_TIMEOUT = 20.0


def _fetch(url: str) -> str:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "cilium-envoy-toolkit"})
    try:
        with urllib.request.urlopen(request, timeout=UPDATE_TIMEOUT) as answer:  # noqa: S310
            return answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        exc.close()  # the error is also the response: let go of its connection
        raise ToolkitError(
            f"compat --update could not read {url} (HTTP {exc.code}); nothing was changed, "
            "try again later."
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ToolkitError(
            f"compat --update could not reach {url} ({reason}); nothing was changed, run it on "
            "a machine with network access."
        ) from None


def cilium_releases(fetch=_fetch, api: str = RELEASES_API) -> list[str]:
    """Stable Cilium release tags (vX.Y.Z), newest first, as Cilium's releases list them."""
    import json

    tags: list[str] = []
    for page in range(1, 51):
        try:
            listed = json.loads(fetch(api.format(page=page)))
        except ValueError:
            raise ToolkitError(
                "compat --update got an answer that is not JSON from the releases list; nothing "
                "was changed, try again later."
            ) from None
        tags += [
            str(r.get("tag_name")) for r in listed if _STABLE_RE.fullmatch(str(r.get("tag_name")))
        ]
        if len(listed) < 100:
            break
    return sorted(set(tags), key=Version, reverse=True)


def envoy_of(tag: str, fetch=_fetch, dockerfile: str = IMAGE_DOCKERFILE) -> str | None:
    """The Envoy release the Cilium images of ``tag`` carry (their CILIUM_ENVOY_IMAGE)."""
    match = _ENVOY_IMAGE_RE.search(fetch(dockerfile.format(tag=tag)))
    return match.group(1) if match else None


def updated_rows(
    rows: Sequence[Row], fetch=_fetch, api: str = RELEASES_API, dockerfile: str = IMAGE_DOCKERFILE
) -> tuple[tuple[Row, ...], list[str]]:
    """The table with every patch release of the supported minors read afresh; what changed."""
    releases = cilium_releases(fetch, api)
    minors = sorted({Version(t).release[:2] for t in releases}, reverse=True)[:SUPPORTED_MINORS]
    wanted = [t for t in releases if Version(t).release[:2] in minors]
    by_cilium = {r.cilium: r for r in rows}
    changes: list[str] = []
    for tag in wanted:
        envoy = envoy_of(tag, fetch, dockerfile)
        if envoy is None:
            changes.append(
                f"skipped {tag}: its images/cilium/Dockerfile names no cilium-envoy image"
            )
            continue
        old = by_cilium.get(tag)
        if old is None:
            changes.append(f"added {tag}\t{envoy}")
        elif old.envoy != envoy:
            changes.append(f"changed {tag}\t{old.envoy} -> {envoy}")
        by_cilium[tag] = Row(tag, envoy)
    return _newest_first(list(by_cilium.values())), changes


def data_text(rows: Sequence[Row]) -> str:
    return "\n".join(["\t".join(HEADER)] + [f"{r.cilium}\t{r.envoy}" for r in rows]) + "\n"


def update(root: Path, out: TextIO, *, dry_run: bool, fetch=_fetch) -> list[str]:
    """Rebuild the table from Cilium's releases; write the data and README.md unless dry_run."""
    import os

    from tools.files import write_atomic

    api = os.environ.get("CILIUM_RELEASES_API") or RELEASES_API
    dockerfile = os.environ.get("CILIUM_IMAGE_DOCKERFILE") or IMAGE_DOCKERFILE
    rows = load(root)
    new_rows, changes = updated_rows(rows, fetch, api, dockerfile)
    for change in changes:
        print(change, file=out)
    if not changes:
        print(f"{DATA_FILE} is current.", file=out)
    if dry_run:
        print(f"dry run: {DATA_FILE} and README.md were not changed.", file=out)
        return changes
    readme_path = root / "README.md"
    text = readme.replace_block(readme_path.read_text(), README_BLOCK, markdown_table(new_rows))
    write_atomic(root / DATA_FILE, data_text(new_rows))
    if write_atomic(readme_path, text):
        print("README.md: refreshed its table.", file=out)
    return changes

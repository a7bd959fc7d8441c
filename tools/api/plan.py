"""`nox -s api`'s plan: options, pins and facts -> the steps of a run; no I/O.

The same :class:`ApiPlan` is printed by ``--dry-run`` and carried out by a run
(``tools.api.session``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Optional, Sequence

from tools.api import descriptors
from tools.api import protoc as protoc_tool
from tools.api.generate import (
    DESCRIPTOR_SET,
    DRY_INCLUDE,
    DRY_TMP,
    GO_DIR,
    GO_MODULE_ROOT,
    IMPORT_DIR,
    PINS_FILE,
    PLUGINS,
    PROTO_DIR,
    Facts,
    Options,
    Pins,
    has_wkt,
    missing,
    plugin_dir,
)
from tools.run import Plan, Step


def install_steps(pins: Pins, facts: Facts) -> tuple[Step, ...]:
    go = facts.go or "go"
    return tuple(
        Step(
            f"install {name} {pins.plugins[name].version} (pinned in {PINS_FILE})",
            (go, "install", pins.plugins[name].target),
            env=(("GOBIN", os.path.dirname(facts.plugins[name])),),
        )
        for name in facts.to_install
    )


def descriptor_step(protos: Sequence[str], tmp: str) -> Step:
    return Step(
        f"write the descriptor set of Envoy's API that the protos import "
        f"(xds-protos {descriptors.XDS_PROTOS_VERSION})",
        (
            sys.executable,
            "-m",
            "tools.api.descriptors",
            *protos,
            "--out",
            f"{tmp}/{DESCRIPTOR_SET}",
        ),
    )


def protoc_steps(opts: Options, facts: Facts, protos: Sequence[str], tmp: str) -> tuple[Step, ...]:
    """One protoc run per plugin, each into its own folder (independent: may run at once)."""
    if opts.proto_path:
        sources: tuple[str, ...] = tuple(f"-I{folder}" for folder in opts.proto_path)
    else:
        sources = (f"--descriptor_set_in={tmp}/{DESCRIPTOR_SET}",)
    include = () if has_wkt(opts.proto_path) else (f"-I{facts.include or DRY_INCLUDE}",)
    steps = []
    for use in PLUGINS:
        argv = (
            facts.protoc or opts.protoc or "protoc",
            f"--plugin={use.name}={facts.plugins[use.name]}",
            *sources,
            f"-I{IMPORT_DIR}={PROTO_DIR}",
            *include,
            use.out_flag(f"{tmp}/{use.out}"),
            *protos,
        )
        steps.append(Step(f"protoc with {use.name}", argv))
    return tuple(steps)


def go_steps(go: str, root: Path) -> tuple[Step, ...]:
    cwd = str(root / GO_MODULE_ROOT)
    return (
        Step("go build the module", (go, "build", "./..."), cwd=cwd),
        Step("go vet the module", (go, "vet", "./..."), cwd=cwd),
    )


@dataclass(frozen=True)
class ApiPlan:
    """The steps of a run, by kind, and the printable plan that lists them all in order.

    Steps that write into the run's temporary folder name it ``<tmp>``; a run carries
    them out with :func:`in_folder`.
    """

    plan: Plan
    install: tuple[Step, ...]
    descriptors: Optional[Step]
    protoc: tuple[Step, ...]
    go: tuple[Step, ...]
    missing: tuple[str, ...]
    protoc_skew: Optional[str]
    #: the pinned protoc's download (pip), when it is not in the toolkit's cache yet
    protoc_install: Optional[Step] = None


def in_folder(step: Step, tmp: str) -> Step:
    """The step with the real temporary folder where the plan says ``<tmp>``."""
    return replace(step, argv=tuple(a.replace(DRY_TMP, tmp) for a in step.argv))


def make_plan(
    opts: Options,
    root: Path,
    pins: Pins,
    facts: Facts,
    protos: Sequence[str],
    env: Mapping[str, str],
) -> ApiPlan:
    """What a run does, with <tmp> for its temporary folder; no I/O."""
    tmp = DRY_TMP
    install = install_steps(pins, facts)
    fetch_protoc = (
        protoc_tool.install_step(pins.protoc_pin, env, tmp) if facts.protoc_to_install else None
    )
    described: Optional[Step] = None
    protoc: tuple[Step, ...] = ()
    go: tuple[Step, ...] = ()
    skew = None
    notes = []
    if facts.to_install:
        notes.append(
            "each go install goes into a temporary GOBIN first, then the program is moved "
            f"into {plugin_dir(env)}/<name>@<version>/"
        )
    if not opts.install_plugins:
        if not opts.proto_path:
            described = descriptor_step(protos, tmp)
            notes.append(
                f"Envoy's API: xds-protos {descriptors.XDS_PROTOS_VERSION} "
                + (
                    "(cached)"
                    if facts.wheel_cached
                    else "(downloaded once with pip, sha256-checked)"
                )
            )
        protoc = protoc_steps(opts, facts, protos, tmp)
        if facts.protoc:
            notes.append(f"protoc: {facts.protoc} ({facts.protoc_version or 'version unknown'})")
            if facts.protoc_version and facts.protoc_version != pins.protoc:
                skew = protoc_skew(facts.protoc_version, pins.protoc)
                notes.append(skew)
        if not opts.check:
            if facts.go:
                go = go_steps(facts.go, root)
            else:
                notes.append("go build and go vet are skipped: Go is not installed")
        notes.append(
            f"{DRY_TMP} = a temporary folder; the protoc runs go in parallel, then "
            + (
                f"{GO_DIR}/ is compared with the result (nothing is written)"
                if opts.check
                else f"changed files are written into {GO_DIR}/ and generated files of "
                "removed protos are deleted"
            )
        )
    absent = missing(opts, facts, env)
    notes.insert(0, "missing: " + "; ".join(absent) if absent else "missing: nothing")
    title = "api" + "".join(
        f" --{name}"
        for name, on in (("check", opts.check), ("install-plugins", opts.install_plugins))
        if on
    )
    steps = (
        ((fetch_protoc,) if fetch_protoc else ())
        + install
        + ((described,) if described else ())
        + protoc
        + go
    )
    plan = Plan(
        title=title, root=str(root), steps=steps, notes=tuple(notes), extra={"missing": absent}
    )
    return ApiPlan(plan, install, described, protoc, go, absent, skew, fetch_protoc)


def protoc_skew(found: str, pinned: str) -> str:
    return (
        f"protoc {found} is not the pinned {pinned} (tools/api/api_plugins.toml): "
        "the `// protoc` version lines of the .pb.go files will differ"
    )

"""Doctor's judgements: each check reads the findings and says ok, warn or fail.

Pure: everything was asked before (``doctor_facts.gather``), so the same findings always
give the same lines, and tests judge recorded findings directly.
"""

from __future__ import annotations

import re
from typing import Optional

from tools import arches
from tools.errors import ToolkitError
from tools.image import doctor_machine, images, resources
from tools.image.answers import SDK_MISSING, Logins
from tools.image.doctor_facts import Findings
from tools.image.doctor_machine import FAIL, OK, WARN, Check
from tools.image.plan import choose_builder, fallback_blocker, needs_container_driver
from tools.image.spec import OWN_BUILDER

#: Below this buildx lacks options the build relies on or fixed bugs it hits.
MIN_BUILDX = (0, 10)


def _is_local_registry(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return name in ("localhost", "[::1]") or name.startswith("127.")


def check_cli(f: Findings) -> Check:
    if f.cli is None:
        detail = f.cli_error
        if "was not found" in detail:
            detail = f"`{f.settings.docker}` was not found"
        return Check("cli", FAIL, detail, "install Docker or pass --docker=/path/to/docker")
    return Check("cli", OK, f"{f.cli_path or f.cli.path} (docker {f.cli.client_version})")


def check_engine(f: Findings) -> Check:
    if not f.info:
        fix = "start Docker (Docker Desktop, or `sudo systemctl start docker`), or set DOCKER_HOST"
        if "permission denied" in f.engine_error:
            fix = "add yourself to the `docker` group (`sudo usermod -aG docker $USER`, then log in again)"
        if f.engine_error == SDK_MISSING:
            fix = "install it as README's set-up says, then run doctor again"
        return Check("engine", FAIL, f"unreachable: {f.engine_error}", fix)
    info = f.info
    where = resources.engine_kind(info)
    kind = "" if where == "the engine" else f", {where}"
    machine = str(info.get("Architecture", "?"))
    arch = arches.normalise(machine) or machine
    return Check(
        "engine",
        OK,
        f"Docker Engine {info.get('ServerVersion', '?')} ({info.get('OSType', '?')}/{arch}{kind}) "
        f"at {f.endpoint}",
    )


def check_target(f: Findings) -> Check:
    host = f"linux/{f.settings.host_arch}"
    if f.spec_error:
        return Check("target", FAIL, f.spec_error)
    output = (
        f"pushed to {images.registry_of(f.spec.tags[0])}"
        if f.pushing and f.spec and f.spec.tags
        else "pushed"
        if f.pushing
        else "loaded into the local image store"
    )
    return Check("target", OK, f"{', '.join(f.needed_platforms)} on this {host} host; {output}")


def check_buildx(f: Findings) -> Check:
    if f.cli is None:
        return Check("buildx", WARN, "not checked: no docker CLI", "see `cli`")
    install = (
        "install the buildx plugin (Docker's packages: docker-buildx-plugin; Debian: docker-buildx)"
    )
    if f.cli.buildx_version is None:
        blocker = ""
        if f.spec is not None:
            blocker = fallback_blocker(f.settings, f.spec, f.cli) or ""
        elif not f.cli.builtin_buildkit:
            blocker = f"docker {f.cli.client_version} builds with BuildKit only through buildx"
        if blocker:
            return Check("buildx", FAIL, f"not installed, and {blocker}", install)
        return Check(
            "buildx",
            WARN,
            f"not installed; docker {f.cli.client_version} will build with its built-in BuildKit "
            "(one platform, loaded locally)",
            install + " for multi-platform builds, pushes and registry caches",
        )
    version = tuple(int(x) for x in re.findall(r"\d+", f.cli.buildx_version)[:2])
    if version and version < MIN_BUILDX:
        return Check(
            "buildx",
            WARN,
            f"{f.cli.buildx_version} is older than {'.'.join(map(str, MIN_BUILDX))}",
            "update the buildx plugin",
        )
    return Check("buildx", OK, f"{f.cli.buildx_version}")


def check_builder(f: Findings) -> Check:
    """Which builder the build would use, whether it exists, runs and has the right driver."""
    s = f.settings
    if f.cli is None:
        return Check("builder", WARN, "not checked: no docker CLI", "see `cli`")
    if f.cli.buildx_version is None:
        blocker = not f.cli.builtin_buildkit or (
            f.spec is not None and fallback_blocker(s, f.spec, f.cli)
        )
        if blocker:
            return Check("builder", WARN, "not checked: this build needs buildx", "see `buildx`")
        return Check(
            "builder", OK, f"none needed: docker {f.cli.client_version} with DOCKER_BUILDKIT=1"
        )
    spec = f.spec
    reason = needs_container_driver(s, spec) if spec else None
    try:
        choice = choose_builder(s, spec, f.builders) if spec else None
    except ToolkitError as exc:
        return Check("builder", FAIL, exc.message, "pass --builder NAME")
    if choice is not None and choice.create is not None:
        return Check(
            "builder",
            OK,
            f"the build will create `{OWN_BUILDER}` (docker-container driver, for {reason}); "
            "your current builder stays as it is",
        )
    name = choice.flag if choice is not None else s.builder
    report = f.report
    if report is None:
        shown = f"`{name}`" if name else "the current builder"
        return Check(
            "builder",
            FAIL,
            f"{shown} cannot be inspected ({f.builder_problem})",
            f"create it (`docker buildx create --name {name} --driver docker-container`) or drop "
            "--builder"
            if name
            else "check `docker buildx ls`",
        )
    if f.builder_bootstrap == "timeout":
        return Check(
            "builder",
            WARN,
            f"`{report.name}` ({report.driver}) did not start within "
            f"{f.probes.bootstrap_timeout:g} s, so its platforms are unknown",
            f"run `docker buildx inspect --bootstrap {report.name}` and look at its error",
        )
    current = "" if name else " (current)"
    if report.node_errors:
        return Check(
            "builder",
            FAIL,
            f"`{report.name}`{current} ({report.driver}) does not work: {report.node_errors[0]}",
            f"fix or recreate it (`docker buildx rm {report.name}`)",
        )
    if reason and report.driver == "docker":
        return Check(
            "builder",
            FAIL,
            f"`{report.name}` uses the docker driver, which cannot do {reason}",
            "name a docker-container builder, or drop --builder so the build creates one",
        )
    return Check("builder", OK, f"`{report.name}`{current}, driver {report.driver}")


def check_credentials(logins: Optional[Logins]) -> Check:
    """Does the docker client hold a login for every registry the build pushes to?"""
    name = "credentials"
    if logins is None or not (logins.found or logins.missing or logins.config_error
                              or logins.store_error or logins.sdk_missing):  # fmt: skip
        return Check(name, OK, "not needed: nothing is pushed (the image is loaded locally)")
    path = logins.config
    if logins.config_error:
        return Check(name, FAIL, logins.config_error, f"fix or remove {path}")
    if logins.sdk_missing:
        return Check(
            name, WARN, "not checked: the docker SDK for Python is missing", "run `nox -s doctor`"
        )
    if logins.store_error:
        return Check(
            name,
            FAIL,
            f"the credential store docker-credential-{logins.store} is not on PATH or did "
            f"not answer ({logins.store_error})",
            f"fix `credsStore` in {path}, then run `docker login {logins.store_registry}`",
        )
    if not logins.missing:
        return Check(name, OK, "logged in to " + ", ".join(logins.found))
    hosts = " ".join(logins.missing)
    login = "; ".join(f"`docker login {h}`" for h in logins.missing)
    if all(_is_local_registry(h) for h in logins.missing):
        return Check(
            name,
            WARN,
            f"no credentials for {hosts} (a local registry often needs none)",
            f"run {login} if it asks for them",
        )
    return Check(
        name, FAIL, f"no credentials for {hosts}, so the push would be refused", f"run {login}"
    )


def check_builder_image(f: Findings) -> Check:
    name = "builder-image"
    if f.facts is None or not f.bazel_version:
        return Check(name, WARN, "not checked: the checkout's facts are missing", "see `target`")
    if f.builder_image_error:
        return Check(name, FAIL, f.builder_image_error, "pass --builder-base or --builder-base-tag")
    ref = f.builder_image
    build_it = (
        "build it with `nox -s builder` (add `-- --push` so docker-container builders and CI find "
        "it), or pass --builder-base"
    )
    if not f.engine_answered:
        return Check(
            name, WARN, f"{ref} not checked: the engine did not answer", "start the engine"
        )
    if f.builder_image_lookup_error:
        return Check(name, WARN, f"{ref}: {f.builder_image_lookup_error}", "run doctor again")
    local = f.builder_image_local
    if local and not f.container_builder:
        return Check(name, OK, f"{ref} is in the local image store")
    answer, why = f.registry
    builder = f"`{f.report.name}`" if f.report is not None else f"`{OWN_BUILDER}`"
    if answer == "found":
        return Check(name, OK, f"{ref} is in the registry")
    local_note = (
        f"; a local copy exists, but builder {builder} (docker-container) pulls from the registry"
        if local
        else ""
    )
    if answer == "missing":
        return Check(
            name,
            FAIL,
            f"{ref} is neither in the local image store nor in the registry{local_note}",
            build_it,
        )
    # Neither here nor pullable: the build fails at once, so this is a failure.
    status = WARN if local else FAIL
    if answer == "denied":
        return Check(
            name,
            status,
            f"the registry refused to show {ref} ({why}){local_note}",
            f"run `docker login {images.registry_of(ref)}` if the image is private, or " + build_it,
        )
    return Check(
        name,
        status,
        f"{ref} is not in the local image store and the registry could not be reached "
        f"({why}){local_note}",
        "check the network, or " + build_it,
    )


def run_checks(f: Findings) -> list[Check]:
    """Every check, in the order doctor prints them; pure judgements over ``f``."""
    return [
        check_cli(f),
        check_engine(f),
        check_target(f),
        check_buildx(f),
        check_builder(f),
        doctor_machine.check_emulation(f),
        doctor_machine.check_memory(f),
        doctor_machine.check_disk(f),
        check_credentials(f.logins),
        check_builder_image(f),
    ]

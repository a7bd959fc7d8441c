"""Doctor's judgements about the machine that builds: emulation, memory and disk.

Pure, like ``doctor_checks`` (which holds the rest and runs them all in order); the
result type :class:`Check` lives here, where both find it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from tools.image import resources
from tools.image.doctor_facts import Emulation, Findings

OK, WARN, FAIL = "ok", "warn", "fail"

#: Free disk where the engine keeps its data: an Envoy build with its builder and
#: Bazel cache images takes tens of GiB.  Below the first it will not fit.
DISK_FAIL_GIB = 10
DISK_WARN_GIB = 40
#: Engine memory: below one compile job's budget the compiler will be killed.
MEMORY_FAIL_GIB = resources.JOB_MEMORY_GIB
MEMORY_WARN_GIB = 8


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4} {self.name}: {self.detail}"
        return f"{text} — {self.fix}" if self.fix and self.status != OK else text


def _emulation_fix(arch: str) -> str:
    return (
        f"register QEMU for {arch}: `docker run --privileged --rm tonistiigi/binfmt --install {arch}` "
        "(or install your distribution's qemu-user-static)"
    )


def _runs(platforms: Sequence[str], wanted: str) -> bool:
    """Does a platform list (linux/arm64, linux/amd64/v2 ...) include linux/<arch>?"""
    return any(p.split("/")[:2] == wanted.split("/")[:2] for p in platforms)


def check_emulation(f: Findings) -> Check:
    """Can the builder run every platform the build needs?"""
    host = f.settings.host_arch
    foreign = [p for p in f.needed_platforms if p.split("/")[1] != host]
    if not foreign:
        return Check("emulation", OK, f"not needed: linux/{host} is this host's platform")
    archs = [p.split("/")[1] for p in foreign]
    wanted = ", ".join(foreign)
    report = f.report
    listed = report.platforms if report is not None else ()
    fix = _emulation_fix(archs[0])
    # A docker-container (or remote) builder says what its BuildKit detected.
    if report is not None and report.driver != "docker" and listed:
        missing = [p for p in foreign if not _runs(listed, p)]
        if not missing:
            return Check("emulation", OK, f"builder `{report.name}` runs {wanted}")
        return Check(
            "emulation",
            FAIL,
            f"builder `{report.name}` cannot run {', '.join(missing)} (it lists {', '.join(listed)})",
            f"{fix}, then restart the builder: `docker buildx stop {report.name}`",
        )
    if f.info and resources.is_desktop(f.info):
        return Check("emulation", OK, f"Docker Desktop runs {wanted} (emulation built in)")
    if f.engine_local or (not f.info and f.host_linux):
        states = {arch: f.binfmt.get(arch) or Emulation("unmounted") for arch in archs}
        bad = {a: e for a, e in states.items() if e.state != "registered"}
        if not bad:
            shown = ", ".join(f"{e.entry} ({e.interpreter})" for e in states.values())
            return Check("emulation", OK, f"{wanted} through binfmt_misc: {shown}")
        arch, state = next(iter(bad.items()))
        fix = _emulation_fix(arch)
        if state.state == "unmounted":
            return Check(
                "emulation",
                WARN,
                f"{f.probes.binfmt_dir} is not mounted here, so emulation for linux/{arch} cannot be seen",
                fix,
            )
        detail = {
            "missing": f"no emulator for linux/{arch} is registered with binfmt_misc",
            "disabled": f"binfmt_misc emulation is disabled ({state.entry or 'status'})",
            "no-fix-binary": f"{state.entry} is registered without the F (fix-binary) flag, so "
            "containers cannot use it",
        }[state.state]
        return Check("emulation", FAIL, detail, fix)
    if report is not None and listed and _all_run(listed, foreign):
        return Check("emulation", OK, f"builder `{report.name}` lists {wanted}")
    return Check(
        "emulation",
        WARN,
        f"cannot tell whether the engine at {f.endpoint or 'its address'} runs {wanted}",
        f"if the build fails with `exec format error`, {fix} on the engine's host",
    )


def _all_run(listed: Sequence[str], wanted: Sequence[str]) -> bool:
    return all(_runs(listed, p) for p in wanted)


def check_memory(f: Findings) -> Check:
    found = f.resources
    platforms = 2 if f.arch == "multi" else 1
    jobs = f.recommended_jobs
    share = ", per platform: two build at once" if platforms > 1 else ""
    detail = (
        f"{found.describe()}: recommends --jobs={jobs} "
        f"(about {resources.JOB_MEMORY_GIB} GiB per C++ compile job{share})"
    )
    whole_gib = int(found.memory_gib + 0.5)
    more = (
        "give Docker Desktop more memory (Settings > Resources > Memory)"
        if f.info and resources.is_desktop(f.info)
        else "build on a machine (or VM) with more memory"
    )
    if found.source == "host":
        return Check(
            "memory",
            WARN,
            f"the engine did not answer; this host has {found.describe()}, and would get "
            f"--jobs={jobs}",
            "start the engine and run doctor again",
        )
    if whole_gib < MEMORY_FAIL_GIB:
        return Check(
            "memory",
            FAIL,
            f"{detail}; less than the {resources.JOB_MEMORY_GIB} GiB one compile job needs, so the "
            "compiler will be killed",
            f"{more}: at least {MEMORY_WARN_GIB} GiB",
        )
    if whole_gib < MEMORY_WARN_GIB:
        return Check("memory", WARN, f"{detail}; the build will be slow", f"{more}: 8 GiB or more")
    asked = f.settings.jobs
    if isinstance(asked, int) and asked > jobs:
        return Check(
            "memory",
            WARN,
            f"{detail}; --jobs={asked} asks for about {asked * resources.JOB_MEMORY_GIB} GiB",
            f"use --jobs=auto (or --jobs={jobs}) so the compiler is not killed",
        )
    return Check("memory", OK, detail)


def check_disk(f: Findings) -> Check:
    if not f.info:
        return Check("disk", WARN, "not checked: the engine did not answer", "start the engine")
    root = str(f.info.get("DockerRootDir") or "")
    if not f.engine_local:
        where = resources.engine_kind(f.info)
        fix = (
            "check Docker Desktop's disk limit (Settings > Resources > Advanced)"
            if resources.is_desktop(f.info)
            else "check the free space on the engine's host"
        )
        return Check(
            "disk",
            WARN,
            f"not measured: {root or 'the data directory'} is inside {where}, not on this machine",
            f"{fix}: a build needs about {DISK_WARN_GIB} GiB free",
        )
    if not root:
        return Check(
            "disk", WARN, "the engine does not say where it keeps its data", "check `docker info`"
        )
    if f.disk_free is None:
        return Check(
            "disk",
            WARN,
            f"cannot measure {root} ({f.disk_error})",
            f"make sure {DISK_WARN_GIB} GiB are free there",
        )
    return judge_disk(f.disk_free, root)


def judge_disk(free: int, where: str) -> Check:
    gib = free / resources.GIB
    detail = f"{gib:.0f} GiB free at {where}"
    prune = "free space (`docker system prune`, `docker builder prune`)"
    if gib < DISK_FAIL_GIB:
        return Check(
            "disk",
            FAIL,
            f"{detail}; the build will not fit",
            f"{prune}: {DISK_WARN_GIB} GiB or more",
        )
    if gib < DISK_WARN_GIB:
        return Check(
            "disk",
            WARN,
            f"{detail}; a build from scratch may not fit",
            f"{prune} to have {DISK_WARN_GIB} GiB",
        )
    return Check("disk", OK, detail)

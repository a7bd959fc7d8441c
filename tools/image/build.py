"""The image sessions: settings -> plan -> (dry run | execution) -> summary."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Mapping, Sequence, TextIO

from tools import repo
from tools.image import facts, images
from tools.image.plan import BuildPlan, plan
from tools.image.resolve import resolve
from tools.image.settings import Settings
from tools.run import execute, redact


def make_plan(
    settings: Settings, root: Path, environ: Mapping[str, str] | None = None
) -> BuildPlan:
    """Gather the facts, then compute everything the session will do; changes nothing."""
    return plan(settings, facts.gather(settings, root, environ))


def _digest(root: Path, result_file: str) -> str | None:
    path = root / result_file
    try:
        text = path.read_text().strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    if result_file.endswith(".iid"):
        return text or None
    try:
        meta = json.loads(text)
    except ValueError:
        return None
    return meta.get("containerimage.digest") or meta.get("containerimage.config.digest")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


def summary(bp: BuildPlan, seconds: float, digest: str | None) -> str:
    lines = [
        f"==> {bp.settings.session} finished in {_duration(seconds)}; image {bp.output}:",
        *(f"    {tag}" for tag in bp.tags),
        f"    digest: {digest or 'unknown'}",
        f"    platforms: {', '.join(bp.platforms)}",
    ]
    if bp.bazel_opts or bp.test_opts is None:
        lines.append(f"    Bazel options: {redact(bp.bazel_opts) or '(none)'}")
    if bp.test_opts is not None:
        lines.append(f"    Bazel test options: {redact(bp.test_opts)}")
    if bp.jobs_note:
        lines.append(f"    {bp.jobs_note}")
    return "\n".join(lines)


def main(
    argv: Sequence[str],
    session: str,
    *,
    root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> BuildPlan:
    out = out or sys.stdout
    root = root or repo.ROOT
    settings = resolve(session, argv, root=root, environ=environ).settings
    bp = make_plan(settings, root, environ)
    if settings.dry_run:
        execute(bp.plan, dry_run=True, out=out)
        return bp
    result = root / bp.result_file
    result.unlink(missing_ok=True)
    started = time.monotonic()
    execute(bp.plan, out=out)
    print(
        summary(bp, time.monotonic() - started, _digest(root, bp.result_file)), file=out, flush=True
    )
    return bp


def default_image_ref(
    root: Path | None = None, environ: Mapping[str, str] | None = None, arch: str | None = None
) -> str:
    """The first tag `nox -s build` (with ``--arch arch`` when given) gives its image (for extract)."""
    root = root or repo.ROOT
    argv = ["--arch", arch] if arch else []
    settings = resolve("build", argv, root=root, environ=environ).settings
    return images.tags(settings, repo.git_facts(root), repo.bazel_version(root))[0]

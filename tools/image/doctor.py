"""`nox -s doctor`: what would make an hour-long build fail, found before it starts.

Takes the image sessions' options (``--arch``, ``--push``, ``--dev-account``,
``--builder`` ...), so it checks the build you are about to run.  It gathers its
findings once (``doctor_facts``: the docker CLI, the engine through the docker SDK,
the kernel's binfmt_misc table, the docker client config, the registry), then judges
them (``doctor_checks``, ``doctor_machine``).  It changes nothing, except that
``docker buildx inspect --bootstrap`` starts a builder that is not running (the build
would start it anyway).

Each check ends as ok, warn (the build may still work; the line says what to
look at) or fail (the requested build would fail); any fail makes the session
fail.  ``--json`` prints one JSON document instead of the lines.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Mapping, Sequence, TextIO

from tools import repo
from tools.errors import ToolkitError
from tools.image import resources
from tools.image.doctor_checks import run_checks
from tools.image.doctor_facts import Findings, Probes, gather
from tools.image.doctor_machine import FAIL, OK, WARN, Check
from tools.image.resolve import resolve

DESCRIPTION = (
    "Check this machine for the build you are about to run (it takes `build`'s options); "
    "exits non-zero when it would fail."
)


def report_json(f: Findings, checks: Sequence[Check]) -> str:
    found = f.resources
    document = {
        "ok": all(c.status != FAIL for c in checks),
        "target": {
            "arch": f.arch,
            "platforms": list(f.needed_platforms),
            "host": f"linux/{f.settings.host_arch}",
            "push": f.pushing,
        },
        "checks": [asdict(c) for c in checks],
        "recommended_jobs": f.recommended_jobs,
        "resources": asdict(found),
        "job_memory_gib": resources.JOB_MEMORY_GIB,
    }
    return json.dumps(document, indent=2)


def summary_line(f: Findings, checks: Sequence[Check]) -> str:
    counts = {s: sum(1 for c in checks if c.status == s) for s in (OK, WARN, FAIL)}
    return (
        f"doctor: {counts[OK]} ok, {counts[WARN]} warn, {counts[FAIL]} fail; "
        f"--jobs=auto would choose {f.recommended_jobs}"
    )


def main(
    argv: Sequence[str],
    *,
    root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    probes: Probes | None = None,
) -> list[Check]:
    out = out or sys.stdout
    root = root or repo.ROOT
    environ = dict(os.environ if environ is None else environ)
    resolved = resolve(
        "doctor",
        argv,
        root=root,
        environ=environ,
        extend=lambda p: p.add_argument(
            "--json", action="store_true", help="print one JSON document instead of the lines"
        ),
        description=DESCRIPTION,
    )
    f = gather(resolved.settings, root, environ, probes or Probes())
    checks = run_checks(f)
    if resolved.args.json:
        print(report_json(f, checks), file=out, flush=True)
    else:
        for check in checks:
            print(check.line(), file=out, flush=True)
        print(summary_line(f, checks), file=out, flush=True)
    failed = [c.name for c in checks if c.status == FAIL]
    if failed:
        raise ToolkitError(
            f"doctor: {len(failed)} check(s) failed ({', '.join(failed)}); fix them before building."
        )
    return checks

"""`nox -s api`: make the plan, print it (``--dry-run``) or carry out its steps.

The steps come from ``tools.api.plan`` (the same object a dry run prints); this module
runs them: the go installs (each into a private GOBIN, then one rename), the descriptor
set, the protoc runs at once, the comparison with go/ (``tools.api.gofiles``) and
`go build`/`go vet`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Mapping, Optional, Sequence, TextIO

from tools import repo
from tools.api import protoc as protoc_tool
from tools.api.generate import (
    _MODULE_TROUBLE,
    GO_DIR,
    GO_MODULE_ROOT,
    MIN_GO,
    PLUGINS,
    TOOLKIT_ROOT,
    Result,
    find_protos,
    gather,
    load_pins,
    parse,
    plugin_dir,
)
from tools.api.gofiles import apply, collect, compare
from tools.api.plan import in_folder, make_plan
from tools.errors import ToolkitError
from tools.run import Step, execute, query, stream


def install(steps: Sequence[Step], env: Mapping[str, str], out: TextIO) -> list[str]:
    """Carry out the go install steps: each into a private GOBIN, then one rename.

    Two runs installing the same plugin at once (parallel tests, two terminals)
    both succeed, and nobody ever sees a half-written program.
    """
    installed = []
    for step in steps:
        target_dir = Path(dict(step.env)["GOBIN"])
        name = target_dir.name.split("@", 1)[0]
        target_dir.mkdir(parents=True, exist_ok=True)
        step.announce(out)
        with tempfile.TemporaryDirectory(prefix=".go-install-", dir=target_dir) as tmp:
            status = stream(step.argv, cwd=Path(tmp), env={**env, "GOBIN": tmp})
            built = Path(tmp) / name
            if status != 0 or not built.is_file():
                raise ToolkitError(
                    f"`{step.argv[-1]}` could not be installed (exit status {status}, Go's "
                    f"output is above); check that the Go module proxy is reachable and Go is "
                    f"{'.'.join(map(str, MIN_GO))} or newer."
                )
            os.replace(built, target_dir / name)
        installed.append(name)
    return installed


def write_descriptor_set(step: Step, root: Path, env: Mapping[str, str], out: TextIO) -> None:
    step.announce(out)
    # `python -m tools.api.descriptors` is this toolkit's module, whatever the checkout.
    python_path = os.pathsep.join(p for p in (str(TOOLKIT_ROOT), env.get("PYTHONPATH")) if p)
    answer = query(step.argv, cwd=root, env={**env, "PYTHONPATH": python_path}, timeout=None)
    text = (answer.stderr or "").strip()
    if answer.returncode != 0:
        prefix = "descriptors: "
        last = text.splitlines()[-1] if text else f"exit status {answer.returncode}"
        raise ToolkitError(last[len(prefix) :] if last.startswith(prefix) else last)
    if text:
        print(text, file=out, flush=True)


def run_protoc(steps: Sequence[Step], root: Path, env: Mapping[str, str], out: TextIO) -> None:
    """Run the independent protoc runs at once; on failure show protoc's own error."""
    jobs = max(1, min(len(steps), os.cpu_count() or 1))
    for step in steps:
        step.announce(out)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        answers = list(pool.map(lambda s: query(s.argv, cwd=root, env=env, timeout=None), steps))
    shown = set()
    for answer in answers:
        text = (answer.stderr or "").strip()
        if text and text not in shown:  # the same bad proto fails every run alike
            shown.add(text)
            print(text, file=out, flush=True)
    for answer in answers:
        if answer.returncode != 0:
            first = _first_line(answer.stderr or answer.stdout)
            raise ToolkitError(
                f"protoc failed ({first}); fix the proto, go/ was not changed.",
                status=answer.returncode if answer.returncode > 0 else 1,
            )


def build_and_vet(steps: Sequence[Step], root: Path, env: Mapping[str, str], out: TextIO) -> str:
    """`go build` and `go vet` the module; returns what happened."""
    if not steps:
        return _note(out, "skipped go build and go vet: Go is not installed")
    if not (root / GO_MODULE_ROOT / "go.mod").exists():
        return _note(out, f"skipped go build and go vet: {_go_mod()} is missing")
    for step in steps:
        step.announce(out)
        answer = query(step.argv, cwd=Path(step.cwd or root), env=env, timeout=None)
        text = (answer.stdout + answer.stderr).strip()
        trouble = _MODULE_TROUBLE.search(text) if answer.returncode != 0 else None
        if trouble:  # one line per package would only repeat it: show the first
            return _note(
                out,
                f"skipped go build and go vet: Go could not resolve the modules "
                f"({_first_line(text).removesuffix('; to add:')}); when the proto's imports changed, run `go mod tidy` "
                f"beside {_go_mod()} where the Go module proxy is reachable and commit go.mod "
                "and go.sum",
            )
        if text:
            print(text, file=out, flush=True)
        if answer.returncode == 0:
            continue
        # Go heads its errors with a "# package" line: name the first real one.
        errors = "\n".join(line for line in text.splitlines() if not line.startswith("# "))
        raise ToolkitError(
            f"{step.description} failed ({_first_line(errors or text)}); fix the Go code "
            "(a hand-written file, or the proto that generated the file named above)."
        )
    return "built and vetted"


def _go_mod() -> str:
    return os.path.normpath(os.path.join(GO_MODULE_ROOT, "go.mod"))


def _note(out: TextIO, text: str) -> str:
    print(f"note: {text}.", file=out, flush=True)
    return text


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return "no output"


def main(
    argv: Sequence[str],
    *,
    root: Optional[Path] = None,
    environ: Optional[Mapping[str, str]] = None,
    out: Optional[TextIO] = None,
) -> Result:
    out = out or sys.stdout
    root = Path(root or repo.ROOT)
    env = dict(os.environ if environ is None else environ)
    opts = parse(argv)
    protos = find_protos(root)
    pins = load_pins(root)
    for folder in opts.proto_path:
        if not os.path.isdir(folder):
            raise ToolkitError(f"--proto-path `{folder}` is not a folder; pass an existing one.")
    planned = make_plan(opts, root, pins, gather(opts, pins, env), protos, env)
    absent = planned.missing

    if opts.dry_run:
        execute(planned.plan, dry_run=True, out=out)
        return Result(plan=planned.plan, missing=absent)
    if absent:
        raise ToolkitError(
            f"`nox -s api` needs {' and '.join(absent)}; install {'them' if len(absent) > 1 else 'it'} "
            "and run it again.",
            status=127,
        )

    result = Result(plan=planned.plan)
    if planned.protoc_install is not None:
        protoc_tool.install(pins.protoc_pin, env, out)
        result.installed.append("protoc")
    result.installed += install(planned.install, env, out)
    if opts.install_plugins:
        where = f"{protoc_tool.home(env, pins.protoc).parent} and {plugin_dir(env)}"
        print(
            f"installed {', '.join(result.installed)} into {where}"
            if result.installed
            else f"the pinned protoc and plugins are installed in {where}",
            file=out,
        )
        return result
    if planned.protoc_skew:
        print(f"note: {planned.protoc_skew}.", file=out)

    with tempfile.TemporaryDirectory(prefix="nox-api-") as tmp:
        for use in PLUGINS:
            (Path(tmp) / use.out).mkdir()
        if planned.descriptors is not None:
            write_descriptor_set(in_folder(planned.descriptors, tmp), root, env, out)
        run_protoc([in_folder(step, tmp) for step in planned.protoc], root, env, out)
        generated = collect(Path(tmp))
    changes = compare(root, generated)
    result.unchanged = changes.unchanged

    if opts.check:
        if changes.write or changes.remove:
            listed = [f"{GO_DIR}/{r}" for r in changes.write] + [
                f"{GO_DIR}/{r} (stale)" for r in changes.remove
            ]
            shown = ", ".join(listed[:4]) + (
                f" and {len(listed) - 4} more" if len(listed) > 4 else ""
            )
            why = (
                "; only the generator version lines differ, so go/ was made with another protoc "
                "or plugin version"
                if changes.only_versions
                else ""
            )
            for line in listed:
                print(f"differs: {line}", file=out)
            raise ToolkitError(
                f"{GO_DIR}/ is not what generation gives: {shown}{why}; run `nox -s api` "
                "and commit the result."
            )
        print(f"{GO_DIR}/ is up to date ({len(changes.unchanged)} generated files).", file=out)
        return result

    apply(root, generated, changes, out)
    result.written, result.removed = changes.write, changes.remove
    if not changes.write and not changes.remove:
        print(f"{GO_DIR}/ was already up to date ({len(changes.unchanged)} files).", file=out)
    result.go = build_and_vet(planned.go, root, env, out)
    return result

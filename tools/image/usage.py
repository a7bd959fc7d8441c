"""The docs the two tables write: `nox --usage`, the noxfile's docstrings, README's tables.

Everything here reads the option table (``settings``) and the session table
(``sessions``); nothing is written by hand twice.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from tools.image import sessions
from tools.image.settings import OPTIONS, SETTINGS_FILE, Option


def _default_text(opt: Option) -> str:
    if opt.shown_default:
        return opt.shown_default
    if opt.kind in ("bool", "level"):
        return "off"
    return "none" if opt.default in (None, (), "") else str(opt.default)


def _example(opt: Option) -> str:
    return opt.example or (
        opt.flag if opt.kind in ("bool", "level") else f"{opt.flag}={opt.metavar}"
    )


def usage(session: str) -> str:
    """The options block of a session's docstring (shown by `nox --usage SESSION`)."""
    lines = [
        "",
        f"Options go after `--`, e.g. `nox -s {session} -- --dry-run`. An option not given",
        f"is read from its environment variable, then from {SETTINGS_FILE}, then its default.",
        "",
    ]
    for opt in OPTIONS:
        if opt.name not in sessions.options_of(session):
            continue
        left = opt.flag + (f" {opt.metavar}" if opt.metavar and opt.kind != "bool" else "")
        env = f"env {opt.env}; " if opt.env else ""
        lines.append(f"  {left}  ({env}default: {_default_text(opt)})")
        lines.append(f"      {opt.help}.")
        lines.append(f"      e.g. nox -s {session} -- {_example(opt)}")
    return "\n".join(lines)


def document(session: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Append the generated options block to a session function's docstring."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func.__doc__ = (func.__doc__ or "").rstrip() + "\n" + usage(session)
        return func

    return decorate


def _applies_text(opt: Option) -> str:
    where = sessions.sessions_with(opt.name)
    if len(where) == len(sessions.SESSIONS):
        return "all"
    return ", ".join(where)


def _table(header: str, rows: Sequence[Sequence[str]]) -> str:
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for cells in rows:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The settings table for README.md."""
    rows = []
    for opt in OPTIONS:
        flag = opt.flag + (f" {opt.metavar}" if opt.metavar and opt.kind != "bool" else "")
        env = f"`{opt.env}`" if opt.env else "—"
        rows.append((f"`{flag}`", env, _default_text(opt), _applies_text(opt), opt.help))
    return _table("| flag | env var | default | sessions | effect |", rows)


def sessions_markdown_table() -> str:
    """The image sessions table for README.md."""
    rows = []
    for row in sessions.SESSIONS.values():
        dockerfile = f"`{row.dockerfile}`" + (f" (`{row.target}`)" if row.target else "")
        bazel = f"`{row.bazel_opts}`" if row.bazel_opts else "—"
        if row.fixed_arch == "multi":
            bazel = f"`{sessions.MULTI_JOBS}` unless you set a job count"
        rows.append((f"`{row.name}`", dockerfile, row.arches_text, row.tag_rule.text, bazel))
    return _table(
        "| session | Dockerfile (target) | architectures | tags | Bazel options it adds |", rows
    )

"""Flags, environment and the settings file -> :class:`Settings`, by the option table.

Options that do not apply to the session (the session table says which do) are refused
as flags and ignored, with a note, from the environment or the settings file.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

from tools.cli import Parser
from tools.errors import ToolkitError
from tools.files import load_toml
from tools.image import sessions, settings, values
from tools.image.settings import BY_NAME, OPTIONS, SETTINGS_FILE, Option, Settings
from tools.run import redact


def _load_file(root: Path) -> Dict[str, Any]:
    """The settings file's values by option name; keys are spelled exactly as the flags."""
    path = root / SETTINGS_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise ToolkitError(f"{SETTINGS_FILE} is not UTF-8 text; fix or remove it.") from None
    data = load_toml(text, SETTINGS_FILE)
    keys = {opt.flag[2:]: opt for opt in OPTIONS}
    values: Dict[str, Any] = {}
    for key, value in data.items():
        opt = keys.get(key)
        if opt is None:
            import difflib  # only on this error path

            spelled = key.replace("_", "-").lower()
            close = [spelled] if spelled in keys else difflib.get_close_matches(key, keys, n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            valid = ", ".join(sorted(k for k, o in keys.items() if o.in_file))
            raise ToolkitError(
                f"{SETTINGS_FILE} has an unknown key `{key}`; {hint}keys are spelled as the flags: "
                f"{valid}."
            )
        if not opt.in_file:
            raise ToolkitError(
                f"{SETTINGS_FILE} cannot set `{key}`; pass {opt.flag} on the command line instead."
            )
        values[opt.name] = value
    return values


def _coerce(opt: Option, value: Any, where: str) -> Any:
    """Turn a flag, environment or file value into the option's type."""
    try:
        if opt.kind == "bool":
            if isinstance(value, bool):
                return value
            if where.startswith("--"):
                return values.bool_flag(str(value))
            if where.startswith(SETTINGS_FILE):
                raise ValueError("must be true or false")
            return values.bool_from_text(str(value))
        if opt.kind == "list":
            return _coerce_list(opt, value, where)
        if where.startswith(SETTINGS_FILE) and isinstance(value, bool):
            raise ValueError("must be a string or a number")
        if opt.convert is not None:
            return opt.convert(str(value))
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value
    except ValueError as exc:
        shown = redact(str(value))
        if opt.secret:  # NAME=VALUE: the name helps, the value is a credential
            name, sep, _ = str(value).partition("=")
            shown = f"{redact(name)}=***" if sep else "***"
        raise ToolkitError(f"{where} `{shown}` is not valid: it {exc}.") from None


def _coerce_list(opt: Option, value: Any, where: str) -> Tuple[Any, ...]:
    """A repeatable setting: flags give a list, the environment words split at white space,
    the settings file a list of strings (or one string)."""
    if isinstance(value, str):
        items: Sequence[Any] = value.split() if not where.startswith("--") else [value]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise ValueError("must be a list of strings")
    if not all(isinstance(item, str) for item in items):
        raise ValueError("must be a list of strings")
    return tuple(opt.convert(item) if opt.convert else item for item in items)


def _add_flags(parser: argparse.ArgumentParser, applies: Callable[[Option], bool]) -> None:
    """Every flag is known (so one that does not apply gets its own sentence); only the
    session's own are shown in --help."""
    for opt in OPTIONS:
        shown = opt.help if applies(opt) else argparse.SUPPRESS
        if opt.kind == "bool":
            parser.add_argument(
                opt.flag, dest=opt.name, nargs="?", const="1", metavar="BOOL", help=shown
            )
            if not opt.name.startswith("no_"):
                parser.add_argument(
                    "--no-" + opt.flag[2:],
                    dest=opt.name,
                    action="store_const",
                    const="0",
                    help=argparse.SUPPRESS,
                )
        elif opt.kind == "list":
            parser.add_argument(
                opt.flag, dest=opt.name, action="append", metavar=opt.metavar, help=shown
            )
        elif opt.kind == "level":
            parser.add_argument(
                opt.flag, dest=opt.name, nargs="?", const="1", metavar=opt.metavar, help=shown
            )
        else:
            parser.add_argument(opt.flag, dest=opt.name, metavar=opt.metavar, help=shown)


def applies_to(session: str, name: str) -> bool:
    return name in sessions.options_of(session)


def make_parser(
    session: str,
    extend: Optional[Callable[[argparse.ArgumentParser], object]] = None,
    description: Optional[str] = None,
) -> argparse.ArgumentParser:
    """The session's parser: every option known, its own shown in --help."""
    row = sessions.SESSIONS.get(session)
    parser = Parser(session, description=description or (row.description if row else None))
    _add_flags(parser, lambda opt: applies_to(session, opt.name))
    if extend:
        extend(parser)
    return parser


def _join_opts_values(argv: Sequence[str]) -> list[str]:
    """Let `--docker-build-opts --load` mean what it says.

    argparse refuses a separate value that starts with `-`; options that carry other
    tools' options take the next word whatever it looks like.
    """
    takes_opts = {opt.flag for opt in OPTIONS if opt.metavar == "OPTS"}
    joined: list[str] = []
    words = list(argv)
    i = 0
    while i < len(words):
        if words[i] in takes_opts and i + 1 < len(words):
            joined.append(f"{words[i]}={words[i + 1]}")
            i += 2
        else:
            joined.append(words[i])
            i += 1
    return joined


@dataclass(frozen=True)
class Resolved:
    settings: Settings
    args: argparse.Namespace  # the raw namespace, for session-specific extra flags


def _refuse(session: str, opt: Option, value: Any) -> ToolkitError:
    spec = sessions.SESSIONS.get(session)
    if opt.name == "arch" and spec is not None and spec.fixed_arch:
        if spec.fixed_arch == "multi":
            return ToolkitError(
                f"build_multi always builds both platforms; use `nox -s build -- --arch {value}`."
            )
        return ToolkitError(f"{session} always builds {spec.fixed_arch}; drop --arch {value}.")
    where = sessions.sessions_with(opt.name)
    elsewhere = f" (it applies to {', '.join(where)})" if where else ""
    return ToolkitError(
        f"{opt.flag} does not apply to `nox -s {session}`{elsewhere}; drop it.", status=2
    )


def resolve(
    session: str,
    argv: Sequence[str],
    *,
    root: Path,
    environ: Optional[Mapping[str, str]] = None,
    extend: Optional[Callable[[argparse.ArgumentParser], object]] = None,
    description: Optional[str] = None,
) -> Resolved:
    """Parse ``argv`` and fill the rest from the environment, the settings file and defaults.

    An empty environment variable counts as not set.  Options that do not apply to the
    session are refused as flags and ignored (with a note) from the environment or file.
    """
    environ = os.environ if environ is None else environ
    args = make_parser(session, extend, description).parse_args(_join_opts_values(argv))
    from_file = _load_file(root)
    spec = sessions.SESSIONS.get(session)
    chosen: Dict[str, Any] = {}
    source: Dict[str, str] = {}
    notes: list[str] = []
    for opt in OPTIONS:
        flag_value = getattr(args, opt.name)
        env_value = environ.get(opt.env, "") if opt.env else ""
        if not applies_to(session, opt.name):
            if flag_value and not (
                opt.name == "arch"
                and spec is not None
                and _coerce(opt, flag_value, opt.flag) == spec.fixed_arch
            ):
                raise _refuse(session, opt, flag_value)
            ignored = [opt.env] if env_value and opt.env and opt.name != "arch" else []
            if opt.name in from_file:
                ignored.append(f"{SETTINGS_FILE} key {opt.flag[2:]}")
            if ignored:
                notes.append(f"ignored {' and '.join(ignored)}: does not apply to {session}")
            chosen[opt.name] = tuple(opt.default or ()) if opt.kind == "list" else opt.default
            source[opt.name] = "default"
            continue
        if opt.kind == "list" and (flag_value or not (env_value or opt.name in from_file)):
            found = [_coerce(opt, v, opt.flag) for v in flag_value or ()]
            chosen[opt.name] = tuple(item for items in found for item in items)
            source[opt.name] = "flag" if flag_value else "default"
            continue
        if flag_value is not None:
            chosen[opt.name] = _coerce(opt, flag_value, opt.flag)
            source[opt.name] = "flag"
        elif env_value != "":
            chosen[opt.name] = _coerce(opt, env_value, opt.env or opt.flag)
            source[opt.name] = "env"
        elif opt.name in from_file:
            chosen[opt.name] = _coerce(
                opt, from_file[opt.name], f"{SETTINGS_FILE} key {opt.flag[2:]}"
            )
            source[opt.name] = "file"
        else:
            chosen[opt.name] = opt.default
            source[opt.name] = "default"
    for opt in OPTIONS:
        # "" means "not set" where the default is derived or absent.
        if chosen[opt.name] == "" and opt.default is None and opt.kind == "str":
            chosen[opt.name] = None
    if spec is not None and spec.fixed_arch:
        chosen["arch"] = spec.fixed_arch
    if not chosen["docker"]:
        raise ToolkitError("--docker must name the docker CLI, e.g. --docker=/usr/bin/docker.")
    from_file_names = [BY_NAME[n].flag[2:] for n, where in source.items() if where == "file"]
    if from_file_names:
        notes.insert(0, f"from {SETTINGS_FILE}: {', '.join(from_file_names)}")
    resolved = Settings(
        session=session, host_arch=settings.host_arch(), source=source, notes=tuple(notes), **chosen
    )
    return Resolved(resolved, args)

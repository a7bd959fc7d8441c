"""An argparse parser that never calls ``sys.exit``.

Nox runs several sessions in one process; argparse's ``SystemExit`` would end
all of them.  Errors become :class:`ToolkitError`, ``--help`` becomes
:class:`HelpShown` after the text is printed.
"""

from __future__ import annotations

import argparse
from typing import NoReturn

from tools.errors import HelpShown, ToolkitError


class Parser(argparse.ArgumentParser):
    def __init__(self, session: str, **kwargs) -> None:
        kwargs.setdefault("prog", f"nox -s {session} --")
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(**kwargs)

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: "):
            message = self._unknown(message.split(": ", 1)[1].split())
        raise ToolkitError(f"{self.prog}: {message} (see `{self.prog} --help`).", status=2)

    def _unknown(self, words: list[str]) -> str:
        flags = sorted(
            s
            for a in self._actions
            if a.help != argparse.SUPPRESS
            for s in a.option_strings
            if s.startswith("--")
        )
        import difflib  # only on this error path

        first = words[0].split("=", 1)[0]
        close = difflib.get_close_matches(first, flags, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return f"unknown option {' '.join(words)}; {hint}valid options: {', '.join(flags)}"

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status == 0:
            if message:
                print(message, end="")
            raise HelpShown()
        raise ToolkitError((message or "invalid arguments").strip(), status=status)

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
        raise ToolkitError(f"{self.prog}: {message} (see `{self.prog} --help`).", status=2)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status == 0:
            if message:
                print(message, end="")
            raise HelpShown()
        raise ToolkitError((message or "invalid arguments").strip(), status=status)

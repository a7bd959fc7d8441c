"""README.md's generated blocks, and the command that rewrites them.

python -m tools.docs            # rewrite every generated block of README.md
python -m tools.docs --check    # write nothing; fail naming the stale blocks

A root module imports no package: each block names the ``"module:function"`` that
writes it, resolved the way the noxfile's sessions are (``tools.entry``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools import readme
from tools.entry import resolve

README = Path(__file__).resolve().parent.parent / "README.md"


#: Each generated block of README.md, by marker name, and the function that writes it.
BLOCKS = {
    "sessions-table": "image.usage:sessions_markdown_table",
    "settings-table": "image.usage:markdown_table",
    "compat-table": "envoy.compat:readme_table",
}


def generated_blocks() -> dict[str, str]:
    """Every generated block of README.md, by marker name."""
    return {name: resolve(target)() for name, target in BLOCKS.items()}


def stale(path: Path = README) -> list[str]:
    text = path.read_text()
    return [n for n, body in generated_blocks().items() if readme.read_block(text, n) != body]


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        names = stale()
        if names:
            print(
                f"README.md: stale {', '.join(names)}; run `python -m tools.docs`.", file=sys.stderr
            )
            return 1
        return 0
    for name, body in generated_blocks().items():
        if readme.update(README, name, body):
            print(f"README.md: refreshed {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

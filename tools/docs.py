"""README.md's generated blocks, and the command that rewrites them.

python -m tools.docs            # rewrite every generated block of README.md
python -m tools.docs --check    # write nothing; fail naming the stale blocks
"""

from __future__ import annotations

import sys
from pathlib import Path

from tools import readme
from tools.envoy import compat
from tools.image import settings

README = Path(__file__).resolve().parent.parent / "README.md"


def generated_blocks(root: Path | None = None) -> dict[str, str]:
    """Every generated block of README.md, by marker name."""
    return {
        "sessions-table": settings.sessions_markdown_table(),
        "settings-table": settings.markdown_table(),
        "compat-table": compat.readme_table(root),
    }


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

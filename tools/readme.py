"""Generated blocks of README.md: each lives between begin/end markers."""

from __future__ import annotations

import re
from pathlib import Path

from tools.errors import ToolkitError
from tools.files import write_atomic


def _block(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- {name}:begin[^>]*-->\n)(.*?)(<!-- {name}:end -->)", re.S)


def replace_block(text: str, name: str, body: str) -> str:
    pattern = _block(name)
    if not pattern.search(text):
        raise ToolkitError(
            f"README.md has no `<!-- {name}:begin -->` ... `<!-- {name}:end -->` block; restore it."
        )
    return pattern.sub(lambda m: m.group(1) + body + m.group(3), text, count=1)


def read_block(text: str, name: str) -> str | None:
    match = _block(name).search(text)
    return match.group(2) if match else None


def update(path: Path, name: str, body: str) -> bool:
    """Rewrite one block of ``path``; True when the file changed."""
    text = path.read_text()
    return write_atomic(path, replace_block(text, name, body))


def generated_blocks() -> dict[str, str]:
    """Every generated block of README.md, by marker name."""
    from tools import compat, settings

    return {"settings-table": settings.markdown_table(), "compat-table": compat.readme_table()}


def main() -> int:
    path = Path(__file__).resolve().parent.parent / "README.md"
    for name, body in generated_blocks().items():
        if update(path, name, body):
            print(f"README.md: refreshed {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

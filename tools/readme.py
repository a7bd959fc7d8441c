"""Generated blocks of README.md: each lives between begin/end markers.

A leaf: it reads and replaces marked blocks and knows nothing of what they hold
(``tools.docs`` composes them; ``python -m tools.docs`` rewrites them).
"""

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

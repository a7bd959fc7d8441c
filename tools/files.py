"""Atomic writes for generated files, the toolkit cache folder, file checksums and reading
TOML."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

from tools.errors import ToolkitError

Content = Union[str, bytes]


def cache_dir(environ: Optional[Mapping[str, str]] = None) -> Path:
    """The toolkit's per-machine cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME") or str(
        Path(environ.get("HOME", "~")).expanduser() / ".cache"
    )
    return Path(base) / "cilium-envoy-toolkit"


def sha256_of(path: Union[str, Path]) -> str:
    """The hex sha256 of a file's bytes (pinned downloads are checked with it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Union[str, Path], content: Content, mode: int = 0o644) -> bool:
    """Write ``content`` to ``path`` through a temporary file and a rename.

    Returns False, touching nothing, when the file already holds exactly this
    content: unchanged mtimes keep build caches warm.
    """
    path = Path(path)
    data = content.encode() if isinstance(content, str) else content
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return True


def load_toml(text: str, what: str, fix: str = "fix or remove it") -> Dict[str, Any]:
    """The toolkit's one way to read TOML (tomllib, or tomli before Python 3.11)."""
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ToolkitError(f"{what} is not valid TOML ({exc}); {fix}.") from None

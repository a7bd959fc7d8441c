"""What each kind of setting accepts: the converters the option table names.

Each takes the text of a flag, an environment variable or a settings-file value and
returns the typed value, or raises ``ValueError`` whose message completes the sentence
"`<value>` is not valid: it ...".  Pure functions; the option table is ``settings``.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any, Tuple

from tools import arches

ARCHES = (*arches.ARCHES, "multi")
FALSE_WORDS = ("", "0", "false", "no")
#: URL schemes Bazel's --remote_cache accepts; a bare host:port means grpcs.
REMOTE_CACHE_SCHEMES = ("grpc", "grpcs", "http", "https", "unix")
#: URL schemes Bazel's --remote_executor accepts (no HTTP); a bare host:port means grpcs.
REMOTE_EXECUTOR_SCHEMES = ("grpc", "grpcs", "unix")


def bool_from_text(value: str) -> bool:
    """Environment rule: on when set to anything but empty, 0, false or no."""
    return value.strip().lower() not in FALSE_WORDS


def bool_flag(value: str) -> bool:
    """Flag rule: ``--push`` or ``--push=yes|no|1|0|true|false|on|off``; nothing else."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be one of 1, 0, true, false, yes, no, on, off")


def arch(value: str) -> str:
    norm = arches.normalise(value) or value.strip().lower()
    if norm not in ARCHES:
        raise ValueError(f"must be one of {', '.join(ARCHES)} (x86_64 and aarch64 also work)")
    return norm


def jobs(value: str) -> Any:
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    if not text.isdigit() or int(text) < 1:
        raise ValueError("must be a positive whole number or `auto`")
    return int(text)


def _remote_url_ok(text: str, schemes: Tuple[str, ...]) -> bool:
    """A URL Bazel's remote options take: a known scheme, a host (a path for unix://), a
    port in range, and no white space."""
    if any(c.isspace() for c in text):
        return False
    try:
        url = urllib.parse.urlsplit(text)
        url.port  # noqa: B018 - raises ValueError when out of range or not a number
    except ValueError:
        return False
    if url.scheme.lower() not in schemes:
        return False
    if url.scheme.lower() == "unix":
        return bool(url.path.strip("/") or url.netloc)
    return bool(url.hostname)


def _remote_endpoint(value: str, schemes: Tuple[str, ...], what: str) -> str:
    """The one rule of Bazel's remote endpoints: a URL of ``schemes``, or host:port."""
    text = value.strip()
    if "://" in text:
        ok = _remote_url_ok(text, schemes)
    else:
        match = re.fullmatch(r"(?a)(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})", text)
        ok = match is not None and int(match[1]) <= 65535
    if not ok:
        urls = ", ".join(f"{s}://" for s in schemes[:-1]) + f" or {schemes[-1]}://"
        raise ValueError(
            f"is not {what} Bazel accepts; use a {urls} URL, or host:port (which Bazel reads "
            "as grpcs)"
        )
    return text


def remote_cache(value: str) -> str:
    return _remote_endpoint(value, REMOTE_CACHE_SCHEMES, "a cache")


def remote_executor(value: str) -> str:
    return _remote_endpoint(value, REMOTE_EXECUTOR_SCHEMES, "a remote executor")


def remote_instance_name(value: str) -> str:
    text = value.strip()
    if not text or any(c.isspace() or c in "'\"\\" for c in text):
        raise ValueError("must be a name without white space or quotes, e.g. `main`")
    return text


def remote_header(value: str) -> str:
    """``NAME=VALUE`` as Bazel's --remote_header takes it (one header per option)."""
    name, sep, text = value.strip().partition("=")
    if not sep or not re.fullmatch(r"(?a)[A-Za-z0-9!#$%&*+.^_`|~-]+", name) or not text:
        raise ValueError("must be NAME=VALUE, e.g. `x-buildbuddy-api-key=KEY`")
    if any(c.isspace() or c in "'\"\\" for c in text):
        raise ValueError(
            "has white space or quotes in its value, which Bazel's options cannot carry through "
            "the build; give Bazel a --credential_helper in --bazel-build-opts instead"
        )
    return f"{name}={text}"


def no_cache(value: str) -> int:
    text = str(value).strip().lower()
    if text in FALSE_WORDS:
        return 0
    if text in ("1", "2", "true", "yes"):
        return 2 if text == "2" else 1
    raise ValueError(
        "must be 1 (no registry cache, clear Bazel caches) or 2 (also docker --no-cache)"
    )

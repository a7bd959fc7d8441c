"""The tag rules the session table names: what an image is called, from plain values.

A :class:`TagRule` is one rule in words (README's table) and as a function of a
:class:`TagContext`; the session table gives each session one.  Pure, and importing
nothing of the toolkit but its error type, so the session table can name the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Tuple

from tools.errors import ToolkitError

TAG_RE = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)

RELEASE_BRANCH = "main"
IMAGE = "cilium-envoy"
DEV_IMAGE = "cilium-envoy-dev"
BUILDER_IMAGE = "cilium-envoy-builder"


@dataclass(frozen=True)
class TagContext:
    """What every tag rule may use."""

    account: str  # registry/namespace
    branch: str  # the branch the tags are for (--branch, else git's)
    head: str  # the commit
    suffix: str  # -<arch>, -raspi, -debug ... (see tools.image.images.flavour)
    builder_tag: Callable[[], str]  # <.bazelversion>-<blob id> (asked only when used)
    builder_archive_tag: str
    tests_archive_tag: str

    @property
    def release(self) -> bool:
        return self.branch == RELEASE_BRANCH


@dataclass(frozen=True)
class TagRule:
    text: str  # the rule in words, for README.md
    make: Callable[[TagContext], Tuple[str, ...]]


def branch_tag(branch: str) -> str:
    """The branch name with every byte outside ``[A-Za-z0-9_.-]`` replaced by ``-``.

    Byte by byte, as `tr -c` does it: a non-ASCII letter (two or more UTF-8 bytes)
    becomes as many dashes.
    """
    data = branch.encode("utf-8", "surrogateescape")
    allowed = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
    return "".join(chr(b) if b in allowed else "-" for b in data)


def _release(c: TagContext) -> Tuple[str, ...]:
    if c.release:
        return (f"{c.account}/{IMAGE}:{c.head}{c.suffix}", f"{c.account}/{IMAGE}:latest{c.suffix}")
    return (
        f"{c.account}/{DEV_IMAGE}:{branch_tag(c.branch)}{c.suffix}",
        f"{c.account}/{DEV_IMAGE}:{c.head}{c.suffix}",
    )


def _testlogs(c: TagContext) -> Tuple[str, ...]:
    if c.release:
        return (f"{c.account}/{IMAGE}:latest{c.suffix}-testlogs",)
    return (f"{c.account}/{DEV_IMAGE}:{branch_tag(c.branch)}{c.suffix}-testlogs",)


RELEASE = TagRule(
    "on main `<account>/cilium-envoy:<sha><suffix>` and `:latest<suffix>`; elsewhere "
    "`<account>/cilium-envoy-dev:<branch><suffix>` and `:<sha><suffix>`",
    _release,
)
TESTLOGS = TagRule(
    "on main `<account>/cilium-envoy:latest<suffix>-testlogs`; elsewhere "
    "`<account>/cilium-envoy-dev:<branch><suffix>-testlogs`",
    _testlogs,
)
BUILDER = TagRule(
    "`<account>/cilium-envoy-builder:<builder-base-tag>`",
    lambda c: (f"{c.account}/{BUILDER_IMAGE}:{c.builder_tag()}",),
)
BUILDER_ARCHIVE = TagRule(
    "`<account>/cilium-envoy-builder:<builder-archive-tag>`",
    lambda c: (f"{c.account}/{BUILDER_IMAGE}:{c.builder_archive_tag}",),
)
TESTS_ARCHIVE = TagRule(
    "`<account>/cilium-envoy-builder:<tests-archive-tag>`",
    lambda c: (f"{c.account}/{BUILDER_IMAGE}:{c.tests_archive_tag}",),
)


def with_note(rule: TagRule, note: str) -> TagRule:
    """The same rule, its words followed by ``note`` (e.g. a fixed suffix)."""
    return TagRule(f"{rule.text} {note}", rule.make)


def computed(rule: TagRule, context: TagContext) -> Tuple[str, ...]:
    """The rule's tags, each checked: a branch name may make an invalid tag."""
    tags = rule.make(context)
    for tag in tags:
        _, _, tag_part = tag.rpartition(":")
        if not TAG_RE.fullmatch(tag_part):
            why = (
                f"it has {len(tag_part)} characters, more than 128"
                if len(tag_part) > 128
                else "a tag cannot start with `.` or `-`"
            )
            raise ToolkitError(
                f"The tag `{tag_part}` computed from branch `{context.branch}` is not a valid "
                f"image tag ({why}); pass --branch NAME with a name that makes a valid tag, or "
                "--tag REF."
            )
    return tags

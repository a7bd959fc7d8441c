"""Image references: validation, the images a build names, and why a pull failed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tools.errors import ToolkitError
from tools.image import sessions
from tools.image.settings import Settings
from tools.image.tags import BUILDER_IMAGE, TAG_RE, TagContext
from tools.image.tags import computed as tags_of
from tools.repo import GitFacts

# Docker's reference grammar (distribution/reference), written out.
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_PART}(?:/{_PATH_PART})*"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
NAME_RE = re.compile(_NAME, re.ASCII)
REFERENCE_RE = re.compile(
    rf"(?P<name>{_NAME})(?::(?P<tag>{TAG_RE.pattern}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII
)
MAX_NAME = 255


def check_reference(value: str, what: str, *, tagged: bool = True) -> str:
    """Return ``value`` if it is a valid image reference, else fail naming ``what``."""
    pattern = REFERENCE_RE if tagged else NAME_RE
    match = pattern.fullmatch(value)
    name = match.group("name") if match and tagged else value
    first, slash, _ = name.partition("/")
    if match and slash and first != first.lower() and not _is_domain(first):
        # Docker reads a first part without `.` or `:` as a path, which must be lowercase.
        match = None
    if not match or len(name) > MAX_NAME:
        example = "quay.io/cilium/cilium-envoy:v1.32" if tagged else "quay.io/cilium"
        raise ToolkitError(
            f"{what} `{value}` is not a valid image reference; use lowercase "
            f"registry/path{'[:tag]' if tagged else ''} such as `{example}`."
        )
    return value


def _is_domain(first: str) -> bool:
    return "." in first or ":" in first or first == "localhost"


def check_tag(value: str, what: str) -> str:
    if not TAG_RE.fullmatch(value):
        raise ToolkitError(
            f"{what} `{value}` is not a valid image tag; use up to 128 letters, digits, `_`, `.` "
            "and `-`, not starting with `.` or `-`."
        )
    return value


def builder_tag(settings: Settings, facts: GitFacts, bazel_version: str) -> str:
    if settings.builder_base_tag:
        return check_tag(settings.builder_base_tag, "--builder-base-tag")
    if not facts.builder_blob:
        raise ToolkitError(
            "Dockerfile.builder is not committed, so the builder tag cannot be derived; "
            "commit it or pass --builder-base-tag."
        )
    return f"{bazel_version}-{facts.builder_blob}"


def builder_base(settings: Settings, facts: GitFacts, bazel_version: str) -> str:
    """The builder image every build runs in."""
    if settings.builder_base:
        return check_reference(settings.builder_base, "--builder-base")
    return f"{settings.dev_account}/{BUILDER_IMAGE}:{builder_tag(settings, facts, bazel_version)}"


def archive_image(settings: Settings) -> str | None:
    """The Bazel cache image a build starts from, or None for an empty cache."""
    if settings.archive_image:
        return check_reference(settings.archive_image, "--archive-image")
    if settings.no_archive:
        return None
    tag = getattr(settings, sessions.row(settings.session).archive_tag or "builder_archive_tag")
    return f"{settings.dev_account}/{BUILDER_IMAGE}:{tag}"


@dataclass(frozen=True)
class Flavour:
    """What the tag suffix encodes."""

    arch: str | None  # explicit architecture, None for host builds and multi
    debug: bool
    release_debug: bool
    word: str = ""  # the session's own (raspi)

    @property
    def suffix(self) -> str:
        parts = []
        if self.arch:
            parts.append(self.arch)
        if self.word:
            parts.append(self.word)
        if self.debug:
            parts.append("debug")
        if self.release_debug:
            parts.append("release-debug")
        return "".join(f"-{p}" for p in parts)


def flavour(settings: Settings) -> Flavour:
    """Every single-platform image names its architecture (this host's without --arch)."""
    target = settings.target_arch
    arch = target if target != "multi" else None
    word = sessions.row(settings.session).flavour
    return Flavour(arch, settings.debug, settings.release_debug, word)


def computed_tags(settings: Settings, facts: GitFacts, bazel_version: str) -> tuple[str, ...]:
    """The tags a session gives its image when no --tag is passed (its row's tag rule)."""
    context = TagContext(
        account=settings.dev_account,
        branch=settings.branch or facts.branch,
        head=facts.head,
        suffix=flavour(settings).suffix,
        builder_tag=lambda: builder_tag(settings, facts, bazel_version),
        builder_archive_tag=settings.builder_archive_tag,
        tests_archive_tag=settings.tests_archive_tag,
    )
    return tags_of(sessions.row(settings.session).tag_rule, context)


def tags(settings: Settings, facts: GitFacts, bazel_version: str) -> tuple[str, ...]:
    if settings.tag:
        return tuple(check_reference(t, "--tag") for t in settings.tag)
    return computed_tags(settings, facts, bazel_version)


# --- a build that could not pull an image -------------------------------------------------

DOCKER_IO = "docker.io"


def registry_host(host: str) -> str:
    """A registry host as Docker names it: Docker Hub's other host names become docker.io."""
    return DOCKER_IO if host in ("index.docker.io", "registry-1.docker.io") else host


def registry_of(reference: str) -> str:
    """The registry host of an image reference (Docker's rule: no dot, colon or localhost -> Docker Hub)."""
    name = reference.split("@", 1)[0]
    first, sep, _ = name.partition("/")
    return registry_host(first) if sep and _is_domain(first) else DOCKER_IO


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
# What BuildKit and the classic builder say when a base image cannot be had, with the image.
_UNPULLABLE = (
    # the box BuildKit prints around the failing step: " > [internal] load metadata for X:"
    re.compile(r"(?am)^\s*> \[internal\] load metadata for (\S+?):?\s*$"),
    re.compile(r"(?a)failed to resolve source metadata for (\S+?):\s"),
    re.compile(r"(?a)pull access denied for ([^\s,]+)"),
    re.compile(r"(?a)manifest for (\S+) not found"),
)
# A registry request in an error: Head "https://quay.io/v2/cilium/x/manifests/tag".
_MANIFEST_URL = re.compile(r'(?a)"https?://([^/"]+)/v2/([^"]+?)/manifests/([^"]+)"')


def unpullable_image(output: str) -> str | None:
    """The image a failed build could not pull, read from the end of its error output."""
    text = _ANSI.sub("", output)
    found: list[tuple[int, str]] = []
    for pattern in _UNPULLABLE:
        found += [(m.start(), m.group(1)) for m in pattern.finditer(text)]
    if found:
        return max(found)[1]  # the last one said
    urls = list(_MANIFEST_URL.finditer(text))
    if urls:
        host, path, ref = urls[-1].groups()
        return f"{registry_host(host)}/{path}{'@' if ':' in ref else ':'}{ref}"
    return None


_CACHE_WAYS = (("--archive-image IMAGE", "archive_image"), ("--no-archive", "no_archive"))


def pull_failure(session: str, output: str) -> str | None:
    """One sentence for a build that failed because an image could not be pulled: which image
    from which registry, and the ways around it that the session takes; None otherwise."""
    image = unpullable_image(output)
    if image is None:
        return None
    options = sessions.options_of(session)
    ways = []
    if "builder_base" in options:
        ways.append("--builder-base IMAGE for the builder")
    cache = [flag for flag, name in _CACHE_WAYS if name in options]
    if cache:
        ways.append(" or ".join(cache) + " for the Bazel cache image")
    registry = registry_of(image)
    around = f", or build around it with {' and '.join(ways)}" if ways else ""
    return (
        f"The build could not pull {image} from {registry} (the error is above): check the name "
        f"and run `docker login {registry}` if it is private{around}; `nox -s doctor` checks "
        "every image a build needs before it starts."
    )

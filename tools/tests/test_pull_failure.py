"""A build that fails because an image cannot be pulled ends with one sentence naming the
image, its registry and the ways around it.  The fixtures are docker 20.10's real output
(buildx plugin, live and plain progress) for images that could not be resolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.image import images

FIXTURES = Path(__file__).parent / "fixtures" / "pull"
COMPILE_ERROR = """\
#12 [builder 5/6] RUN python3 -m tools.bazel build
#12 ERROR: process "/bin/sh -c python3 -m tools.bazel build" did not complete successfully: exit code: 1
------
 > [builder 5/6] RUN python3 -m tools.bazel build:
#12 41.2 ERROR: cilium-filters/policy/decisions.cc:12: expected ';'
------
ERROR: failed to build: failed to solve: process "/bin/sh -c python3 -m tools.bazel build" did not complete successfully: exit code: 1
"""


@pytest.mark.parametrize(
    "fixture, image",
    [
        ("buildx-tty.txt", "quay.io/cilium/cilium-envoy-builder:nonexistent"),
        ("buildx-plain.txt", "quay.io/cilium/cilium-envoy-builder:nonexistent"),
        ("buildx-digest.txt", "localhost:5999/team/base:v1@sha256:" + "a" * 64),
    ],
)
def test_the_image_is_read_from_docker_output(fixture, image):
    output = (FIXTURES / fixture).read_bytes().decode()
    assert images.unpullable_image(output) == image


@pytest.mark.parametrize(
    "line, image",
    [
        # newer BuildKit
        (
            "ERROR: failed to solve: docker.io/me/base:1: failed to resolve source metadata for "
            "docker.io/me/base:1: docker.io/me/base:1: not found",
            "docker.io/me/base:1",
        ),
        # the classic builder
        (
            "pull access denied for envoy-archive, repository does not exist or may require "
            "'docker login': denied: requested access to the resource is denied",
            "envoy-archive",
        ),
        ("manifest for quay.io/x/y:2 not found: manifest unknown", "quay.io/x/y:2"),
        # only the registry request names it
        (
            'failed to do request: Head "https://registry-1.docker.io/v2/library/ubuntu/'
            'manifests/24.04": dial tcp: i/o timeout',
            "docker.io/library/ubuntu:24.04",
        ),
    ],
)
def test_other_wordings(line, image):
    assert images.unpullable_image("#3 ...\n" + line + "\n") == image


def test_a_failure_that_is_not_a_pull_is_left_alone():
    assert images.unpullable_image(COMPILE_ERROR) is None
    assert images.pull_failure("build", COMPILE_ERROR) is None


def test_the_sentence_names_image_registry_and_the_ways_around():
    output = (FIXTURES / "buildx-plain.txt").read_text()
    sentence = images.pull_failure("build", output)
    assert sentence == (
        "The build could not pull quay.io/cilium/cilium-envoy-builder:nonexistent from quay.io "
        "(the error is above): check the name and run `docker login quay.io` if it is private, "
        "or build around it with --builder-base IMAGE for the builder and --archive-image IMAGE "
        "or --no-archive for the Bazel cache image; `nox -s doctor` checks every image a build "
        "needs before it starts."
    )
    # builder takes neither option: only what applies is offered
    sentence = images.pull_failure("builder", output)
    assert sentence is not None and "--builder-base" not in sentence
    assert "--archive-image" not in sentence and "docker login quay.io" in sentence

"""The pinned Envoy source: release, commit, where it comes from, and our patches to it.

ENVOY_VERSION at the top of the checkout must name the same release; a unit test
(tools/tests/test_bazel.py) fails when the two disagree.  To move to another release,
change ENVOY_VERSION (both places) and ENVOY_COMMIT (the commit the release tag points
at) together, refresh the patches (README.md, "Envoy patches"), then rebuild the archive
(`nox -s archive`).
"""

ENVOY_VERSION = "1.38.3"

# The commit tagged v1.38.3, and the whole pin: Bazel fetches exactly this commit with
# git, and git checks every object it receives against its id, so the source cannot
# differ from what this id names.  No archive checksum is needed, and none is kept (a
# GitHub archive's bytes are not promised to stay the same; a commit's content is).
# tools/tests/test_envoy_build.py checks, with an Envoy clone at hand, that this is the
# release ENVOY_VERSION names.
ENVOY_COMMIT = "0ebfcfe5b0484b89ca85b761da9e05ce75dbda8d"

ENVOY_REMOTE = "https://github.com/envoyproxy/envoy.git"

# Applied in this order with `git apply`; the numbered file names keep the folder in the
# same order (a unit test checks that the list and envoy/patches/*.patch agree).
ENVOY_PATCHES = [
    "0001-liburing-build-for-the-target-cpu.patch",
    "0002-gperftools-cross-compile-for-the-target-cpu.patch",
]

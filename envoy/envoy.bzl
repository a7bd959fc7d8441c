"""The pinned Envoy source: release, commit, checksum and the patches applied to it.

ENVOY_VERSION at the top of the checkout must name the same release; a unit test
(tools/tests/test_bazel.py) fails when the two disagree.  To move to another release,
change ENVOY_VERSION (both places), ENVOY_COMMIT (the commit the release tag points
at) and ENVOY_SHA256 together, then rebuild the archive (`nox -s archive`).
"""

ENVOY_VERSION = "1.32.3"

# The commit tagged v1.32.3.  Fetching by commit rather than by tag: a commit's archive
# cannot change under us, a tag can be moved.
ENVOY_COMMIT = "58bd599ebd5918d4d005de60954fcd2cb00abd95"

# sha256 of the archive at ENVOY_URL.  TODO(verify): not pinned yet, as no machine this
# file was written on could download it.  Until it is set, Bazel downloads without a
# check and prints the checksum it computed; put that here and drop the strict xfail
# of test_envoy_checksum_is_pinned in tools/tests/test_bazel.py (it fails once this is set).
ENVOY_SHA256 = ""

ENVOY_URL = "https://github.com/envoyproxy/envoy/archive/{commit}.tar.gz".format(
    commit = ENVOY_COMMIT,
)
ENVOY_STRIP_PREFIX = "envoy-" + ENVOY_COMMIT

# Applied in this order with `git apply`; the numbered file names keep the folder in the
# same order (a unit test checks that the list and envoy/patches/*.patch agree).
ENVOY_PATCHES = []

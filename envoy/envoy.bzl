"""The pinned Envoy source: version, checksum and the patches applied to it.

ENVOY_VERSION at the top of the checkout must name the same release; a unit test
(tools/tests/test_bazel.py) fails when the two disagree.
"""

ENVOY_VERSION = "1.32.3"

# sha256 of the release tarball named by ENVOY_URL.  Not yet pinned: it could not be
# verified from the machine this file was written on.  Until it is set, Bazel downloads
# without checking and prints the checksum it computed; copy that here.
ENVOY_SHA256 = ""

ENVOY_URL = "https://github.com/envoyproxy/envoy/archive/refs/tags/v{version}.tar.gz".format(
    version = ENVOY_VERSION,
)
ENVOY_STRIP_PREFIX = "envoy-" + ENVOY_VERSION

# Applied in this order with `git apply`; the numbered file names keep the folder in the
# same order (a unit test checks that the list and envoy/patches/*.patch agree).
ENVOY_PATCHES = []

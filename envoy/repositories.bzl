"""How Envoy is fetched and patched; WORKSPACE calls cilium_envoy_repository()."""

load("@bazel_tools//tools/build_defs/repo:git.bzl", "git_repository")
load("//envoy:envoy.bzl", "ENVOY_COMMIT", "ENVOY_PATCHES", "ENVOY_REMOTE")

def cilium_envoy_repository():
    # By commit only (no tag or branch, which can move): Bazel fetches that one commit
    # with `git fetch --depth=1` and resets to it; git verifies what it receives against
    # the id.  No shallow_since: with a commit, --depth=1 fetches the least.
    git_repository(
        name = "envoy",
        remote = ENVOY_REMOTE,
        commit = ENVOY_COMMIT,
        patch_tool = "git",
        patch_args = ["apply"],
        patches = ["@//envoy/patches:" + name for name in ENVOY_PATCHES],
    )

"""How Envoy is fetched and patched; WORKSPACE calls cilium_envoy_repository()."""

load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")
load("//envoy:envoy.bzl", "ENVOY_PATCHES", "ENVOY_SHA256", "ENVOY_STRIP_PREFIX", "ENVOY_URL")

def cilium_envoy_repository():
    http_archive(
        name = "envoy",
        url = ENVOY_URL,
        sha256 = ENVOY_SHA256,
        strip_prefix = ENVOY_STRIP_PREFIX,
        patch_tool = "git",
        patch_args = ["apply"],
        patches = ["@//envoy/patches:" + name for name in ENVOY_PATCHES],
    )

"""One library per folder: the folder's files are its sources, as for the local CMake build
(cilium_library in cilium-filters/CMakeLists.txt takes the same globs)."""

load("@envoy//bazel:envoy_build_system.bzl", "envoy_cc_library")

def cilium_library(name, deps = [], exclude = []):
    """`name`: the folder's *.cc (but `exclude`) and *.h, using `deps`."""
    envoy_cc_library(
        name = name,
        srcs = native.glob(["*.cc"], exclude = exclude),
        hdrs = native.glob(["*.h"]),
        repository = "@envoy",
        visibility = ["//visibility:public"],
        deps = deps,
    )

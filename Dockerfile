# The release image of the Cilium proxy: `nox -s build` (see README.md).
#
# Stages: builder-fresh (dependencies from scratch into a Bazel cache), builder-cache
# (the cache to start from: ARCHIVE_IMAGE, default builder-fresh), builder (the real
# build), empty-builder-archive and builder-archive (scratch images holding only the
# cache; `nox -s archive`), and the runtime image last.  Builder stages run on the build
# machine's platform and cross-compile for TARGETARCH with an explicit Bazel platform.
# Every RUN that does real work is a step of tools/envoy/bazel.py.

# The builder image (Dockerfile.builder, `nox -s builder`); the sessions always set it.
ARG BUILDER_BASE=quay.io/cilium/cilium-envoy-builder:7.7.1-latest
# The Bazel cache to start from: an image built from the builder-archive target, or the
# builder-fresh stage below (the sessions' --no-archive).
ARG ARCHIVE_IMAGE=builder-fresh
# The image the proxy is installed into; tests pass a local one.
ARG RUNTIME_BASE=runtime-base

FROM docker.io/library/ubuntu:24.04@sha256:72297848456d5d37d1262630108ab308d3e9ec7ed1c3286a32fe09856619a782 AS runtime-base
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libatomic1 \
 && rm -rf /var/lib/apt/lists/*

FROM --platform=$BUILDPLATFORM ${BUILDER_BASE} AS builder-fresh
ENV CILIUM_BAZEL_CACHE=/cilium/bazel-cache CILIUM_OUTPUT_ROOT=/cilium/output
WORKDIR /cilium/proxy
USER 1337:1337
# Only what decides the dependencies: editing the proxy's own sources keeps this stage.
COPY --chown=1337:1337 tools/__init__.py tools/arches.py tools/elf.py tools/
COPY --chown=1337:1337 tools/envoy/__init__.py tools/envoy/bazel.py tools/envoy/bazel_config.py tools/envoy/cache.py tools/envoy/
COPY --chown=1337:1337 WORKSPACE .bazelrc .bazelversion ENVOY_VERSION ./
# Only what Bazel reads of envoy/ (not, e.g., the Cilium/Envoy table beside it).
COPY --chown=1337:1337 envoy/BUILD envoy/*.bzl envoy/bazelrc envoy/workspace_status.sh envoy/
COPY --chown=1337:1337 envoy/patches/ envoy/patches/
COPY --chown=1337:1337 envoy/build_config/ envoy/build_config/
COPY --chown=1337:1337 envoy/platforms/ envoy/platforms/
COPY --chown=1337:1337 envoy/toolchains/ envoy/toolchains/
RUN python3 -m tools.envoy.bazel fetch cleanup

FROM ${ARCHIVE_IMAGE} AS builder-cache

FROM --platform=$BUILDPLATFORM ${BUILDER_BASE} AS builder
ENV CILIUM_BAZEL_CACHE=/cilium/bazel-cache CILIUM_OUTPUT_ROOT=/cilium/output \
    CILIUM_INSTALL_ROOT=/cilium/install CILIUM_ARCHIVE_CACHE=/cilium/bazel-archive \
    CILIUM_PERSISTENT_CACHES=/cilium/bazel-caches
WORKDIR /cilium/proxy
USER 1337:1337
COPY --chown=1337:1337 tools/__init__.py tools/arches.py tools/elf.py tools/
COPY --chown=1337:1337 tools/envoy/__init__.py tools/envoy/bazel.py tools/envoy/bazel_config.py tools/envoy/cache.py tools/envoy/
# SOURCE_VERSION (the commit, written by the session) only when the context holds it.
COPY --chown=1337:1337 WORKSPACE BUILD .bazelrc .bazelversion ENVOY_VERSION SOURCE_VERSIO[N] ./
# Only what Bazel reads of envoy/ (not, e.g., the Cilium/Envoy table beside it).
COPY --chown=1337:1337 envoy/BUILD envoy/*.bzl envoy/bazelrc envoy/workspace_status.sh envoy/
COPY --chown=1337:1337 envoy/patches/ envoy/patches/
COPY --chown=1337:1337 envoy/build_config/ envoy/build_config/
COPY --chown=1337:1337 envoy/platforms/ envoy/platforms/
COPY --chown=1337:1337 envoy/toolchains/ envoy/toolchains/
COPY --chown=1337:1337 cilium-filters/ cilium-filters/
ARG TARGETARCH
ARG BUILDARCH
ARG BAZEL_BUILD_OPTS
ARG DEBUG
ARG RELEASE_DEBUG
ARG COPY_CACHE_EXT
ARG NO_CACHE
# Bazel's caches live in a cache mount that outlives the build, in one folder per
# target architecture and build mode (BAZEL_CACHE_ID names the family; tests isolate
# theirs; tools.envoy.bazel picks the folder, as engines before 23 do not expand build args
# in mount options),
# so a rebuild after a small edit runs only the actions the edit changed.
# prepare-cache seeds it from the archive (mounted read-only) when it is empty or no
# longer fits the tree, and NO_CACHE clears it; copy-cache (COPY_CACHE_EXT) copies it
# into the stage for builder-archive.
ARG BAZEL_CACHE_ID=cilium-envoy
RUN --mount=type=bind,from=builder-cache,source=/cilium/bazel-cache,target=/cilium/bazel-archive \
    --mount=type=cache,id=cilium-envoy-bazel-caches,target=/cilium/bazel-caches,uid=1337,gid=1337,sharing=shared \
    python3 -m tools.envoy.bazel prepare-cache build install copy-cache cleanup

FROM scratch AS empty-builder-archive
# A cache folder owned by the build user, with only the Envoy release it is for (no
# stamp: a build starting from it clears it and says so).
COPY --chown=1337:1337 ENVOY_VERSION /cilium/bazel-cache/ENVOY_VERSION

FROM empty-builder-archive AS builder-archive
ARG COPY_CACHE_EXT
COPY --from=builder --chown=1337:1337 /cilium/bazel-cache${COPY_CACHE_EXT}/ /cilium/bazel-cache/

FROM ${RUNTIME_BASE}
LABEL org.opencontainers.image.title="cilium-envoy" \
      org.opencontainers.image.description="Envoy with Cilium's policy filters"
COPY --from=builder /cilium/install/ /
# Cilium's filters as an Envoy dynamic module (/usr/lib/cilium/libcilium.so), found by name:
# dynamic_module_config: {name: cilium}.
ENV ENVOY_DYNAMIC_MODULES_SEARCH_PATH=/usr/lib/cilium

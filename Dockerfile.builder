# The builder image every build runs in: `nox -s builder` (see README.md).
# Its build context is .bazelversion only; its tag is <.bazelversion>-<git blob id of
# this file>, so editing this file or bumping Bazel gives a new image.
#
# Ubuntu 24.04 with clang/lld 18 (18.1.8 or newer, from LLVM's apt repository: Ubuntu's
# own clang-18 is older), the binutils and gcc runtime of the other architecture for
# cross-builds, Python 3, git, patch, Go, the autotools, make, cmake and ninja that Envoy's
# foreign_cc dependencies (configure/make and cmake builds) expect on the build machine,
# and Bazel at .bazelversion baked in.  Builds run as uid/gid 1337.
FROM docker.io/library/ubuntu:24.04@sha256:72297848456d5d37d1262630108ab308d3e9ec7ed1c3286a32fe09856619a782

ARG TARGETARCH
ENV DEBIAN_FRONTEND=noninteractive

# LLVM's signing key, checked against its published fingerprint before it is trusted.
ARG LLVM_KEY_FINGERPRINT=6084F3CF814B57C1CF12EFD515CF4D18AF4F7421
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
 && curl -fsSL https://apt.llvm.org/llvm-snapshot.gpg.key -o /tmp/llvm.asc \
 && gpg --batch --with-colons --show-keys /tmp/llvm.asc | grep -q "^fpr:::::::::${LLVM_KEY_FINGERPRINT}:" \
 && gpg --batch --dearmor -o /usr/share/keyrings/llvm.gpg /tmp/llvm.asc \
 && rm /tmp/llvm.asc \
 && echo "deb [signed-by=/usr/share/keyrings/llvm.gpg] https://apt.llvm.org/noble/ llvm-toolchain-noble-18 main" \
      > /etc/apt/sources.list.d/llvm.list \
 && case "$TARGETARCH" in \
      amd64) cross=aarch64-linux-gnu; other=arm64 ;; \
      arm64) cross=x86-64-linux-gnu; other=amd64 ;; \
      *) echo "Dockerfile.builder: TARGETARCH $TARGETARCH is not supported (amd64, arm64)"; exit 1 ;; \
    esac \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      clang-18 lld-18 llvm-18 \
      binutils-$cross gcc-$cross g++-$cross libstdc++-13-dev-$other-cross \
      build-essential python3 python-is-python3 git patch unzip zip xz-utils \
      autoconf automake libtool make cmake ninja-build pkg-config \
      golang-go \
 && clang-18 --version | head -n1 | python3 -c "import re,sys; v=tuple(map(int, re.search(r'version (\d+)\.(\d+)\.(\d+)', sys.stdin.read()).groups())); sys.exit(0 if v >= (18, 1, 8) else 'clang ' + '.'.join(map(str, v)) + ' is older than 18.1.8')" \
 && ln -s /usr/bin/clang-18 /usr/local/bin/clang \
 && ln -s /usr/bin/clang++-18 /usr/local/bin/clang++ \
 && ln -s /usr/bin/ld.lld-18 /usr/local/bin/ld.lld \
 && rm -rf /var/lib/apt/lists/*

# Bazel, the exact release .bazelversion names, checked against its published sha256
# (update both sums when .bazelversion changes; the check fails until then).
COPY .bazelversion /tmp/.bazelversion
ARG BAZEL_SHA256_AMD64=115a1b62be95f29e5821d4dddffba1b058905a48019b499919c285e7f708d5e2
ARG BAZEL_SHA256_ARM64=71df04ec724f1b577f1f47ec9a6b81d13f39683f6c3215cacf45fdaf40b2c5c1
RUN version="$(cat /tmp/.bazelversion)" \
 && case "$TARGETARCH" in \
      amd64) file=bazel-$version-linux-x86_64; sum=$BAZEL_SHA256_AMD64 ;; \
      arm64) file=bazel-$version-linux-arm64; sum=$BAZEL_SHA256_ARM64 ;; \
    esac \
 && curl -fsSL -o /usr/local/bin/bazel "https://github.com/bazelbuild/bazel/releases/download/$version/$file" \
 && echo "$sum  /usr/local/bin/bazel" | sha256sum -c - \
 && chmod 755 /usr/local/bin/bazel \
 && rm /tmp/.bazelversion

# The build user, and the folders the Dockerfiles use (the cache folder is also the
# mount point of the archive's cache).
RUN groupadd -g 1337 builder \
 && useradd -u 1337 -g 1337 -d /cilium/home -m -s /bin/bash builder \
 && mkdir -p /cilium/proxy /cilium/bazel-cache /cilium/install /cilium/testlogs \
 && chown -R 1337:1337 /cilium
ENV HOME=/cilium/home
USER 1337:1337
WORKDIR /cilium/proxy

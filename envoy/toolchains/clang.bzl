"""C++ toolchains for the proxy: clang 18 and lld from the builder image, one per target.

Each toolchain targets one CPU and runs on any Linux machine, so a build on amd64 that
names --platforms=//envoy/platforms:linux_aarch64 resolves to the aarch64 toolchain
(clang --target=aarch64-linux-gnu with the cross gcc runtime of Dockerfile.builder) and
never to the host's.  Bazel's own unix toolchain rule does the feature plumbing.
"""

load("@bazel_tools//tools/cpp:unix_cc_toolchain_config.bzl", "cc_toolchain_config")

# Where Dockerfile.builder's clang-18, lld-18 and llvm-18 packages install their tools;
# a unit test checks that the major version agrees with Dockerfile.builder.
LLVM_MAJOR = "18"
LLVM_BIN = "/usr/lib/llvm-" + LLVM_MAJOR + "/bin"

def clang_linux_toolchain(name, cpu, bazel_cpu, triple):
    """Defines :<name> (the toolchain to register) and its cc_toolchain and config.

    Args:
      name: name of the toolchain() target.
      cpu: the @platforms//cpu constraint the toolchain builds for.
      bazel_cpu: Bazel's legacy --cpu value for that CPU (k8, aarch64).
      triple: clang's --target and the Debian multiarch folder of the target's runtime.
    """
    config = name + "_config"
    cc_toolchain_config(
        name = config,
        cpu = bazel_cpu,
        compiler = "clang",
        toolchain_identifier = "clang" + LLVM_MAJOR + "-" + triple,
        host_system_name = "local",
        target_system_name = triple,
        target_libc = "glibc",
        abi_version = "local",
        abi_libc_version = "local",
        # Headers clang may pick up: its own, the native ones, and the cross runtime's.
        cxx_builtin_include_directories = [
            "/usr/lib/llvm-" + LLVM_MAJOR,
            "/usr/include",
            "/usr/lib/gcc",
            "/usr/lib/gcc-cross",
            "/usr/" + triple,
        ],
        tool_paths = {
            "ar": LLVM_BIN + "/llvm-ar",
            "cpp": LLVM_BIN + "/clang-cpp",
            "dwp": LLVM_BIN + "/llvm-dwp",
            "gcc": LLVM_BIN + "/clang",
            "gcov": LLVM_BIN + "/llvm-cov",
            "ld": LLVM_BIN + "/ld.lld",
            "nm": LLVM_BIN + "/llvm-nm",
            "objcopy": LLVM_BIN + "/llvm-objcopy",
            "objdump": LLVM_BIN + "/llvm-objdump",
            "strip": LLVM_BIN + "/llvm-strip",
        },
        compile_flags = [
            "--target=" + triple,
            # Also here, not only in link_flags: configure checks of foreign_cc
            # dependencies link test programs with the compile flags alone (clang ignores
            # it when only compiling; -Wno-unused-command-line-argument keeps that quiet).
            "-fuse-ld=lld",
            "-U_FORTIFY_SOURCE",
            "-fstack-protector",
            "-fno-omit-frame-pointer",
            "-Wall",
            # Envoy's dependencies trip these with clang 18; they are not ours to fix.
            "-Wno-deprecated-builtins",
            "-Wno-thread-safety-reference-return",
            "-Wno-unused-command-line-argument",
        ],
        cxx_flags = ["-std=c++20"],
        dbg_compile_flags = ["-g"],
        opt_compile_flags = [
            "-g0",
            "-O2",
            "-D_FORTIFY_SOURCE=1",
            "-DNDEBUG",
            "-ffunction-sections",
            "-fdata-sections",
        ],
        link_flags = [
            "--target=" + triple,
            "-fuse-ld=lld",
            "-Wl,-no-as-needed",
            "-Wl,-z,relro,-z,now",
        ],
        # The C++ runtime is linked in, so the binary does not depend on the runtime
        # image's libstdc++.
        link_libs = ["-l:libstdc++.a", "-lm"],
        opt_link_flags = ["-Wl,--gc-sections"],
        # Builds of the same commit give the same binary.
        unfiltered_compile_flags = [
            "-Wno-builtin-macro-redefined",
            "-D__DATE__=\"redacted\"",
            "-D__TIMESTAMP__=\"redacted\"",
            "-D__TIME__=\"redacted\"",
        ],
        coverage_compile_flags = ["--coverage"],
        coverage_link_flags = ["--coverage"],
        supports_start_end_lib = True,
    )
    native.cc_toolchain(
        name = name + "_cc",
        all_files = ":empty",
        ar_files = ":empty",
        as_files = ":empty",
        compiler_files = ":empty",
        dwp_files = ":empty",
        linker_files = ":empty",
        objcopy_files = ":empty",
        strip_files = ":empty",
        toolchain_config = ":" + config,
    )
    native.toolchain(
        name = name,
        exec_compatible_with = ["@platforms//os:linux"],
        target_compatible_with = [
            "@platforms//os:linux",
            cpu,
        ],
        toolchain = ":" + name + "_cc",
        toolchain_type = "@bazel_tools//tools/cpp:toolchain_type",
    )

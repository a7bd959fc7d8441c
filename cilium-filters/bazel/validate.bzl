"""protoc-gen-validate's C++ validators for a proto_library, as a library linked whole.

PGV's own pgv_cc_proto_library writes its files where the proto's import path points, but
declares them beside the proto's path in the repository: the two differ for our API, which
protoc knows as cilium/api/<file> (import_prefix), so it cannot build it. This rule runs
the same plugin (Envoy's pinned @com_envoyproxy_protoc_gen_validate) with the proto's
descriptors and declares the files where protoc writes them.
"""

load("@rules_proto//proto:defs.bzl", "ProtoInfo")

def _import_path(info, src):
    root = info.proto_source_root
    if root and root != "." and src.path.startswith(root + "/"):
        return src.path[len(root) + 1:]
    return src.short_path

def _validators_impl(ctx):
    info = ctx.attr.proto[ProtoInfo]
    headers = []
    sources = []
    names = []
    for src in info.direct_sources:
        name = _import_path(info, src)
        stem = ctx.label.name + "/" + name[:-len(".proto")]
        headers.append(ctx.actions.declare_file(stem + ".pb.validate.h"))
        sources.append(ctx.actions.declare_file(stem + ".pb.validate.cc"))
        names.append(name)
    out = "/".join([p for p in [ctx.bin_dir.path, ctx.label.package, ctx.label.name] if p])
    args = ctx.actions.args()
    args.add(ctx.executable._plugin, format = "--plugin=protoc-gen-validate=%s")
    args.add(out, format = "--validate_out=lang=cc:%s")
    args.add_joined(
        info.transitive_descriptor_sets,
        join_with = ctx.configuration.host_path_separator,
        format_joined = "--descriptor_set_in=%s",
    )
    args.add_all(names)
    ctx.actions.run(
        executable = ctx.executable._protoc,
        arguments = [args],
        inputs = info.transitive_descriptor_sets,
        tools = [ctx.executable._plugin],
        outputs = headers + sources,
        mnemonic = "CiliumValidateCc",
        progress_message = "Generating C++ validators for %{label}",
    )
    return [
        DefaultInfo(files = depset(headers + sources)),
        OutputGroupInfo(headers = depset(headers), sources = depset(sources)),
    ]

_validators = rule(
    implementation = _validators_impl,
    attrs = {
        "proto": attr.label(mandatory = True, providers = [ProtoInfo]),
        "_protoc": attr.label(
            default = "@com_google_protobuf//:protoc",
            executable = True,
            cfg = "exec",
        ),
        "_plugin": attr.label(
            default = "@com_envoyproxy_protoc_gen_validate//:protoc-gen-validate",
            executable = True,
            cfg = "exec",
        ),
    },
)

def cilium_cc_validate_library(name, proto, deps = [], visibility = None):
    """`name`: the validators of `proto`; `deps`: its C++ messages and those it embeds.

    Linked whole (alwayslink), as PGV's own rule does: each validator registers itself for
    the messages embedding its type, and nothing else refers to it.
    """
    _validators(name = name + "_gen", proto = proto)
    native.filegroup(name = name + "_hdrs", srcs = [":" + name + "_gen"], output_group = "headers")
    native.filegroup(name = name + "_srcs", srcs = [":" + name + "_gen"], output_group = "sources")
    native.cc_library(
        name = name,
        hdrs = [":" + name + "_hdrs"],
        srcs = [":" + name + "_srcs"],
        includes = [name + "_gen"],
        deps = deps + [
            "@com_envoyproxy_protoc_gen_validate//validate:cc_validate",
            "@com_google_protobuf//:protobuf",
            "@com_googlesource_code_re2//:re2",
        ],
        alwayslink = True,
        visibility = visibility,
    )

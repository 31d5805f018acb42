"""aarch64_binary: a cc_binary cross-compiled for aarch64 inside any build.

    aarch64_binary(name = "moshx_aarch64", binary = "//cmd:moshx")

builds //cmd:moshx with the same settings as `--config=aarch64` (see
.bazelrc: Debian's aarch64 cross gcc, the arm64 multiarch libraries, fully
static) and makes it this target's one output file, so a default (x86-64)
build or test can carry the aarch64 build as data: `tools/release` builds both
binaries in one invocation, and the bootstrap e2e test uploads it.
"""

_AARCH64 = {
    "//command_line_option:cpu": "aarch64",
    "//command_line_option:crosstool_top": "//tools/toolchains:suite",
    "//command_line_option:platforms": "//tools/toolchains:linux_aarch64",
    "//command_line_option:extra_toolchains": ["//tools/toolchains:cc_toolchain_aarch64"],
    "//command_line_option:dynamic_mode": "off",
}

def _to_aarch64_impl(settings, attr):
    features = settings["//command_line_option:features"]
    out = dict(_AARCH64)
    out["//command_line_option:features"] = features + [
        f
        for f in ["fully_static_link"]
        if f not in features
    ]
    return out

_to_aarch64 = transition(
    implementation = _to_aarch64_impl,
    inputs = ["//command_line_option:features"],
    outputs = list(_AARCH64.keys()) + ["//command_line_option:features"],
)

def _aarch64_binary_impl(ctx):
    binary = ctx.attr.binary
    if type(binary) == "list":  # Bazel 4 hands 1:1 transitions over as lists
        binary = binary[0]
    src = binary[DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = out, target_file = src, is_executable = True)
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

aarch64_binary = rule(
    implementation = _aarch64_binary_impl,
    attrs = {
        "binary": attr.label(
            mandatory = True,
            executable = True,
            cfg = _to_aarch64,
            doc = "The cc_binary to build for aarch64.",
        ),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
    doc = "The aarch64 build of `binary` (a symlink to it), whatever the configuration.",
)

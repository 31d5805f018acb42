"""source_package: a source tree tools/setup unpacked into .deps/, as a repository.

Like new_local_repository, but fails with an actionable message when the tree
is missing or stale (tools/setup writes .deps/<dir>/.moshx-source holding the
sha256 of the tarball it verified and unpacked), and takes the BUILD file from
the overlay given (third_party/<name>.BUILD).
"""

def _source_package_impl(ctx):
    root = ctx.path(Label("//:WORKSPACE")).dirname
    src = root.get_child(".deps").get_child(ctx.attr.dir)
    stamp = src.get_child(".moshx-source")
    if not stamp.exists:
        fail("%s's source is not in .deps/%s: run tools/setup first (it fetches %s)." %
             (ctx.attr.name, ctx.attr.dir, ctx.attr.origin))
    if ctx.read(stamp).strip() != ctx.attr.sha256:
        fail(".deps/%s is not the expected %s source: run tools/setup again." %
             (ctx.attr.dir, ctx.attr.name))
    for child in src.readdir():
        if child.basename not in ("WORKSPACE", "BUILD", "BUILD.bazel", ".moshx-source"):
            ctx.symlink(child, child.basename)
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.attr.name)
    ctx.symlink(ctx.attr.build_file, "BUILD.bazel")

source_package = repository_rule(
    implementation = _source_package_impl,
    attrs = {
        "dir": attr.string(mandatory = True, doc = "folder under .deps/"),
        "sha256": attr.string(mandatory = True, doc = "of the tarball tools/setup unpacked"),
        "build_file": attr.label(mandatory = True, allow_single_file = True),
        "origin": attr.string(doc = "where tools/setup gets it, for the error message"),
    },
    local = True,
)

"""boringssl_source: the BoringSSL tree tools/setup unpacked into .deps/.

Like local_repository, but fails with an actionable message when the tree is
missing or stale (tools/setup writes .deps/boringssl/.moshx-source with the
checksum of the tarball it unpacked).
"""

def _boringssl_source_impl(ctx):
    root = ctx.path(Label("//:WORKSPACE")).dirname
    src = root.get_child(".deps").get_child("boringssl")
    stamp = src.get_child(".moshx-source")
    if not stamp.exists:
        fail("BoringSSL's source is not in .deps/boringssl: run tools/setup first " +
             "(it fetches Debian's android-platform-external-boringssl source package).")
    if ctx.read(stamp).strip() != ctx.attr.sha256:
        fail(".deps/boringssl is not the expected BoringSSL source: run tools/setup again.")
    for child in src.readdir():
        if child.basename not in ("WORKSPACE", ".moshx-source"):
            ctx.symlink(child, child.basename)
    ctx.file("WORKSPACE", 'workspace(name = "boringssl")\n')

boringssl_source = repository_rule(
    implementation = _boringssl_source_impl,
    attrs = {"sha256": attr.string(mandatory = True)},
    local = True,
)

// What this binary is: its version and a build id that identifies the exact
// executable (used by `moshx --version` and, later, by `moshx bootstrap` to
// tell whether a remote copy is the same build).
//
// Thread-safety: all functions are safe to call from any thread.
#ifndef MOSHX_CMD_BUILD_INFO_H_
#define MOSHX_CMD_BUILD_INFO_H_

#include <string>

namespace moshx::cmd {

// The release version, e.g. "0.1.0".
inline constexpr char kVersion[] = "0.1.0";

// The linker's GNU build id of the running executable as lowercase hex (40
// characters for the sha1 style the build uses), or "unknown" when the binary
// carries none. It is a hash of the linked output, so two binaries share it
// exactly when they are the same build.
std::string BuildId();

// "moshx 0.1.0 (build 1a2b3c4d5e6f) libvterm 0.3.3": the --version line
// (the terminal emulator's version is part of what a build is: it decides
// how screens look).
std::string VersionLine();

}  // namespace moshx::cmd

#endif  // MOSHX_CMD_BUILD_INFO_H_

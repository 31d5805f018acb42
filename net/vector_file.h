// Test-only reader for the known-answer files under testdata/ (ocb/, gcm/,
// mosh/): "key = value" lines grouped into records separated by blank lines;
// lines starting with '#' are comments. Values may be empty.
//
// Failure: a missing file or a line without " = " is an error Status (the
// test then fails); Hex() aborts on malformed hex, since it only reads our own
// checked-in files.
#ifndef MOSHX_NET_VECTOR_FILE_H_
#define MOSHX_NET_VECTOR_FILE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace moshx::net::testing {

using VectorRecord = std::map<std::string, std::string>;

// Reads `path` (workspace-relative, e.g. "testdata/ocb/rfc7253_appendix_a.txt").
absl::StatusOr<std::vector<VectorRecord>> ReadVectorFile(const std::string& path);

// Hex (either case) to bytes.
std::string Hex(absl::string_view hex);
// Bytes to lower-case hex, for readable test failures.
std::string ToHex(absl::string_view bytes);

}  // namespace moshx::net::testing

#endif  // MOSHX_NET_VECTOR_FILE_H_

#include "term/round_trip.h"

#include "absl/strings/str_cat.h"
#include "core/diff.h"
#include "term/screen_text.h"

namespace moshx::term {
namespace {

// The first line where two texts differ, both versions.
std::string FirstDifferentLine(const std::string& want, const std::string& got) {
  size_t w = 0, g = 0;
  while (w < want.size() || g < got.size()) {
    const size_t we = std::min(want.find('\n', w), want.size());
    const size_t ge = std::min(got.find('\n', g), got.size());
    absl::string_view wl(want.data() + w, we - w), gl(got.data() + g, ge - g);
    if (wl != gl) return absl::StrCat("  want: ", wl, "\n  got:  ", gl, "\n");
    w = we + 1;
    g = ge + 1;
  }
  return "";
}

}  // namespace

std::string DescribeDifference(const core::Framebuffer& want,
                               const core::Framebuffer& got) {
  if (want == got) return "";
  const std::string wt = ScreenText(want), gt = ScreenText(got);
  if (wt != gt) {
    return absl::StrCat(FirstDifferentLine(wt, gt), "--- want:\n", wt,
                        "--- got:\n", gt);
  }
  // Same text: a difference ScreenText does not show.
  for (int y = 0; y < want.height(); ++y) {
    for (int x = 0; x < want.width(); ++x) {
      const core::Cell& a = want.cell(y, x);
      const core::Cell& b = got.cell(y, x);
      if (a != b) {
        return absl::StrCat("cell ", y, ",", x, ": want ", Quoted(a.text), " w",
                            a.width, " [", CellSpec(a), "], got ", Quoted(b.text),
                            " w", b.width, " [", CellSpec(b), "]\n");
      }
    }
    if (want.row(y).wrapped() != got.row(y).wrapped()) {
      return absl::StrCat("row ", y, " wrapped flag differs\n");
    }
  }
  return "framebuffers differ in a field ScreenText does not show\n";
}

RoundTrip::RoundTrip(int width, int height)
    : receiver_(width, height), current_(receiver_.Snapshot()) {}

std::string RoundTrip::Step(const core::Framebuffer& next) {
  const std::string diff = core::Diff(current_, next);
  // A diff rings at most core::kMaxBells times (documented in core/diff.h).
  core::Framebuffer want = next;
  if (next.bell_count() > current_.bell_count() + core::kMaxBells) {
    want.set_bell_count(current_.bell_count() + core::kMaxBells);
  }
  if (next.width() != receiver_.width() || next.height() != receiver_.height()) {
    receiver_.Resize(next.width(), next.height());
  }
  const std::string answers = receiver_.Feed(diff);
  const core::Framebuffer got = receiver_.Snapshot();
  std::string report;
  if (!answers.empty()) {
    absl::StrAppend(&report, "the diff made the receiver answer ",
                    Quoted(answers), "\n");
  }
  absl::StrAppend(&report, DescribeDifference(want, got));
  if (!core::Diff(next, next).empty()) {
    absl::StrAppend(&report, "Diff(next, next) is not empty\n");
  }
  if (!report.empty()) {
    report = absl::StrCat("diff ", Quoted(diff), "\n", report, "--- from:\n",
                          ScreenText(current_));
  }
  current_ = got;
  return report;
}

}  // namespace moshx::term

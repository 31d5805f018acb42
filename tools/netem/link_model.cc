#include "tools/netem/link_model.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace moshx::netem {
namespace {

absl::Status Bad(absl::string_view key, absl::string_view value,
                 absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad ", key, "='", value, "': ", why));
}

// A number followed by one of `units` (suffix -> multiplier); no suffix
// means `bare`. Suffixes are matched case-insensitively, longest first.
bool ParseWithUnit(absl::string_view text,
                   const std::vector<std::pair<absl::string_view, double>>& units,
                   double bare, double* out) {
  std::string lower = absl::AsciiStrToLower(text);
  absl::string_view t = lower;
  double mult = bare;
  size_t best = 0;
  for (const auto& [suffix, m] : units) {
    if (suffix.size() > best && absl::EndsWith(t, suffix) &&
        t.size() > suffix.size()) {
      best = suffix.size();
      mult = m;
    }
  }
  t.remove_suffix(best);
  double v;
  if (!absl::SimpleAtod(t, &v) || !std::isfinite(v) || v < 0) return false;
  *out = v * mult;
  return true;
}

bool ParseMs(absl::string_view text, double* ms) {
  return ParseWithUnit(text, {{"us", 1e-3}, {"ms", 1}, {"s", 1e3}}, 1, ms);
}

std::string Num(double v) {
  // Shortest text that reads back as the same double.
  std::string s = absl::StrCat(v);
  double back;
  if (absl::SimpleAtod(s, &back) && back == v) return s;
  char buf[40];
  snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

}  // namespace

const char* ProtoName(Proto p) {
  switch (p) {
    case Proto::kTcp:
      return "tcp";
    case Proto::kUdp:
      return "udp";
    case Proto::kIcmp:
      return "icmp";
    case Proto::kOther:
      return "other";
  }
  return "other";
}

absl::StatusOr<uint32_t> ParseProtoMask(absl::string_view names) {
  uint32_t mask = 0;
  for (absl::string_view n : absl::StrSplit(names, '+')) {
    if (n == "none") continue;
    if (n == "all") {
      mask |= (1u << kProtoCount) - 1;
      continue;
    }
    bool found = false;
    for (int i = 0; i < kProtoCount; ++i) {
      if (n == ProtoName(static_cast<Proto>(i))) {
        mask |= 1u << i;
        found = true;
      }
    }
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown protocol '", n, "' (tcp, udp, icmp, other, all, none)"));
    }
  }
  return mask;
}

absl::Status ParseLinkSpec(absl::string_view spec, LinkConfig* config) {
  spec = absl::StripAsciiWhitespace(spec);
  if (spec == "clean") {
    *config = LinkConfig();
    return absl::OkStatus();
  }
  LinkConfig c = *config;
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    absl::string_view key = absl::StripAsciiWhitespace(kv.first);
    absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    if (value.empty()) return Bad(key, value, "expected key=value");
    if (key == "delay") {
      if (!ParseMs(value, &c.delay_ms)) return Bad(key, value, "not a time");
    } else if (key == "jitter") {
      if (!ParseMs(value, &c.jitter_ms)) return Bad(key, value, "not a time");
    } else if (key == "reorder") {
      if (value != "0" && value != "1") return Bad(key, value, "0 or 1");
      c.reorder = value == "1";
    } else if (key == "loss") {
      double v;
      bool percent = absl::ConsumeSuffix(&value, "%");
      if (!absl::SimpleAtod(value, &v) || !(v >= 0)) {
        return Bad(key, value, "not a probability");
      }
      if (percent) v /= 100;
      if (v > 1) return Bad(key, value, "above 1");
      c.loss = v;
    } else if (key == "rate") {
      if (absl::EndsWithIgnoreCase(value, "bps")) {
        return Bad(key, value, "ambiguous unit: write bit, kbit, mbit, gbit");
      }
      if (!ParseWithUnit(value,
                         {{"bit", 1},
                          {"k", 1e3},
                          {"kbit", 1e3},
                          {"m", 1e6},
                          {"mbit", 1e6},
                          {"g", 1e9},
                          {"gbit", 1e9}},
                         1, &c.rate_bps)) {
        return Bad(key, value, "not a rate (e.g. 20mbit)");
      }
    } else if (key == "queue") {
      if (absl::EndsWithIgnoreCase(value, "s")) {
        double ms;
        if (!ParseMs(value, &ms)) return Bad(key, value, "not a time");
        c.queue_ms = ms;
        c.queue_bytes = 0;
      } else {
        double bytes;
        if (!ParseWithUnit(value,
                           {{"b", 1},
                            {"k", 1024},
                            {"kb", 1024},
                            {"m", 1 << 20},
                            {"mb", 1 << 20}},
                           1, &bytes)) {
          return Bad(key, value, "not a size (e.g. 64kb) or time (50ms)");
        }
        c.queue_bytes = bytes;
        c.queue_ms = 0;
      }
    } else if (key == "drop") {
      absl::StatusOr<uint32_t> mask = ParseProtoMask(value);
      if (!mask.ok()) return Bad(key, value, mask.status().message());
      c.drop_mask = *mask;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown key '", key,
          "' (delay, jitter, reorder, loss, rate, queue, drop, or 'clean')"));
    }
  }
  *config = c;
  return absl::OkStatus();
}

std::string LinkSpecString(const LinkConfig& c) {
  std::vector<std::string> drops;
  for (int i = 0; i < kProtoCount; ++i) {
    if (c.drop_mask & (1u << i)) drops.push_back(ProtoName(static_cast<Proto>(i)));
  }
  std::string queue = c.queue_ms > 0 ? absl::StrCat(Num(c.queue_ms), "ms")
                                     : absl::StrCat(Num(c.queue_bytes), "b");
  return absl::StrCat("delay=", Num(c.delay_ms), "ms,jitter=", Num(c.jitter_ms),
                      "ms,reorder=", c.reorder ? 1 : 0, ",loss=", Num(c.loss),
                      ",rate=", Num(c.rate_bps), "bit,queue=", queue,
                      ",drop=", drops.empty() ? "none" : absl::StrJoin(drops, "+"));
}

LinkModel::LinkModel(uint64_t seed) : rng_(seed) {}

uint64_t LinkModel::QueuedBytes(int64_t now_ns) {
  while (!backlog_.empty() && backlog_.front().finish_ns <= now_ns) {
    backlog_bytes_ -= backlog_.front().bytes;
    backlog_.pop_front();
  }
  return backlog_bytes_;
}

LinkModel::Result LinkModel::Admit(size_t size, Proto proto, int64_t now_ns) {
  int p = static_cast<int>(proto);
  stats_.in.Add(size);
  stats_.proto_in[p].Add(size);
  if (config_.drop_mask & (1u << p)) {
    stats_.filtered.Add(size);
    return {Verdict::kFiltered, 0};
  }
  if (Frozen(now_ns)) {
    stats_.blackholed.Add(size);
    return {Verdict::kBlackholed, 0};
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  bool lost = unit(rng_) < config_.loss;
  double jitter = config_.jitter_ms > 0 ? (2 * unit(rng_) - 1) * config_.jitter_ms
                                        : 0;
  if (lost) {
    stats_.lost.Add(size);
    return {Verdict::kLost, 0};
  }
  int64_t t = now_ns;
  if (config_.rate_bps > 0) {
    uint64_t queued = QueuedBytes(now_ns);
    double limit = config_.queue_ms > 0
                       ? config_.rate_bps * config_.queue_ms / 8000.0
                       : config_.queue_bytes;
    if (queued > 0 && static_cast<double>(queued + size) > limit) {
      stats_.queue_drops.Add(size);
      return {Verdict::kQueueDrop, 0};
    }
    int64_t start = std::max(now_ns, busy_until_ns_);
    auto tx_ns = static_cast<int64_t>(
        std::llround(static_cast<double>(size) * 8e9 / config_.rate_bps));
    busy_until_ns_ = start + tx_ns;
    backlog_.push_back({busy_until_ns_, size});
    backlog_bytes_ += size;
    stats_.max_queue_bytes = std::max(stats_.max_queue_bytes, backlog_bytes_);
    t = busy_until_ns_;
  }
  double delay_ms = std::max(0.0, config_.delay_ms + jitter);
  int64_t leave = t + static_cast<int64_t>(std::llround(delay_ms * 1e6));
  if (!config_.reorder) leave = std::max(leave, last_leave_ns_);
  last_leave_ns_ = std::max(last_leave_ns_, leave);
  return {Verdict::kPass, leave};
}

bool LinkModel::Leave(size_t size, Proto proto, int64_t now_ns) {
  if (Frozen(now_ns)) {
    stats_.blackholed.Add(size);
    return false;
  }
  stats_.delivered.Add(size);
  stats_.proto_delivered[static_cast<int>(proto)].Add(size);
  return true;
}

}  // namespace moshx::netem

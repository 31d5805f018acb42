#include "cmd/client/history_receiver.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace moshx::cmd {

HistoryReceiver::HistoryReceiver(net::stream::StreamMux* mux, Sink sink)
    : mux_(mux), sink_(std::move(sink)) {}

HistoryReceiver::~HistoryReceiver() {
  if (id_.has_value()) mux_->SetCallbacks(*id_, {}).IgnoreError();
}

void HistoryReceiver::Attach(net::stream::StreamId id) {
  if (attached() || !status_.ok()) return;
  id_ = id;
  // Our direction carries nothing.
  mux_->Finish(id);
  net::stream::StreamMux::StreamCallbacks callbacks;
  callbacks.on_readable = [this] { OnReadable(); };
  callbacks.on_reset = [this](uint64_t code) {
    id_.reset();
    if (!done_ && status_.ok()) {
      status_ = absl::UnavailableError(absl::StrCat("history stream reset (code ", code, ")"));
    }
  };
  mux_->SetCallbacks(id, std::move(callbacks)).IgnoreError();
  OnReadable();
}

void HistoryReceiver::Fail(absl::Status status) {
  status_ = std::move(status);
  if (id_.has_value()) {
    mux_->SetCallbacks(*id_, {}).IgnoreError();
    mux_->Reset(*id_, kResetMalformed);
    id_.reset();
  }
}

void HistoryReceiver::OnReadable() {
  if (reading_) return;
  reading_ = true;
  while (id_.has_value()) {
    if (wants_more_ && !wants_more_()) break;
    if (decompressor_.idle()) {
      std::string chunk = mux_->Read(*id_, kReadChunk);
      if (chunk.empty()) {
        if (mux_->AtEof(*id_)) {
          done_ = true;
          mux_->SetCallbacks(*id_, {}).IgnoreError();
          id_.reset();
        }
        break;
      }
      decompressor_.Append(chunk);
    }
    plain_.clear();
    if (absl::Status s = decompressor_.Drain(kDrainChunk, &plain_); !s.ok()) {
      Fail(std::move(s));
      break;
    }
    records_.clear();
    if (absl::Status s = decoder_.Push(plain_, &records_); !s.ok()) {
      Fail(std::move(s));
      break;
    }
    for (protocol::HistoryRecord& r : records_) {
      if (r.line.has_value()) {
        ++lines_;
      } else {
        lines_not_kept_ += r.lines_not_kept;
      }
      sink_(std::move(r));
    }
  }
  reading_ = false;
}

}  // namespace moshx::cmd

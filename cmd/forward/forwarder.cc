#include "cmd/forward/forwarder.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "cmd/forward/sockets.h"
#include "cmd/forward/socks5.h"
#include "cmd/forward/stream_bridge.h"
#include "core/protocol/forward_protocol.h"

namespace moshx::cmd::forward {

using protocol::EncodeOpenReply;
using protocol::EncodeOpenRequest;
using protocol::kMaxMessageSize;
using protocol::OpenKind;
using protocol::OpenRequest;
using protocol::OpenStatus;
using protocol::OpenStatusName;
using protocol::ParseOpenReply;
using protocol::ParseOpenRequest;
using protocol::TakeMessage;

using net::stream::StreamId;

struct Forwarder::Listener {
  enum class Type { kLocal, kSocks, kRemoteOnServer, kAgentOnServer };
  Type type;
  sys::ScopedFd fd;
  size_t spec_index = 0;   // client: which option
  uint32_t remote_id = 0;  // server: the client's listener number
  bool has_control = false;
  StreamId control = 0;    // server: the stream that keeps it alive
  std::string unix_path;   // server: an agent socket file to remove
};

struct Forwarder::Conn {
  enum class Phase { kSocks, kAwaitReply, kAwaitRequest, kConnecting, kControl, kBridged };
  uint64_t key = 0;
  Phase phase = Phase::kAwaitRequest;
  bool has_stream = false;
  StreamId stream = 0;
  sys::ScopedFd fd;
  bool watching = false;
  std::string from_stream;  // header bytes and what followed them
  bool is_socks = false;
  Socks5Handshake socks;
  std::string early;        // socket bytes read before bridging
  std::string what;         // for log lines: "-L 8080:db:5432", "agent", ...
  std::unique_ptr<StreamBridge> bridge;
};

Forwarder::Forwarder(net::EventLoop* loop, net::stream::StreamMux* mux,
                     ForwarderOptions options, Logger log)
    : loop_(loop), mux_(mux), options_(std::move(options)), log_(std::move(log)) {}

Forwarder::~Forwarder() {
  for (auto& l : listeners_) {
    loop_->UnwatchFd(l->fd.get());
    if (!l->unix_path.empty()) unlink(l->unix_path.c_str());
  }
  for (auto& [key, c] : conns_) {
    if (c->watching) loop_->UnwatchFd(c->fd.get());
    if (c->has_stream && !c->bridge && mux_->Exists(c->stream)) {
      // Control streams end here, so the peer closes what they kept open.
      mux_->SetCallbacks(c->stream, {}).IgnoreError();
      mux_->Reset(c->stream, kResetSocketError);
    }
  }
}

// --- Listeners ----------------------------------------------------------------------

void Forwarder::Start() {
  for (size_t i = 0; i < options_.specs.size(); ++i) {
    if (options_.specs[i].kind == ForwardKind::kRemote) {
      RequestRemoteListener(i);
    } else {
      OpenListener(i);
    }
  }
  if (!options_.is_server && !options_.agent_socket.empty()) RequestAgentSocket();
}

void Forwarder::OpenListener(size_t i) {
  const ForwardSpec& spec = options_.specs[i];
  auto fd = ListenTcp(spec.bind_address, spec.port);
  if (!fd.ok()) {
    log_(absl::StrCat(spec.ToString(), ": ", fd.status().message()));
    return;
  }
  auto l = std::make_unique<Listener>();
  l->type = spec.kind == ForwardKind::kDynamic ? Listener::Type::kSocks : Listener::Type::kLocal;
  l->fd = std::move(*fd);
  l->spec_index = i;
  Listener* raw = l.get();
  if (loop_->WatchFd(raw->fd.get(), net::EventLoop::kReadable,
                     [this, raw](uint32_t) { OnAccept(raw); }).ok()) {
    listeners_.push_back(std::move(l));
  }
}

uint16_t Forwarder::listening_port(size_t spec_index) const {
  for (const auto& l : listeners_) {
    if (l->spec_index == spec_index &&
        (l->type == Listener::Type::kLocal || l->type == Listener::Type::kSocks)) {
      return LocalPort(l->fd.get());
    }
  }
  return 0;
}

absl::Status Forwarder::StartAgentListener(const std::string& path) {
  return ListenAgent(path, std::nullopt);
}

absl::Status Forwarder::ListenAgent(const std::string& path, std::optional<StreamId> control) {
  // One agent socket per session: a client that asks again (a new control
  // stream after an outage) replaces the old listener.
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    if ((*it)->type == Listener::Type::kAgentOnServer && (*it)->unix_path == path) {
      loop_->UnwatchFd((*it)->fd.get());
      listeners_.erase(it);
      break;
    }
  }
  unlink(path.c_str());  // a stale socket file of an earlier listener
  auto fd = ListenUnix(path);
  if (!fd.ok()) return fd.status();
  auto l = std::make_unique<Listener>();
  l->type = Listener::Type::kAgentOnServer;
  l->fd = std::move(*fd);
  l->has_control = control.has_value();
  l->control = control.value_or(0);
  l->unix_path = path;
  Listener* raw = l.get();
  absl::Status watched = loop_->WatchFd(raw->fd.get(), net::EventLoop::kReadable,
                                        [this, raw](uint32_t) { OnAccept(raw); });
  if (!watched.ok()) {
    unlink(path.c_str());
    return watched;
  }
  listeners_.push_back(std::move(l));
  return absl::OkStatus();
}

size_t Forwarder::RemoteListeners() const {
  size_t n = 0;
  for (const auto& l : listeners_) n += l->type == Listener::Type::kRemoteOnServer;
  return n;
}

void Forwarder::RequestAgentSocket() {
  auto c = std::make_unique<Conn>();
  c->key = next_conn_++;
  c->what = "-A";
  Conn* conn = c.get();
  conns_[conn->key] = std::move(c);
  OpenStreamFor(conn, EncodeOpenRequest({OpenKind::kAgentListen, "", 0, 0}));
}

void Forwarder::RequestRemoteListener(size_t i) {
  const ForwardSpec& spec = options_.specs[i];
  auto c = std::make_unique<Conn>();
  c->key = next_conn_++;
  c->what = spec.ToString();
  Conn* conn = c.get();
  conns_[conn->key] = std::move(c);
  OpenStreamFor(conn, EncodeOpenRequest({OpenKind::kListen, spec.bind_address, spec.port,
                                         static_cast<uint32_t>(i)}));
}

void Forwarder::CloseListenerFor(StreamId control) {
  for (auto it = listeners_.begin(); it != listeners_.end(); ++it) {
    if ((*it)->has_control && (*it)->control == control) {
      loop_->UnwatchFd((*it)->fd.get());
      if (!(*it)->unix_path.empty()) unlink((*it)->unix_path.c_str());
      listeners_.erase(it);
      return;
    }
  }
}

void Forwarder::OnAccept(Listener* l) {
  for (;;) {
    auto fd = Accept(l->fd.get());
    if (!fd.ok()) return;
    ++stats_.accepted;
    auto c = std::make_unique<Conn>();
    c->key = next_conn_++;
    c->fd = std::move(*fd);
    Conn* conn = c.get();
    conns_[conn->key] = std::move(c);
    switch (l->type) {
      case Listener::Type::kLocal: {
        const ForwardSpec& spec = options_.specs[l->spec_index];
        conn->what = spec.ToString();
        OpenStreamFor(conn, EncodeOpenRequest({OpenKind::kConnect, spec.host, spec.host_port, 0}));
        break;
      }
      case Listener::Type::kSocks: {
        conn->what = options_.specs[l->spec_index].ToString();
        conn->is_socks = true;
        conn->phase = Conn::Phase::kSocks;
        uint64_t key = conn->key;
        conn->watching = loop_->WatchFd(conn->fd.get(), net::EventLoop::kReadable,
                                        [this, key](uint32_t e) {
                                          auto it = conns_.find(key);
                                          if (it != conns_.end()) OnSocketEvent(it->second.get(), e);
                                        }).ok();
        break;
      }
      case Listener::Type::kRemoteOnServer:
        conn->what = absl::StrCat("-R listener ", l->remote_id);
        OpenStreamFor(conn, EncodeOpenRequest({OpenKind::kReverse, "", 0, l->remote_id}));
        break;
      case Listener::Type::kAgentOnServer:
        conn->what = "agent";
        OpenStreamFor(conn, EncodeOpenRequest({OpenKind::kAgent, "", 0, 0}));
        break;
    }
  }
}

// --- Streams ---------------------------------------------------------------------------

void Forwarder::OpenStreamFor(Conn* conn, const std::string& request) {
  uint64_t key = conn->key;
  auto id = mux_->Open(net::stream::StreamOptions{},
                       {[this, key] {
                          auto it = conns_.find(key);
                          if (it != conns_.end()) OnStreamReadable(it->second.get());
                        },
                        nullptr,
                        [this, key](uint64_t) {
                          auto it = conns_.find(key);
                          if (it == conns_.end()) return;
                          it->second->has_stream = false;
                          Drop(it->second.get(), "");
                        }});
  if (!id.ok()) {
    ++stats_.failed;
    Drop(conn, absl::StrCat(conn->what, ": ", id.status().message()));
    return;
  }
  conn->has_stream = true;
  conn->stream = *id;
  conn->phase = Conn::Phase::kAwaitReply;
  mux_->Write(conn->stream, request);
}

void Forwarder::OnIncomingStream(StreamId id) {
  auto c = std::make_unique<Conn>();
  c->key = next_conn_++;
  c->has_stream = true;
  c->stream = id;
  c->phase = Conn::Phase::kAwaitRequest;
  uint64_t key = c->key;
  conns_[key] = std::move(c);
  mux_->SetCallbacks(id, {[this, key] {
                            auto it = conns_.find(key);
                            if (it != conns_.end()) OnStreamReadable(it->second.get());
                          },
                          nullptr,
                          [this, key](uint64_t) {
                            auto it = conns_.find(key);
                            if (it == conns_.end()) return;
                            it->second->has_stream = false;
                            Drop(it->second.get(), "");
                          }})
      .IgnoreError();  // the stream exists: we are inside its incoming callback
  OnStreamReadable(conns_[key].get());
}

void Forwarder::OnStreamReadable(Conn* conn) {
  if (conn->phase == Conn::Phase::kBridged) return;
  if (conn->phase == Conn::Phase::kConnecting) return;  // read on in the bridge
  conn->from_stream += mux_->Read(conn->stream, kMaxMessageSize + 2);
  if (conn->phase == Conn::Phase::kControl) {
    conn->from_stream.clear();
    if (mux_->AtEof(conn->stream)) {
      if (options_.is_server) CloseListenerFor(conn->stream);
      mux_->Finish(conn->stream);
      Drop(conn, "");
    }
    return;
  }
  auto body = TakeMessage(&conn->from_stream);
  if (!body.ok()) {
    Drop(conn, absl::StrCat(conn->what, ": ", body.status().message()));
    return;
  }
  if (!body->has_value()) {
    if (mux_->AtEof(conn->stream)) Drop(conn, "");
    return;
  }
  if (conn->phase == Conn::Phase::kAwaitReply) {
    HandleReply(conn, **body);
  } else {
    HandleRequest(conn, **body);
  }
}

void Forwarder::HandleReply(Conn* conn, const std::string& body) {
  auto reply = ParseOpenReply(body);
  bool ok = reply.ok() && reply->status == OpenStatus::kOk;
  if (!conn->fd.valid() && !conn->is_socks) {  // a -R control stream
    if (!ok) {
      log_(absl::StrCat(conn->what, ": ", reply.ok() ? reply->message : "bad reply"));
      mux_->Finish(conn->stream);
      Drop(conn, "");
      return;
    }
    conn->phase = Conn::Phase::kControl;
    return;
  }
  if (conn->is_socks) {
    std::string r = Socks5Handshake::Reply(
        ok ? Socks5Handshake::kSucceeded
           : reply.ok() && reply->status == OpenStatus::kConnectionRefused
                 ? Socks5Handshake::kConnectionRefused
                 : Socks5Handshake::kHostUnreachable);
    if (send(conn->fd.get(), r.data(), r.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(r.size())) {
      ok = false;
    }
  }
  if (!ok) {
    ++stats_.failed;
    Drop(conn, absl::StrCat(conn->what, ": ",
                            reply.ok() ? OpenStatusName(reply->status) : "bad reply",
                            reply.ok() && !reply->message.empty() ? " (" + reply->message + ")"
                                                                  : ""));
    return;
  }
  std::string rest = std::move(conn->from_stream);
  Bridge(conn, std::move(rest), std::move(conn->early));
}

void Forwarder::HandleRequest(Conn* conn, const std::string& body) {
  auto request = ParseOpenRequest(body);
  if (!request.ok()) {
    Reply(conn, static_cast<int>(OpenStatus::kProtocolError), std::string(request.status().message()));
    return;
  }
  const OpenRequest& r = *request;
  if (options_.is_server && r.kind == OpenKind::kConnect) {
    conn->what = absl::StrCat("connect to ", r.host, ":", r.port);
    StartConnect(conn, StartConnectTcp(r.host, r.port));
    return;
  }
  if (options_.is_server && r.kind == OpenKind::kListen) {
    if (RemoteListeners() >= options_.max_remote_listeners) {
      ++stats_.refused;
      Reply(conn, static_cast<int>(OpenStatus::kRefused),
            absl::StrCat("at most ", options_.max_remote_listeners, " -R listeners at once"));
      return;
    }
    auto fd = ListenTcp(r.host, r.port);
    if (!fd.ok()) {
      Reply(conn, static_cast<int>(OpenStatus::kBindFailed), std::string(fd.status().message()));
      return;
    }
    auto l = std::make_unique<Listener>();
    l->type = Listener::Type::kRemoteOnServer;
    l->fd = std::move(*fd);
    l->remote_id = r.listener;
    l->has_control = true;
    l->control = conn->stream;
    Listener* raw = l.get();
    if (!loop_->WatchFd(raw->fd.get(), net::EventLoop::kReadable,
                        [this, raw](uint32_t) { OnAccept(raw); }).ok()) {
      Reply(conn, static_cast<int>(OpenStatus::kBindFailed), "cannot watch the listener");
      return;
    }
    listeners_.push_back(std::move(l));
    mux_->Write(conn->stream, EncodeOpenReply({OpenStatus::kOk, ""}));
    conn->phase = Conn::Phase::kControl;
    return;
  }
  if (options_.is_server && r.kind == OpenKind::kAgentListen && !options_.agent_socket.empty()) {
    absl::Status listening = ListenAgent(options_.agent_socket, conn->stream);
    if (!listening.ok()) {
      Reply(conn, static_cast<int>(OpenStatus::kBindFailed), std::string(listening.message()));
      return;
    }
    mux_->Write(conn->stream, EncodeOpenReply({OpenStatus::kOk, ""}));
    conn->phase = Conn::Phase::kControl;
    return;
  }
  if (!options_.is_server && r.kind == OpenKind::kReverse && r.listener < options_.specs.size() &&
      options_.specs[r.listener].kind == ForwardKind::kRemote) {
    const ForwardSpec& spec = options_.specs[r.listener];
    conn->what = spec.ToString();
    StartConnect(conn, StartConnectTcp(spec.host, spec.host_port));
    return;
  }
  if (!options_.is_server && r.kind == OpenKind::kAgent && !options_.agent_socket.empty()) {
    conn->what = "agent";
    auto fd = ConnectUnix(options_.agent_socket);
    if (!fd.ok()) {
      Reply(conn, static_cast<int>(OpenStatus::kConnectionRefused),
            std::string(fd.status().message()));
      return;
    }
    conn->fd = std::move(*fd);
    mux_->Write(conn->stream, EncodeOpenReply({OpenStatus::kOk, ""}));
    Bridge(conn, std::move(conn->from_stream), "");
    return;
  }
  ++stats_.refused;
  Reply(conn, static_cast<int>(OpenStatus::kRefused), "not offered by this side");
}

void Forwarder::StartConnect(Conn* conn, absl::StatusOr<sys::ScopedFd> fd) {
  if (!fd.ok()) {
    bool resolve = absl::IsNotFound(fd.status());
    Reply(conn, static_cast<int>(resolve ? OpenStatus::kResolveFailed : OpenStatus::kUnreachable),
          std::string(fd.status().message()));
    return;
  }
  conn->fd = std::move(*fd);
  conn->phase = Conn::Phase::kConnecting;
  uint64_t key = conn->key;
  conn->watching = loop_->WatchFd(conn->fd.get(), net::EventLoop::kWritable,
                                  [this, key](uint32_t e) {
                                    auto it = conns_.find(key);
                                    if (it != conns_.end()) OnSocketEvent(it->second.get(), e);
                                  }).ok();
}

void Forwarder::OnSocketEvent(Conn* conn, uint32_t events) {
  if (conn->phase == Conn::Phase::kConnecting) {
    absl::Status s = FinishConnect(conn->fd.get());
    loop_->UnwatchFd(conn->fd.get());
    conn->watching = false;
    if (!s.ok()) {
      Reply(conn, static_cast<int>(OpenStatus::kConnectionRefused),
            absl::StrCat(conn->what, ": ", s.message()));
      return;
    }
    mux_->Write(conn->stream, EncodeOpenReply({OpenStatus::kOk, ""}));
    Bridge(conn, std::move(conn->from_stream), "");
    return;
  }
  if (conn->phase != Conn::Phase::kSocks) return;
  char buffer[1024];
  ssize_t n = read(conn->fd.get(), buffer, sizeof buffer);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || (events & net::EventLoop::kError)) {
    Drop(conn, "");
    return;
  }
  if (n < 0) return;
  std::string reply;
  auto state = conn->socks.Feed(absl::string_view(buffer, static_cast<size_t>(n)), &reply);
  if (!reply.empty()) send(conn->fd.get(), reply.data(), reply.size(), MSG_NOSIGNAL);
  if (state == Socks5Handshake::State::kFailed) {
    Drop(conn, absl::StrCat(conn->what, ": SOCKS: ", conn->socks.error()));
    return;
  }
  if (state == Socks5Handshake::State::kConnect) {
    loop_->UnwatchFd(conn->fd.get());
    conn->watching = false;
    conn->early = conn->socks.TakeRemainder();
    OpenStreamFor(conn, EncodeOpenRequest({OpenKind::kConnect, conn->socks.host(),
                                           conn->socks.port(), 0}));
  }
}

void Forwarder::Reply(Conn* conn, int status, const std::string& message) {
  // An error reply ends the stream from this side; the opener resets it.
  mux_->Write(conn->stream, EncodeOpenReply({static_cast<OpenStatus>(status), message}));
  mux_->Finish(conn->stream);
  ++stats_.failed;
  mux_->SetCallbacks(conn->stream, {}).IgnoreError();  // the stream lives on without us
  conn->has_stream = false;
  Drop(conn, "");
}

void Forwarder::Bridge(Conn* conn, std::string to_socket, std::string to_stream) {
  if (conn->watching) loop_->UnwatchFd(conn->fd.get());
  conn->watching = false;
  conn->phase = Conn::Phase::kBridged;
  ++stats_.bridged;
  uint64_t key = conn->key;
  conn->bridge = std::make_unique<StreamBridge>(loop_, mux_, conn->stream, std::move(conn->fd),
                                                [this, key] { conns_.erase(key); });
  conn->bridge->Start(std::move(to_socket), std::move(to_stream));
}

void Forwarder::Drop(Conn* conn, const std::string& why) {
  if (!why.empty()) log_(why);
  if (conn->watching) loop_->UnwatchFd(conn->fd.get());
  if (conn->has_stream && !conn->bridge && mux_->Exists(conn->stream)) {
    mux_->SetCallbacks(conn->stream, {}).IgnoreError();
    mux_->Reset(conn->stream, kResetSocketError);
  }
  if (options_.is_server && conn->phase == Conn::Phase::kControl) CloseListenerFor(conn->stream);
  conns_.erase(conn->key);
}

}  // namespace moshx::cmd::forward

#include "cmd/forward/server_forwarding.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace moshx::cmd::forward {

AgentSocketDir::AgentSocketDir(const std::string& parent) {
  std::string templ = parent + "/moshx-agent.XXXXXX";
  std::vector<char> buffer(templ.begin(), templ.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {  // mode 0700
    error_ = absl::StrCat("cannot create a directory in ", parent, ": ", std::strerror(errno));
    return;
  }
  dir_ = buffer.data();
  socket_path_ = dir_ + "/agent";
}

AgentSocketDir::~AgentSocketDir() {
  if (dir_.empty()) return;
  unlink(socket_path_.c_str());
  rmdir(dir_.c_str());
}

std::string AgentSocketDir::EnvironmentEntry() const {
  return socket_path_.empty() ? "" : absl::StrCat("SSH_AUTH_SOCK=", socket_path_);
}

ServerForwarding::ServerForwarding(net::EventLoop* loop, std::string agent_socket,
                                   Forwarder::Logger log)
    : loop_(loop), agent_socket_(std::move(agent_socket)), log_(std::move(log)) {}

ServerForwarding::~ServerForwarding() { Attach(nullptr); }

void ServerForwarding::Attach(net::stream::StreamMux* mux) {
  if (mux == mux_ && (mux == nullptr || forwarder_ != nullptr)) return;
  if (mux_ != nullptr) mux_->set_incoming_handler(nullptr);
  forwarder_.reset();
  mux_ = mux;
  if (mux_ == nullptr) return;
  ForwarderOptions options;
  options.is_server = true;
  options.agent_socket = agent_socket_;
  forwarder_ = std::make_unique<Forwarder>(loop_, mux_, options, log_);
  Forwarder* f = forwarder_.get();
  mux_->set_incoming_handler([f](net::stream::StreamId id) { f->OnIncomingStream(id); });
}

}  // namespace moshx::cmd::forward

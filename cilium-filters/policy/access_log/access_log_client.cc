#include "cilium-filters/policy/access_log/access_log_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <iostream>
#include <system_error>

namespace Cilium {
namespace Policy {
namespace {

#if defined(__linux__)
std::string errorText(int error) { return std::generic_category().message(error); }

// The socket address of `path`, or why there is none.
Status unixAddress(const std::string& path, sockaddr_un& address, socklen_t& length) {
  address = {};
  address.sun_family = AF_UNIX;
  if (path.empty()) {
    return Status::error("the access-log socket path is empty");
  }
  const bool abstract = path.front() == '@';
  if (!abstract && path.find('\0') != std::string::npos) {
    return Status::error("the path contains a NUL byte");
  }
  // A path needs its terminating NUL; an abstract name is the bytes after a leading NUL.
  if (path.size() >= sizeof(address.sun_path)) {
    return Status::error("the path is longer than " + std::to_string(sizeof(address.sun_path) - 1) +
                         " bytes");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  size_t used = path.size() + 1;
  if (abstract) {
    address.sun_path[0] = '\0';
    used = path.size();
  }
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + used);
  return Status::ok();
}
#endif

}  // namespace

AccessLogClient::UniqueFd& AccessLogClient::UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void AccessLogClient::UniqueFd::reset() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

AccessLogClient::AccessLogClient(std::string path, AccessLogClientOptions options)
    : path_(std::move(path)), options_(std::move(options)) {}

AccessLogClient::~AccessLogClient() = default;

AccessLogClientCounters AccessLogClient::counters() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counters_;
}

Status AccessLogClient::log(const ::cilium::LogEntry& entry) {
  std::string message;
  if (!entry.SerializeToString(&message)) {
    std::unique_lock<std::mutex> lock(mutex_);
    return drop(lock, Status::error("the entry could not be serialized").within(path_));
  }
  return send(message);
}

Status AccessLogClient::send(std::string_view message) {
  std::unique_lock<std::mutex> lock(mutex_);
  Status status = sendLocked(message);
  if (!status) {
    return drop(lock, status.within(path_));
  }
  ++counters_.sent;
  return status;
}

Status AccessLogClient::drop(std::unique_lock<std::mutex>& lock, Status reason) {
  ++counters_.dropped;
  ++dropped_since_warning_;
  const auto now = options_.clock ? options_.clock() : std::chrono::steady_clock::now();
  if (warned_ && now - last_warning_ < options_.warning_interval) {
    return reason;
  }
  const std::string warning = "cilium access log: " + std::to_string(dropped_since_warning_) +
                              (dropped_since_warning_ == 1 ? " entry" : " entries") + " dropped" +
                              (warned_ ? " since the last warning" : "") +
                              "; the latest: " + reason.message();
  warned_ = true;
  last_warning_ = now;
  dropped_since_warning_ = 0;
  ++counters_.warnings;
  lock.unlock();
  if (options_.warning_sink) {
    options_.warning_sink(warning);
  } else {
    std::cerr << warning << '\n';
  }
  return reason;
}

#if defined(__linux__)

Status AccessLogClient::connectLocked() {
  sockaddr_un address;
  socklen_t length = 0;
  if (Status status = unixAddress(path_, address, length); !status) {
    return status;
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Status::error("cannot make a Unix socket: " + errorText(errno));
  }
  // Non-blocking: a Unix connect either completes at once or fails (EAGAIN when the
  // agent's accept queue is full).
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    return Status::error("cannot connect: " + errorText(errno));
  }
  socket_ = std::move(fd);
  ++counters_.connects;
  return Status::ok();
}

Status AccessLogClient::sendLocked(std::string_view message) {
  const int attempts = options_.max_attempts < 1 ? 1 : options_.max_attempts;
  Status last = Status::ok();
  bool waited = false;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (!socket_.valid()) {
      if (Status status = connectLocked(); !status) {
        return status;
      }
    }
    const ssize_t sent =
        ::send(socket_.get(), message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0 && static_cast<size_t>(sent) == message.size()) {
      return Status::ok();
    }
    if (sent >= 0) {  // a SOCK_SEQPACKET socket sends whole messages; should not happen
      return Status::error("sent " + std::to_string(sent) + " of " +
                           std::to_string(message.size()) + " bytes");
    }
    const int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      // The connection is fine; the agent is behind. Keep it, and wait for room once when
      // the caller may wait.
      pollfd writable{socket_.get(), POLLOUT, 0};
      if (!waited && options_.full_wait.count() > 0 &&
          ::poll(&writable, 1, static_cast<int>(options_.full_wait.count())) == 1 &&
          (writable.revents & POLLOUT) != 0) {
        waited = true;
        --attempt;  // the same try again: nothing was wrong with the connection
        continue;
      }
      return Status::error("the socket is full (the agent does not read fast enough)");
    }
    if (error == EMSGSIZE) {
      return Status::error("an entry of " + std::to_string(message.size()) +
                           " bytes is larger than the socket takes");
    }
    last = Status::error("cannot send: " + errorText(error));
    if (error != EINTR) {
      socket_.reset();  // broken (the agent went away): reconnect on the next try
    }
  }
  return last;
}

#else

// AF_UNIX sockets of type SOCK_SEQPACKET exist on Linux only (macOS refuses them).
Status AccessLogClient::connectLocked() {
  return Status::error(
      "this platform has no SOCK_SEQPACKET Unix sockets, which the Cilium "
      "access log needs");
}

Status AccessLogClient::sendLocked(std::string_view) { return connectLocked(); }

#endif

}  // namespace Policy
}  // namespace Cilium

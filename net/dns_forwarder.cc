#include "net/dns_forwarder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>

namespace kubit::net {

using Clock = std::chrono::steady_clock;

namespace {

uint16_t RandomId() {
  uint16_t id = 0;
  if (getrandom(&id, sizeof(id), 0) != sizeof(id)) id = static_cast<uint16_t>(Clock::now().time_since_epoch().count());
  return id;
}

// The eventfd counter only overflows if the thread is far behind; it
// drains everything queued on its next wake-up either way.
void Wake(int fd) {
  uint64_t one = 1;
  ssize_t ignored = write(fd, &one, sizeof(one));
  (void)ignored;
}

bool ParseServer(const std::string& s, sockaddr_storage* out, socklen_t* len) {
  std::string host = s, port = "53";
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string::npos) return false;
    host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') return false;
      port = s.substr(close + 2);
    }
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    host = s.substr(0, s.find(':'));
    port = s.substr(s.find(':') + 1);
  }
  char* end = nullptr;
  long p = strtol(port.c_str(), &end, 10);
  if (port.empty() || *end || p <= 0 || p > 65535) return false;
  memset(out, 0, sizeof(*out));
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  std::string addr = host.substr(0, host.find('%'));
  if (inet_pton(AF_INET, addr.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(p));
    *len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(p));
    if (host.find('%') != std::string::npos) v6->sin6_scope_id = if_nametoindex(host.substr(host.find('%') + 1).c_str());
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

// Whether `reply` answers `question` as asked with `id`.
bool Answers(const DnsMessage& reply, uint16_t id, const DnsQuestion& question) {
  return reply.qr && reply.id == id && reply.questions.size() == 1 &&
         reply.questions[0].type == question.type && reply.questions[0].klass == question.klass &&
         LowerDnsName(reply.questions[0].name) == LowerDnsName(question.name);
}

bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

bool SendAll(int fd, const std::string& data, Clock::time_point deadline) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool RecvAll(int fd, size_t len, std::string* out, Clock::time_point deadline) {
  out->resize(len);
  size_t off = 0;
  while (off < len) {
    ssize_t n = recv(fd, out->data() + off, len - off, MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLIN, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

DnsForwarder::DnsForwarder(DnsForwarderOptions options) : opts_(options) {}

DnsForwarder::~DnsForwarder() { Stop(); }

bool DnsForwarder::Start(std::string* error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return true;
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  if (epoll_fd_ < 0 || wake_fd_ < 0 || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    *error = std::string("dns forwarder: epoll: ") + strerror(errno);
    return false;
  }
  started_ = true;
  thread_ = std::thread([this] { Run(); });
  return true;
}

void DnsForwarder::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || !started_) {
      stop_ = true;
      return;
    }
    stop_ = true;
  }
  Wake(wake_fd_);
  if (thread_.joinable()) thread_.join();
  close(epoll_fd_);
  close(wake_fd_);
}

bool DnsForwarder::SetUpstreams(const std::vector<std::string>& servers, std::string* error) {
  std::vector<Upstream> list;
  std::string bad;
  for (const auto& s : servers) {
    Upstream u;
    if (ParseServer(s, &u.addr, &u.len))
      list.push_back(u);
    else
      bad += (bad.empty() ? "" : ", ") + s;
  }
  if (!bad.empty()) *error = "unusable upstream resolvers: " + bad;
  std::lock_guard<std::mutex> lock(mu_);
  upstreams_ = std::move(list);
  return true;
}

size_t DnsForwarder::upstream_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return upstreams_.size();
}

std::vector<DnsForwarder::Upstream> DnsForwarder::Upstreams() const {
  std::lock_guard<std::mutex> lock(mu_);
  return upstreams_;
}

void DnsForwarder::ForwardUdp(const DnsMessage& query, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ && !stop_ && incoming_.size() < opts_.max_in_flight) {
      incoming_.emplace_back(query, std::move(done));
      Wake(wake_fd_);
      return;
    }
  }
  done(false, DnsMessage());
}

bool DnsForwarder::SendNext(Pending* p, std::vector<Upstream> upstreams, int* fd) {
  while (p->tried < upstreams.size() || (p->tried < 2 && !upstreams.empty())) {
    const Upstream& u = upstreams[p->next_upstream % upstreams.size()];
    p->next_upstream++;
    p->tried++;
    int s = socket(u.addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) continue;
    // Connected: the kernel takes replies from that address alone, and a
    // closed port comes back as ECONNREFUSED instead of a timeout.
    if (connect(s, reinterpret_cast<const sockaddr*>(&u.addr), u.len) != 0 ||
        send(s, p->query.data(), p->query.size(), 0) < 0) {
      close(s);
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = s;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, s, &ev) != 0) {
      close(s);
      continue;
    }
    p->deadline = Clock::now() + opts_.timeout;
    *fd = s;
    return true;
  }
  return false;
}

void DnsForwarder::Finish(int fd, bool ok, DnsMessage reply) {
  auto it = pending_.find(fd);
  if (it == pending_.end()) return;
  Done done = std::move(it->second.done);
  pending_.erase(it);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  done(ok, std::move(reply));
}

void DnsForwarder::Run() {
  std::vector<uint8_t> buf(65535);
  // Moves the query of `fd` to its next resolver, or fails it.
  auto retry = [&](int fd) {
    Pending p = std::move(pending_[fd]);
    pending_.erase(fd);
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    int next;
    if (SendNext(&p, Upstreams(), &next)) {
      pending_.emplace(next, std::move(p));
    } else {
      p.done(false, DnsMessage());
    }
  };
  for (;;) {
    int timeout = -1;
    auto now = Clock::now();
    for (const auto& [fd, p] : pending_) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p.deadline - now).count() + 1;
      if (ms < 0) ms = 0;
      if (timeout < 0 || ms < timeout) timeout = static_cast<int>(ms);
    }
    epoll_event events[64];
    int n = epoll_wait(epoll_fd_, events, 64, timeout);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count;
        ssize_t ignored = read(wake_fd_, &count, sizeof(count));  // EAGAIN: another wake-up took it
        (void)ignored;
        std::deque<std::pair<DnsMessage, Done>> batch;
        bool stop;
        {
          std::lock_guard<std::mutex> lock(mu_);
          batch.swap(incoming_);
          stop = stop_;
        }
        if (stop) {
          for (auto& [q, done] : batch) done(false, DnsMessage());
          while (!pending_.empty()) Finish(pending_.begin()->first, false, DnsMessage());
          return;
        }
        std::vector<Upstream> upstreams = Upstreams();
        for (auto& [q, done] : batch) {
          Pending p;
          p.id = RandomId();
          DnsMessage out = q;
          out.id = p.id;
          std::string error;
          bool truncated;
          if (q.questions.size() != 1 || !BuildDnsMessage(out, 65535, &p.query, &truncated, &error)) {
            done(false, DnsMessage());
            continue;
          }
          p.question = q.questions[0];
          {
            std::lock_guard<std::mutex> lock(mu_);
            p.next_upstream = rotate_++;
          }
          p.tried = 0;
          p.done = std::move(done);
          int sfd;
          if (SendNext(&p, upstreams, &sfd))
            pending_.emplace(sfd, std::move(p));
          else
            p.done(false, DnsMessage());
        }
        continue;
      }
      auto it = pending_.find(fd);
      if (it == pending_.end()) continue;
      for (;;) {
        ssize_t got = recv(fd, buf.data(), buf.size(), 0);
        if (got < 0) {
          if (errno == EAGAIN || errno == EINTR) break;
          retry(fd);  // refused (nothing listens there) or unreachable
          break;
        }
        DnsMessage reply;
        std::string error;
        if (ParseDnsMessage(buf.data(), static_cast<size_t>(got), &reply, &error) &&
            Answers(reply, it->second.id, it->second.question)) {
          Finish(fd, true, std::move(reply));
          break;
        }
        // Anything else is ignored: the real answer may still come.
      }
    }
    now = Clock::now();
    std::vector<int> expired;
    for (const auto& [fd, p] : pending_)
      if (p.deadline <= now) expired.push_back(fd);
    for (int fd : expired) retry(fd);
  }
}

bool DnsForwarder::ExchangeTcp(const DnsMessage& query, DnsMessage* reply, std::string* error) {
  std::vector<Upstream> upstreams = Upstreams();
  if (upstreams.empty() || query.questions.size() != 1) {
    *error = "no upstream resolvers";
    return false;
  }
  DnsMessage out = query;
  out.id = RandomId();
  std::string wire;
  bool truncated;
  if (!BuildDnsMessage(out, 65535, &wire, &truncated, error)) return false;
  std::string framed;
  framed.push_back(static_cast<char>(wire.size() >> 8));
  framed.push_back(static_cast<char>(wire.size() & 0xff));
  framed += wire;
  size_t start;
  {
    std::lock_guard<std::mutex> lock(mu_);
    start = rotate_++;
  }
  for (size_t i = 0; i < upstreams.size(); i++) {
    const Upstream& u = upstreams[(start + i) % upstreams.size()];
    auto deadline = Clock::now() + opts_.timeout;
    int s = socket(u.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) continue;
    bool connected = connect(s, reinterpret_cast<const sockaddr*>(&u.addr), u.len) == 0;
    if (!connected && errno == EINPROGRESS && WaitFor(s, POLLOUT, deadline)) {
      int err = 0;
      socklen_t len = sizeof(err);
      connected = getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
    std::string head, body;
    bool ok = connected && SendAll(s, framed, deadline) && RecvAll(s, 2, &head, deadline) &&
              RecvAll(s, static_cast<uint8_t>(head[0]) << 8 | static_cast<uint8_t>(head[1]), &body, deadline);
    close(s);
    std::string parse_error;
    if (ok && ParseDnsMessage(body, reply, &parse_error) && Answers(*reply, out.id, query.questions[0])) {
      reply->id = query.id;
      return true;
    }
  }
  *error = "no upstream resolver answered over TCP";
  return false;
}

}  // namespace kubit::net

#include "net/dns_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <set>
#include <thread>

namespace kubit::net {

using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxUdpAnswer = 4096;  // what we answer at most over UDP, whatever a client offers
constexpr size_t kMaxUdpPlain = dns::kMaxUdpPlain;
constexpr uint16_t kOurUdpSize = 1232;  // what we advertise (the DNS flag day 2020 value)
constexpr int kBatch = 32;              // UDP datagrams read and answered per system call

bool ParseAddress(const std::string& ip, int port, sockaddr_storage* out, socklen_t* len) {
  memset(out, 0, sizeof(*out));
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

int OpenSocket(const DnsListenAddress& a, int type, int port, std::string* error) {
  sockaddr_storage addr;
  socklen_t len;
  if (!ParseAddress(a.ip, port, &addr, &len)) {
    *error = "not an IP address: " + a.ip;
    return -1;
  }
  int fd = socket(addr.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return -1;
  }
  int one = 1, rcvbuf = 1 << 20;
  const char* step = nullptr;
  if (!a.device.empty() &&
      setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, a.device.c_str(), static_cast<socklen_t>(a.device.size())) != 0)
    step = "SO_BINDTODEVICE";
  // The address may not be on the device yet (it is added as the pod
  // network comes up): bind all the same; packets come once it is there.
  else if (setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one)) != 0)
    step = "IP_FREEBIND";
  else if (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
    step = "SO_REUSEADDR";
  else if (type == SOCK_DGRAM && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)
    step = "SO_RCVBUF";
  else if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0)
    step = "bind";
  else if (type == SOCK_STREAM && listen(fd, 128) != 0)
    step = "listen";
  if (step) {
    *error = std::string(step) + ": " + strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

constexpr size_t kMaxCachedAnswers = 8192;

// For a plain query (one question, uncompressed, at most an EDNS0 version
// 0 OPT record, opcode QUERY): what its answer from the table depends on,
// i.e. the question as sent (case and all), RD/AD/CD, and EDNS0's presence,
// DO bit and the size limit. False for anything else (the full path
// decides).
bool AnswerKey(const uint8_t* d, size_t len, bool tcp, std::string* key) {
  if (len < 17 || (d[2] & 0xf8) != 0 || d[4] != 0 || d[5] != 1 || d[6] || d[7] || d[8] || d[9] || d[10] ||
      d[11] > 1)
    return false;
  size_t p = 12;
  while (p < len && d[p] != 0) {
    if (d[p] > 63) return false;  // a pointer or worse
    p += 1 + d[p];
  }
  if (p + 5 > len) return false;
  size_t question_end = p + 5;
  size_t limit = tcp ? 65535 : kMaxUdpPlain;
  bool edns = d[11] == 1, dnssec_ok = false;
  if (edns) {
    const uint8_t* o = d + question_end;
    if (question_end + 11 > len || o[0] != 0 || o[1] != 0 || o[2] != 41 || o[5] != 0 || o[6] != 0) return false;
    size_t rdlen = static_cast<size_t>(o[9]) << 8 | o[10];
    if (question_end + 11 + rdlen != len) return false;
    if (!tcp) limit = std::clamp<size_t>(static_cast<size_t>(o[3]) << 8 | o[4], kMaxUdpPlain, kMaxUdpAnswer);
    dnssec_ok = o[7] & 0x80;
  } else if (question_end != len) {
    return false;
  }
  key->assign(reinterpret_cast<const char*>(d + 12), question_end - 12);
  key->push_back(static_cast<char>(d[2] & 0x01));
  key->push_back(static_cast<char>(d[3] & 0xf0));
  key->push_back(static_cast<char>((edns ? 1 : 0) | (dnssec_ok ? 2 : 0)));
  key->push_back(static_cast<char>(limit >> 8));
  key->push_back(static_cast<char>(limit & 0xff));
  return true;
}

struct Outgoing {
  sockaddr_storage peer;
  socklen_t peer_len;
  std::string data;
};

// The UDP thread's batch of answers while it works through one; answers
// given later (forwarded names) are sent one by one from other threads.
thread_local std::vector<Outgoing>* tl_batch = nullptr;
thread_local const void* tl_batch_owner = nullptr;

bool WriteAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, 5000) <= 0) return false;
      continue;
    }
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string DnsListenAddress::String() const {
  std::string s = (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
  return device.empty() ? s : s + " on " + device;
}

struct DnsServer::Listener : std::enable_shared_from_this<DnsServer::Listener> {
  DnsServer* server = nullptr;
  DnsListenAddress address;
  int udp = -1, tcp = -1, stop_fd = -1, port = 0;
  std::thread udp_thread, tcp_thread;
  std::mutex mu;  // conns
  std::condition_variable cv;
  std::set<int> conns;

  ~Listener() {
    for (int fd : {udp, tcp, stop_fd})
      if (fd >= 0) close(fd);
  }

  bool Open(std::string* error) {
    stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (stop_fd < 0) {
      *error = std::string("eventfd: ") + strerror(errno);
      return false;
    }
    // Port 0: UDP picks one and TCP takes the same (tried a few times,
    // as TCP's may be in use).
    for (int attempt = 0; attempt < 8; attempt++) {
      udp = OpenSocket(address, SOCK_DGRAM, address.port, error);
      if (udp < 0) return false;
      port = BoundPort(udp);
      tcp = OpenSocket(address, SOCK_STREAM, port, error);
      if (tcp >= 0) break;
      close(udp);
      udp = -1;
      if (address.port != 0) return false;
    }
    if (tcp < 0) return false;
    auto self = shared_from_this();
    udp_thread = std::thread([self] { self->ServeUdp(); });
    tcp_thread = std::thread([self] { self->ServeTcp(); });
    return true;
  }

  void Close() {
    uint64_t one = 1;
    ssize_t ignored = write(stop_fd, &one, sizeof(one));
    (void)ignored;
    if (udp_thread.joinable()) udp_thread.join();
    if (tcp_thread.joinable()) tcp_thread.join();
    std::unique_lock<std::mutex> lock(mu);
    for (int fd : conns) shutdown(fd, SHUT_RDWR);
    cv.wait(lock, [&] { return conns.empty(); });
  }

  // Waits for `fd` to be readable; false once the listener closes (or
  // after `timeout_ms`, when not negative).
  bool WaitReadable(int fd, int timeout_ms) {
    pollfd p[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    for (;;) {
      int n = poll(p, 2, timeout_ms);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || p[1].revents) return false;
      return true;
    }
  }

  void ServeUdp() {
    std::vector<std::array<uint8_t, 4096>> bufs(kBatch);
    mmsghdr in[kBatch];
    iovec iov[kBatch];
    sockaddr_storage peers[kBatch];
    std::vector<Outgoing> batch;
    std::shared_ptr<Listener> self = shared_from_this();
    while (WaitReadable(udp, -1)) {
      for (;;) {
        for (int i = 0; i < kBatch; i++) {
          iov[i] = {bufs[i].data(), bufs[i].size()};
          in[i].msg_hdr = {};
          in[i].msg_hdr.msg_name = &peers[i];
          in[i].msg_hdr.msg_namelen = sizeof(peers[i]);
          in[i].msg_hdr.msg_iov = &iov[i];
          in[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(udp, in, kBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) break;
        batch.clear();
        tl_batch = &batch;
        tl_batch_owner = this;
        for (int i = 0; i < n; i++) {
          if (in[i].msg_hdr.msg_flags & MSG_TRUNC) continue;  // over 4096 bytes: no query of ours
          sockaddr_storage peer = peers[i];
          socklen_t peer_len = in[i].msg_hdr.msg_namelen;
          server->Answer(bufs[i].data(), in[i].msg_len, false, [self, peer, peer_len](std::string reply) {
            if (reply.empty()) return;
            if (tl_batch && tl_batch_owner == self.get()) {
              tl_batch->push_back({peer, peer_len, std::move(reply)});
              return;
            }
            sendto(self->udp, reply.data(), reply.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&peer),
                   peer_len);
          });
        }
        tl_batch = nullptr;
        tl_batch_owner = nullptr;
        SendBatch(&batch);
        if (n < kBatch) break;
      }
    }
  }

  void SendBatch(std::vector<Outgoing>* batch) {
    size_t done = 0;
    while (done < batch->size()) {
      mmsghdr out[kBatch];
      iovec iov[kBatch];
      size_t n = std::min<size_t>(kBatch, batch->size() - done);
      for (size_t i = 0; i < n; i++) {
        Outgoing& o = (*batch)[done + i];
        iov[i] = {o.data.data(), o.data.size()};
        out[i].msg_hdr = {};
        out[i].msg_hdr.msg_name = &o.peer;
        out[i].msg_hdr.msg_namelen = o.peer_len;
        out[i].msg_hdr.msg_iov = &iov[i];
        out[i].msg_hdr.msg_iovlen = 1;
      }
      int sent = sendmmsg(udp, out, static_cast<unsigned>(n), 0);
      // A datagram the kernel will not take (a full buffer, an unreachable
      // client) is dropped, as UDP may; the client asks again.
      done += sent > 0 ? static_cast<size_t>(sent) : 1;
    }
  }

  void ServeTcp() {
    while (WaitReadable(tcp, -1)) {
      int fd = accept4(tcp, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) continue;
      std::lock_guard<std::mutex> lock(mu);
      if (conns.size() >= server->opts_.max_tcp_connections) {
        close(fd);
        continue;
      }
      conns.insert(fd);
      std::thread([self = shared_from_this(), fd] { self->ServeConnection(fd); }).detach();
    }
  }

  bool ReadExactly(int fd, size_t n, std::string* out) {
    out->resize(n);
    size_t off = 0;
    const int idle = static_cast<int>(server->opts_.tcp_idle.count());
    while (off < n) {
      ssize_t got = recv(fd, out->data() + off, n - off, 0);
      if (got > 0) {
        off += static_cast<size_t>(got);
      } else if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!WaitReadable(fd, idle)) return false;
      } else {
        return false;
      }
    }
    return true;
  }

  void ServeConnection(int fd) {
    std::string head, query;
    while (ReadExactly(fd, 2, &head) &&
           ReadExactly(fd, static_cast<uint8_t>(head[0]) << 8 | static_cast<uint8_t>(head[1]), &query)) {
      std::string answer;
      // Over TCP the server answers before Answer returns.
      server->Answer(reinterpret_cast<const uint8_t*>(query.data()), query.size(), true,
                     [&answer](std::string r) { answer = std::move(r); });
      if (answer.empty()) break;
      std::string framed;
      framed.push_back(static_cast<char>(answer.size() >> 8));
      framed.push_back(static_cast<char>(answer.size() & 0xff));
      framed += answer;
      if (!WriteAll(fd, framed)) break;
    }
    close(fd);
    std::lock_guard<std::mutex> lock(mu);
    conns.erase(fd);
    cv.notify_all();
  }
};

DnsServer::DnsServer(DnsServerOptions options)
    : opts_(std::move(options)), cache_(opts_.cache_entries, opts_.cache_max_ttl), forwarder_(opts_.forwarder) {}

DnsServer::~DnsServer() { Stop(); }

void DnsServer::Log(const std::string& message) const {
  if (opts_.log) opts_.log(message);
}

bool DnsServer::Start(std::string* error) { return forwarder_.Start(error); }

void DnsServer::Stop() {
  std::map<DnsListenAddress, std::shared_ptr<Listener>> listeners;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    listeners.swap(listeners_);
  }
  for (auto& [a, l] : listeners) l->Close();
  forwarder_.Stop();
}

bool DnsServer::SetListeners(const std::vector<DnsListenAddress>& addresses, std::string* error) {
  std::vector<std::shared_ptr<Listener>> gone;
  std::string failed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return true;
    for (auto it = listeners_.begin(); it != listeners_.end();) {
      if (std::find(addresses.begin(), addresses.end(), it->first) == addresses.end()) {
        gone.push_back(it->second);
        it = listeners_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& l : gone) {
    l->Close();
    Log("dns: stopped listening on " + l->address.String());
  }
  for (const auto& a : addresses) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (listeners_.count(a)) continue;
    }
    auto l = std::make_shared<Listener>();
    l->server = this;
    l->address = a;
    std::string why;
    if (!l->Open(&why)) {
      failed += (failed.empty() ? "" : "; ") + a.String() + ": " + why;
      continue;
    }
    Log("dns: listening on " + a.String() + (a.port == 0 ? " (port " + std::to_string(l->port) + ")" : ""));
    std::lock_guard<std::mutex> lock(mu_);
    listeners_[a] = l;
  }
  if (!failed.empty()) {
    *error = failed;
    return false;
  }
  return true;
}

int DnsServer::Port(const DnsListenAddress& address) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = listeners_.find(address);
  return it == listeners_.end() ? 0 : it->second->port;
}

void DnsServer::SetRecords(std::shared_ptr<const DnsRecordTable> table) {
  {
    std::lock_guard<std::mutex> lock(answers_mu_);
    answers_.clear();
    answers_table_ = table;
  }
  std::lock_guard<std::mutex> lock(mu_);
  table_ = std::move(table);
}

bool DnsServer::SetUpstreams(const std::vector<std::string>& servers, std::string* error) {
  return forwarder_.SetUpstreams(servers, error);
}

std::string DnsServer::Reply(const DnsMessage& query, DnsMessage answer, bool tcp) const {
  answer.id = query.id;
  answer.qr = true;
  answer.opcode = query.opcode;
  answer.rd = query.rd;
  answer.cd = query.cd;
  answer.ra = true;
  answer.questions = query.questions;
  answer.edns = query.edns;
  answer.edns_udp_size = kOurUdpSize;
  answer.edns_version = 0;
  answer.edns_do = query.edns && query.edns_do;
  answer.edns_options.clear();
  size_t limit = tcp ? 65535
                     : query.edns ? std::clamp<size_t>(query.edns_udp_size, dns::kMaxUdpPlain, kMaxUdpAnswer)
                                  : dns::kMaxUdpPlain;
  std::string out, error;
  bool truncated;
  if (!BuildDnsMessage(answer, limit, &out, &truncated, &error)) {
    DnsMessage fail;
    fail.id = query.id;
    fail.qr = true;
    fail.rd = query.rd;
    fail.rcode = dns::kRcodeServFail;
    fail.questions = query.questions;
    if (!BuildDnsMessage(fail, limit, &out, &truncated, &error)) out.clear();
  }
  return out;
}

std::string DnsServer::CachedAnswer(const std::string& key, uint16_t id) {
  std::lock_guard<std::mutex> lock(answers_mu_);
  auto it = answers_.find(key);
  if (it == answers_.end()) return "";
  std::string out = it->second;
  out[0] = static_cast<char>(id >> 8);
  out[1] = static_cast<char>(id & 0xff);
  return out;
}

void DnsServer::KeepAnswer(const std::string& key, const DnsRecordTable* table, const std::string& answer) {
  std::lock_guard<std::mutex> lock(answers_mu_);
  if (table != answers_table_.get()) return;  // made from a table already replaced
  if (answers_.size() >= kMaxCachedAnswers) answers_.clear();
  answers_.emplace(key, answer);
}

void DnsServer::Answer(const uint8_t* data, size_t len, bool tcp, std::function<void(std::string)> reply) {
  std::string key;
  if (AnswerKey(data, len, tcp, &key)) {
    std::string cached = CachedAnswer(key, static_cast<uint16_t>(data[0] << 8 | data[1]));
    if (!cached.empty()) return reply(std::move(cached));
  } else {
    key.clear();
  }
  DnsMessage q;
  std::string error;
  if (!ParseDnsMessage(data, len, &q, &error)) {
    if (len < 12 || (data[2] & 0x80)) return reply("");
    DnsMessage bad;
    bad.id = static_cast<uint16_t>(data[0] << 8 | data[1]);
    bad.opcode = data[2] >> 3 & 0xf;
    bad.rd = data[2] & 1;
    bad.rcode = dns::kRcodeFormErr;
    DnsMessage asked;  // nothing of the question can be trusted: header only
    asked.id = bad.id;
    asked.opcode = bad.opcode;
    asked.rd = bad.rd;
    return reply(Reply(asked, bad, tcp));
  }
  if (q.qr) return reply("");
  DnsMessage a;
  if (q.opcode != 0) {
    a.rcode = dns::kRcodeNotImp;
  } else if (q.questions.size() != 1) {
    a.rcode = dns::kRcodeFormErr;
  } else if (q.edns && q.edns_version > 0) {
    a.rcode = dns::kRcodeBadVers;  // RFC 6891 6.1.3: we speak version 0
  } else if (q.questions[0].type >= 251 && q.questions[0].type <= 254) {
    a.rcode = dns::kRcodeRefused;  // zone transfers (and the obsolete MAILA/MAILB)
  } else {
    std::shared_ptr<const DnsRecordTable> table;
    {
      std::lock_guard<std::mutex> lock(mu_);
      table = table_;
    }
    const DnsQuestion& question = q.questions[0];
    DnsLookupResult r;
    if (table && question.klass == dns::kClassIN) r = table->Lookup(question.name, question.type);
    if (r.kind == DnsLookupResult::kNotFound) return Forward(q, q, {}, tcp, std::move(reply));
    if (!r.resolve_elsewhere.empty()) {
      DnsMessage next = q;
      next.questions[0].name = r.resolve_elsewhere;
      return Forward(q, next, std::move(r.answers), tcp, std::move(reply));
    }
    a.aa = true;
    a.rcode = r.rcode;
    a.answers = std::move(r.answers);
    a.authority = std::move(r.authority);
    a.additional = std::move(r.additional);
    std::string out = Reply(q, std::move(a), tcp);
    if (!key.empty() && !out.empty()) KeepAnswer(key, table.get(), out);
    return reply(std::move(out));
  }
  reply(Reply(q, std::move(a), tcp));
}

void DnsServer::Forward(const DnsMessage& query, const DnsMessage& asked, std::vector<DnsRecord> chain, bool tcp,
                        std::function<void(std::string)> reply) {
  auto finish = [this, query, chain = std::move(chain), tcp, reply = std::move(reply)](bool ok, DnsMessage up) {
    DnsMessage a;
    if (!ok) {
      a.rcode = dns::kRcodeServFail;
    } else {
      a.rcode = up.rcode;
      a.aa = up.aa && chain.empty();
      a.ad = up.ad;
      a.tc = up.tc;
      a.answers = chain;
      a.answers.insert(a.answers.end(), up.answers.begin(), up.answers.end());
      a.authority = std::move(up.authority);
      a.additional = std::move(up.additional);
    }
    reply(Reply(query, std::move(a), tcp));
  };
  const std::string key = DnsCache::Key(asked.questions[0], query.edns && query.edns_do, query.cd);
  DnsMessage cached;
  if (cache_.Get(key, &cached)) return finish(true, std::move(cached));
  if (tcp) {
    DnsMessage up;
    std::string error;
    bool ok = forwarder_.ExchangeTcp(asked, &up, &error);
    if (ok) cache_.Put(key, &up);
    return finish(ok, std::move(up));
  }
  forwarder_.ForwardUdp(asked, [this, key, finish = std::move(finish)](bool ok, DnsMessage up) mutable {
    if (ok) cache_.Put(key, &up);
    finish(ok, std::move(up));
  });
}

}  // namespace kubit::net

#include "net/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace kubit::net::netlink {

namespace {

constexpr size_t Align4(size_t n) { return (n + 3) & ~size_t(3); }

nlmsghdr* Header(std::vector<uint8_t>* buf) { return reinterpret_cast<nlmsghdr*>(buf->data()); }
const nlmsghdr* Header(const std::vector<uint8_t>& buf) {
  return reinterpret_cast<const nlmsghdr*>(buf.data());
}

// The error code and extended-ack text of an NLMSG_ERROR reply.
void ParseError(const nlmsghdr* h, int* err, std::string* ext_msg) {
  const auto* e = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(h));
  *err = -e->error;
  ext_msg->clear();
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return;
  // NETLINK_CAP_ACK: the request is not echoed, the TLVs follow nlmsgerr.
  size_t off = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if (h->nlmsg_len <= off) return;
  Attrs tlv = Attrs::Parse(reinterpret_cast<const uint8_t*>(h) + off, h->nlmsg_len - off);
  *ext_msg = tlv.String(NLMSGERR_ATTR_MSG);
}

// "<what>: <strerror>" plus the kernel's extended-ack message when present.
std::string ErrorText(const std::string& what, int err, const std::string& ext_msg) {
  std::string s = what + ": " + strerror(err);
  if (!ext_msg.empty()) s += " (" + ext_msg + ")";
  return s;
}

}  // namespace

Message::Message(uint16_t type, uint16_t flags) : buf_(NLMSG_HDRLEN, 0) {
  nlmsghdr* h = Header(&buf_);
  h->nlmsg_len = NLMSG_HDRLEN;
  h->nlmsg_type = type;
  h->nlmsg_flags = NLM_F_REQUEST | flags;
}

void Message::Align() {
  buf_.resize(Align4(buf_.size()), 0);
  Header(&buf_)->nlmsg_len = buf_.size();
}

void Message::PutHeader(const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  buf_.insert(buf_.end(), p, p + len);
  Align();
}

void Message::PutAttr(uint16_t type, const void* data, size_t len) {
  nlattr a{static_cast<uint16_t>(NLA_HDRLEN + len), type};
  const auto* h = reinterpret_cast<const uint8_t*>(&a);
  buf_.insert(buf_.end(), h, h + sizeof(a));
  const auto* p = static_cast<const uint8_t*>(data);
  if (len) buf_.insert(buf_.end(), p, p + len);
  Align();
}

void Message::PutString(uint16_t type, const std::string& s) { PutAttr(type, s.c_str(), s.size() + 1); }

void Message::PutBe32(uint16_t type, uint32_t v) {
  uint32_t be = htonl(v);
  PutAttr(type, &be, 4);
}

size_t Message::BeginNested(uint16_t type) {
  size_t start = buf_.size();
  PutAttr(type | NLA_F_NESTED, nullptr, 0);
  return start;
}

void Message::EndNested(size_t start) {
  reinterpret_cast<nlattr*>(buf_.data() + start)->nla_len = static_cast<uint16_t>(buf_.size() - start);
}

void Message::set_seq(uint32_t seq) { Header(&buf_)->nlmsg_seq = seq; }
uint32_t Message::seq() const { return Header(buf_)->nlmsg_seq; }
uint16_t Message::type() const { return Header(buf_)->nlmsg_type; }

Attrs Attrs::Parse(const void* data, size_t len) {
  Attrs out;
  const auto* p = static_cast<const uint8_t*>(data);
  size_t off = 0;
  while (off + NLA_HDRLEN <= len) {
    nlattr a;
    memcpy(&a, p + off, sizeof(a));
    if (a.nla_len < NLA_HDRLEN || off + a.nla_len > len) break;
    out.list.emplace_back(a.nla_type & NLA_TYPE_MASK,
                          std::string(reinterpret_cast<const char*>(p + off + NLA_HDRLEN), a.nla_len - NLA_HDRLEN));
    off += Align4(a.nla_len);
  }
  return out;
}

const std::string* Attrs::Get(uint16_t type) const {
  const std::string* found = nullptr;
  for (const auto& [t, v] : list)
    if (t == type) found = &v;
  return found;
}

std::string Attrs::String(uint16_t type) const {
  const std::string* v = Get(type);
  if (!v) return "";
  return std::string(v->c_str());
}

uint32_t Attrs::U32(uint16_t type, uint32_t fallback) const {
  const std::string* v = Get(type);
  if (!v || v->size() < 4) return fallback;
  uint32_t x;
  memcpy(&x, v->data(), 4);
  return x;
}

Socket::~Socket() {
  if (fd_ >= 0) close(fd_);
}

Socket::Socket(Socket&& other) noexcept { *this = std::move(other); }

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    seq_ = other.seq_;
    other.fd_ = -1;
  }
  return *this;
}

bool Socket::Open(int protocol, const std::string& netns_path, Socket* out, std::string* error) {
  int fd = -1;
  std::string err;
  auto make = [&] {
    if (!netns_path.empty()) {
      int ns = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0) {
        err = "open " + netns_path + ": " + strerror(errno);
        return;
      }
      int rc = setns(ns, CLONE_NEWNET);
      int saved = errno;
      close(ns);
      if (rc != 0) {
        err = "setns " + netns_path + ": " + strerror(saved);
        return;
      }
    }
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) err = std::string("socket(AF_NETLINK): ") + strerror(errno);
  };
  if (netns_path.empty()) {
    make();
  } else {
    // setns changes only this thread's namespace, and the thread ends.
    std::thread t(make);
    t.join();
  }
  if (fd < 0) {
    *error = err;
    return false;
  }
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    *error = std::string("bind(AF_NETLINK): ") + strerror(errno);
    close(fd);
    return false;
  }
  Socket s;
  s.fd_ = fd;
  s.seq_ = static_cast<uint32_t>(time(nullptr));
  *out = std::move(s);
  return true;
}

bool Socket::Send(const std::vector<uint8_t>& bytes, const std::string& what, std::string* error) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t n = sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
  if (n != static_cast<ssize_t>(bytes.size())) {
    *error = what + ": sendto(netlink): " + (n < 0 ? strerror(errno) : "short write");
    return false;
  }
  return true;
}

bool Socket::Receive(const std::string& what, size_t* len, std::string* error) {
  // A dump sends up to a page-sized batch of messages per datagram; peek
  // for the size first so that nothing is ever cut.
  if (buf_.size() < 32768) buf_.resize(32768);
  for (;;) {
    ssize_t n = recv(fd_, buf_.data(), buf_.size(), MSG_PEEK | MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = what + ": recv(netlink): " + strerror(errno);
      return false;
    }
    if (static_cast<size_t>(n) > buf_.size()) buf_.resize(n);
    n = recv(fd_, buf_.data(), buf_.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = what + ": recv(netlink): " + strerror(errno);
      return false;
    }
    *len = n;
    return true;
  }
}

bool Socket::Request(Message* m, const std::string& what, int* errno_out, std::string* error) {
  return Query(m, what, nullptr, errno_out, error);
}

bool Socket::Query(Message* m, const std::string& what, const std::function<void(const nlmsghdr*)>& each,
                   int* errno_out, std::string* error) {
  if (errno_out) *errno_out = 0;
  m->set_seq(++seq_);
  // The flags are the caller's; a request always wants its ack.
  std::vector<uint8_t> bytes = m->bytes();
  reinterpret_cast<nlmsghdr*>(bytes.data())->nlmsg_flags |= NLM_F_ACK;
  if (!Send(bytes, what, error)) return false;
  bool multi = false;
  for (;;) {
    size_t len;
    if (!Receive(what, &len, error)) return false;
    int left = static_cast<int>(len);
    for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq != m->seq()) continue;  // a late answer to an earlier request
      if (h->nlmsg_type == NLMSG_DONE) return true;
      if (h->nlmsg_type == NLMSG_ERROR) {
        int err;
        std::string ext;
        ParseError(h, &err, &ext);
        if (err == 0 && multi) continue;  // the ack of a dump comes after DONE
        if (err == 0) return true;
        if (errno_out) *errno_out = err;
        *error = ErrorText(what, err, ext);
        return false;
      }
      if (h->nlmsg_flags & NLM_F_MULTI) multi = true;
      if (each) each(h);
    }
  }
}

bool Socket::Batch(std::vector<Message>* messages, const std::string& what, std::string* error) {
  std::vector<uint8_t> bytes;
  uint32_t first = seq_ + 1;
  for (Message& m : *messages) {
    m.set_seq(++seq_);
    const auto& b = m.bytes();
    bytes.insert(bytes.end(), b.begin(), b.end());
  }
  uint32_t last = seq_;
  // Every message but the batch markers asks for an ack; the kernel
  // answers them all (or the errors) before sendto returns.
  size_t pending = 0;
  for (size_t off = 0; off < bytes.size();) {
    auto* h = reinterpret_cast<nlmsghdr*>(bytes.data() + off);
    if (h->nlmsg_type != NFNL_MSG_BATCH_BEGIN && h->nlmsg_type != NFNL_MSG_BATCH_END) {
      h->nlmsg_flags |= NLM_F_ACK;
      ++pending;
    }
    off += Align4(h->nlmsg_len);
  }
  if (!Send(bytes, what, error)) return false;
  std::string first_error;
  while (pending > 0) {
    size_t len;
    if (!Receive(what, &len, error)) return false;
    int left = static_cast<int>(len);
    for (const nlmsghdr* h = reinterpret_cast<const nlmsghdr*>(buf_.data()); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_seq < first || h->nlmsg_seq > last || h->nlmsg_type != NLMSG_ERROR) continue;
      int err;
      std::string ext;
      ParseError(h, &err, &ext);
      if (err != 0 && first_error.empty()) {
        // Name the message that failed: its place in the batch.
        first_error = ErrorText(what + " (message " + std::to_string(h->nlmsg_seq - first) + ")", err, ext);
      }
      if (pending > 0) --pending;
    }
    // After an error the kernel aborts the batch and may not answer the rest.
    if (!first_error.empty()) {
      char drain[4096];
      while (recv(fd_, drain, sizeof(drain), MSG_DONTWAIT) > 0) {
      }
      break;
    }
  }
  if (!first_error.empty()) {
    *error = first_error;
    return false;
  }
  return true;
}

}  // namespace kubit::net::netlink

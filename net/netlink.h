// Netlink: the kernel's message socket, as kubit speaks it for the pod
// network (rtnetlink for links, addresses and routes; nfnetlink for
// nftables). A Message is built in place (header, fixed part, attributes,
// nested attributes) in the kernel's alignment; a Socket sends requests
// and reads their acks, dumps and batches. No libmnl: the whole format is
// the nlmsghdr/nlattr framing below.
#pragma once

#include <linux/netlink.h>
#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

namespace kubit::net::netlink {

class Message {
 public:
  Message(uint16_t type, uint16_t flags);
  // The fixed part after nlmsghdr (ifinfomsg, ifaddrmsg, rtmsg, nfgenmsg).
  void PutHeader(const void* data, size_t len);
  void PutAttr(uint16_t type, const void* data, size_t len);
  void PutString(uint16_t type, const std::string& s);  // NUL-terminated
  void PutU8(uint16_t type, uint8_t v) { PutAttr(type, &v, 1); }
  void PutU32(uint16_t type, uint32_t v) { PutAttr(type, &v, 4); }  // host order
  void PutBe32(uint16_t type, uint32_t v);                          // network order
  // Nested attributes: everything put between Begin and End is inside.
  size_t BeginNested(uint16_t type);
  void EndNested(size_t start);

  void set_seq(uint32_t seq);
  uint32_t seq() const;
  uint16_t type() const;
  const std::vector<uint8_t>& bytes() const { return buf_; }

 private:
  void Align();
  std::vector<uint8_t> buf_;
};

// Attributes of a received message: attribute type -> payload (the last
// one wins; nested ones parsed again with Parse).
struct Attrs {
  std::vector<std::pair<uint16_t, std::string>> list;
  // Parses `len` bytes of attributes at `data`.
  static Attrs Parse(const void* data, size_t len);
  const std::string* Get(uint16_t type) const;
  std::string String(uint16_t type) const;  // without the NUL
  uint32_t U32(uint16_t type, uint32_t fallback = 0) const;
};

class Socket {
 public:
  Socket() = default;
  ~Socket();
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // A socket of `protocol` (NETLINK_ROUTE, NETLINK_NETFILTER) in the
  // network namespace of the calling thread, or, when netns_path is not
  // empty, in the one that file names (a socket stays in the namespace it
  // was made in, so a short-lived thread joins it and makes the socket).
  static bool Open(int protocol, const std::string& netns_path, Socket* out, std::string* error);

  // Sends one request with NLM_F_ACK and waits for its answer. `what`
  // names the request in the error ("RTM_NEWLINK kb12ab34"); *errno_out
  // (may be null) gets the kernel's errno, 0 on success.
  bool Request(Message* m, const std::string& what, int* errno_out, std::string* error);
  // Sends a request whose replies are messages (a dump, or a get of one
  // object); each reply goes to `each`.
  bool Query(Message* m, const std::string& what,
             const std::function<void(const nlmsghdr* reply)>& each, int* errno_out, std::string* error);
  // Sends the messages in one write and waits for all their acks (an
  // nfnetlink batch: the kernel applies all or none).
  bool Batch(std::vector<Message>* messages, const std::string& what, std::string* error);

  int fd() const { return fd_; }

 private:
  bool Send(const std::vector<uint8_t>& bytes, const std::string& what, std::string* error);
  // Reads one datagram into buf_; false with *error on a failed recv.
  bool Receive(const std::string& what, size_t* len, std::string* error);
  int fd_ = -1;
  uint32_t seq_ = 0;
  std::vector<uint8_t> buf_;
};

}  // namespace kubit::net::netlink

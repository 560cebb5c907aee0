// DnsForwarder: asks the node's upstream resolvers what the cluster DNS
// does not answer itself. Over UDP the queries are in flight together on
// one thread (epoll), each from a socket of its own (a fresh random source
// port) with a fresh random ID, and a reply counts only from the address
// asked, with that ID and question; a resolver that does not answer in
// `timeout` (or refuses the port) passes the query to the next. Over TCP
// (for clients that asked over TCP, after a truncated answer) the
// exchange is synchronous on the caller's thread.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/dns_message.h"

namespace kubit::net {

struct DnsForwarderOptions {
  std::chrono::milliseconds timeout{2000};  // per resolver tried
  size_t max_in_flight = 1024;              // more at once fail at once (SERVFAIL)
};

class DnsForwarder {
 public:
  // `ok` false: no resolver answered (or none is configured).
  using Done = std::function<void(bool ok, DnsMessage reply)>;

  explicit DnsForwarder(DnsForwarderOptions options = {});
  ~DnsForwarder();  // stops
  DnsForwarder(const DnsForwarder&) = delete;
  DnsForwarder& operator=(const DnsForwarder&) = delete;

  bool Start(std::string* error);
  void Stop();  // pending queries fail

  // "ip", "ip:port", "[v6]:port", "v6"; unparsable ones are skipped and
  // named in *error (true still: the others are used).
  bool SetUpstreams(const std::vector<std::string>& servers, std::string* error);
  size_t upstream_count() const;

  // Sends `query` (its ID is replaced) over UDP; `done` runs later on the
  // forwarder's thread (or at once, on this one, when it cannot be sent).
  void ForwardUdp(const DnsMessage& query, Done done);
  // Over TCP, blocking: each resolver in turn until one answers.
  bool ExchangeTcp(const DnsMessage& query, DnsMessage* reply, std::string* error);

 private:
  struct Upstream {
    sockaddr_storage addr;
    socklen_t len;
  };
  struct Pending {
    std::string query;  // wire, with `id`
    DnsQuestion question;
    uint16_t id;
    size_t next_upstream;  // index of the next resolver to try
    size_t tried;
    std::chrono::steady_clock::time_point deadline;
    Done done;
  };
  void Run();
  // Sends p from a new socket to its next resolver; false when none is left.
  bool SendNext(Pending* p, std::vector<Upstream> upstreams, int* fd);
  void Finish(int fd, bool ok, DnsMessage reply);
  std::vector<Upstream> Upstreams() const;

  DnsForwarderOptions opts_;
  mutable std::mutex mu_;  // upstreams_, incoming_, stop_
  std::vector<Upstream> upstreams_;
  size_t rotate_ = 0;  // where UDP queries start, so one dead resolver does not slow every query
  std::deque<std::pair<DnsMessage, Done>> incoming_;
  bool stop_ = false, started_ = false;
  int epoll_fd_ = -1, wake_fd_ = -1;
  std::map<int, Pending> pending_;  // by socket; the forwarder's thread alone
  std::thread thread_;
};

}  // namespace kubit::net

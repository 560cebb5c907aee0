// DnsServer: a DNS server on UDP and TCP that answers from a record table
// (net/dns_records.h) and forwards every other name to upstream resolvers
// (net/dns_forwarder.h) through a cache (net/dns_cache.h). A CNAME that
// leaves the table (a Service of type ExternalName) is followed upstream,
// as CoreDNS does, so clients get the chain and the addresses at its end.
//
// UDP answers fit the client's EDNS0 payload size (512 bytes without
// EDNS0; at most 4096), else they are cut with the TC bit and the client
// asks again over TCP (two-byte length prefix, RFC 1035 4.2.2; several
// queries per connection, idle connections closed). Malformed queries get
// FORMERR when their header can be read and nothing otherwise; responses
// (QR set) are never answered, so the server cannot be made to reflect.
//
// It listens on any number of addresses, each optionally tied to a network
// device (SO_BINDTODEVICE), so that two servers can answer on one address
// from different devices; the set can change while it runs.
#pragma once

#include <stdint.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "net/dns_cache.h"
#include "net/dns_forwarder.h"
#include "net/dns_records.h"

namespace kubit::net {

struct DnsListenAddress {
  std::string ip;      // an IPv4 or IPv6 address, not a wildcard
  int port = 53;       // 0: a free port (the same one for UDP and TCP), see Port()
  std::string device;  // empty: any device
  bool operator<(const DnsListenAddress& o) const {
    return std::tie(ip, port, device) < std::tie(o.ip, o.port, o.device);
  }
  bool operator==(const DnsListenAddress& o) const {
    return ip == o.ip && port == o.port && device == o.device;
  }
  std::string String() const;
};

struct DnsServerOptions {
  size_t cache_entries = 4096;
  uint32_t cache_max_ttl = 30;
  DnsForwarderOptions forwarder;
  std::chrono::milliseconds tcp_idle{10000};
  size_t max_tcp_connections = 64;
  std::function<void(const std::string&)> log;
};

class DnsServer {
 public:
  explicit DnsServer(DnsServerOptions options = {});
  ~DnsServer();  // stops
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  bool Start(std::string* error);
  void Stop();

  // Opens the addresses that are new, closes those no longer listed.
  // False with *error naming every address that could not be opened
  // (the others are open all the same).
  bool SetListeners(const std::vector<DnsListenAddress>& addresses, std::string* error);
  // The port a listener is bound to (the one it got for port 0); 0 if not open.
  int Port(const DnsListenAddress& address) const;

  void SetRecords(std::shared_ptr<const DnsRecordTable> table);
  // See DnsForwarder::SetUpstreams.
  bool SetUpstreams(const std::vector<std::string>& servers, std::string* error);

  // The answer to one query received over UDP (`tcp` false) or TCP;
  // `reply` is called once with the wire answer (empty: send nothing),
  // at once or later from another thread.
  void Answer(const uint8_t* query, size_t len, bool tcp, std::function<void(std::string)> reply);

 private:
  struct Listener;
  void Forward(const DnsMessage& query, const DnsMessage& asked, std::vector<DnsRecord> chain, bool tcp,
               std::function<void(std::string)> reply);
  std::string Reply(const DnsMessage& query, DnsMessage answer, bool tcp) const;
  void Log(const std::string& message) const;
  // The answer the table gave a query with the same question bytes and
  // flags, made for `table`; empty if none.
  std::string CachedAnswer(const std::string& key, uint16_t id);
  void KeepAnswer(const std::string& key, const DnsRecordTable* table, const std::string& answer);

  DnsServerOptions opts_;
  DnsCache cache_;
  DnsForwarder forwarder_;
  mutable std::mutex mu_;  // the fields below
  std::shared_ptr<const DnsRecordTable> table_;
  std::map<DnsListenAddress, std::shared_ptr<Listener>> listeners_;
  bool stopped_ = false;

  // Answers from the table as sent (the hot path: most queries are the
  // same few names), dropped whenever the table changes. The table they
  // came from is held, so a new one can never have its address.
  std::mutex answers_mu_;
  std::shared_ptr<const DnsRecordTable> answers_table_;
  std::unordered_map<std::string, std::string> answers_;
};

}  // namespace kubit::net

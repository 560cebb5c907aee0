// DnsCache: answers from upstream resolvers kept for their TTL, at most
// `max_ttl` (k3s's CoreDNS caches 30 s), so a node's pods asking for the
// same outside name make one upstream query. Positive answers live for
// their smallest TTL; NXDOMAIN and NODATA for the SOA's negative TTL (RFC
// 2308); SERVFAIL, truncated answers and TTL 0 are not kept. Entries come
// out with their TTLs aged. Bounded: the oldest entries go first.
// Thread-safe.
#pragma once

#include <stdint.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "net/dns_message.h"

namespace kubit::net {

class DnsCache {
 public:
  using Clock = std::chrono::steady_clock;
  DnsCache(size_t max_entries, uint32_t max_ttl);

  // What an answer depends on besides the name: type, class and the
  // DNSSEC bits of the query.
  static std::string Key(const DnsQuestion& q, bool dnssec_ok, bool checking_disabled);

  // The reply stored for `key`, TTLs lowered by its age; false if none or
  // expired.
  bool Get(const std::string& key, DnsMessage* reply, Clock::time_point now = Clock::now());
  // Keeps a copy of `reply` if it can be cached (see above), and lowers
  // its TTLs to the time the copy is kept, so that the first asker and
  // later ones see the same (as CoreDNS's cache caps them).
  void Put(const std::string& key, DnsMessage* reply, Clock::time_point now = Clock::now());
  size_t size() const;

 private:
  struct Item {
    DnsMessage reply;
    Clock::time_point stored, expires;
  };
  size_t max_entries_;
  uint32_t max_ttl_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Item> items_;
  std::deque<std::string> order_;  // keys in the order stored (stale keys skipped when evicting)
};

}  // namespace kubit::net

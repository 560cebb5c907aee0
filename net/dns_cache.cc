#include "net/dns_cache.h"

#include <algorithm>

namespace kubit::net {

namespace {

// How long a reply may be kept: 0 when it must not be.
uint32_t CacheTtl(const DnsMessage& m, uint32_t max_ttl) {
  if (m.tc || (m.rcode != dns::kRcodeNoError && m.rcode != dns::kRcodeNxDomain)) return 0;
  uint32_t ttl = max_ttl;
  if (!m.answers.empty() && m.rcode == dns::kRcodeNoError) {
    for (const auto& rr : m.answers) ttl = std::min(ttl, rr.ttl);
    return ttl;
  }
  // Negative: the SOA's TTL and minimum, the lower (RFC 2308 5).
  for (const auto& rr : m.authority) {
    uint32_t minimum;
    if (rr.type == dns::kTypeSOA && ReadRdataSoaMinimum(rr.rdata, &minimum))
      return std::min({ttl, rr.ttl, minimum});
  }
  return 0;  // no SOA: nothing says how long the answer holds
}

}  // namespace

DnsCache::DnsCache(size_t max_entries, uint32_t max_ttl) : max_entries_(max_entries), max_ttl_(max_ttl) {}

std::string DnsCache::Key(const DnsQuestion& q, bool dnssec_ok, bool checking_disabled) {
  std::string k = LowerDnsName(q.name);
  k.push_back('\0');
  k.push_back(static_cast<char>(q.type >> 8));
  k.push_back(static_cast<char>(q.type & 0xff));
  k.push_back(static_cast<char>(q.klass >> 8));
  k.push_back(static_cast<char>(q.klass & 0xff));
  k.push_back(static_cast<char>((dnssec_ok ? 1 : 0) | (checking_disabled ? 2 : 0)));
  return k;
}

bool DnsCache::Get(const std::string& key, DnsMessage* reply, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  if (it == items_.end()) return false;
  if (now >= it->second.expires) {
    items_.erase(it);
    return false;
  }
  *reply = it->second.reply;
  auto age = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(now - it->second.stored).count());
  for (auto* section : {&reply->answers, &reply->authority, &reply->additional})
    for (auto& rr : *section) rr.ttl = rr.ttl > age ? rr.ttl - age : 0;
  return true;
}

void DnsCache::Put(const std::string& key, DnsMessage* reply, Clock::time_point now) {
  uint32_t ttl = CacheTtl(*reply, max_ttl_);
  if (ttl == 0 || max_entries_ == 0) return;
  // Records keep at most the time the entry lives, so none is served
  // with more than what is left of it.
  for (auto* section : {&reply->answers, &reply->authority, &reply->additional})
    for (auto& rr : *section) rr.ttl = std::min(rr.ttl, ttl);
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, added] = items_.insert_or_assign(key, Item{*reply, now, now + std::chrono::seconds(ttl)});
  if (added) order_.push_back(key);
  while (items_.size() > max_entries_ && !order_.empty()) {
    items_.erase(order_.front());
    order_.pop_front();
  }
  // Keys replaced or expired leave stale places in the order: drop them
  // once they outnumber the entries.
  if (order_.size() > 2 * max_entries_) {
    std::deque<std::string> kept;
    for (auto& k : order_)
      if (items_.count(k)) kept.push_back(std::move(k));
    order_ = std::move(kept);
  }
}

size_t DnsCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.size();
}

}  // namespace kubit::net

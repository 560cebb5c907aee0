#include "net/dns_records.h"

#include <arpa/inet.h>

#include <algorithm>

#include "net/ipam_ipv4.h"

namespace kubit::net {

namespace {

constexpr int kMaxChain = 8;  // CNAME hops followed inside the table

// "10-42-0-5" -> A rdata, "fd00--5" -> AAAA rdata; false for anything else.
bool AddressFromDashes(const std::string& label, uint16_t* type, std::string* rdata) {
  std::string dotted = label;
  std::replace(dotted.begin(), dotted.end(), '-', '.');
  uint32_t v4;
  if (std::count(label.begin(), label.end(), '-') == 3 && ParseIpv4(dotted, &v4)) {
    *type = dns::kTypeA;
    *rdata = RdataA(v4);
    return true;
  }
  std::string colons = label;
  std::replace(colons.begin(), colons.end(), '-', ':');
  uint8_t v6[16];
  if (colons.find(':') != std::string::npos && inet_pton(AF_INET6, colons.c_str(), v6) == 1) {
    *type = dns::kTypeAAAA;
    *rdata = RdataAAAA(v6);
    return true;
  }
  return false;
}

}  // namespace

DnsRecordTable::DnsRecordTable(std::vector<std::string> zones, uint32_t ttl, uint32_t serial)
    : zones_(std::move(zones)), ttl_(ttl), serial_(serial) {
  for (auto& z : zones_) {
    z = LowerDnsName(z);
    if (!z.empty() && z.back() == '.') z.pop_back();
    nodes_[z].name = z;
  }
}

const std::string* DnsRecordTable::ZoneOf(const std::string& lower) const {
  const std::string* best = nullptr;
  for (const auto& z : zones_)
    if (DnsNameUnder(lower, z) && (!best || z.size() > best->size())) best = &z;
  return best;
}

void DnsRecordTable::AddName(const std::string& name) {
  std::string lower = LowerDnsName(name);
  if (!lower.empty() && lower.back() == '.') lower.pop_back();
  nodes_[lower].name = lower;
  // Every name between it and its zone exists too (empty non-terminals).
  if (const std::string* zone = ZoneOf(lower)) {
    std::string n = lower;
    while (n.size() > zone->size()) {
      size_t dot = n.find('.');
      while (dot != std::string::npos && dot > 0 && n[dot - 1] == '\\') dot = n.find('.', dot + 1);
      if (dot == std::string::npos) break;
      n = n.substr(dot + 1);
      auto [it, added] = nodes_.try_emplace(n);
      if (!added) break;  // its ancestors are there already
      it->second.name = n;
    }
  }
}

void DnsRecordTable::Add(const std::string& name, uint16_t type, const std::string& rdata) {
  std::string lower = LowerDnsName(name);
  if (!lower.empty() && lower.back() == '.') lower.pop_back();
  if (!nodes_.count(lower)) AddName(lower);
  Node& node = nodes_[lower];
  for (const Entry& e : node.entries)
    if (e.type == type && e.rdata == rdata) return;
  node.entries.push_back({type, rdata});
  records_++;
}

void DnsRecordTable::AddAddressNames(const std::string& suffix) {
  std::string lower = LowerDnsName(suffix);
  AddName(lower);
  address_suffixes_.push_back(lower);
}

DnsRecord DnsRecordTable::Soa(const std::string& zone) const {
  DnsRecord rr;
  rr.name = zone;
  rr.type = dns::kTypeSOA;
  rr.ttl = ttl_;
  rr.rdata = RdataSoa("ns.dns." + zone, "hostmaster." + zone, serial_, 7200, 1800, 86400, ttl_);
  return rr;
}

const DnsRecordTable::Node* DnsRecordTable::Find(const std::string& lower, Node* scratch) const {
  auto it = nodes_.find(lower);
  if (it != nodes_.end()) return &it->second;
  for (const auto& suffix : address_suffixes_) {
    if (!DnsNameUnder(lower, suffix) || lower.size() == suffix.size()) continue;
    // Exactly two labels before the suffix: the address and the namespace.
    std::string head = lower.substr(0, lower.size() - suffix.size() - 1);
    size_t dot = head.find('.');
    if (dot == std::string::npos || head.find('.', dot + 1) != std::string::npos) continue;
    if (!nodes_.count(lower.substr(dot + 1))) continue;
    uint16_t type;
    std::string rdata;
    if (!AddressFromDashes(lower.substr(0, dot), &type, &rdata)) continue;
    scratch->name = lower;
    scratch->entries = {{type, std::move(rdata)}};
    return scratch;
  }
  return nullptr;
}

void DnsRecordTable::AddTargets(const std::string& target, std::vector<DnsRecord>* additional) const {
  auto it = nodes_.find(LowerDnsName(target));
  if (it == nodes_.end()) return;
  for (const Entry& e : it->second.entries)
    if (e.type == dns::kTypeA || e.type == dns::kTypeAAAA)
      additional->push_back({it->second.name, e.type, dns::kClassIN, ttl_, e.rdata});
}

DnsLookupResult DnsRecordTable::Lookup(const std::string& qname, uint16_t qtype) const {
  DnsLookupResult r;
  std::string owner = qname;
  if (!owner.empty() && owner.back() == '.') owner.pop_back();
  std::string lower = LowerDnsName(owner);
  for (int hop = 0;; hop++) {
    const std::string* zone = ZoneOf(lower);
    Node scratch;
    const Node* node = Find(lower, &scratch);
    if (!node) {
      if (!zone) {
        if (hop == 0) return r;  // not ours: kNotFound
        r.kind = DnsLookupResult::kAnswer;
        r.resolve_elsewhere = owner;
        return r;
      }
      r.rcode = dns::kRcodeNxDomain;
      r.kind = hop == 0 ? DnsLookupResult::kNxDomain : DnsLookupResult::kAnswer;
      r.authority.push_back(Soa(*zone));
      return r;
    }
    size_t before = r.answers.size();
    const Entry* cname = nullptr;
    for (const Entry& e : node->entries) {
      if (e.type == qtype || qtype == dns::kTypeANY) {
        r.answers.push_back({owner, e.type, dns::kClassIN, ttl_, e.rdata});
        std::string target;
        uint16_t prio, weight, port;
        if (e.type == dns::kTypeSRV && ReadRdataSrv(e.rdata, &prio, &weight, &port, &target))
          AddTargets(target, &r.additional);
        else if (e.type == dns::kTypeNS && ReadRdataName(e.rdata, &target))
          AddTargets(target, &r.additional);
      }
      if (e.type == dns::kTypeCNAME) cname = &e;
    }
    if (zone && *zone == lower && (qtype == dns::kTypeSOA || qtype == dns::kTypeANY)) r.answers.push_back(Soa(*zone));
    if (r.answers.size() > before) {
      r.kind = DnsLookupResult::kAnswer;
      return r;
    }
    std::string target;
    if (cname && hop < kMaxChain && ReadRdataName(cname->rdata, &target)) {
      r.answers.push_back({owner, dns::kTypeCNAME, dns::kClassIN, ttl_, cname->rdata});
      owner = target;
      lower = LowerDnsName(target);
      continue;
    }
    if (!zone && hop == 0) return r;  // a name of ours outside the zones, without this type: forward it
    if (hop > 0) {
      r.kind = DnsLookupResult::kAnswer;  // the chain's end has no records of the type: NODATA after it
      if (zone) r.authority.push_back(Soa(*zone));
      return r;
    }
    r.kind = DnsLookupResult::kNoData;
    if (zone) r.authority.push_back(Soa(*zone));
    return r;
  }
}

}  // namespace kubit::net

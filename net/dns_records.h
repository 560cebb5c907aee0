// DnsRecordTable: the names a DNS server answers from itself, as a plain
// table of records (no Kubernetes in it: core/network fills it). Names
// under one of its zones are answered with authority: a name the table
// lacks is NXDOMAIN, a name that exists without records of the type asked
// (or an empty non-terminal: "svc.cluster.local" when "web.ns.svc..."
// exists) is NODATA, both with the zone's SOA for negative caching (RFC
// 2308). Names outside the zones are answered when the table has them
// (reverse PTR records, say) and otherwise left to the caller to forward.
// CNAMEs are followed inside the table; a chain that leaves it is handed
// back for resolving elsewhere. Built once, then shared read-only.
#pragma once

#include <stdint.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "net/dns_message.h"

namespace kubit::net {

struct DnsLookupResult {
  enum Kind {
    kNotFound,  // outside the zones and not in the table: forward it
    kAnswer,    // answers hold records (and rcode may be NXDOMAIN at the end of a CNAME chain)
    kNoData,    // the name exists, no records of the type
    kNxDomain,
  };
  Kind kind = kNotFound;
  uint16_t rcode = dns::kRcodeNoError;
  std::vector<DnsRecord> answers, authority, additional;
  // A CNAME chain that leaves the table: the name it ends at, to be
  // resolved elsewhere for the type asked (answers hold the chain).
  std::string resolve_elsewhere;
};

class DnsRecordTable {
 public:
  // `zones`: lower case without the final dot ("cluster.local"). `ttl`:
  // every record's, the SOA minimum too. `serial`: the SOA serial (a new
  // table, a new serial).
  DnsRecordTable(std::vector<std::string> zones, uint32_t ttl, uint32_t serial);

  // Adds a record (an identical one twice is kept once). Names are
  // compared case-insensitively.
  void Add(const std::string& name, uint16_t type, const std::string& rdata);
  // A name that exists without records of its own (an empty namespace).
  void AddName(const std::string& name);
  // Names "<address with dashes>.<label>.<suffix>" answer with that address
  // (A for "10-42-0-5", AAAA for "fd00--5") when "<label>.<suffix>"
  // exists in the table: Kubernetes' pod records, without a list of pods.
  void AddAddressNames(const std::string& suffix);

  // `qname` as asked (its case is kept in the answers' owner names).
  DnsLookupResult Lookup(const std::string& qname, uint16_t qtype) const;

  const std::vector<std::string>& zones() const { return zones_; }
  uint32_t ttl() const { return ttl_; }
  size_t size() const { return records_; }

 private:
  struct Entry {
    uint16_t type;
    std::string rdata;
  };
  struct Node {
    std::string name;  // as added (lower case)
    std::vector<Entry> entries;
  };
  const std::string* ZoneOf(const std::string& lower) const;
  DnsRecord Soa(const std::string& zone) const;
  // The node of `lower`, or a synthesized address node; null if neither.
  const Node* Find(const std::string& lower, Node* scratch) const;
  void AddTargets(const std::string& target, std::vector<DnsRecord>* additional) const;

  std::vector<std::string> zones_;
  uint32_t ttl_, serial_;
  std::unordered_map<std::string, Node> nodes_;
  std::vector<std::string> address_suffixes_;
  size_t records_ = 0;
};

}  // namespace kubit::net

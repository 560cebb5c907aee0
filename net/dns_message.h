// DNS messages on the wire (RFC 1035 section 4, EDNS0 of RFC 6891): parse
// and build, with name compression for owner names. Names are kept in
// presentation form without the final dot ("web.default.svc.cluster.local",
// "" for the root); a label byte that is a dot, a backslash or not
// printable is written "\." "\\" "\DDD", so any wire name survives a round
// trip. Record data is kept in wire form with any names in it expanded
// (never compressed), so records of every type pass through unchanged;
// the Rdata* helpers make and read the types the cluster DNS serves.
// Nothing here trusts its input: every length and pointer is checked.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

namespace kubit::net {

namespace dns {
inline constexpr uint16_t kTypeA = 1, kTypeNS = 2, kTypeCNAME = 5, kTypeSOA = 6, kTypePTR = 12, kTypeMX = 15,
                          kTypeTXT = 16, kTypeAAAA = 28, kTypeSRV = 33, kTypeOPT = 41, kTypeAXFR = 252,
                          kTypeANY = 255;
inline constexpr uint16_t kClassIN = 1;
inline constexpr uint16_t kRcodeNoError = 0, kRcodeFormErr = 1, kRcodeServFail = 2, kRcodeNxDomain = 3,
                          kRcodeNotImp = 4, kRcodeRefused = 5, kRcodeBadVers = 16;
inline constexpr size_t kMaxUdpPlain = 512;  // without EDNS0
}  // namespace dns

struct DnsQuestion {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = dns::kClassIN;
};

struct DnsRecord {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = dns::kClassIN;
  uint32_t ttl = 0;
  std::string rdata;  // wire form, names expanded
};

struct DnsMessage {
  uint16_t id = 0;
  bool qr = false, aa = false, tc = false, rd = false, ra = false, ad = false, cd = false;
  uint8_t opcode = 0;
  uint16_t rcode = 0;  // 12 bits: the header's 4 and, with EDNS0, the OPT record's 8 above them
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers, authority, additional;  // additional: without the OPT record
  // EDNS0: set when the message carries an OPT record.
  bool edns = false;
  uint16_t edns_udp_size = 0;  // the sender's largest UDP payload
  uint8_t edns_version = 0;
  bool edns_do = false;        // DNSSEC OK
  std::string edns_options;    // the OPT record's data, as sent
};

// False with *error for anything malformed: short input, bad pointers
// (forward, looping, too many), over-long names or labels, records that
// overrun the message or their own length, several OPT records, bytes
// left over.
bool ParseDnsMessage(const uint8_t* data, size_t len, DnsMessage* out, std::string* error);
bool ParseDnsMessage(const std::string& bytes, DnsMessage* out, std::string* error);

// Builds the message in at most `max_size` bytes. What does not fit is
// left out whole records at a time, last section first; *truncated (may be
// null) says whether an answer or authority record had to go, and then the
// TC bit is set (a missing additional record is no truncation, RFC 2181
// 9). The OPT record is kept. False with *error for a name that cannot be
// encoded (a label over 63 bytes, a name over 255) or an rcode over 15
// without EDNS0.
bool BuildDnsMessage(const DnsMessage& m, size_t max_size, std::string* out, bool* truncated,
                     std::string* error);

// Names: wire encoding of one (uncompressed), comparison.
bool EncodeDnsName(const std::string& name, std::string* out, std::string* error);
std::string LowerDnsName(const std::string& name);  // ASCII case folding, as DNS compares (RFC 4343)
// Whether `name` is `zone` or below it (both lower case).
bool DnsNameUnder(const std::string& name, const std::string& zone);

// Record data of the types the cluster DNS makes, and readers for tests
// and for the forwarder's TTL handling.
std::string RdataA(uint32_t ip_host_order);
std::string RdataAAAA(const uint8_t ip[16]);
std::string RdataName(const std::string& name);  // CNAME, PTR, NS
std::string RdataSrv(uint16_t priority, uint16_t weight, uint16_t port, const std::string& target);
std::string RdataSoa(const std::string& mname, const std::string& rname, uint32_t serial, uint32_t refresh,
                     uint32_t retry, uint32_t expire, uint32_t minimum);
std::string RdataTxt(const std::string& text);
// The name in a CNAME/PTR/NS rdata, the target of an SRV's; false if malformed.
bool ReadRdataName(const std::string& rdata, std::string* name);
bool ReadRdataSrv(const std::string& rdata, uint16_t* priority, uint16_t* weight, uint16_t* port,
                  std::string* target);
// The SOA's minimum field (negative caching, RFC 2308).
bool ReadRdataSoaMinimum(const std::string& rdata, uint32_t* minimum);

}  // namespace kubit::net

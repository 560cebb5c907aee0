// nftables over nfnetlink, as much of it as the pod network programs:
// tables, base chains, and rules made of the kernel's expressions
// (payload, cmp, bitwise, meta, ct, fib, immediate, nat, masq). A Batch is
// one transaction: the kernel applies all of its messages or none, so a
// table can be replaced whole without a moment where rules are missing.
#pragma once

#include <stdint.h>

#include <functional>
#include <string>
#include <vector>

#include "net/ipam_ipv4.h"
#include "net/netlink.h"

namespace kubit::net::nft {

// One expression: its kernel name and a writer of its attributes.
struct Expr {
  std::string name;
  std::function<void(netlink::Message*)> put;
};
using Rule = std::vector<Expr>;

// The kernel's registers: NFT_REG_1.. (16 bytes each).
constexpr uint32_t kReg1 = 1, kReg2 = 2;

Expr Payload(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg);
Expr Cmp(uint32_t op, uint32_t sreg, const std::string& data);
Expr Bitwise(uint32_t sreg, uint32_t dreg, const std::string& mask, const std::string& xor_);
Expr Meta(uint32_t key, uint32_t dreg);
// A directional conntrack key (NFT_CT_PROTO_DST, ...) of one direction.
Expr Ct(uint32_t key, uint8_t direction, uint32_t dreg);
Expr Fib(uint32_t result, uint32_t flags, uint32_t dreg);
Expr Immediate(uint32_t dreg, const std::string& data);
Expr Nat(uint32_t type, uint32_t addr_reg, uint32_t proto_reg);
Expr Masquerade();

// Matches, each a few expressions, in nft's own terms.
Rule IpSaddrIn(const Ipv4Prefix& p, bool negate = false);   // ip saddr [!=] p
Rule IpDaddrIn(const Ipv4Prefix& p, bool negate = false);   // ip daddr [!=] p
Rule L4Proto(uint8_t proto);                                // meta l4proto p
Rule DestPort(uint16_t port);                               // th dport port
Rule DaddrIsLocal();                                        // fib daddr type local
Rule CtOriginalDestPort(uint16_t port);                     // ct original proto-dst port
Rule DnatTo(uint32_t ip, uint16_t port);                    // dnat to ip:port
// Concatenates matches and actions into one rule.
Rule Join(std::initializer_list<Rule> parts);

// Whether `table` of `family` exists (NFT_MSG_GETTABLE).
bool TableExists(netlink::Socket* s, uint8_t family, const std::string& table, bool* exists, std::string* error);

class Batch {
 public:
  explicit Batch(uint8_t family);  // NFPROTO_IPV4, ...
  void AddTable(const std::string& table);
  void DeleteTable(const std::string& table);
  // A base chain: `type` "nat" or "filter", netfilter hook and priority.
  void AddChain(const std::string& table, const std::string& chain, const std::string& type, uint32_t hook,
                int32_t priority);
  void AddRule(const std::string& table, const std::string& chain, const Rule& rule);
  // The messages between the batch markers, ready for Socket::Batch.
  std::vector<netlink::Message> Finish();

 private:
  netlink::Message New(uint16_t type, uint16_t flags);
  uint8_t family_;
  std::vector<netlink::Message> messages_;
};

}  // namespace kubit::net::nft

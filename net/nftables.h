// nftables over nfnetlink, as much of it as kubit programs: tables, base
// and regular chains, named sets and verdict maps (with timeouts, keys
// concatenated as nft's `a . b . c`), anonymous verdict maps, and rules
// made of the kernel's expressions (payload, cmp, bitwise, meta, ct, fib,
// immediate and verdicts, lookup, dynset, numgen, nat, masq, reject,
// counter). A Batch is one transaction: the kernel applies all of its
// messages or none, so a table can be replaced whole, or its chains and
// maps rewritten, without a moment where rules are missing.
#pragma once

#include <stdint.h>

#include <functional>
#include <optional>
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

// The kernel's registers: NFT_REG_1.. (16 bytes each); the verdict
// register; and the 4-byte registers NFT_REG32_00.. that a concatenated
// key is loaded into, one field per register (kReg32 + i).
constexpr uint32_t kReg1 = 1, kReg2 = 2;
constexpr uint32_t kRegVerdict = 0, kReg32 = 8;

// A verdict: NF_ACCEPT, NF_DROP, or NFT_JUMP / NFT_GOTO with a chain, NFT_RETURN.
struct Verdict {
  int32_t code = 0;
  std::string chain;
};

Expr Payload(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg);
Expr Cmp(uint32_t op, uint32_t sreg, const std::string& data);
Expr Bitwise(uint32_t sreg, uint32_t dreg, const std::string& mask, const std::string& xor_);
Expr Meta(uint32_t key, uint32_t dreg);
// A directional conntrack key (NFT_CT_PROTO_DST, ...) of one direction.
Expr Ct(uint32_t key, uint8_t direction, uint32_t dreg);
Expr Fib(uint32_t result, uint32_t flags, uint32_t dreg);
Expr Immediate(uint32_t dreg, const std::string& data);
Expr Nat(uint32_t type, uint32_t addr_reg, uint32_t proto_reg);
// `flags`: NF_NAT_RANGE_PROTO_RANDOM_FULLY and the like.
Expr Masquerade(uint32_t flags = 0);
// The verdict register set to `v` (jump, goto, return, drop, accept).
Expr SetVerdict(const Verdict& v);
// Looks the key in `sreg` up in a set (named, or by its id in this
// batch); with a verdict map the element's verdict is taken.
Expr Lookup(const std::string& set, uint32_t set_id, uint32_t sreg, bool verdict_map, bool invert = false);
// Adds the key in `sreg` to a set with timeouts, or refreshes its timeout.
Expr DynsetUpdate(const std::string& set, uint32_t sreg);
// A random number in [0, modulus) (host byte order, 4 bytes).
Expr NumgenRandom(uint32_t modulus, uint32_t dreg);
// An undirected conntrack key (NFT_CT_STATE, NFT_CT_STATUS, NFT_CT_MARK).
Expr CtKey(uint32_t key, uint32_t dreg);
Expr MetaSet(uint32_t key, uint32_t sreg);
// NFT_REJECT_ICMP_UNREACH with an ICMP code, or NFT_REJECT_TCP_RST.
Expr Reject(uint32_t type, uint8_t icmp_code);
Expr Counter();

// Matches, each a few expressions, in nft's own terms.
Rule IpSaddrIn(const Ipv4Prefix& p, bool negate = false);   // ip saddr [!=] p
Rule IpDaddrIn(const Ipv4Prefix& p, bool negate = false);   // ip daddr [!=] p
Rule L4Proto(uint8_t proto);                                // meta l4proto p
Rule DestPort(uint16_t port);                               // th dport port
Rule DaddrIsLocal();                                        // fib daddr type local
Rule CtOriginalDestPort(uint16_t port);                     // ct original proto-dst port
Rule DnatTo(uint32_t ip, uint16_t port);                    // dnat to ip:port
Rule CtStateNew();                                          // ct state new
Rule FibAddrIsLocal(bool source);                           // fib saddr|daddr type local
Rule MarkHasBits(uint32_t bits, bool negate = false);       // mark and bits != 0 (== 0 negated)
Rule MarkOr(uint32_t bits);                                 // mark set mark or bits
Rule MarkXor(uint32_t bits);                                // mark set mark xor bits
Rule Goto(const std::string& chain);
Rule Jump(const std::string& chain);
Rule Return();
Rule Drop();
// Loads `ip daddr . meta l4proto . th dport` (with_daddr) or `meta
// l4proto . th dport` into the 4-byte registers from kReg32: a key of
// 12 or 8 bytes (ConcatKey below) for a map lookup.
Rule LoadAddrProtoPort(bool with_daddr);
// Concatenates matches and actions into one rule.
Rule Join(std::initializer_list<Rule> parts);

// Key bytes, in the kernel's layout (each field padded to 4 bytes).
std::string AddrKey(uint32_t ip);  // ipv4_addr
std::string ConcatKey(uint32_t ip, uint8_t proto, uint16_t port);  // ipv4_addr . inet_proto . inet_service
std::string ConcatKey(uint8_t proto, uint16_t port);               // inet_proto . inet_service
std::string U32Key(uint32_t v);    // host byte order, as numgen writes it

// nft's type numbers for a set's key (shown by `nft list`; the kernel
// keeps them for userspace only).
constexpr uint32_t kTypeVerdict = 1, kTypeInteger = 4, kTypeIpv4Addr = 7, kTypeInetProto = 12,
                   kTypeInetService = 13;
constexpr uint32_t ConcatType(std::initializer_list<uint32_t> types) {
  uint32_t t = 0;
  for (uint32_t x : types) t = (t << 6) | x;
  return t;
}

// A named set or verdict map of a table.
struct SetSpec {
  std::string name;
  uint32_t key_type = kTypeIpv4Addr, key_len = 4;
  bool verdict_map = false;
  uint64_t timeout_ms = 0;  // elements added by rules expire (NFT_SET_TIMEOUT | NFT_SET_EVAL)
};
struct SetElement {
  std::string key;
  std::optional<Verdict> verdict;  // verdict maps only
};

// Whether `table` of `family` exists (NFT_MSG_GETTABLE).
bool TableExists(netlink::Socket* s, uint8_t family, const std::string& table, bool* exists, std::string* error);

class Batch;

// A table described whole, for a Batch to make: its named sets and maps
// with their elements, and its chains with their rules. Each rule and
// element carries nft's text of it beside the kernel's form, for logs and
// tests (TableSpec::Text lists the table as `nft list table` would).
struct ChainRule {
  std::string text;
  Rule exprs;
  // When not empty, the rule ends with a lookup of the number in kReg1 in
  // an anonymous verdict map of these elements (numgen ... vmap { ... }).
  std::vector<SetElement> vmap;
};
struct ChainSpec {
  std::string name;
  bool base = false;  // a base chain: type, hook and priority below
  std::string type;
  uint32_t hook = 0;
  int32_t priority = 0;
  std::vector<ChainRule> rules;
};
struct TableSet {
  SetSpec spec;
  std::vector<SetElement> elements;
  std::vector<std::string> texts;  // one per element
};
struct TableSpec {
  std::string name;
  std::vector<TableSet> sets;
  std::vector<ChainSpec> chains;

  const ChainSpec* Chain(const std::string& name) const;
  const TableSet* Set(const std::string& name) const;
  std::string Text() const;
};

// The batch messages that make table `spec` from nothing, replacing
// whatever the kernel had under its name.
void ReplaceTable(const TableSpec& spec, Batch* b);
// The batch messages that turn table `old` (as the last batch made it)
// into `spec`: every chain and map rewritten, chains and sets gone from
// `spec` deleted, and sets with timeouts (elements that rules add, such
// as session affinity) kept with their elements. The kernel refuses it
// when the table is not as `old` says (then ReplaceTable).
void UpdateTable(const TableSpec& old, const TableSpec& spec, Batch* b);

class Batch {
 public:
  explicit Batch(uint8_t family);  // NFPROTO_IPV4, ...
  void AddTable(const std::string& table);
  void DeleteTable(const std::string& table);
  // A base chain: `type` "nat" or "filter", netfilter hook and priority.
  void AddChain(const std::string& table, const std::string& chain, const std::string& type, uint32_t hook,
                int32_t priority);
  // A regular chain (reached by jump and goto); an existing one is kept.
  void AddChain(const std::string& table, const std::string& chain);
  void FlushChain(const std::string& table, const std::string& chain);  // deletes its rules
  void DeleteChain(const std::string& table, const std::string& chain);
  // A named set or map; an existing one of the same shape keeps its elements.
  void AddSet(const std::string& table, const SetSpec& set);
  void FlushSet(const std::string& table, const std::string& set);
  void DeleteSet(const std::string& table, const std::string& set);
  void AddElements(const std::string& table, const std::string& set, const std::vector<SetElement>& elements);
  // A constant anonymous verdict map holding `elements`, for one rule of
  // this batch to look up: that rule's Lookup takes the returned name and
  // *id; the map goes with the rule.
  std::string AddAnonymousVerdictMap(const std::string& table, uint32_t key_type, uint32_t key_len,
                                     const std::vector<SetElement>& elements, uint32_t* id);
  void AddRule(const std::string& table, const std::string& chain, const Rule& rule);
  // The messages between the batch markers, ready for Socket::Batch.
  std::vector<netlink::Message> Finish();

 private:
  netlink::Message New(uint16_t type, uint16_t flags);
  void AddElementsTo(const std::string& table, const std::string& set, uint32_t set_id,
                     const std::vector<SetElement>& elements);
  uint8_t family_;
  uint32_t next_set_id_ = 1;
  std::vector<netlink::Message> messages_;
};

}  // namespace kubit::net::nft

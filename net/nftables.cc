#include "net/nftables.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <string.h>

namespace kubit::net::nft {

using netlink::Message;

namespace {

std::string Bytes(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }
std::string Be32(uint32_t v) {
  uint32_t be = htonl(v);
  return Bytes(&be, 4);
}
std::string Be16(uint16_t v) {
  uint16_t be = htons(v);
  return Bytes(&be, 2);
}
std::string Host32(uint32_t v) { return Bytes(&v, 4); }

// NFTA_DATA_VALUE inside the nested attribute `type`.
void PutData(Message* m, uint16_t type, const std::string& data) {
  size_t n = m->BeginNested(type);
  m->PutAttr(NFTA_DATA_VALUE, data.data(), data.size());
  m->EndNested(n);
}

// Network-header field at `offset` (4 bytes) masked to the prefix.
Rule IpFieldIn(uint32_t offset, const Ipv4Prefix& p, bool negate) {
  Rule r{Payload(NFT_PAYLOAD_NETWORK_HEADER, offset, 4, kReg1)};
  if (p.len < 32) r.push_back(Bitwise(kReg1, kReg1, Be32(p.mask()), Be32(0)));
  r.push_back(Cmp(negate ? NFT_CMP_NEQ : NFT_CMP_EQ, kReg1, Be32(p.addr)));
  return r;
}

}  // namespace

Expr Payload(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg) {
  return {"payload", [=](Message* m) {
            m->PutBe32(NFTA_PAYLOAD_DREG, dreg);
            m->PutBe32(NFTA_PAYLOAD_BASE, base);
            m->PutBe32(NFTA_PAYLOAD_OFFSET, offset);
            m->PutBe32(NFTA_PAYLOAD_LEN, len);
          }};
}

Expr Cmp(uint32_t op, uint32_t sreg, const std::string& data) {
  return {"cmp", [=](Message* m) {
            m->PutBe32(NFTA_CMP_SREG, sreg);
            m->PutBe32(NFTA_CMP_OP, op);
            PutData(m, NFTA_CMP_DATA, data);
          }};
}

Expr Bitwise(uint32_t sreg, uint32_t dreg, const std::string& mask, const std::string& xor_) {
  return {"bitwise", [=](Message* m) {
            m->PutBe32(NFTA_BITWISE_SREG, sreg);
            m->PutBe32(NFTA_BITWISE_DREG, dreg);
            m->PutBe32(NFTA_BITWISE_LEN, mask.size());
            PutData(m, NFTA_BITWISE_MASK, mask);
            PutData(m, NFTA_BITWISE_XOR, xor_);
          }};
}

Expr Meta(uint32_t key, uint32_t dreg) {
  return {"meta", [=](Message* m) {
            m->PutBe32(NFTA_META_KEY, key);
            m->PutBe32(NFTA_META_DREG, dreg);
          }};
}

Expr Ct(uint32_t key, uint8_t direction, uint32_t dreg) {
  return {"ct", [=](Message* m) {
            m->PutBe32(NFTA_CT_KEY, key);
            m->PutU8(NFTA_CT_DIRECTION, direction);
            m->PutBe32(NFTA_CT_DREG, dreg);
          }};
}

Expr Fib(uint32_t result, uint32_t flags, uint32_t dreg) {
  return {"fib", [=](Message* m) {
            m->PutBe32(NFTA_FIB_DREG, dreg);
            m->PutBe32(NFTA_FIB_RESULT, result);
            m->PutBe32(NFTA_FIB_FLAGS, flags);
          }};
}

Expr Immediate(uint32_t dreg, const std::string& data) {
  return {"immediate", [=](Message* m) {
            m->PutBe32(NFTA_IMMEDIATE_DREG, dreg);
            PutData(m, NFTA_IMMEDIATE_DATA, data);
          }};
}

Expr Nat(uint32_t type, uint32_t addr_reg, uint32_t proto_reg) {
  return {"nat", [=](Message* m) {
            m->PutBe32(NFTA_NAT_TYPE, type);
            m->PutBe32(NFTA_NAT_FAMILY, NFPROTO_IPV4);
            if (addr_reg) m->PutBe32(NFTA_NAT_REG_ADDR_MIN, addr_reg);
            if (proto_reg) m->PutBe32(NFTA_NAT_REG_PROTO_MIN, proto_reg);
          }};
}

Expr Masquerade() {
  return {"masq", [](Message*) {}};
}

Rule IpSaddrIn(const Ipv4Prefix& p, bool negate) { return IpFieldIn(12, p, negate); }
Rule IpDaddrIn(const Ipv4Prefix& p, bool negate) { return IpFieldIn(16, p, negate); }

Rule L4Proto(uint8_t proto) {
  return {Meta(NFT_META_L4PROTO, kReg1), Cmp(NFT_CMP_EQ, kReg1, Bytes(&proto, 1))};
}

Rule DestPort(uint16_t port) {
  // TCP, UDP and SCTP all keep the destination port at offset 2.
  return {Payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, kReg1), Cmp(NFT_CMP_EQ, kReg1, Be16(port))};
}

Rule DaddrIsLocal() {
  return {Fib(NFT_FIB_RESULT_ADDRTYPE, NFTA_FIB_F_DADDR, kReg1), Cmp(NFT_CMP_EQ, kReg1, Host32(RTN_LOCAL))};
}

Rule CtOriginalDestPort(uint16_t port) {
  return {Ct(NFT_CT_PROTO_DST, IP_CT_DIR_ORIGINAL, kReg1), Cmp(NFT_CMP_EQ, kReg1, Be16(port))};
}

Rule DnatTo(uint32_t ip, uint16_t port) {
  return {Immediate(kReg1, Be32(ip)), Immediate(kReg2, Be16(port)), Nat(NFT_NAT_DNAT, kReg1, kReg2)};
}

Rule Join(std::initializer_list<Rule> parts) {
  Rule out;
  for (const Rule& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

bool TableExists(netlink::Socket* s, uint8_t family, const std::string& table, bool* exists, std::string* error) {
  Message m((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, 0);
  nfgenmsg g{};
  g.nfgen_family = family;
  g.version = NFNETLINK_V0;
  m.PutHeader(&g, sizeof(g));
  m.PutString(NFTA_TABLE_NAME, table);
  int err = 0;
  *exists = s->Query(&m, "NFT_MSG_GETTABLE " + table, [](const nlmsghdr*) {}, &err, error);
  return *exists || err == ENOENT;
}

Batch::Batch(uint8_t family) : family_(family) {
  Message begin(NFNL_MSG_BATCH_BEGIN, 0);
  nfgenmsg g{};
  g.nfgen_family = AF_UNSPEC;
  g.version = NFNETLINK_V0;
  g.res_id = htons(NFNL_SUBSYS_NFTABLES);
  begin.PutHeader(&g, sizeof(g));
  messages_.push_back(std::move(begin));
}

Message Batch::New(uint16_t type, uint16_t flags) {
  Message m((NFNL_SUBSYS_NFTABLES << 8) | type, flags);
  nfgenmsg g{};
  g.nfgen_family = family_;
  g.version = NFNETLINK_V0;
  m.PutHeader(&g, sizeof(g));
  return m;
}

void Batch::AddTable(const std::string& table) {
  Message m = New(NFT_MSG_NEWTABLE, NLM_F_CREATE);
  m.PutString(NFTA_TABLE_NAME, table);
  messages_.push_back(std::move(m));
}

void Batch::DeleteTable(const std::string& table) {
  Message m = New(NFT_MSG_DELTABLE, 0);
  m.PutString(NFTA_TABLE_NAME, table);
  messages_.push_back(std::move(m));
}

void Batch::AddChain(const std::string& table, const std::string& chain, const std::string& type, uint32_t hook,
                     int32_t priority) {
  Message m = New(NFT_MSG_NEWCHAIN, NLM_F_CREATE);
  m.PutString(NFTA_CHAIN_TABLE, table);
  m.PutString(NFTA_CHAIN_NAME, chain);
  size_t h = m.BeginNested(NFTA_CHAIN_HOOK);
  m.PutBe32(NFTA_HOOK_HOOKNUM, hook);
  m.PutBe32(NFTA_HOOK_PRIORITY, static_cast<uint32_t>(priority));
  m.EndNested(h);
  m.PutString(NFTA_CHAIN_TYPE, type);
  messages_.push_back(std::move(m));
}

void Batch::AddRule(const std::string& table, const std::string& chain, const Rule& rule) {
  Message m = New(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
  m.PutString(NFTA_RULE_TABLE, table);
  m.PutString(NFTA_RULE_CHAIN, chain);
  size_t list = m.BeginNested(NFTA_RULE_EXPRESSIONS);
  for (const Expr& e : rule) {
    size_t elem = m.BeginNested(NFTA_LIST_ELEM);
    m.PutString(NFTA_EXPR_NAME, e.name);
    size_t data = m.BeginNested(NFTA_EXPR_DATA);
    e.put(&m);
    m.EndNested(data);
    m.EndNested(elem);
  }
  m.EndNested(list);
  messages_.push_back(std::move(m));
}

std::vector<Message> Batch::Finish() {
  Message end(NFNL_MSG_BATCH_END, 0);
  nfgenmsg g{};
  g.nfgen_family = AF_UNSPEC;
  g.version = NFNETLINK_V0;
  g.res_id = htons(NFNL_SUBSYS_NFTABLES);
  end.PutHeader(&g, sizeof(g));
  messages_.push_back(std::move(end));
  return std::move(messages_);
}

}  // namespace kubit::net::nft

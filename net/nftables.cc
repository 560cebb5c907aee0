#include "net/nftables.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <set>

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

// NFTA_DATA_VERDICT inside the nested attribute `type`.
void PutVerdict(Message* m, uint16_t type, const Verdict& v) {
  size_t n = m->BeginNested(type);
  size_t vn = m->BeginNested(NFTA_DATA_VERDICT);
  m->PutBe32(NFTA_VERDICT_CODE, static_cast<uint32_t>(v.code));
  if (!v.chain.empty()) m->PutString(NFTA_VERDICT_CHAIN, v.chain);
  m->EndNested(vn);
  m->EndNested(n);
}

void PutBe64(Message* m, uint16_t type, uint64_t v) {
  uint64_t be = htobe64(v);
  m->PutAttr(type, &be, 8);
}

// Loads the mark, sets it to (mark & mask) ^ xor_, stores it back.
Rule MarkSet(uint32_t mask, uint32_t xor_) {
  return {Meta(NFT_META_MARK, kReg1), Bitwise(kReg1, kReg1, Host32(mask), Host32(xor_)),
          MetaSet(NFT_META_MARK, kReg1)};
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

Expr Masquerade(uint32_t flags) {
  return {"masq", [=](Message* m) {
            if (flags) m->PutBe32(NFTA_MASQ_FLAGS, flags);
          }};
}

Expr SetVerdict(const Verdict& v) {
  return {"immediate", [=](Message* m) {
            m->PutBe32(NFTA_IMMEDIATE_DREG, kRegVerdict);
            PutVerdict(m, NFTA_IMMEDIATE_DATA, v);
          }};
}

Expr Lookup(const std::string& set, uint32_t set_id, uint32_t sreg, bool verdict_map, bool invert) {
  return {"lookup", [=](Message* m) {
            m->PutString(NFTA_LOOKUP_SET, set);
            if (set_id) m->PutBe32(NFTA_LOOKUP_SET_ID, set_id);
            m->PutBe32(NFTA_LOOKUP_SREG, sreg);
            if (verdict_map) m->PutBe32(NFTA_LOOKUP_DREG, kRegVerdict);
            if (invert) m->PutBe32(NFTA_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
          }};
}

Expr DynsetUpdate(const std::string& set, uint32_t sreg) {
  return {"dynset", [=](Message* m) {
            m->PutString(NFTA_DYNSET_SET_NAME, set);
            m->PutBe32(NFTA_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
            m->PutBe32(NFTA_DYNSET_SREG_KEY, sreg);
          }};
}

Expr NumgenRandom(uint32_t modulus, uint32_t dreg) {
  return {"numgen", [=](Message* m) {
            m->PutBe32(NFTA_NG_DREG, dreg);
            m->PutBe32(NFTA_NG_MODULUS, modulus);
            m->PutBe32(NFTA_NG_TYPE, NFT_NG_RANDOM);
            m->PutBe32(NFTA_NG_OFFSET, 0);
          }};
}

Expr CtKey(uint32_t key, uint32_t dreg) {
  return {"ct", [=](Message* m) {
            m->PutBe32(NFTA_CT_KEY, key);
            m->PutBe32(NFTA_CT_DREG, dreg);
          }};
}

Expr MetaSet(uint32_t key, uint32_t sreg) {
  return {"meta", [=](Message* m) {
            m->PutBe32(NFTA_META_KEY, key);
            m->PutBe32(NFTA_META_SREG, sreg);
          }};
}

Expr Reject(uint32_t type, uint8_t icmp_code) {
  return {"reject", [=](Message* m) {
            m->PutBe32(NFTA_REJECT_TYPE, type);
            if (type == NFT_REJECT_ICMP_UNREACH) m->PutU8(NFTA_REJECT_ICMP_CODE, icmp_code);
          }};
}

Expr Counter() {
  return {"counter", [](Message* m) {
            PutBe64(m, NFTA_COUNTER_BYTES, 0);
            PutBe64(m, NFTA_COUNTER_PACKETS, 0);
          }};
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

Rule CtStateNew() {
  return {CtKey(NFT_CT_STATE, kReg1), Bitwise(kReg1, kReg1, Host32(NF_CT_STATE_BIT(IP_CT_NEW)), Host32(0)),
          Cmp(NFT_CMP_NEQ, kReg1, Host32(0))};
}

Rule FibAddrIsLocal(bool source) {
  return {Fib(NFT_FIB_RESULT_ADDRTYPE, source ? NFTA_FIB_F_SADDR : NFTA_FIB_F_DADDR, kReg1),
          Cmp(NFT_CMP_EQ, kReg1, Host32(RTN_LOCAL))};
}

Rule MarkHasBits(uint32_t bits, bool negate) {
  return {Meta(NFT_META_MARK, kReg1), Bitwise(kReg1, kReg1, Host32(bits), Host32(0)),
          Cmp(negate ? NFT_CMP_EQ : NFT_CMP_NEQ, kReg1, Host32(0))};
}

Rule MarkOr(uint32_t bits) { return MarkSet(~bits, bits); }
Rule MarkXor(uint32_t bits) { return MarkSet(0xffffffffu, bits); }

Rule Goto(const std::string& chain) { return {SetVerdict({NFT_GOTO, chain})}; }
Rule Jump(const std::string& chain) { return {SetVerdict({NFT_JUMP, chain})}; }
Rule Return() { return {SetVerdict({NFT_RETURN, ""})}; }
Rule Drop() { return {SetVerdict({NF_DROP, ""})}; }

Rule LoadAddrProtoPort(bool with_daddr) {
  Rule r;
  uint32_t reg = kReg32;
  if (with_daddr) r.push_back(Payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, reg++));
  r.push_back(Meta(NFT_META_L4PROTO, reg++));
  r.push_back(Payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, reg));
  return r;
}

std::string AddrKey(uint32_t ip) { return Be32(ip); }

std::string ConcatKey(uint8_t proto, uint16_t port) {
  std::string k(8, '\0');
  k[0] = static_cast<char>(proto);
  std::string p = Be16(port);
  k[4] = p[0];
  k[5] = p[1];
  return k;
}

std::string ConcatKey(uint32_t ip, uint8_t proto, uint16_t port) { return Be32(ip) + ConcatKey(proto, port); }

std::string U32Key(uint32_t v) { return Host32(v); }

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

void Batch::AddChain(const std::string& table, const std::string& chain) {
  Message m = New(NFT_MSG_NEWCHAIN, NLM_F_CREATE);
  m.PutString(NFTA_CHAIN_TABLE, table);
  m.PutString(NFTA_CHAIN_NAME, chain);
  messages_.push_back(std::move(m));
}

void Batch::FlushChain(const std::string& table, const std::string& chain) {
  Message m = New(NFT_MSG_DELRULE, 0);
  m.PutString(NFTA_RULE_TABLE, table);
  m.PutString(NFTA_RULE_CHAIN, chain);
  messages_.push_back(std::move(m));
}

void Batch::DeleteChain(const std::string& table, const std::string& chain) {
  Message m = New(NFT_MSG_DELCHAIN, 0);
  m.PutString(NFTA_CHAIN_TABLE, table);
  m.PutString(NFTA_CHAIN_NAME, chain);
  messages_.push_back(std::move(m));
}

void Batch::AddSet(const std::string& table, const SetSpec& set) {
  Message m = New(NFT_MSG_NEWSET, NLM_F_CREATE);
  m.PutString(NFTA_SET_TABLE, table);
  m.PutString(NFTA_SET_NAME, set.name);
  uint32_t flags = set.verdict_map ? NFT_SET_MAP : 0;
  if (set.timeout_ms) flags |= NFT_SET_TIMEOUT | NFT_SET_EVAL;
  m.PutBe32(NFTA_SET_FLAGS, flags);
  m.PutBe32(NFTA_SET_KEY_TYPE, set.key_type);
  m.PutBe32(NFTA_SET_KEY_LEN, set.key_len);
  if (set.verdict_map) m.PutBe32(NFTA_SET_DATA_TYPE, NFT_DATA_VERDICT);
  if (set.timeout_ms) PutBe64(&m, NFTA_SET_TIMEOUT, set.timeout_ms);
  m.PutBe32(NFTA_SET_ID, next_set_id_++);
  messages_.push_back(std::move(m));
}

void Batch::FlushSet(const std::string& table, const std::string& set) {
  // A DELSETELEM without elements empties the set.
  Message m = New(NFT_MSG_DELSETELEM, 0);
  m.PutString(NFTA_SET_ELEM_LIST_TABLE, table);
  m.PutString(NFTA_SET_ELEM_LIST_SET, set);
  messages_.push_back(std::move(m));
}

void Batch::DeleteSet(const std::string& table, const std::string& set) {
  Message m = New(NFT_MSG_DELSET, 0);
  m.PutString(NFTA_SET_TABLE, table);
  m.PutString(NFTA_SET_NAME, set);
  messages_.push_back(std::move(m));
}

void Batch::AddElements(const std::string& table, const std::string& set, const std::vector<SetElement>& elements) {
  AddElementsTo(table, set, 0, elements);
}

void Batch::AddElementsTo(const std::string& table, const std::string& set, uint32_t set_id,
                          const std::vector<SetElement>& elements) {
  // Kept well under a netlink message's size: large maps take several.
  constexpr size_t kPerMessage = 256;
  for (size_t start = 0; start < elements.size(); start += kPerMessage) {
    Message m = New(NFT_MSG_NEWSETELEM, NLM_F_CREATE);
    m.PutString(NFTA_SET_ELEM_LIST_TABLE, table);
    m.PutString(NFTA_SET_ELEM_LIST_SET, set);
    if (set_id) m.PutBe32(NFTA_SET_ELEM_LIST_SET_ID, set_id);
    size_t list = m.BeginNested(NFTA_SET_ELEM_LIST_ELEMENTS);
    for (size_t i = start; i < elements.size() && i < start + kPerMessage; ++i) {
      const SetElement& e = elements[i];
      size_t elem = m.BeginNested(NFTA_LIST_ELEM);
      PutData(&m, NFTA_SET_ELEM_KEY, e.key);
      if (e.verdict) PutVerdict(&m, NFTA_SET_ELEM_DATA, *e.verdict);
      m.EndNested(elem);
    }
    m.EndNested(list);
    messages_.push_back(std::move(m));
  }
}

std::string Batch::AddAnonymousVerdictMap(const std::string& table, uint32_t key_type, uint32_t key_len,
                                          const std::vector<SetElement>& elements, uint32_t* id) {
  // "%d": the kernel numbers the map (nft's own anonymous sets are named so).
  const std::string name = "__map%d";
  *id = next_set_id_++;
  Message m = New(NFT_MSG_NEWSET, NLM_F_CREATE);
  m.PutString(NFTA_SET_TABLE, table);
  m.PutString(NFTA_SET_NAME, name);
  m.PutBe32(NFTA_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP);
  m.PutBe32(NFTA_SET_KEY_TYPE, key_type);
  m.PutBe32(NFTA_SET_KEY_LEN, key_len);
  m.PutBe32(NFTA_SET_DATA_TYPE, NFT_DATA_VERDICT);
  m.PutBe32(NFTA_SET_ID, *id);
  size_t desc = m.BeginNested(NFTA_SET_DESC);
  m.PutBe32(NFTA_SET_DESC_SIZE, static_cast<uint32_t>(elements.size()));
  m.EndNested(desc);
  messages_.push_back(std::move(m));
  AddElementsTo(table, name, *id, elements);
  return name;
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

const ChainSpec* TableSpec::Chain(const std::string& n) const {
  for (const ChainSpec& c : chains)
    if (c.name == n) return &c;
  return nullptr;
}

const TableSet* TableSpec::Set(const std::string& n) const {
  for (const TableSet& s : sets)
    if (s.spec.name == n) return &s;
  return nullptr;
}

std::string TableSpec::Text() const {
  static const char* hooks[] = {"prerouting", "input", "forward", "output", "postrouting"};
  std::string out = "table ip " + name + " {\n";
  for (const TableSet& s : sets) {
    out += std::string("\t") + (s.spec.verdict_map ? "map " : "set ") + s.spec.name + " {";
    if (s.spec.timeout_ms) out += " timeout " + std::to_string(s.spec.timeout_ms / 1000) + "s;";
    for (size_t i = 0; i < s.texts.size(); ++i) out += (i ? ", " : " elements = { ") + s.texts[i];
    out += s.texts.empty() ? " }\n" : " } }\n";
  }
  for (const ChainSpec& c : chains) {
    out += "\tchain " + c.name + " {\n";
    if (c.base)
      out += "\t\ttype " + c.type + " hook " + (c.hook < 5 ? hooks[c.hook] : "?") + " priority " +
             std::to_string(c.priority) + ";\n";
    for (const ChainRule& r : c.rules) out += "\t\t" + r.text + "\n";
    out += "\t}\n";
  }
  return out + "}\n";
}

namespace {

void AddContent(const TableSpec& spec, bool create_chains, Batch* b) {
  if (create_chains)
    for (const ChainSpec& c : spec.chains) {
      if (c.base)
        b->AddChain(spec.name, c.name, c.type, c.hook, c.priority);
      else
        b->AddChain(spec.name, c.name);
    }
  for (const TableSet& s : spec.sets)
    if (!s.elements.empty()) b->AddElements(spec.name, s.spec.name, s.elements);
  for (const ChainSpec& c : spec.chains)
    for (const ChainRule& r : c.rules) {
      if (r.vmap.empty()) {
        b->AddRule(spec.name, c.name, r.exprs);
        continue;
      }
      uint32_t id;
      std::string map = b->AddAnonymousVerdictMap(spec.name, kTypeInteger, 4, r.vmap, &id);
      Rule full = r.exprs;
      full.push_back(Lookup(map, id, kReg1, true));
      b->AddRule(spec.name, c.name, full);
    }
}

}  // namespace

void ReplaceTable(const TableSpec& spec, Batch* b) {
  // Add, delete, add: the table is replaced whole whether it existed or not.
  b->AddTable(spec.name);
  b->DeleteTable(spec.name);
  b->AddTable(spec.name);
  for (const TableSet& s : spec.sets) b->AddSet(spec.name, s.spec);
  AddContent(spec, true, b);
}

void UpdateTable(const TableSpec& old, const TableSpec& spec, Batch* b) {
  b->AddTable(spec.name);
  for (const TableSet& s : spec.sets) b->AddSet(spec.name, s.spec);
  std::set<std::string> chains, sets;
  for (const ChainSpec& c : spec.chains) {
    chains.insert(c.name);
    if (c.base)
      b->AddChain(spec.name, c.name, c.type, c.hook, c.priority);
    else
      b->AddChain(spec.name, c.name);
  }
  // Every rule goes first, so that no rule still jumps to a chain deleted
  // below; then maps (their verdicts name chains too).
  for (const ChainSpec& c : old.chains)
    if (!chains.count(c.name)) b->FlushChain(spec.name, c.name);
  for (const ChainSpec& c : spec.chains) b->FlushChain(spec.name, c.name);
  for (const TableSet& s : spec.sets) {
    sets.insert(s.spec.name);
    if (!s.spec.timeout_ms) b->FlushSet(spec.name, s.spec.name);
  }
  for (const TableSet& s : old.sets)
    if (!sets.count(s.spec.name)) b->DeleteSet(spec.name, s.spec.name);
  for (const ChainSpec& c : old.chains)
    if (!chains.count(c.name)) b->DeleteChain(spec.name, c.name);
  AddContent(spec, false, b);
}

}  // namespace kubit::net::nft

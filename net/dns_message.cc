#include "net/dns_message.h"

#include <string.h>

#include <string_view>
#include <unordered_map>

namespace kubit::net {

namespace {

constexpr size_t kMaxName = 255;     // wire bytes, final zero included
constexpr size_t kMaxLabel = 63;
constexpr int kMaxPointers = 64;     // more jumps than a 255-byte name can need

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Get32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         p[3];
}
void Put16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}
void Put32(std::string* out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v & 0xffff));
}

// One label byte in presentation form.
void AppendLabelByte(std::string* out, uint8_t c) {
  if (c == '.' || c == '\\') {
    out->push_back('\\');
    out->push_back(static_cast<char>(c));
  } else if (c < 0x21 || c > 0x7e) {
    char buf[5];
    snprintf(buf, sizeof(buf), "\\%03u", c);
    out->append(buf);
  } else {
    out->push_back(static_cast<char>(c));
  }
}

// Reads a (possibly compressed) name at *pos of the message; *pos ends
// after its first part (the pointer or the final zero).
bool ReadName(const uint8_t* msg, size_t len, size_t* pos, std::string* name, std::string* error) {
  name->clear();
  size_t p = *pos, wire = 1;
  size_t end = 0;  // where the caller resumes: set at the first pointer
  int jumps = 0;
  size_t floor = p;  // pointers must go strictly backwards from here
  for (;;) {
    if (p >= len) {
      *error = "name runs past the end of the message";
      return false;
    }
    uint8_t c = msg[p];
    if ((c & 0xc0) == 0xc0) {
      if (p + 1 >= len) {
        *error = "name pointer runs past the end of the message";
        return false;
      }
      size_t target = static_cast<size_t>(c & 0x3f) << 8 | msg[p + 1];
      if (target >= floor || ++jumps > kMaxPointers) {
        *error = "name pointer does not point backwards";
        return false;
      }
      if (!end) end = p + 2;
      p = floor = target;
      continue;
    }
    if (c & 0xc0) {
      *error = "unknown label type";
      return false;
    }
    if (c == 0) {
      *pos = end ? end : p + 1;
      return true;
    }
    if (p + 1 + c > len) {
      *error = "label runs past the end of the message";
      return false;
    }
    wire += 1 + c;
    if (wire > kMaxName) {
      *error = "name longer than 255 bytes";
      return false;
    }
    if (!name->empty()) name->push_back('.');
    for (size_t i = 0; i < c; i++) AppendLabelByte(name, msg[p + 1 + i]);
    p += 1 + c;
  }
}

// Expands the names in record data of the types that hold them (RFC 1035's
// and SRV's), so the data stands alone. Other types are copied as they are.
bool ExpandRdata(const uint8_t* msg, size_t start, size_t rdlen, uint16_t type, std::string* out,
                 std::string* error) {
  const size_t end = start + rdlen;
  auto name_at = [&](size_t* pos) {
    std::string n;
    if (!ReadName(msg, end, pos, &n, error)) return false;
    std::string wire;
    if (!EncodeDnsName(n, &wire, error)) return false;
    out->append(wire);
    return true;
  };
  size_t p = start;
  auto fixed = [&](size_t n) {
    if (end - p < n) {
      *error = "record data of type " + std::to_string(type) + " shorter than its fields";
      return false;
    }
    out->append(reinterpret_cast<const char*>(msg + p), n);
    p += n;
    return true;
  };
  out->clear();
  switch (type) {
    case dns::kTypeCNAME:
    case dns::kTypeNS:
    case dns::kTypePTR:
      if (!name_at(&p)) return false;
      break;
    case dns::kTypeMX:
      if (!fixed(2) || !name_at(&p)) return false;
      break;
    case dns::kTypeSRV:
      // RFC 2782 forbids compressing the target; some servers do anyway.
      if (!fixed(6) || !name_at(&p)) return false;
      break;
    case dns::kTypeSOA:
      if (!name_at(&p) || !name_at(&p) || !fixed(20)) return false;
      break;
    default:
      out->assign(reinterpret_cast<const char*>(msg + start), rdlen);
      return true;
  }
  if (p != end) {
    *error = "record data of type " + std::to_string(type) + " longer than its fields";
    return false;
  }
  return true;
}

bool ReadRecord(const uint8_t* msg, size_t len, size_t* pos, DnsRecord* rr, std::string* error) {
  if (!ReadName(msg, len, pos, &rr->name, error)) return false;
  if (*pos + 10 > len) {
    *error = "record header runs past the end of the message";
    return false;
  }
  const uint8_t* h = msg + *pos;
  rr->type = Get16(h);
  rr->klass = Get16(h + 2);
  rr->ttl = Get32(h + 4);
  size_t rdlen = Get16(h + 8);
  *pos += 10;
  if (*pos + rdlen > len) {
    *error = "record data runs past the end of the message";
    return false;
  }
  if (rr->type == dns::kTypeOPT) {
    rr->rdata.assign(reinterpret_cast<const char*>(msg + *pos), rdlen);
  } else if (!ExpandRdata(msg, *pos, rdlen, rr->type, &rr->rdata, error)) {
    return false;
  }
  *pos += rdlen;
  return true;
}

// Owner names and their compression: each suffix written so far, by its
// wire bytes, at its offset (pointers reach 14 bits). Suffixes match byte
// for byte, so every name keeps the case it was given.
class NameWriter {
 public:
  bool Write(const std::string& name, std::string* out, std::string* error) {
    std::string wire;
    if (!EncodeDnsName(name, &wire, error)) return false;
    // Walk the labels: the first suffix already written becomes a pointer.
    size_t p = 0;
    while (wire[p] != 0) {
      auto it = offsets_.find(std::string_view(wire).substr(p));
      if (it != offsets_.end()) {
        size_t at = out->size();
        out->append(wire, 0, p);
        Put16(out, static_cast<uint16_t>(0xc000 | it->second));
        Remember(wire, p, at);
        return true;
      }
      p += 1 + static_cast<uint8_t>(wire[p]);
    }
    size_t at = out->size();
    out->append(wire);
    Remember(wire, p, at);
    return true;
  }

 private:
  // The suffixes of `wire` that start before `upto`, written at `at` on.
  void Remember(const std::string& wire, size_t upto, size_t at) {
    size_t p = 0;
    while (p < upto) {
      if (at + p < 0x4000) offsets_.emplace(wire.substr(p), at + p);
      p += 1 + static_cast<uint8_t>(wire[p]);
    }
  }
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, size_t, Hash, std::equal_to<>> offsets_;
};

void WriteHeader(const DnsMessage& m, bool tc, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar,
                 std::string* out) {
  Put16(out, m.id);
  uint16_t flags = static_cast<uint16_t>((m.qr ? 0x8000 : 0) | (m.opcode & 0xf) << 11 | (m.aa ? 0x0400 : 0) |
                                         (tc ? 0x0200 : 0) | (m.rd ? 0x0100 : 0) | (m.ra ? 0x0080 : 0) |
                                         (m.ad ? 0x0020 : 0) | (m.cd ? 0x0010 : 0) | (m.rcode & 0xf));
  Put16(out, flags);
  Put16(out, qd);
  Put16(out, an);
  Put16(out, ns);
  Put16(out, ar);
}

bool WriteRecord(const DnsRecord& rr, NameWriter* names, std::string* out, std::string* error) {
  if (!names->Write(rr.name, out, error)) return false;
  if (rr.rdata.size() > 0xffff) {
    *error = "record data over 65535 bytes";
    return false;
  }
  Put16(out, rr.type);
  Put16(out, rr.klass);
  Put32(out, rr.ttl);
  Put16(out, static_cast<uint16_t>(rr.rdata.size()));
  out->append(rr.rdata);
  return true;
}

std::string OptRecord(const DnsMessage& m) {
  std::string out;
  out.push_back(0);  // root owner
  Put16(&out, dns::kTypeOPT);
  Put16(&out, m.edns_udp_size);
  out.push_back(static_cast<char>(m.rcode >> 4));
  out.push_back(static_cast<char>(m.edns_version));
  Put16(&out, m.edns_do ? 0x8000 : 0);
  Put16(&out, static_cast<uint16_t>(m.edns_options.size()));
  out.append(m.edns_options);
  return out;
}

}  // namespace

bool EncodeDnsName(const std::string& name, std::string* out, std::string* error) {
  out->clear();
  std::string label;
  auto flush = [&]() {
    if (label.empty()) {
      *error = "empty label in name \"" + name + "\"";
      return false;
    }
    if (label.size() > kMaxLabel) {
      *error = "label longer than 63 bytes in name \"" + name + "\"";
      return false;
    }
    out->push_back(static_cast<char>(label.size()));
    out->append(label);
    label.clear();
    return true;
  };
  for (size_t i = 0; i < name.size(); i++) {
    char c = name[i];
    if (c == '.') {
      if (i + 1 == name.size()) break;  // a final dot: the root
      if (!flush()) return false;
    } else if (c == '\\' && i + 1 < name.size()) {
      if (i + 3 < name.size() && isdigit(static_cast<unsigned char>(name[i + 1])) &&
          isdigit(static_cast<unsigned char>(name[i + 2])) && isdigit(static_cast<unsigned char>(name[i + 3]))) {
        int v = (name[i + 1] - '0') * 100 + (name[i + 2] - '0') * 10 + (name[i + 3] - '0');
        if (v > 255) {
          *error = "bad escape in name \"" + name + "\"";
          return false;
        }
        label.push_back(static_cast<char>(v));
        i += 3;
      } else {
        label.push_back(name[++i]);
      }
    } else {
      label.push_back(c);
    }
  }
  if (!name.empty() && name != "." && !flush()) return false;
  out->push_back(0);
  if (out->size() > kMaxName) {
    *error = "name longer than 255 bytes: \"" + name + "\"";
    return false;
  }
  return true;
}

std::string LowerDnsName(const std::string& name) {
  std::string s = name;
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool DnsNameUnder(const std::string& name, const std::string& zone) {
  if (zone.empty()) return true;
  if (name.size() < zone.size()) return false;
  if (name.size() == zone.size()) return name == zone;
  size_t at = name.size() - zone.size();
  // The dot before the zone must be a separator, not an escaped "\.".
  if (name[at - 1] != '.' || name.compare(at, zone.size(), zone) != 0) return false;
  size_t backslashes = 0;
  for (size_t i = at - 1; i > 0 && name[i - 1] == '\\'; i--) backslashes++;
  return backslashes % 2 == 0;
}

bool ParseDnsMessage(const std::string& bytes, DnsMessage* out, std::string* error) {
  return ParseDnsMessage(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out, error);
}

bool ParseDnsMessage(const uint8_t* data, size_t len, DnsMessage* out, std::string* error) {
  *out = DnsMessage();
  if (len < 12) {
    *error = "message shorter than its 12-byte header";
    return false;
  }
  out->id = Get16(data);
  uint16_t flags = Get16(data + 2);
  out->qr = flags & 0x8000;
  out->opcode = static_cast<uint8_t>(flags >> 11 & 0xf);
  out->aa = flags & 0x0400;
  out->tc = flags & 0x0200;
  out->rd = flags & 0x0100;
  out->ra = flags & 0x0080;
  out->ad = flags & 0x0020;
  out->cd = flags & 0x0010;
  out->rcode = flags & 0xf;
  size_t qd = Get16(data + 4), an = Get16(data + 6), ns = Get16(data + 8), ar = Get16(data + 10);
  // Each question takes at least 5 bytes and each record 11: counts that
  // cannot fit are refused before anything is reserved for them.
  if (12 + qd * 5 + (an + ns + ar) * 11 > len) {
    *error = "section counts larger than the message";
    return false;
  }
  size_t pos = 12;
  out->questions.resize(qd);
  for (auto& q : out->questions) {
    if (!ReadName(data, len, &pos, &q.name, error)) return false;
    if (pos + 4 > len) {
      *error = "question runs past the end of the message";
      return false;
    }
    q.type = Get16(data + pos);
    q.klass = Get16(data + pos + 2);
    pos += 4;
  }
  for (auto [section, count] : {std::pair{&out->answers, an}, {&out->authority, ns}, {&out->additional, ar}}) {
    section->reserve(count);
    for (size_t i = 0; i < count; i++) {
      DnsRecord rr;
      if (!ReadRecord(data, len, &pos, &rr, error)) return false;
      if (rr.type == dns::kTypeOPT) {
        if (section != &out->additional || out->edns || !rr.name.empty()) {
          *error = "OPT record out of place";
          return false;
        }
        out->edns = true;
        out->edns_udp_size = rr.klass;
        out->rcode = static_cast<uint16_t>(out->rcode | (rr.ttl >> 24) << 4);
        out->edns_version = static_cast<uint8_t>(rr.ttl >> 16);
        out->edns_do = rr.ttl & 0x8000;
        out->edns_options = rr.rdata;
        continue;
      }
      section->push_back(std::move(rr));
    }
  }
  if (pos != len) {
    *error = "bytes after the last record";
    return false;
  }
  return true;
}

bool BuildDnsMessage(const DnsMessage& m, size_t max_size, std::string* out, bool* truncated,
                     std::string* error) {
  if (m.rcode > 0xf && !m.edns) {
    *error = "extended rcode without EDNS0";
    return false;
  }
  if (m.rcode > 0xfff || m.questions.size() > 0xffff || m.answers.size() > 0xffff ||
      m.authority.size() > 0xffff || m.additional.size() >= 0xffff) {
    *error = "message too large";
    return false;
  }
  std::string opt = m.edns ? OptRecord(m) : std::string();
  std::string body;
  NameWriter names;
  body.reserve(512);
  WriteHeader(m, false, 0, 0, 0, 0, &body);  // counts patched below
  for (const auto& q : m.questions) {
    if (!names.Write(q.name, &body, error)) return false;
    Put16(&body, q.type);
    Put16(&body, q.klass);
  }
  uint16_t counts[3] = {0, 0, 0};
  bool cut = false, cut_required = false;
  const std::vector<DnsRecord>* sections[3] = {&m.answers, &m.authority, &m.additional};
  for (int s = 0; s < 3 && !cut; s++) {
    for (const DnsRecord& rr : *sections[s]) {
      size_t before = body.size();
      if (!WriteRecord(rr, &names, &body, error)) return false;
      if (body.size() + opt.size() > max_size) {
        body.resize(before);  // its names' offsets may be remembered past the end: no more writes follow
        cut = true;
        cut_required = s < 2;
        break;
      }
      counts[s]++;
    }
  }
  uint16_t qd = static_cast<uint16_t>(m.questions.size());
  if (body.size() + opt.size() > max_size) {
    // Not even the question fits: the header alone, truncated.
    body.resize(12);
    qd = counts[0] = counts[1] = counts[2] = 0;
    cut_required = true;
  }
  body.append(opt);
  std::string header;
  WriteHeader(m, m.tc || cut_required, qd, counts[0], counts[1],
              static_cast<uint16_t>(counts[2] + (m.edns ? 1 : 0)), &header);
  memcpy(body.data(), header.data(), 12);
  if (truncated) *truncated = cut_required;
  *out = std::move(body);
  return true;
}

std::string RdataA(uint32_t ip) {
  std::string s;
  Put32(&s, ip);
  return s;
}

std::string RdataAAAA(const uint8_t ip[16]) { return std::string(reinterpret_cast<const char*>(ip), 16); }

std::string RdataName(const std::string& name) {
  std::string wire, error;
  if (!EncodeDnsName(name, &wire, &error)) wire.assign(1, '\0');
  return wire;
}

std::string RdataSrv(uint16_t priority, uint16_t weight, uint16_t port, const std::string& target) {
  std::string s;
  Put16(&s, priority);
  Put16(&s, weight);
  Put16(&s, port);
  s.append(RdataName(target));
  return s;
}

std::string RdataSoa(const std::string& mname, const std::string& rname, uint32_t serial, uint32_t refresh,
                     uint32_t retry, uint32_t expire, uint32_t minimum) {
  std::string s = RdataName(mname) + RdataName(rname);
  for (uint32_t v : {serial, refresh, retry, expire, minimum}) Put32(&s, v);
  return s;
}

std::string RdataTxt(const std::string& text) {
  std::string s;
  for (size_t i = 0; i < text.size() || i == 0; i += 255) {
    std::string part = text.substr(i, 255);
    s.push_back(static_cast<char>(part.size()));
    s.append(part);
    if (text.empty()) break;
  }
  return s;
}

bool ReadRdataName(const std::string& rdata, std::string* name) {
  size_t pos = 0;
  std::string error;
  const auto* p = reinterpret_cast<const uint8_t*>(rdata.data());
  // Expanded data holds no pointers: ReadName refuses any (none can point
  // backwards from offset 0 of the data alone).
  return ReadName(p, rdata.size(), &pos, name, &error) && pos == rdata.size();
}

bool ReadRdataSrv(const std::string& rdata, uint16_t* priority, uint16_t* weight, uint16_t* port,
                  std::string* target) {
  if (rdata.size() < 7) return false;
  const auto* p = reinterpret_cast<const uint8_t*>(rdata.data());
  *priority = Get16(p);
  *weight = Get16(p + 2);
  *port = Get16(p + 4);
  return ReadRdataName(rdata.substr(6), target);
}

bool ReadRdataSoaMinimum(const std::string& rdata, uint32_t* minimum) {
  if (rdata.size() < 22) return false;
  *minimum = Get32(reinterpret_cast<const uint8_t*>(rdata.data()) + rdata.size() - 4);
  return true;
}

}  // namespace kubit::net

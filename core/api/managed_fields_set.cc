// Server-side apply's types, path elements and field sets (FieldsV1).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/api/managed_fields.h"
#include "core/api/managed_fields_internal.h"
#include "core/api/schema.h"

namespace kubit::api {

using smd::Json;

// ---------------------------------------------------------------------------
// SmdType.

namespace {

constexpr std::string_view kObjectMeta = "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta";

const Json* Member(const Json* node, const char* name) {
  if (!node || !node->is_object()) return nullptr;
  auto it = node->find(name);
  return it == node->end() ? nullptr : &*it;
}

bool BoolAt(const Json* node, const char* name) {
  const Json* v = Member(node, name);
  return v && v->is_boolean() && v->get<bool>();
}

std::string StringAt(const Json* node, const char* name) {
  const Json* v = Member(node, name);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace

SmdType SmdType::ForResource(const ResourceType& t) {
  if (t.custom) return ForCustomResource(t.schema.get());
  const schema::Message* m = schema::MessageForKind(t.api_version(), t.kind);
  if (!m) return ForCustomResource(nullptr);
  return ForMessage(m);
}

SmdType SmdType::ForMessage(const schema::Message* m) {
  SmdType s;
  if (!m) return s;
  switch (m->shape) {
    case schema::Shape::kObject:
      s.kind_ = Kind::kStruct;
      s.message_ = m;
      s.atomic_ = m->struct_type == schema::MapType::kAtomic;
      break;
    case schema::Shape::kStringList:
      s.kind_ = Kind::kList;
      s.atomic_ = true;
      s.list_kind_ = ListKind::kAtomic;
      break;
    case schema::Shape::kRawExtension:
    case schema::Shape::kFieldsV1:
      break;  // deduced
    default:
      s.kind_ = Kind::kScalar;
  }
  return s;
}

SmdType SmdType::ForCustomResource(const Json* openapi_v3_schema) {
  SmdType s;
  s.kind_ = Kind::kStruct;
  s.cr_root_ = true;
  s.node_ = openapi_v3_schema;
  return s;
}

SmdType SmdType::FromField(const schema::Field& f) {
  SmdType s;
  if (f.is_map()) {
    s.kind_ = Kind::kMap;
    s.field_ = &f;
    s.atomic_ = f.map_type == schema::MapType::kAtomic;
    return s;
  }
  if (f.repeated) {
    s.kind_ = Kind::kList;
    s.field_ = &f;
    bool scalars = !(f.kind == schema::Kind::kMessage && f.message &&
                     f.message->shape == schema::Shape::kObject);
    schema::ListType lt = f.list_type;
    if (lt == schema::ListType::kUnset) {
      if (!f.patch_merge_key.empty() && !scalars)
        lt = schema::ListType::kMap;
      else if (f.patch_merge && scalars)
        lt = schema::ListType::kSet;
      else
        lt = schema::ListType::kAtomic;
    }
    if (lt == schema::ListType::kMap && f.list_map_keys.empty() && f.patch_merge_key.empty())
      lt = schema::ListType::kAtomic;
    s.list_kind_ = lt == schema::ListType::kMap   ? ListKind::kMap
                   : lt == schema::ListType::kSet ? ListKind::kSet
                                                  : ListKind::kAtomic;
    s.atomic_ = s.list_kind_ == ListKind::kAtomic;
    return s;
  }
  if (f.kind == schema::Kind::kMessage && f.message) {
    s = ForMessage(f.message);
    if (f.map_type == schema::MapType::kAtomic && (s.kind_ == Kind::kStruct || s.kind_ == Kind::kMap))
      s.atomic_ = true;
    return s;
  }
  s.kind_ = Kind::kScalar;
  return s;
}

SmdType SmdType::FromOpenAPI(const Json* node) {
  SmdType s;
  if (!node || !node->is_object()) return s;
  s.node_ = node;
  s.nullable_ = BoolAt(node, "nullable");
  if (BoolAt(node, "x-kubernetes-int-or-string")) {
    s.kind_ = Kind::kScalar;
    return s;
  }
  std::string type = StringAt(node, "type");
  const Json* props = Member(node, "properties");
  const Json* additional = Member(node, "additionalProperties");
  bool preserve = BoolAt(node, "x-kubernetes-preserve-unknown-fields");
  if (type == "array") {
    s.kind_ = Kind::kList;
    std::string lt = StringAt(node, "x-kubernetes-list-type");
    s.list_kind_ = lt == "set" ? ListKind::kSet : lt == "map" ? ListKind::kMap : ListKind::kAtomic;
    if (s.list_kind_ == ListKind::kMap && s.ListKeys().empty()) s.list_kind_ = ListKind::kAtomic;
    s.atomic_ = s.list_kind_ == ListKind::kAtomic;
    return s;
  }
  bool objectish = type == "object" || (type.empty() && ((props && props->is_object()) ||
                                                         (additional && additional->is_object())));
  if (objectish) {
    s.atomic_ = StringAt(node, "x-kubernetes-map-type") == "atomic";
    if (props && props->is_object()) {
      s.kind_ = Kind::kStruct;
      s.extra_deduced_ = preserve || (additional && additional->is_boolean() && additional->get<bool>());
    } else {
      s.kind_ = Kind::kMap;
    }
    return s;
  }
  if (type == "string" || type == "integer" || type == "number" || type == "boolean") {
    s.kind_ = Kind::kScalar;
    return s;
  }
  return s;  // deduced (x-kubernetes-preserve-unknown-fields, or no type)
}

SmdType SmdType::FieldType(const std::string& name, bool* declared) const {
  *declared = false;
  if (kind_ == Kind::kStruct) {
    if (cr_root_) {
      if (name == "apiVersion" || name == "kind") {
        *declared = true;
        SmdType s;
        s.kind_ = Kind::kScalar;
        return s;
      }
      if (name == "metadata") {
        *declared = true;
        return ForMessage(schema::FindMessage(kObjectMeta));
      }
      const Json* props = Member(node_, "properties");
      if (const Json* p = Member(props, name.c_str())) {
        *declared = true;
        return FromOpenAPI(p);
      }
      return SmdType();
    }
    if (message_) {
      if (const schema::Field* f = message_->FieldByName(name)) {
        *declared = true;
        return FromField(*f);
      }
      if (message_->is_kind && (name == "apiVersion" || name == "kind")) {
        *declared = true;
        SmdType s;
        s.kind_ = Kind::kScalar;
        return s;
      }
      return SmdType();
    }
    const Json* props = Member(node_, "properties");
    if (const Json* p = Member(props, name.c_str())) {
      *declared = true;
      return FromOpenAPI(p);
    }
    const Json* additional = Member(node_, "additionalProperties");
    if (additional && additional->is_object()) return FromOpenAPI(additional);
    return SmdType();
  }
  if (kind_ == Kind::kMap) return ElementType();
  return SmdType();
}

SmdType SmdType::ElementType() const {
  if (kind_ == Kind::kList || kind_ == Kind::kMap) {
    if (field_) {
      if (field_->kind == schema::Kind::kMessage && field_->message) return ForMessage(field_->message);
      if (field_->is_map() && field_->message) return ForMessage(field_->message);
      SmdType s;
      s.kind_ = Kind::kScalar;
      return s;
    }
    if (node_) {
      const Json* sub = Member(node_, kind_ == Kind::kList ? "items" : "additionalProperties");
      if (sub && sub->is_object()) return FromOpenAPI(sub);
      return SmdType();
    }
    if (kind_ == Kind::kList && message_ == nullptr) {  // a list wrapper: strings
      SmdType s;
      s.kind_ = Kind::kScalar;
      return s;
    }
  }
  return SmdType();
}

std::vector<std::string> SmdType::ListKeys() const {
  std::vector<std::string> keys;
  if (field_) {
    for (std::string_view k : field_->list_map_keys) keys.emplace_back(k);
    if (keys.empty() && !field_->patch_merge_key.empty()) keys.emplace_back(field_->patch_merge_key);
  } else if (const Json* k = Member(node_, "x-kubernetes-list-map-keys")) {
    if (k->is_array())
      for (const Json& e : *k)
        if (e.is_string()) keys.push_back(e.get<std::string>());
  }
  return keys;
}

Json SmdType::KeyDefault(const std::string& key) const {
  if (field_) {
    // The only defaulted map-list keys of the built-in types: the protocol of
    // container and service ports (+default="TCP").
    if (key == "protocol") return "TCP";
    return Json();
  }
  const Json* items = Member(node_, "items");
  const Json* props = Member(items, "properties");
  if (const Json* d = Member(Member(props, key.c_str()), "default")) return *d;
  return Json();
}

// ---------------------------------------------------------------------------
// Values.

namespace smd {

bool TooDeep(const Json& v, int limit) {
  std::vector<std::pair<const Json*, int>> stack{{&v, 0}};
  while (!stack.empty()) {
    auto [j, d] = stack.back();
    stack.pop_back();
    if (!j->is_structured()) continue;
    if (d + 1 > limit) return true;
    for (const Json& e : *j)
      if (e.is_structured()) stack.push_back({&e, d + 1});
  }
  return false;
}

namespace {

int IntCompare(const Json& a, const Json& b) {
  bool au = a.is_number_unsigned(), bu = b.is_number_unsigned();
  if (au && bu) {
    uint64_t x = a.get<uint64_t>(), y = b.get<uint64_t>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (!au && !bu) {
    int64_t x = a.get<int64_t>(), y = b.get<int64_t>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (au) {  // a unsigned, b signed
    int64_t y = b.get<int64_t>();
    if (y < 0) return 1;
    uint64_t x = a.get<uint64_t>();
    return x < uint64_t(y) ? -1 : x > uint64_t(y) ? 1 : 0;
  }
  return -IntCompare(b, a);
}

double AsDouble(const Json& v) {
  if (v.is_number_float()) return v.get<double>();
  if (v.is_number_unsigned()) return double(v.get<uint64_t>());
  return double(v.get<int64_t>());
}

int FloatCompare(double a, double b) { return a < b ? -1 : a > b ? 1 : 0; }

}  // namespace

int ValueCompare(const Json& a, const Json& b) {
  if (a.is_number_float()) {
    if (b.is_number_float() || b.is_number_integer()) return FloatCompare(a.get<double>(), AsDouble(b));
    return -1;
  }
  if (b.is_number_float()) {
    if (a.is_number_integer()) return FloatCompare(AsDouble(a), b.get<double>());
    return 1;
  }
  if (a.is_number_integer()) return b.is_number_integer() ? IntCompare(a, b) : -1;
  if (b.is_number_integer()) return 1;
  if (a.is_string()) {
    if (!b.is_string()) return -1;
    int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (b.is_string()) return 1;
  if (a.is_boolean()) {
    if (!b.is_boolean()) return -1;
    bool x = a.get<bool>(), y = b.get<bool>();
    return x == y ? 0 : (!x ? -1 : 1);
  }
  if (b.is_boolean()) return 1;
  if (a.is_array()) {
    if (!b.is_array()) return -1;
    for (size_t i = 0;; i++) {
      if (i >= a.size() && i >= b.size()) return 0;
      if (i >= a.size()) return -1;
      if (i >= b.size()) return 1;
      if (int c = ValueCompare(a[i], b[i])) return c;
    }
  }
  if (b.is_array()) return 1;
  if (a.is_object()) {
    if (!b.is_object()) return -1;
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    auto i = a.begin(), j = b.begin();
    for (; i != a.end(); ++i, ++j) {
      int c = i.key().compare(j.key());
      if (c) return c < 0 ? -1 : 1;
      if (int v = ValueCompare(i.value(), j.value())) return v;
    }
    return 0;
  }
  if (b.is_object()) return 1;
  if (a.is_null()) return b.is_null() ? 0 : -1;
  if (b.is_null()) return 1;
  return 0;
}

bool ValueEquals(const Json& a, const Json& b) {
  if (a.is_number_float() || b.is_number_float()) {
    if (!a.is_number() || !b.is_number()) return false;
    return AsDouble(a) == AsDouble(b);
  }
  if (a.is_number_integer() || b.is_number_integer()) {
    if (!a.is_number_integer() || !b.is_number_integer()) return false;
    return IntCompare(a, b) == 0;
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); i++)
      if (!ValueEquals(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto o = b.find(it.key());
      if (o == b.end() || !ValueEquals(it.value(), *o)) return false;
    }
    return true;
  }
  return a == b;
}

std::string GoFormatG(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  if (e == std::string::npos) return sci;
  std::string digits;
  for (size_t i = 0; i < e; i++)
    if (sci[i] != '.') digits += sci[i];
  int exp = std::atoi(sci.c_str() + e + 1);
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 21) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exp < 0 ? "e-" : "e+";
    int a = exp < 0 ? -exp : exp;
    if (a < 10) out += '0';
    out += std::to_string(a);
    return out;
  }
  int dp = exp + 1;
  if (dp <= 0)
    out += "0." + std::string(-dp, '0') + digits;
  else if (dp >= int(digits.size()))
    out += digits + std::string(dp - digits.size(), '0');
  else
    out += digits.substr(0, dp) + "." + digits.substr(dp);
  return out;
}

namespace {

// Decodes one UTF-8 sequence at s[i]; -1 (and *len 1) when invalid.
int32_t DecodeRune(const std::string& s, size_t i, int* len) {
  unsigned char c = s[i];
  *len = 1;
  if (c < 0x80) return c;
  int n;
  int32_t r, min;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    r = c & 0x1f;
    min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    r = c & 0x0f;
    min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    r = c & 0x07;
    min = 0x10000;
  } else {
    return -1;
  }
  if (i + n > s.size()) return -1;
  for (int k = 1; k < n; k++) {
    unsigned char cc = s[i + k];
    if ((cc & 0xc0) != 0x80) return -1;
    r = (r << 6) | (cc & 0x3f);
  }
  if (r < min || r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return -1;
  *len = n;
  return r;
}

bool GoIsPrint(int32_t r) {
  if (r < 0x20 || r == 0x7f) return false;
  if (r < 0x7f) return true;
  if (r < 0xa1) return false;  // C1 controls and the no-break space
  if (r == 0xad || r == 0x2028 || r == 0x2029 || (r >= 0x200b && r <= 0x200f) ||
      (r >= 0x202a && r <= 0x202e) || (r >= 0x2060 && r <= 0x206f) || r == 0xfeff ||
      (r >= 0xfff9 && r <= 0xfffb) || (r >= 0xe000 && r <= 0xf8ff) || r >= 0xf0000 ||
      (r >= 0x2000 && r <= 0x200a) || r == 0x3000 || r == 0x1680 || r == 0x202f || r == 0x205f)
    return false;
  return true;
}

void AppendHex(std::string* out, const char* prefix, uint32_t v, int digits) {
  static const char kHex[] = "0123456789abcdef";
  *out += prefix;
  for (int i = digits - 1; i >= 0; i--) *out += kHex[(v >> (4 * i)) & 0xf];
}

}  // namespace

std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    int len;
    int32_t r = DecodeRune(s, i, &len);
    if (r < 0) {
      AppendHex(&out, "\\x", (unsigned char)s[i], 2);
      i += 1;
      continue;
    }
    if (r == '"' || r == '\\') {
      out += '\\';
      out += char(r);
    } else if (GoIsPrint(r)) {
      out.append(s, i, len);
    } else {
      switch (r) {
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        default:
          if (r < ' ' || r == 0x7f)
            AppendHex(&out, "\\x", r, 2);
          else if (r < 0x10000)
            AppendHex(&out, "\\u", r, 4);
          else
            AppendHex(&out, "\\U", r, 8);
      }
    }
    i += len;
  }
  out += '"';
  return out;
}

std::string ValueToString(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_number_float()) return GoFormatG(v.get<double>());
  if (v.is_number_integer()) return v.dump();
  if (v.is_string()) return GoQuote(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); i++) {
      if (i) out += ",";
      out += ValueToString(v[i]);
    }
    return out + "]";
  }
  std::string out;
  for (auto it = v.begin(); it != v.end(); ++it) out += it.key() + "=" + ValueToString(it.value());
  return out;
}

Shape ShapeOf(const SmdType& t, const Json& v) {
  switch (t.kind()) {
    case SmdType::Kind::kDeduced:
      return v.is_object() || v.is_null() ? Shape::kMap : Shape::kLeaf;
    case SmdType::Kind::kScalar:
      return Shape::kLeaf;
    case SmdType::Kind::kStruct:
    case SmdType::Kind::kMap:
      if (t.atomic()) return Shape::kLeaf;
      return v.is_object() || v.is_null() ? Shape::kMap : Shape::kLeaf;
    case SmdType::Kind::kList:
      if (t.atomic()) return Shape::kLeaf;
      return v.is_array() || v.is_null() ? Shape::kList : Shape::kLeaf;
  }
  return Shape::kLeaf;
}

bool ItemPathElement(const SmdType& list, const Json& item, PathElement* pe, std::string* error) {
  if (list.list_kind() == SmdType::ListKind::kMap) {
    if (item.is_null()) {
      *error = "associative list with keys may not have a null element";
      return false;
    }
    if (!item.is_object()) {
      *error = "associative list with keys may not have non-map elements";
      return false;
    }
    std::vector<std::pair<std::string, Json>> key;
    for (const std::string& k : list.ListKeys()) {
      auto it = item.find(k);
      if (it != item.end()) {
        key.emplace_back(k, *it);
        continue;
      }
      Json def = list.KeyDefault(k);
      if (def.is_null()) {
        *error = "associative list with keys has an element that omits key field " + GoQuote(k) +
                 " (and doesn't have default value)";
        return false;
      }
      key.emplace_back(k, std::move(def));
    }
    *pe = PathElement::Key(std::move(key));
    return true;
  }
  if (item.is_object()) {
    *error = "associative list without keys has an element that's a map type";
    return false;
  }
  if (item.is_array()) {
    *error = "not supported: associative list with lists as elements";
    return false;
  }
  if (item.is_null()) {
    *error = "associative list without keys has an element that's an explicit null";
    return false;
  }
  *pe = PathElement::Value(item);
  return true;
}

}  // namespace smd

// ---------------------------------------------------------------------------
// Go's encoding/json.

namespace {

void GoJsonString(const std::string& s, std::string* out) {
  *out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    if (c < 0x80) {
      switch (c) {
        case '"': *out += "\\\""; break;
        case '\\': *out += "\\\\"; break;
        case '\b': *out += "\\b"; break;
        case '\f': *out += "\\f"; break;
        case '\n': *out += "\\n"; break;
        case '\r': *out += "\\r"; break;
        case '\t': *out += "\\t"; break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&')
            smd::AppendHex(out, "\\u", c, 4);
          else
            *out += char(c);
      }
      i++;
      continue;
    }
    int len;
    int32_t r = smd::DecodeRune(s, i, &len);
    if (r < 0) {
      *out += "\\ufffd";
    } else if (r == 0x2028 || r == 0x2029) {
      smd::AppendHex(out, "\\u", r, 4);
    } else {
      out->append(s, i, len);
    }
    i += len;
  }
  *out += '"';
}

void GoFloat(double f, std::string* out) {
  if (!std::isfinite(f)) {
    *out += "null";
    return;
  }
  double a = std::fabs(f);
  char buf[64];
  bool sci = a != 0 && (a < 1e-6 || a >= 1e21);
  auto res = std::to_chars(buf, buf + sizeof(buf), f,
                           sci ? std::chars_format::scientific : std::chars_format::fixed);
  std::string s(buf, res.ptr);
  if (sci) {
    size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
  }
  *out += s;
}

void GoJsonAppend(const Json& v, std::string* out) {
  switch (v.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      *out += "null";
      return;
    case Json::value_t::boolean:
      *out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer:
      *out += std::to_string(v.get<int64_t>());
      return;
    case Json::value_t::number_unsigned:
      *out += std::to_string(v.get<uint64_t>());
      return;
    case Json::value_t::number_float:
      GoFloat(v.get<double>(), out);
      return;
    case Json::value_t::string:
      GoJsonString(v.get_ref<const std::string&>(), out);
      return;
    case Json::value_t::array: {
      *out += '[';
      bool first = true;
      for (const Json& e : v) {
        if (!first) *out += ',';
        first = false;
        GoJsonAppend(e, out);
      }
      *out += ']';
      return;
    }
    case Json::value_t::object: {
      *out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) *out += ',';
        first = false;
        GoJsonString(it.key(), out);
        *out += ':';
        GoJsonAppend(it.value(), out);
      }
      *out += '}';
      return;
    }
    case Json::value_t::binary:
      *out += "null";
      return;
  }
}

}  // namespace

std::string GoJson(const Json& v) {
  std::string out;
  GoJsonAppend(v, &out);
  return out;
}

// ---------------------------------------------------------------------------
// PathElement.

PathElement PathElement::Field(std::string name) {
  PathElement pe;
  pe.kind = Kind::kField;
  pe.field = std::move(name);
  return pe;
}

PathElement PathElement::Value(Json v) {
  PathElement pe;
  pe.kind = Kind::kValue;
  pe.value = std::move(v);
  return pe;
}

PathElement PathElement::Key(std::vector<std::pair<std::string, Json>> fields) {
  std::stable_sort(fields.begin(), fields.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  PathElement pe;
  pe.kind = Kind::kKey;
  pe.key = std::move(fields);
  return pe;
}

PathElement PathElement::Index(int64_t i) {
  PathElement pe;
  pe.kind = Kind::kIndex;
  pe.index = i;
  return pe;
}

int PathElement::Compare(const PathElement& o) const {
  if (kind != o.kind) return kind < o.kind ? -1 : 1;
  switch (kind) {
    case Kind::kField: {
      int c = field.compare(o.field);
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    case Kind::kKey:
      for (size_t i = 0;; i++) {
        if (i >= key.size() && i >= o.key.size()) return 0;
        if (i >= key.size()) return -1;
        if (i >= o.key.size()) return 1;
        int c = key[i].first.compare(o.key[i].first);
        if (c) return c < 0 ? -1 : 1;
        if (int v = smd::ValueCompare(key[i].second, o.key[i].second)) return v;
      }
    case Kind::kValue:
      return smd::ValueCompare(value, o.value);
    case Kind::kIndex:
      return index < o.index ? -1 : index > o.index ? 1 : 0;
  }
  return 0;
}

std::string PathElement::ToString() const {
  switch (kind) {
    case Kind::kField:
      return "." + field;
    case Kind::kKey: {
      std::string s = "[";
      for (size_t i = 0; i < key.size(); i++) {
        if (i) s += ",";
        s += key[i].first + "=" + smd::ValueToString(key[i].second);
      }
      return s + "]";
    }
    case Kind::kValue:
      return "[=" + smd::ValueToString(value) + "]";
    case Kind::kIndex:
      return "[" + std::to_string(index) + "]";
  }
  return "{{invalid path element}}";
}

std::string PathElement::Serialize() const {
  switch (kind) {
    case Kind::kField:
      return "f:" + field;
    case Kind::kKey: {
      std::string s = "k:{";
      for (size_t i = 0; i < key.size(); i++) {
        if (i) s += ",";
        GoJsonString(key[i].first, &s);
        s += ':';
        GoJsonAppend(key[i].second, &s);
      }
      return s + "}";
    }
    case Kind::kValue:
      return "v:" + GoJson(value);
    case Kind::kIndex:
      return "i:" + std::to_string(index);
  }
  return "";
}

bool PathElement::Deserialize(const std::string& s, PathElement* out, bool* unknown, std::string* error) {
  *unknown = false;
  if (s.size() < 2) {
    *error = "key must be 2 characters long: " + s;
    return false;
  }
  if (s[1] != ':') {
    *error = "missing colon: " + s;
    return false;
  }
  std::string rest = s.substr(2);
  switch (s[0]) {
    case 'f':
      *out = Field(rest);
      return true;
    case 'v': {
      Json v = Json::parse(rest, nullptr, false);
      if (v.is_discarded()) {
        *error = "parsing key as path element: invalid value: " + s;
        return false;
      }
      *out = Value(std::move(v));
      return true;
    }
    case 'k': {
      Json v = Json::parse(rest, nullptr, false);
      if (v.is_discarded() || !v.is_object()) {
        *error = "parsing key as path element: invalid key: " + s;
        return false;
      }
      std::vector<std::pair<std::string, Json>> fields;
      for (auto it = v.begin(); it != v.end(); ++it) fields.emplace_back(it.key(), it.value());
      *out = Key(std::move(fields));
      return true;
    }
    case 'i': {
      int64_t i = 0;
      auto r = std::from_chars(rest.data(), rest.data() + rest.size(), i);
      if (r.ec != std::errc() || r.ptr != rest.data() + rest.size() || rest.empty()) {
        *error = "parsing key as path element: invalid index: " + s;
        return false;
      }
      *out = Index(i);
      return true;
    }
    default:
      *unknown = true;
      return true;
  }
}

std::string PathString(const FieldPath& p) {
  std::string s;
  for (const PathElement& pe : p) s += pe.ToString();
  return s;
}

// ---------------------------------------------------------------------------
// FieldSet.

namespace {

using Entry = FieldSet::Entry;
using Entries = std::vector<Entry>;

// The entry of `pe` in sorted `es`, or where it would go.
Entries::iterator Find(Entries& es, const PathElement& pe, bool* found) {
  auto it = std::lower_bound(es.begin(), es.end(), pe,
                             [](const Entry& e, const PathElement& p) { return e.pe.Compare(p) < 0; });
  *found = it != es.end() && it->pe.Compare(pe) == 0;
  return it;
}

Entries::const_iterator FindConst(const Entries& es, const PathElement& pe) {
  auto it = std::lower_bound(es.begin(), es.end(), pe,
                             [](const Entry& e, const PathElement& p) { return e.pe.Compare(p) < 0; });
  if (it != es.end() && it->pe.Compare(pe) == 0) return it;
  return es.end();
}

bool Alive(const Entry& e) { return e.member || !e.children.empty(); }

Entries UnionOf(const Entries& a, const Entries& b) {
  Entries out;
  out.reserve(a.size() + b.size());
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    int c = i >= a.size() ? 1 : j >= b.size() ? -1 : a[i].pe.Compare(b[j].pe);
    if (c < 0) {
      out.push_back(a[i++]);
    } else if (c > 0) {
      out.push_back(b[j++]);
    } else {
      Entry e{a[i].pe, a[i].member || b[j].member, UnionOf(a[i].children, b[j].children)};
      out.push_back(std::move(e));
      i++;
      j++;
    }
  }
  return out;
}

Entries IntersectionOf(const Entries& a, const Entries& b) {
  Entries out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    int c = a[i].pe.Compare(b[j].pe);
    if (c < 0) {
      i++;
    } else if (c > 0) {
      j++;
    } else {
      Entry e{a[i].pe, a[i].member && b[j].member, IntersectionOf(a[i].children, b[j].children)};
      if (Alive(e)) out.push_back(std::move(e));
      i++;
      j++;
    }
  }
  return out;
}

Entries DifferenceOf(const Entries& a, const Entries& b, bool recursive) {
  Entries out;
  size_t j = 0;
  for (const Entry& e : a) {
    while (j < b.size() && b[j].pe.Compare(e.pe) < 0) j++;
    if (j < b.size() && b[j].pe.Compare(e.pe) == 0) {
      const Entry& o = b[j];
      if (recursive && o.member) continue;
      Entry d{e.pe, e.member && !o.member, DifferenceOf(e.children, o.children, recursive)};
      if (Alive(d)) out.push_back(std::move(d));
    } else {
      out.push_back(e);
    }
  }
  return out;
}

bool EqualEntries(const Entries& a, const Entries& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    if (a[i].member != b[i].member || a[i].pe.Compare(b[i].pe) != 0) return false;
    if (!EqualEntries(a[i].children, b[i].children)) return false;
  }
  return true;
}

void PathsOf(const Entries& es, FieldPath* prefix, std::vector<FieldPath>* out) {
  for (const Entry& e : es) {
    if (!e.member) continue;
    prefix->push_back(e.pe);
    out->push_back(*prefix);
    prefix->pop_back();
  }
  for (const Entry& e : es) {
    if (e.children.empty()) continue;
    prefix->push_back(e.pe);
    PathsOf(e.children, prefix, out);
    prefix->pop_back();
  }
}

size_t SizeOf(const Entries& es) {
  size_t n = 0;
  for (const Entry& e : es) n += (e.member ? 1 : 0) + SizeOf(e.children);
  return n;
}

Json ToJson(const Entries& es) {
  Json out = Json::object();
  for (const Entry& e : es) {
    Json child = Json::object();
    if (!e.children.empty()) {
      child = ToJson(e.children);
      if (e.member) child["."] = Json::object();
    }
    out[e.pe.Serialize()] = std::move(child);
  }
  return out;
}

// Upstream's reading of FieldsV1: an object with no usable entries is a
// member.
bool FromJson(const Json& j, Entries* out, bool* is_member, std::string* error) {
  *is_member = false;
  if (!j.is_object()) {
    *error = "expected an object in FieldsV1";
    return false;
  }
  bool any = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == ".") {
      *is_member = true;
      continue;
    }
    PathElement pe;
    bool unknown = false;
    if (!PathElement::Deserialize(it.key(), &pe, &unknown, error)) return false;
    if (unknown) continue;
    Entry e;
    e.pe = std::move(pe);
    if (!FromJson(it.value(), &e.children, &e.member, error)) return false;
    if (!Alive(e)) continue;
    any = true;
    bool found;
    auto pos = Find(*out, e.pe, &found);
    if (found) {
      pos->member = pos->member || e.member;
      pos->children = UnionOf(pos->children, e.children);
    } else {
      out->insert(pos, std::move(e));
    }
  }
  if (!any) *is_member = true;
  return true;
}

Entries EnsureNamed(const Entries& es, const SmdType& t) {
  Entries out;
  out.reserve(es.size());
  for (const Entry& e : es) {
    Entry n{e.pe, e.member, {}};
    SmdType child;
    if (e.pe.kind == PathElement::Kind::kField &&
        (t.kind() == SmdType::Kind::kStruct || t.kind() == SmdType::Kind::kMap ||
         t.kind() == SmdType::Kind::kDeduced)) {
      bool declared = false;
      child = t.FieldType(e.pe.field, &declared);
      if (declared && t.kind() == SmdType::Kind::kStruct) n.member = true;
    } else if (e.pe.kind == PathElement::Kind::kKey && t.kind() == SmdType::Kind::kList) {
      child = t.ElementType();
    }
    n.children = EnsureNamed(e.children, child);
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace

bool FieldSet::Has(const FieldPath& p) const {
  const Entries* es = &entries_;
  for (size_t i = 0; i < p.size(); i++) {
    auto it = FindConst(*es, p[i]);
    if (it == es->end()) return false;
    if (i + 1 == p.size()) return it->member;
    es = &it->children;
  }
  return false;
}

void FieldSet::Insert(const FieldPath& p) {
  if (p.empty()) return;
  Entries* es = &entries_;
  for (size_t i = 0; i < p.size(); i++) {
    bool found;
    auto it = Find(*es, p[i], &found);
    if (!found) it = es->insert(it, Entry{p[i], false, {}});
    if (i + 1 == p.size()) {
      it->member = true;
      return;
    }
    es = &it->children;
  }
}

std::vector<FieldPath> FieldSet::Paths() const {
  std::vector<FieldPath> out;
  FieldPath prefix;
  PathsOf(entries_, &prefix, &out);
  return out;
}

size_t FieldSet::Size() const { return SizeOf(entries_); }

FieldSet FieldSet::Union(const FieldSet& o) const {
  FieldSet s;
  s.entries_ = UnionOf(entries_, o.entries_);
  return s;
}

FieldSet FieldSet::Intersection(const FieldSet& o) const {
  FieldSet s;
  s.entries_ = IntersectionOf(entries_, o.entries_);
  return s;
}

FieldSet FieldSet::Difference(const FieldSet& o) const {
  FieldSet s;
  s.entries_ = DifferenceOf(entries_, o.entries_, false);
  return s;
}

FieldSet FieldSet::RecursiveDifference(const FieldSet& o) const {
  FieldSet s;
  s.entries_ = DifferenceOf(entries_, o.entries_, true);
  return s;
}

FieldSet FieldSet::WithPrefix(const PathElement& pe) const {
  FieldSet s;
  auto it = FindConst(entries_, pe);
  if (it != entries_.end()) s.entries_ = it->children;
  return s;
}

FieldSet FieldSet::EnsureNamedFieldsAreMembers(const SmdType& type) const {
  FieldSet s;
  s.entries_ = EnsureNamed(entries_, type);
  return s;
}

bool FieldSet::operator==(const FieldSet& o) const { return EqualEntries(entries_, o.entries_); }

Json FieldSet::ToFieldsV1() const { return ToJson(entries_); }

bool FieldSet::FromFieldsV1(const Json& fields, FieldSet* out, std::string* error) {
  out->entries_.clear();
  if (fields.is_null()) return true;
  if (smd::TooDeep(fields)) {
    *error = "FieldsV1 nested too deeply";
    return false;
  }
  bool member;
  return FromJson(fields, &out->entries_, &member, error);
}

}  // namespace kubit::api

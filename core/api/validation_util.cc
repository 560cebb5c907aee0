// The shared validation helpers of validation_internal.h.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

bool Lower(char c) { return c >= 'a' && c <= 'z'; }
bool Digit(char c) { return c >= '0' && c <= '9'; }
bool Alnum(char c) { return isalnum(static_cast<unsigned char>(c)) != 0; }

std::string RegexError(const std::string& msg, const std::string& fmt,
                       std::initializer_list<const char*> examples) {
  std::string s = msg;
  if (examples.size() == 0) return s + " (regex used for validation is '" + fmt + "')";
  s += " (e.g. ";
  size_t i = 0;
  for (const char* e : examples) {
    if (i++ > 0) s += " or ";
    s += "'" + std::string(e) + "', ";
  }
  return s + "regex used for validation is '" + fmt + "')";
}

const char kLabelFmt[] = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const char kSubdomainFmt[] = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const char kQualifiedFmt[] = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const char kQualifiedMsg[] =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool MatchLabel(std::string_view v) {
  if (v.empty() || !(Lower(v.front()) || Digit(v.front())) || !(Lower(v.back()) || Digit(v.back())))
    return false;
  for (char c : v)
    if (!(Lower(c) || Digit(c) || c == '-')) return false;
  return true;
}

bool MatchSubdomain(std::string_view v) {
  size_t start = 0;
  while (true) {
    size_t dot = v.find('.', start);
    if (!MatchLabel(v.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start)))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchQualified(std::string_view v) {
  if (v.empty() || !Alnum(v.front()) || !Alnum(v.back())) return false;
  for (char c : v)
    if (!(Alnum(c) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

std::vector<std::string> HasChDirPrefix(const std::string& v) {
  if (v == ".") return {"must not be '.'"};
  if (v == "..") return {"must not be '..'"};
  if (v.rfind("..", 0) == 0) return {"must not start with '..'"};
  return {};
}

bool ParseIPv4Sloppy(const std::string& v) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    int n = 0;
    while (i < v.size() && Digit(v[i])) {
      n = n * 10 + (v[i] - '0');
      if (n > 255) return false;
      i++;
    }
    if (i == start || i - start > 3) return false;
    parts++;
    if (i == v.size()) break;
    if (v[i] != '.' || parts == 4) return false;
    i++;
  }
  return parts == 4;
}

void AppendRune(std::string* out, uint32_t r) {
  char buf[16];
  if (r < 0x10000) snprintf(buf, sizeof(buf), "\\u%04x", r);
  else snprintf(buf, sizeof(buf), "\\U%08x", r);
  *out += buf;
}

// Semantic equality: absent, null and empty lists and maps are the same.
bool IsEmptyish(const Json* v) {
  return !v || v->is_null() || ((v->is_array() || v->is_object()) && v->empty());
}

}  // namespace

FieldError Required(const Path& p, std::string detail) { return {"Required value", p.str(), std::move(detail), ""}; }
FieldError Invalid(const Path& p, std::string value, std::string detail) {
  return {"Invalid value", p.str(), std::move(detail), std::move(value)};
}
FieldError NotSupported(const Path& p, std::string value, const std::vector<std::string>& valid) {
  std::string detail;
  for (size_t i = 0; i < valid.size(); i++) detail += (i ? ", " : "supported values: ") + Q(valid[i]);
  return {"Unsupported value", p.str(), detail, std::move(value)};
}
FieldError Duplicate(const Path& p, std::string value) { return {"Duplicate value", p.str(), "", std::move(value)}; }
FieldError Forbidden(const Path& p, std::string detail) { return {"Forbidden", p.str(), std::move(detail), ""}; }
FieldError NotFound(const Path& p, std::string value) { return {"Not found", p.str(), "", std::move(value)}; }
FieldError TooLong(const Path& p, int max_bytes) {
  return {"Too long", p.str(), "may not be more than " + std::to_string(max_bytes) + " bytes", ""};
}
FieldError TooMany(const Path& p, int actual, int max) {
  return {"Too many", p.str(), "must have at most " + std::to_string(max) + " items", std::to_string(actual)};
}

std::string Q(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\a': out += "\\a"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\v': out += "\\v"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            char buf[8];
            snprintf(buf, sizeof(buf), "\\x%02x", c);
            out += buf;
          } else {
            out += char(c);
          }
      }
      i++;
      continue;
    }
    // UTF-8: printable runes stay, invalid bytes are \x escaped.
    int n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    uint32_t r = n == 4 ? c & 0x07 : n == 3 ? c & 0x0f : c & 0x1f;
    bool ok = n > 0 && i + n <= s.size();
    for (int k = 1; ok && k < n; k++) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) ok = false;
      r = (r << 6) | (cc & 0x3f);
    }
    if (!ok) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
      i++;
      continue;
    }
    if (r < 0xa0 || (r >= 0xd800 && r < 0xe000) || r == 0xfeff || (r >= 0x2028 && r <= 0x2029)) AppendRune(&out, r);
    else out += std::string(s.substr(i, size_t(n)));
    i += size_t(n);
  }
  return out + "\"";
}

std::string GoInt(int64_t v) { return std::to_string(v); }

std::string GoValue(const Json& v) {
  if (v.is_string()) return Q(v.get<std::string>());
  if (v.is_null()) return "null";
  return v.dump();
}

std::string GoMap(const Json* m, std::string_view type) {
  if (!m || !m->is_object()) return std::string(type) + "(nil)";
  std::string s = std::string(type) + "{";
  bool first = true;
  for (auto it = m->begin(); it != m->end(); ++it) {
    if (!first) s += ", ";
    first = false;
    s += Q(it.key()) + ":" + GoValue(it.value());
  }
  return s + "}";
}

std::string GoStrings(const Json* a, std::string_view type) {
  if (!a || !a->is_array()) return std::string(type) + "(nil)";
  std::string s = std::string(type) + "{";
  for (size_t i = 0; i < a->size(); i++) s += (i ? ", " : "") + GoValue((*a)[i]);
  return s + "}";
}

std::string GoSelector(const Json* sel) {
  if (!sel || !sel->is_object()) return "null";
  std::string s = "v1.LabelSelector{MatchLabels:" + GoMap(GetObj(*sel, "matchLabels")) + ", MatchExpressions:";
  const Json* exprs = GetArr(*sel, "matchExpressions");
  if (!exprs) {
    s += "[]v1.LabelSelectorRequirement(nil)";
  } else {
    s += "[]v1.LabelSelectorRequirement{";
    for (size_t i = 0; i < exprs->size(); i++) {
      const Json& e = (*exprs)[i];
      s += (i ? ", " : "") + std::string("v1.LabelSelectorRequirement{Key:") + Q(Str(e, "key")) +
           ", Operator:" + Q(Str(e, "operator")) + ", Values:" + GoStrings(GetArr(e, "values")) + "}";
    }
    s += "}";
  }
  return s + "}";
}

std::string GoIntOrString(const Json& v) {
  if (v.is_string()) return "intstr.IntOrString{Type:1, IntVal:0, StrVal:" + Q(v.get<std::string>()) + "}";
  int64_t n = v.is_number_integer() ? v.get<int64_t>() : 0;
  return "intstr.IntOrString{Type:0, IntVal:" + std::to_string(n) + ", StrVal:\"\"}";
}

const Json* Get(const Json& o, std::string_view key) {
  if (!o.is_object()) return nullptr;
  auto it = o.find(std::string(key));
  return it == o.end() || it->is_null() ? nullptr : &*it;
}
const Json& ObjOrEmpty(const Json& o, std::string_view key) {
  static const Json kEmpty = Json::object();
  const Json* v = GetObj(o, key);
  return v ? *v : kEmpty;
}
const Json* GetObj(const Json& o, std::string_view key) {
  const Json* v = Get(o, key);
  return v && v->is_object() ? v : nullptr;
}
const Json* GetArr(const Json& o, std::string_view key) {
  const Json* v = Get(o, key);
  return v && v->is_array() ? v : nullptr;
}
std::string Str(const Json& o, std::string_view key) {
  const Json* v = Get(o, key);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}
std::optional<int64_t> Int(const Json& o, std::string_view key) {
  const Json* v = Get(o, key);
  if (v && v->is_number_integer()) return v->get<int64_t>();
  if (v && v->is_number_float()) return int64_t(v->get<double>());
  return std::nullopt;
}
bool Bool(const Json& o, std::string_view key) {
  const Json* v = Get(o, key);
  return v && v->is_boolean() && v->get<bool>();
}
bool Has(const Json& o, std::string_view key) { return Get(o, key) != nullptr; }
size_t Len(const Json& o, std::string_view key) {
  const Json* v = Get(o, key);
  return v && (v->is_array() || v->is_object()) ? v->size() : 0;
}
const Json& Items(const Json& o, std::string_view key) {
  static const Json kEmpty = Json::array();
  const Json* v = GetArr(o, key);
  return v ? *v : kEmpty;
}
std::optional<Quantity> Qty(const Json& v) { return QuantityFromJson(v); }

std::string MaxLenError(size_t n) { return "must be no more than " + std::to_string(n) + " characters"; }
std::string InclusiveRangeError(int64_t lo, int64_t hi) {
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", inclusive";
}

std::vector<std::string> IsDNS1123Label(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 63) errs.push_back(MaxLenError(63));
  if (!MatchLabel(v)) {
    if (MatchSubdomain(v)) errs.push_back("must not contain dots");
    else
      errs.push_back(RegexError(
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
          "and must start and end with an alphanumeric character",
          kLabelFmt, {"my-name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> IsDNS1123Subdomain(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 253) errs.push_back(MaxLenError(253));
  if (!MatchSubdomain(v))
    errs.push_back(RegexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
        "'.', and must start and end with an alphanumeric character",
        kSubdomainFmt, {"example.com"}));
  return errs;
}

std::vector<std::string> IsDNS1035Label(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 63) errs.push_back(MaxLenError(63));
  bool ok = !v.empty() && Lower(v.front()) && (Lower(v.back()) || Digit(v.back()));
  for (char c : v) ok = ok && (Lower(c) || Digit(c) || c == '-');
  if (!ok)
    errs.push_back(RegexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character",
        "[a-z]([-a-z0-9]*[a-z0-9])?", {"my-name", "abc-123"}));
  return errs;
}

std::vector<std::string> IsWildcardDNS1123Subdomain(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 253) errs.push_back(MaxLenError(253));
  if (v.rfind("*.", 0) != 0 || !MatchSubdomain(std::string_view(v).substr(2)))
    errs.push_back(RegexError(
        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
        "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
        "alphanumeric character",
        std::string("\\*\\.") + kSubdomainFmt, {"*.example.com"}));
  return errs;
}

std::vector<std::string> IsQualifiedName(const std::string& v) {
  std::vector<std::string> errs;
  std::string name = v;
  size_t slashes = std::count(v.begin(), v.end(), '/');
  if (slashes > 1)
    return {"a qualified name " + RegexError(kQualifiedMsg, kQualifiedFmt, {"MyName", "my.name", "123-abc"}) +
            " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
  if (slashes == 1) {
    size_t slash = v.find('/');
    std::string prefix = v.substr(0, slash);
    name = v.substr(slash + 1);
    if (prefix.empty()) errs.push_back("prefix part must be non-empty");
    else
      for (const auto& m : IsDNS1123Subdomain(prefix)) errs.push_back("prefix part " + m);
  }
  if (name.empty()) errs.push_back("name part must be non-empty");
  else if (name.size() > 63) errs.push_back("name part " + MaxLenError(63));
  if (!MatchQualified(name))
    errs.push_back("name part " + RegexError(kQualifiedMsg, kQualifiedFmt, {"MyName", "my.name", "123-abc"}));
  return errs;
}

std::vector<std::string> IsValidLabelValue(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 63) errs.push_back(MaxLenError(63));
  if (!v.empty() && !MatchQualified(v))
    errs.push_back(RegexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
        "'.', and must start and end with an alphanumeric character",
        std::string("(") + kQualifiedFmt + ")?", {"MyValue", "my_value", "12345"}));
  return errs;
}

std::vector<std::string> IsConfigMapKey(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 253) errs.push_back(MaxLenError(253));
  bool ok = !v.empty();
  for (char c : v) ok = ok && (Alnum(c) || c == '-' || c == '.' || c == '_');
  if (!ok)
    errs.push_back(RegexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                              "[-._a-zA-Z0-9]+", {"key.name", "KEY_NAME", "key-name"}));
  for (auto& m : HasChDirPrefix(v)) errs.push_back(m);
  return errs;
}

std::vector<std::string> IsRelaxedEnvVarName(const std::string& v) {
  std::vector<std::string> errs;
  if (v.empty()) errs.push_back("environment variable name must be non-empty");
  for (char c : v) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u > 0x7e || u < 0x20 || c == '=') {
      errs.push_back("a valid environment variable name must consist only of printable ASCII characters other than '='");
      break;
    }
  }
  return errs;
}

std::vector<std::string> IsValidPortName(const std::string& v) {
  std::vector<std::string> errs;
  if (v.size() > 15) errs.push_back(MaxLenError(15));
  bool charset = !v.empty(), letter = false;
  for (char c : v) {
    charset = charset && (Lower(c) || Digit(c) || c == '-');
    letter = letter || Lower(c);
  }
  if (!charset) errs.push_back("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!letter) errs.push_back("must contain at least one letter (a-z)");
  if (v.find("--") != std::string::npos) errs.push_back("must not contain consecutive hyphens");
  if (!v.empty() && (v.front() == '-' || v.back() == '-')) errs.push_back("must not begin or end with a hyphen");
  return errs;
}

std::vector<std::string> IsValidPortNum(int64_t v) {
  if (v >= 1 && v <= 65535) return {};
  return {InclusiveRangeError(1, 65535)};
}

std::vector<std::string> IsValidPercent(const std::string& v) {
  bool ok = v.size() >= 2 && v.back() == '%';
  for (size_t i = 0; ok && i + 1 < v.size(); i++) ok = Digit(v[i]);
  if (ok) return {};
  return {RegexError("a valid percent string must be a numeric string followed by an ending '%'", "[0-9]+%",
                     {"1%", "93%"})};
}

std::vector<std::string> IsHTTPHeaderName(const std::string& v) {
  bool ok = !v.empty();
  for (char c : v) ok = ok && (Alnum(c) || c == '-');
  if (ok) return {};
  return {RegexError("a valid HTTP header must consist of alphanumeric characters or '-'", "[-A-Za-z0-9]+",
                     {"X-Header-Name"})};
}

std::vector<std::string> IsValidPathSegmentName(const std::string& v) {
  if (v == ".") return {"may not be '.'"};
  if (v == "..") return {"may not be '..'"};
  std::vector<std::string> errs;
  if (v.find('/') != std::string::npos) errs.push_back("may not contain '/'");
  if (v.find('%') != std::string::npos) errs.push_back("may not contain '%'");
  return errs;
}

std::vector<std::string> IsValidUserOrGroupID(int64_t v) {
  if (v >= 0 && v <= 2147483647) return {};
  return {InclusiveRangeError(0, 2147483647)};
}

bool IsValidIP(const std::string& v) {
  if (ParseIPv4Sloppy(v)) return true;
  if (v.find(':') == std::string::npos) return false;
  in6_addr a;
  return inet_pton(AF_INET6, v.c_str(), &a) == 1;
}

bool IsIPv6(const std::string& v) { return v.find(':') != std::string::npos && IsValidIP(v); }

bool IsValidCIDR(const std::string& v) {
  size_t slash = v.find('/');
  if (slash == std::string::npos) return false;
  std::string ip = v.substr(0, slash), bits = v.substr(slash + 1);
  if (!IsValidIP(ip) || bits.empty() || bits.size() > 3) return false;
  for (char c : bits)
    if (!Digit(c)) return false;
  int n = std::stoi(bits);
  return n <= (IsIPv6(ip) ? 128 : 32);
}

namespace {
std::string GoFieldName(const std::string& json_name) {
  std::string s = json_name;
  if (!s.empty()) s[0] = char(toupper(static_cast<unsigned char>(s[0])));
  return s;
}

}  // namespace

// A short diff of two specs in the style of the cmp.Diff upstream appends.
std::string SpecDiff(const Json& old_spec, const Json& new_spec, const std::string& type) {
  std::string s = "  " + type + "{\n";
  std::set<std::string> keys;
  for (const Json* o : {&old_spec, &new_spec})
    if (o->is_object())
      for (auto it = o->begin(); it != o->end(); ++it) keys.insert(it.key());
  for (const auto& k : keys) {
    const Json* a = Get(old_spec, k);
    const Json* b = Get(new_spec, k);
    if (SameValue(a, b)) continue;
    if (a) s += "- \t" + GoFieldName(k) + ": " + a->dump() + ",\n";
    if (b) s += "+ \t" + GoFieldName(k) + ": " + b->dump() + ",\n";
  }
  return s + "  }\n";
}


void AddAll(Errs* errs, const Path& p, const std::string& value, const std::vector<std::string>& msgs) {
  for (const auto& m : msgs) errs->push_back(Invalid(p, Q(value), m));
}

void ValidateLabelName(const std::string& key, const Path& p, Errs* errs) {
  AddAll(errs, p, key, IsQualifiedName(key));
}

void ValidateLabels(const Json* labels, const Path& p, Errs* errs) {
  if (!labels || !labels->is_object()) return;
  for (auto it = labels->begin(); it != labels->end(); ++it) {
    ValidateLabelName(it.key(), p, errs);
    if (it.value().is_string()) AddAll(errs, p, it.value().get<std::string>(), IsValidLabelValue(it.value().get<std::string>()));
  }
}

void ValidateAnnotations(const Json* annotations, const Path& p, Errs* errs) {
  if (!annotations || !annotations->is_object()) return;
  size_t total = 0;
  for (auto it = annotations->begin(); it != annotations->end(); ++it) {
    std::string lower = it.key();
    for (char& c : lower) c = char(tolower(static_cast<unsigned char>(c)));
    AddAll(errs, p, it.key(), IsQualifiedName(lower));
    total += it.key().size() + (it.value().is_string() ? it.value().get_ref<const std::string&>().size() : 0);
  }
  if (total > 256 * 1024) errs->push_back(TooLong(p, 256 * 1024));
}

void ValidateLabelSelector(const Json* sel, const Path& p, Errs* errs) {
  if (!sel || !sel->is_object()) return;
  ValidateLabels(GetObj(*sel, "matchLabels"), p.Child("matchLabels"), errs);
  const Json& exprs = Items(*sel, "matchExpressions");
  for (size_t i = 0; i < exprs.size(); i++) {
    const Json& e = exprs[i];
    Path ep = p.Child("matchExpressions").Index(i);
    std::string op = Str(e, "operator");
    size_t nvalues = Len(e, "values");
    if (op == "In" || op == "NotIn") {
      if (nvalues == 0) errs->push_back(Required(ep.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (nvalues > 0)
        errs->push_back(Forbidden(ep.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      errs->push_back(Invalid(ep.Child("operator"), Q(op), "not a valid selector operator"));
    }
    ValidateLabelName(Str(e, "key"), ep.Child("key"), errs);
    const Json& values = Items(e, "values");
    for (size_t j = 0; j < values.size(); j++)
      if (values[j].is_string())
        AddAll(errs, ep.Child("values").Index(j), values[j].get<std::string>(),
               IsValidLabelValue(values[j].get<std::string>()));
  }
}

void ValidateNonnegativeValue(int64_t v, const Path& p, Errs* errs) {
  if (v < 0) errs->push_back(Invalid(p, GoInt(v), kNegative));
}

void ValidateNonnegative(const Json& o, std::string_view key, const Path& p, Errs* errs) {
  if (auto v = Int(o, key)) ValidateNonnegativeValue(*v, p, errs);
}

bool SameValue(const Json* a, const Json* b) {
  if (IsEmptyish(a) || IsEmptyish(b)) return IsEmptyish(a) && IsEmptyish(b);
  if (a->is_object() && b->is_object()) {
    for (auto it = a->begin(); it != a->end(); ++it)
      if (!SameValue(&it.value(), Get(*b, it.key()))) return false;
    for (auto it = b->begin(); it != b->end(); ++it)
      if (!a->contains(it.key()) && !IsEmptyish(&it.value())) return false;
    return true;
  }
  if (a->is_array() && b->is_array()) {
    if (a->size() != b->size()) return false;
    for (size_t i = 0; i < a->size(); i++)
      if (!SameValue(&(*a)[i], &(*b)[i])) return false;
    return true;
  }
  return *a == *b;
}

void ValidateImmutable(const Json* nv, const Json* ov, const Path& p, const std::string& value, Errs* errs) {
  if (!SameValue(nv, ov)) errs->push_back(Invalid(p, value, kImmutable));
}

Selector AsSelector(const Json* sel) {
  Selector s;
  s.sel = sel;
  if (!sel || !sel->is_object()) {
    s.nothing = true;
    return s;
  }
  Errs errs;
  ValidateLabelSelector(sel, Path("selector"), &errs);
  s.valid = errs.empty();
  s.empty = Len(*sel, "matchLabels") == 0 && Len(*sel, "matchExpressions") == 0;
  return s;
}

bool Selector::Matches(const Json* labels) const {
  if (nothing || !valid) return false;
  auto label = [&](const std::string& k) -> const Json* {
    return labels && labels->is_object() ? Get(*labels, k) : nullptr;
  };
  if (const Json* ml = GetObj(*sel, "matchLabels"))
    for (auto it = ml->begin(); it != ml->end(); ++it) {
      const Json* v = label(it.key());
      if (!v || *v != it.value()) return false;
    }
  for (const Json& e : Items(*sel, "matchExpressions")) {
    std::string op = Str(e, "operator");
    const Json* v = label(Str(e, "key"));
    bool in = false;
    if (v)
      for (const Json& x : Items(e, "values")) in = in || x == *v;
    if (op == "In" && !(v && in)) return false;
    if (op == "NotIn" && v && in) return false;
    if (op == "Exists" && !v) return false;
    if (op == "DoesNotExist" && v) return false;
  }
  return true;
}

}  // namespace kubit::api::validation

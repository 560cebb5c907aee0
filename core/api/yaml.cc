#include "core/api/yaml.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace kubit::api {
namespace {

using Json = nlohmann::json;

constexpr const char* kPrefix = "error converting YAML to JSON: ";
constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

// ---------------------------------------------------------------------------
// Nesting depth, estimated before parsing so that no parser recurses deeper
// than kMaxYamlDepth.

// The deepest nesting of JSON text (brackets outside strings).
int JsonDepth(std::string_view s) {
  int depth = 0, max = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) max = depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return max;
}

// An upper bound of the nesting of YAML text: block nesting needs
// indentation or a "- "/"? " indicator per level on a line, flow nesting a
// bracket per level.
int YamlDepthBound(std::string_view s) {
  int flow = 0, max_flow = 0, max_block = 0;
  bool in_dq = false, in_sq = false, line_start = true;
  int indent = 0;
  char prev = '\n';
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    if (in_dq) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_dq = false;
      prev = c;
      continue;
    }
    if (in_sq) {
      if (c == '\'') in_sq = false;
      prev = c;
      continue;
    }
    if (c == '\n') {
      line_start = true;
      indent = 0;
      prev = c;
      continue;
    }
    if (line_start) {
      if (c == ' ') {
        indent++;
        prev = c;
        continue;
      }
      // Compact nesting: "- - - x" or "? ? x".
      size_t j = i;
      int indicators = 0;
      while (j + 1 < s.size() && (s[j] == '-' || s[j] == '?') && (s[j + 1] == ' ' || s[j + 1] == '\t')) {
        indicators++;
        j += 2;
        while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) j++;
      }
      if (indent + indicators > max_block) max_block = indent + indicators;
      line_start = false;
    }
    if (c == '#' && (prev == ' ' || prev == '\t' || prev == '\n')) {
      while (i + 1 < s.size() && s[i + 1] != '\n') i++;
      continue;
    }
    bool token_start = prev == ' ' || prev == '\t' || prev == '\n' || prev == '[' || prev == '{' ||
                       prev == ',' || prev == ':' || prev == '-';
    if (c == '"') {
      in_dq = true;
    } else if (c == '\'' && token_start) {
      in_sq = true;
    } else if (c == '[' || c == '{') {
      if (++flow > max_flow) max_flow = flow;
    } else if ((c == ']' || c == '}') && flow > 0) {
      flow--;
    }
    prev = c;
  }
  return max_flow + max_block;
}

// ---------------------------------------------------------------------------
// Numbers.

// Integral floats as Go's encoding/json would print them back: integers.
void SetNumber(double v, Json* out) {
  if (std::trunc(v) == v && std::fabs(v) < 9.2e18) {
    *out = static_cast<int64_t>(v);
  } else {
    *out = v;
  }
}

// Integral floats anywhere in a parsed JSON value become integers.
void NormalizeNumbers(Json* v) {
  std::vector<Json*> stack{v};
  while (!stack.empty()) {
    Json* j = stack.back();
    stack.pop_back();
    if (j->is_number_float()) {
      SetNumber(j->get<double>(), j);
    } else if (j->is_structured()) {
      for (auto& e : *j) stack.push_back(&e);
    }
  }
}

bool AllDigits(std::string_view s, int base) {
  if (s.empty()) return false;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    if (d >= base) return false;
  }
  return true;
}

enum class IntParse { kOk, kSyntax, kRange };

// Go's strconv.ParseInt/ParseUint with base 0: optional sign (signed only),
// 0x/0o/0b prefixes, a leading 0 for octal.
IntParse ParseGoInt(std::string_view s, bool allow_sign, int64_t* iv, uint64_t* uv, bool* neg,
                    double* approx) {
  *neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    if (!allow_sign) return IntParse::kSyntax;
    *neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    char p = s[1] | 0x20;
    if (p == 'x') {
      base = 16;
      s.remove_prefix(2);
    } else if (p == 'o') {
      base = 8;
      s.remove_prefix(2);
    } else if (p == 'b') {
      base = 2;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  if (!AllDigits(s, base)) return IntParse::kSyntax;
  uint64_t acc = 0;
  bool overflow = false;
  double a = 0;
  for (char c : s) {
    int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    a = a * base + d;
    if (acc > (std::numeric_limits<uint64_t>::max() - d) / base) overflow = true;
    acc = acc * base + d;
  }
  *approx = *neg ? -a : a;
  if (overflow) return IntParse::kRange;
  *uv = acc;
  if (allow_sign) {
    if (*neg) {
      if (acc > uint64_t(std::numeric_limits<int64_t>::max()) + 1) return IntParse::kRange;
      *iv = acc == uint64_t(std::numeric_limits<int64_t>::max()) + 1
                ? std::numeric_limits<int64_t>::min()
                : -int64_t(acc);
    } else {
      if (acc > uint64_t(std::numeric_limits<int64_t>::max())) return IntParse::kRange;
      *iv = int64_t(acc);
    }
  }
  return IntParse::kOk;
}

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool YamlStyleFloat(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') i++;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) i++;
  if (i < s.size() && s[i] == '.') {
    i++;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      i++;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) i++;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// A float as Go's ParseFloat: false when out of range.
bool ParseFloat(std::string_view s, double* out) {
  std::string copy(s);
  errno = 0;
  char* end = nullptr;
  double v = strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return false;
  if (errno == ERANGE && std::isinf(v)) return false;
  *out = v;
  return true;
}

// ---------------------------------------------------------------------------
// Scalars.

enum class Res { kNull, kBool, kInt, kFloat, kString };

struct Resolved {
  Res kind = Res::kString;
  Json value;
};

// go-yaml v2's resolution of a plain (untagged, unquoted) scalar.
Resolved ResolvePlain(const std::string& in) {
  Resolved r;
  static const struct {
    const char* text;
    Res kind;
    int value;  // bool, or float: 0 nan, 1 +inf, -1 -inf
  } kTable[] = {
      {"y", Res::kBool, 1},      {"Y", Res::kBool, 1},       {"yes", Res::kBool, 1},
      {"Yes", Res::kBool, 1},    {"YES", Res::kBool, 1},     {"true", Res::kBool, 1},
      {"True", Res::kBool, 1},   {"TRUE", Res::kBool, 1},    {"on", Res::kBool, 1},
      {"On", Res::kBool, 1},     {"ON", Res::kBool, 1},      {"n", Res::kBool, 0},
      {"N", Res::kBool, 0},      {"no", Res::kBool, 0},      {"No", Res::kBool, 0},
      {"NO", Res::kBool, 0},     {"false", Res::kBool, 0},   {"False", Res::kBool, 0},
      {"FALSE", Res::kBool, 0},  {"off", Res::kBool, 0},     {"Off", Res::kBool, 0},
      {"OFF", Res::kBool, 0},    {"", Res::kNull, 0},        {"~", Res::kNull, 0},
      {"null", Res::kNull, 0},   {"Null", Res::kNull, 0},    {"NULL", Res::kNull, 0},
      {".nan", Res::kFloat, 0},  {".NaN", Res::kFloat, 0},   {".NAN", Res::kFloat, 0},
      {".inf", Res::kFloat, 1},  {".Inf", Res::kFloat, 1},   {".INF", Res::kFloat, 1},
      {"+.inf", Res::kFloat, 1}, {"+.Inf", Res::kFloat, 1},  {"+.INF", Res::kFloat, 1},
      {"-.inf", Res::kFloat, -1}, {"-.Inf", Res::kFloat, -1}, {"-.INF", Res::kFloat, -1},
  };
  char c = in.empty() ? 0 : in[0];
  bool hinted = in.empty() || c == '+' || c == '-' || (c >= '0' && c <= '9') || c == '.' ||
                std::string_view("yYnNtTfFoO~").find(c) != std::string_view::npos;
  if (!hinted) {
    r.value = in;
    return r;
  }
  for (const auto& e : kTable) {
    if (in == e.text) {
      r.kind = e.kind;
      if (e.kind == Res::kBool) r.value = e.value != 0;
      if (e.kind == Res::kFloat)
        r.value = e.value == 0 ? std::numeric_limits<double>::quiet_NaN()
                               : e.value * std::numeric_limits<double>::infinity();
      return r;
    }
  }
  if (c == '.') {
    double f;
    if (YamlStyleFloat(in) && ParseFloat(in, &f)) {
      r.kind = Res::kFloat;
      r.value = f;
      return r;
    }
  } else if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
    std::string plain;
    for (char ch : in)
      if (ch != '_') plain += ch;
    int64_t iv = 0;
    uint64_t uv = 0;
    bool neg = false;
    double approx = 0;
    IntParse ip = ParseGoInt(plain, true, &iv, &uv, &neg, &approx);
    if (ip == IntParse::kOk) {
      r.kind = Res::kInt;
      r.value = iv;
      return r;
    }
    bool range = ip == IntParse::kRange;
    IntParse up = ParseGoInt(plain, false, &iv, &uv, &neg, &approx);
    if (up == IntParse::kOk) {
      // Beyond int64: Go's JSON decoding reads it back as a float64.
      r.kind = Res::kInt;
      r.value = double(uv);
      return r;
    }
    double f;
    if (YamlStyleFloat(plain) && ParseFloat(plain, &f)) {
      r.kind = Res::kFloat;
      r.value = f;
      return r;
    }
    if (range) {  // a big integer, read back as a float64
      r.kind = Res::kInt;
      r.value = approx;
      return r;
    }
  }
  r.value = in;
  return r;
}

bool DecodeBase64(const std::string& in, std::string* out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string clean;
  for (char c : in)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') clean += c;
  while (!clean.empty() && clean.back() == '=') clean.pop_back();
  if (clean.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : clean) {
    int v = val(c);
    if (v < 0) return false;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(char((acc >> bits) & 0xff));
    }
  }
  return true;
}

std::string ShortTag(const std::string& tag) {
  if (tag.compare(0, kTagPrefix.size(), kTagPrefix) == 0) return "!!" + tag.substr(kTagPrefix.size());
  return tag;
}

const char* ResTag(Res r) {
  switch (r) {
    case Res::kNull:
      return "!!null";
    case Res::kBool:
      return "!!bool";
    case Res::kInt:
      return "!!int";
    case Res::kFloat:
      return "!!float";
    default:
      return "!!str";
  }
}

// ---------------------------------------------------------------------------
// Go's strconv.FormatFloat(f, 'g', -1, 32), for float mapping keys.
std::string GoFormatFloat32G(double d) {
  if (std::isnan(d)) return ".nan";
  if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
  if (std::fabs(d) > std::numeric_limits<float>::max()) return d > 0 ? ".inf" : "-.inf";
  float f = static_cast<float>(d);
  if (f == 0) return std::signbit(f) ? "-0" : "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // "d.ddde[+-]xx": digits and exponent.
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  if (e == std::string::npos) return sci;
  std::string digits;
  for (size_t i = 0; i < e; i++)
    if (sci[i] != '.') digits += sci[i];
  int exp = std::atoi(sci.c_str() + e + 1);
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 6) {
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exp < 0 ? "e-" : "e+";
    int a = exp < 0 ? -exp : exp;
    if (a < 10) out += '0';
    out += std::to_string(a);
    return out;
  }
  int dp = exp + 1;  // digits before the point
  if (dp <= 0) {
    out += "0." + std::string(-dp, '0') + digits;
  } else if (dp >= int(digits.size())) {
    out += digits + std::string(dp - digits.size(), '0');
  } else {
    out += digits.substr(0, dp) + "." + digits.substr(dp);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Scalars with their tags.

// The value of a scalar node (tag "?" plain, "!" quoted, or a resolved tag);
// floats are left as they are (*is_float set), the caller decides.
bool ScalarValue(const std::string& tag, const std::string& text, Json* out, bool* is_float,
                 std::string* error) {
  *is_float = false;
  const std::string prefix(kTagPrefix);
  if (tag == "!" || tag == prefix + "str" || tag == prefix + "timestamp") {
    *out = text;
    return true;
  }
  if (tag == prefix + "binary") {
    std::string bytes;
    if (!DecodeBase64(text, &bytes)) {
      *error = "!!binary value contains invalid base64 data";
      return false;
    }
    *out = std::move(bytes);
    return true;
  }
  bool plain = tag == "?" || tag.empty();
  bool typed = tag == prefix + "null" || tag == prefix + "bool" || tag == prefix + "int" ||
               tag == prefix + "float";
  if (!plain && !typed) {  // an unknown tag: the text as it is
    *out = text;
    return true;
  }
  Resolved r = ResolvePlain(text);
  if (typed) {
    std::string want = ShortTag(tag);
    if (!(want == ResTag(r.kind) || (want == "!!float" && r.kind == Res::kInt))) {
      *error = "cannot decode " + std::string(ResTag(r.kind)) + " `" + text + "` as a " + want;
      return false;
    }
  }
  *is_float = r.value.is_number_float();
  *out = std::move(r.value);
  return true;
}

// ---------------------------------------------------------------------------
// The tree, built from yaml-cpp's parser events. yaml-cpp's own node
// builder is not used: its parser can emit events without end on some
// malformed input, so events, values and bytes are all counted here and the
// parse is abandoned past the limits.

struct Abandon {};

class Builder : public YAML::EventHandler {
 public:
  explicit Builder(size_t text_size)
      : event_limit_(4 * text_size + 1000),
        node_limit_(2 * text_size + 100000),
        byte_limit_(2 * text_size + (16u << 20)) {}

  std::vector<Json> docs;
  std::string error;
  YAML::Mark mark;

  void OnDocumentStart(const YAML::Mark& m) override {
    Event(m);
    stack_.clear();
    anchors_.clear();
    root_ = Json();
  }

  void OnDocumentEnd() override { docs.push_back(std::move(root_)); }

  void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override {
    Event(m);
    if (ExpectingKey()) Fail(m, "unsupported map key of type: <nil>");
    Done(m, Json(), anchor, 1, 0);
  }

  void OnAlias(const YAML::Mark& m, YAML::anchor_t anchor) override {
    Event(m);
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) Fail(m, "anchor value contains itself");
    Charge(m, it->second.nodes, it->second.bytes);
    if (ExpectingKey()) {
      const Json& v = it->second.value;
      if (v.is_structured()) Fail(m, "invalid map key: a mapping or sequence");
      if (v.is_null()) Fail(m, "unsupported map key of type: <nil>");
      std::string key = v.is_string()    ? v.get<std::string>()
                        : v.is_boolean() ? (v.get<bool>() ? "true" : "false")
                        : v.is_number_float() ? GoFormatFloat32G(v.get<double>())
                                              : v.dump();
      SetKey(std::move(key), false);
      return;
    }
    Attach(m, Json(it->second.value), it->second.nodes, it->second.bytes);
  }

  void OnScalar(const YAML::Mark& m, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Event(m);
    Json v;
    bool is_float = false;
    std::string err;
    if (!ScalarValue(tag, value, &v, &is_float, &err)) Fail(m, err);
    if (ExpectingKey()) {
      if (anchor) Remember(anchor, v, 1, value.size());
      bool merge = value == "<<" && (tag == "?" || tag == std::string(kTagPrefix) + "merge");
      std::string key = v.is_string()    ? v.get<std::string>()
                        : v.is_boolean() ? (v.get<bool>() ? "true" : "false")
                        : is_float       ? GoFormatFloat32G(v.get<double>())
                        : v.is_null()    ? std::string()
                                         : v.dump();
      if (v.is_null()) Fail(m, "unsupported map key of type: <nil>");
      Charge(m, 1, value.size());
      SetKey(std::move(key), merge);
      return;
    }
    if (is_float) {
      double f = v.get<double>();
      if (std::isnan(f)) Fail(m, "json: unsupported value: NaN");
      if (std::isinf(f)) Fail(m, f > 0 ? "json: unsupported value: +Inf" : "json: unsupported value: -Inf");
      SetNumber(f, &v);
    }
    Done(m, std::move(v), anchor, 1, value.size());
  }

  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(m, Json::array(), anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(m, Json::object(), anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    Json value;
    YAML::anchor_t anchor = 0;
    YAML::Mark mark;
    size_t nodes = 1, bytes = 0;
    bool have_key = false, merge = false;
    std::string key;
  };
  struct Anchor {
    Json value;
    size_t nodes = 0, bytes = 0;
  };

  [[noreturn]] void Fail(const YAML::Mark& m, std::string msg) {
    error = std::move(msg);
    mark = m;
    throw Abandon();
  }

  void Event(const YAML::Mark& m) {
    if (++events_ > event_limit_) Fail(m, "the document has too many nodes");
  }

  void Charge(const YAML::Mark& m, size_t nodes, size_t bytes) {
    nodes_ += nodes;
    bytes_ += bytes;
    if (nodes_ > node_limit_ || bytes_ > byte_limit_) Fail(m, "document contains excessive aliasing");
  }

  bool ExpectingKey() const {
    return !stack_.empty() && stack_.back().value.is_object() && !stack_.back().have_key;
  }

  void SetKey(std::string key, bool merge) {
    Frame& f = stack_.back();
    f.key = std::move(key);
    f.merge = merge;
    f.have_key = true;
  }

  void Remember(YAML::anchor_t anchor, const Json& v, size_t nodes, size_t bytes) {
    anchors_[anchor] = Anchor{v, nodes, bytes};
  }

  void Open(const YAML::Mark& m, Json empty, YAML::anchor_t anchor) {
    Event(m);
    if (ExpectingKey()) Fail(m, "invalid map key: a mapping or sequence");
    if (stack_.size() >= size_t(kMaxYamlDepth))
      Fail(m, "exceeded max depth of " + std::to_string(kMaxYamlDepth));
    Charge(m, 1, 0);
    Frame f;
    f.value = std::move(empty);
    f.anchor = anchor;
    f.mark = m;
    stack_.push_back(std::move(f));
  }

  void Close() {
    if (stack_.empty()) return;
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor) Remember(f.anchor, f.value, f.nodes, f.bytes);
    Attach(f.mark, std::move(f.value), f.nodes, f.bytes);
  }

  // A complete scalar or null: counted, remembered, attached.
  void Done(const YAML::Mark& m, Json v, YAML::anchor_t anchor, size_t nodes, size_t bytes) {
    Charge(m, nodes, bytes);
    if (anchor) Remember(anchor, v, nodes, bytes);
    Attach(m, std::move(v), nodes, bytes);
  }

  void Attach(const YAML::Mark& m, Json v, size_t nodes, size_t bytes) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return;
    }
    Frame& f = stack_.back();
    f.nodes += nodes;
    f.bytes += bytes;
    if (f.value.is_array()) {
      f.value.push_back(std::move(v));
      return;
    }
    f.have_key = false;
    if (!f.merge) {
      f.value[f.key] = std::move(v);
      return;
    }
    // `<<: *a` or `<<: [*a, *b]` (earlier mappings of the list win).
    auto merge_map = [&](const Json& src) {
      for (auto it = src.begin(); it != src.end(); ++it) f.value[it.key()] = it.value();
    };
    if (v.is_object()) {
      merge_map(v);
    } else if (v.is_array()) {
      for (size_t i = v.size(); i-- > 0;) {
        if (!v[i].is_object()) Fail(m, "map merge requires map or sequence of maps as the value");
        merge_map(v[i]);
      }
    } else {
      Fail(m, "map merge requires map or sequence of maps as the value");
    }
  }

  size_t event_limit_, node_limit_, byte_limit_;
  size_t events_ = 0, nodes_ = 0, bytes_ = 0;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchor> anchors_;
  Json root_;
};

std::string Located(const YAML::Mark& m, const std::string& msg) {
  if (m.is_null() || m.line < 0) return std::string(kPrefix) + "yaml: " + msg;
  return std::string(kPrefix) + "yaml: line " + std::to_string(m.line + 1) + ", column " +
         std::to_string(m.column + 1) + ": " + msg;
}

bool LooksLikeJson(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

bool ParseDocs(std::string_view text, bool all, std::vector<Json>* out, std::string* error) {
  if (YamlDepthBound(text) > kMaxYamlDepth) {
    *error = std::string(kPrefix) + "yaml: exceeded max depth of " + std::to_string(kMaxYamlDepth);
    return false;
  }
  Builder b(text.size());
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(b)) {
      if (!all) break;
    }
  } catch (const Abandon&) {
    *error = Located(b.mark, b.error);
    return false;
  } catch (const YAML::Exception& e) {
    *error = Located(e.mark, e.msg);
    return false;
  } catch (const std::exception& e) {
    *error = std::string(kPrefix) + "yaml: " + e.what();
    return false;
  } catch (...) {
    *error = std::string(kPrefix) + "yaml: malformed document";
    return false;
  }
  *out = std::move(b.docs);
  return true;
}

}  // namespace

// JSON strings must be UTF-8; YAML could smuggle in any bytes.
static bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; k++)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    i += n;
  }
  return true;
}

bool ParseYaml(std::string_view text, Json* out, std::string* error) {
  if (!ValidUtf8(text)) {
    *error = "invalid UTF-8 in the document";
    return false;
  }
  if (LooksLikeJson(text) && JsonDepth(text) <= kMaxYamlDepth) {
    Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) {
      NormalizeNumbers(&j);
      *out = std::move(j);
      return true;
    }
  }
  std::vector<Json> docs;
  if (!ParseDocs(text, false, &docs, error)) return false;
  Json doc = docs.empty() ? Json() : std::move(docs[0]);
  // YAML escapes ("\xff") can make strings that are not UTF-8, which JSON
  // cannot carry.
  try {
    (void)doc.dump();
  } catch (const Json::type_error&) {
    *error = "invalid UTF-8 in a string";
    return false;
  }
  *out = std::move(doc);
  return true;
}

bool ParseYamlDocuments(std::string_view text, std::vector<Json>* out, std::string* error) {
  out->clear();
  return ParseDocs(text, true, out, error);
}

}  // namespace kubit::api

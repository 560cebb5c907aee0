// Server-side table printing: for each built-in kind, the columns and cells
// that upstream's printers (Kubernetes v1.32) give `kubectl get`.
//
// The server always produces every column, -o wide ones included: priority 1
// marks the columns kubectl shows only with -o wide. Kinds upstream has no
// printer for get the generic table, NAME and CREATED AT.
//
// Objects are printed as stored. Where upstream would have filled a field in
// by defaulting when the object was created (a Service's type, a port's
// protocol, a Deployment's replicas, a Pod's phase ...), an absent field
// prints as that default would.
#include "core/api/printers.h"

#include "core/api/uint128.h"

#include "core/api/custom_resources.h"

#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace kubit::api {
namespace {

using Json = nlohmann::json;
using Strings = std::vector<std::string>;

// ---------------------------------------------------------------------------
// Reading the object

const Json& NullJson() {
  static const Json null;
  return null;
}

const Json& EmptyArray() {
  static const Json empty = Json::array();
  return empty;
}

// The value at a path of keys, or null when any step is missing.
const Json& At(const Json& o, std::initializer_list<const char*> path) {
  const Json* cur = &o;
  for (const char* key : path) {
    if (!cur->is_object()) return NullJson();
    auto it = cur->find(key);
    if (it == cur->end()) return NullJson();
    cur = &*it;
  }
  return *cur;
}

bool Has(const Json& o, std::initializer_list<const char*> path) {
  return !At(o, path).is_null();
}

std::string Str(const Json& v) { return v.is_string() ? v.get<std::string>() : std::string(); }
std::string Str(const Json& o, std::initializer_list<const char*> path) { return Str(At(o, path)); }

int64_t Int(const Json& v, int64_t def = 0) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) return static_cast<int64_t>(v.get<double>());
  return def;
}
int64_t Int(const Json& o, std::initializer_list<const char*> path, int64_t def = 0) {
  return Int(At(o, path), def);
}

bool Bool(const Json& v, bool def = false) { return v.is_boolean() ? v.get<bool>() : def; }

const Json& Array(const Json& v) { return v.is_array() ? v : EmptyArray(); }
const Json& Array(const Json& o, std::initializer_list<const char*> path) {
  return Array(At(o, path));
}

size_t Count(const Json& v) { return v.is_array() || v.is_object() ? v.size() : 0; }

std::string Name(const Json& o) { return Str(o, {"metadata", "name"}); }

std::string Annotation(const Json& o, const char* key) {
  return Str(o, {"metadata", "annotations", key});
}

bool Deleting(const Json& o) { return Has(o, {"metadata", "deletionTimestamp"}); }

std::string Join(const Strings& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string TrimSpace(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\n\r\f\v");
  return s.substr(b, e - b + 1);
}

std::string OrDefault(std::string s, const char* def) { return s.empty() ? def : s; }

// ---------------------------------------------------------------------------
// Time

// An instant; `zero` is Go's zero time (an absent or unreadable timestamp).
struct Instant {
  bool zero = true;
  int64_t sec = 0;  // since the Unix epoch
  int32_t nsec = 0;
};

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

// RFC 3339, with optional fractional seconds ("2024-05-01T10:00:00.123456Z",
// "...+02:00"). Anything else is the zero time.
Instant ParseTime(const std::string& s) {
  Instant t;
  auto digits = [&](size_t pos, size_t n, int* out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!isdigit(static_cast<unsigned char>(s[i]))) return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int year, mon, day, hour, min, sec;
  if (!digits(0, 4, &year) || s.size() < 19 || s[4] != '-' || !digits(5, 2, &mon) ||
      s[7] != '-' || !digits(8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(11, 2, &hour) || s[13] != ':' || !digits(14, 2, &min) || s[16] != ':' ||
      !digits(17, 2, &sec))
    return t;
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return t;
  size_t pos = 19;
  int64_t nsec = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && isdigit(static_cast<unsigned char>(s[pos]))) {
      if (n < 9) nsec = nsec * 10 + (s[pos] - '0'), ++n;
      ++pos;
    }
    if (n == 0) return t;
    while (n < 9) nsec *= 10, ++n;
  }
  int64_t offset = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      if (!digits(pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
          !digits(pos + 4, 2, &om))
        return t;
      offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
      pos += 6;
    }
  }
  if (pos != s.size()) return t;
  t.sec = DaysFromCivil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - offset;
  t.nsec = static_cast<int32_t>(nsec);
  // Go's zero time, 0001-01-01T00:00:00Z, stays zero.
  t.zero = t.sec == DaysFromCivil(1, 1, 1) * 86400 && t.nsec == 0;
  return t;
}

Instant ParseTime(const Json& v) { return ParseTime(Str(v)); }

Instant NowInstant() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return {false, static_cast<int64_t>(ts.tv_sec), static_cast<int32_t>(ts.tv_nsec)};
}

bool Before(const Instant& a, const Instant& b) {
  // The zero time is earlier than every other instant.
  if (a.zero || b.zero) return a.zero && !b.zero;
  return a.sec != b.sec ? a.sec < b.sec : a.nsec < b.nsec;
}

// Whole seconds from `from` to `to`, truncated toward zero as Go's
// int(d.Seconds()) does.
int64_t SecondsBetween(const Instant& from, const Instant& to) {
  const Instant zero_time = {false, DaysFromCivil(1, 1, 1) * 86400, 0};
  const Instant& a = from.zero ? zero_time : from;
  const Instant& b = to.zero ? zero_time : to;
  // (sec * 1e9 + nsec) / 1e9 truncated toward zero, without a 128-bit type.
  int64_t sec = b.sec - a.sec;
  int64_t nsec = static_cast<int64_t>(b.nsec) - a.nsec;  // within (-1e9, 1e9)
  if (sec > 0 && nsec < 0) return sec - 1;
  if (sec < 0 && nsec > 0) return sec + 1;
  return sec;
}

// Upstream's translateTimestampSince: "<unknown>" for the zero time.
std::string Since(const Instant& t) {
  if (t.zero) return "<unknown>";
  return HumanDuration(SecondsBetween(t, NowInstant()));
}
std::string Since(const Json& v) { return Since(ParseTime(v)); }

std::string Age(const Json& o) { return Since(At(o, {"metadata", "creationTimestamp"})); }

// Go's time.RFC3339 rendering in UTC, as the generic table's CREATED AT.
std::string Rfc3339(const Instant& t) {
  int64_t sec = t.zero ? DaysFromCivil(1, 1, 1) * 86400 : t.sec;
  int64_t days = sec >= 0 ? sec / 86400 : (sec - 86399) / 86400;
  int64_t rem = sec - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[64];
  snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y),
           m, d, static_cast<long long>(rem / 3600), static_cast<long long>(rem / 60 % 60),
           static_cast<long long>(rem % 60));
  return buf;
}

// ---------------------------------------------------------------------------
// Quantities

// Upstream's Quantity.String(): the canonical form of a resource quantity
// ("1024Mi" -> "1Gi", "0.5" -> "500m", "1500m" -> "1500m"). Input that does
// not parse is returned unchanged.
std::string CanonicalQuantity(const std::string& in) {
  using I128 = Uint128;
  const I128 kLimit = Uint128::Pow2(100);
  size_t pos = 0;
  bool negative = false;
  if (pos < in.size() && (in[pos] == '+' || in[pos] == '-')) negative = in[pos++] == '-';
  I128 mantissa = 0;
  int scale = 0;  // power of ten applied to the mantissa
  int ndigits = 0;
  bool dot = false;
  for (; pos < in.size(); ++pos) {
    char c = in[pos];
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (!isdigit(static_cast<unsigned char>(c))) break;
    ++ndigits;
    if (mantissa < kLimit) {
      mantissa = mantissa * 10 + (c - '0');
      if (dot) --scale;
    } else if (!dot) {
      ++scale;  // digits past what we keep; precision beyond this is noise
    }
  }
  if (ndigits == 0) return in;
  std::string suffix = in.substr(pos);
  enum { kDecimalSI, kBinarySI, kDecimalExponent } format = kDecimalSI;
  int bin = 0;  // power of 1024
  static const std::map<std::string, int> kBinary = {{"Ki", 1}, {"Mi", 2}, {"Gi", 3},
                                                     {"Ti", 4}, {"Pi", 5}, {"Ei", 6}};
  static const std::map<std::string, int> kDecimal = {
      {"", 0},  {"n", -9}, {"u", -6}, {"m", -3}, {"k", 3},
      {"M", 6}, {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  if (auto b = kBinary.find(suffix); b != kBinary.end()) {
    format = kBinarySI;
    bin = b->second;
  } else if (auto d = kDecimal.find(suffix); d != kDecimal.end()) {
    scale += d->second;
  } else if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    size_t i = 1;
    bool neg = false;
    if (suffix[i] == '+' || suffix[i] == '-') neg = suffix[i++] == '-';
    if (i >= suffix.size() || suffix.size() - i > 4) return in;
    int e = 0;
    for (; i < suffix.size(); ++i) {
      if (!isdigit(static_cast<unsigned char>(suffix[i]))) return in;
      e = e * 10 + (suffix[i] - '0');
    }
    scale += neg ? -e : e;
    format = kDecimalExponent;
  } else {
    return in;
  }
  if (mantissa == 0) return "0";
  for (int i = 0; i < bin; ++i) {
    if (mantissa >= kLimit) return in;
    mantissa *= 1024;
  }
  // The value is mantissa * 10^scale.
  auto pow10 = [](int n) {
    I128 p = 1;
    while (n-- > 0) p *= 10;
    return p;
  };
  auto to_string = [](I128 v) {
    std::string s;
    do {
      s += static_cast<char>('0' + static_cast<int>((v % 10).low64()));
      v /= 10;
    } while (v > 0);
    std::reverse(s.begin(), s.end());
    return s;
  };
  std::string sign = negative ? "-" : "";
  if (format == kBinarySI) {
    // Small or fractional values fall back to decimal, as upstream does.
    bool exact = true;
    I128 whole = mantissa;
    if (scale < 0) {
      if (scale < -30) return in;
      I128 p = pow10(-scale);
      exact = mantissa % p == 0;
      whole = mantissa / p;
    } else if (scale > 0) {
      if (scale > 20) return in;
      whole = mantissa * pow10(scale);
    }
    if (exact && whole >= 1024) {
      int k = 0;
      while (k < 6 && whole % 1024 == 0) whole /= 1024, ++k;
      static const char* kSuffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
      return sign + to_string(whole) + kSuffix[k];
    }
    format = kDecimalSI;
  }
  // Decimal: strip factors of ten, keep at most nano precision (rounding
  // up), then bring the exponent down to a multiple of three.
  while (mantissa % 10 == 0) mantissa /= 10, ++scale;
  if (scale < -9) {
    if (scale < -38) return in;
    I128 p = pow10(-9 - scale);
    mantissa = (mantissa + p - 1) / p;
    scale = -9;
    while (mantissa % 10 == 0) mantissa /= 10, ++scale;
  }
  int rem = ((scale % 3) + 3) % 3;
  if (rem != 0) {
    mantissa *= pow10(rem);
    scale -= rem;
  }
  std::string suffix_out;
  if (format == kDecimalExponent) {
    if (scale != 0) suffix_out = "e" + std::to_string(scale);
  } else {
    static const std::map<int, const char*> kNames = {{-9, "n"}, {-6, "u"}, {-3, "m"},
                                                      {0, ""},   {3, "k"},  {6, "M"},
                                                      {9, "G"},  {12, "T"}, {15, "P"},
                                                      {18, "E"}};
    auto it = kNames.find(scale);
    suffix_out = it != kNames.end() ? it->second : "e" + std::to_string(scale);
  }
  return sign + to_string(mantissa) + suffix_out;
}

// A quantity field: "0" when absent (Go's zero Quantity).
std::string Quantity(const Json& v) {
  if (v.is_string()) return CanonicalQuantity(v.get<std::string>());
  if (v.is_number()) return CanonicalQuantity(v.dump());
  return "0";
}

// A *Quantity field: "<nil>" when absent, as Go prints a nil pointer.
std::string QuantityPtr(const Json& v) { return v.is_null() ? "<nil>" : Quantity(v); }

// An IntOrString: 3 -> "3", "50%" -> "50%".
std::string IntOrString(const Json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_string()) return v.get<std::string>();
  return "";
}

// ---------------------------------------------------------------------------
// Labels and selectors

// labels.FormatLabels: "a=1,b=2" sorted by key, "<none>" when empty.
std::string FormatLabels(const Json& labels) {
  if (!labels.is_object() || labels.empty()) return "<none>";
  std::map<std::string, std::string> sorted;
  for (auto it = labels.begin(); it != labels.end(); ++it) sorted[it.key()] = Str(it.value());
  Strings parts;
  for (const auto& [k, v] : sorted) parts.push_back(k + "=" + v);
  return Join(parts, ",");
}

// The string form of a LabelSelector as upstream's LabelSelectorAsSelector
// renders it: requirements sorted by key, "" for an absent or empty one.
// False when the selector is malformed.
bool SelectorString(const Json& sel, std::string* out) {
  out->clear();
  if (!sel.is_object()) return true;
  struct Requirement {
    std::string key, op;
    Strings values;
  };
  std::vector<Requirement> reqs;
  const Json& labels = At(sel, {"matchLabels"});
  if (labels.is_object()) {
    std::map<std::string, std::string> sorted;
    for (auto it = labels.begin(); it != labels.end(); ++it) sorted[it.key()] = Str(it.value());
    for (const auto& [k, v] : sorted) reqs.push_back({k, "=", {v}});
  }
  for (const Json& e : Array(sel, {"matchExpressions"})) {
    Requirement r{Str(e, {"key"}), Str(e, {"operator"}), {}};
    for (const Json& v : Array(e, {"values"})) r.values.push_back(Str(v));
    if (r.op == "In" || r.op == "NotIn") {
      if (r.values.empty()) return false;
    } else if (r.op == "Exists" || r.op == "DoesNotExist") {
      if (!r.values.empty()) return false;
    } else {
      return false;
    }
    reqs.push_back(std::move(r));
  }
  std::stable_sort(reqs.begin(), reqs.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  Strings parts;
  for (auto& r : reqs) {
    std::sort(r.values.begin(), r.values.end());
    if (r.op == "=") {
      parts.push_back(r.key + "=" + r.values[0]);
    } else if (r.op == "In") {
      parts.push_back(r.key + " in (" + Join(r.values, ",") + ")");
    } else if (r.op == "NotIn") {
      parts.push_back(r.key + " notin (" + Join(r.values, ",") + ")");
    } else if (r.op == "Exists") {
      parts.push_back(r.key);
    } else {
      parts.push_back("!" + r.key);
    }
  }
  *out = Join(parts, ",");
  return true;
}

// metav1.FormatLabelSelector: "<none>" when it selects by nothing.
std::string FormatLabelSelector(const Json& sel) {
  std::string s;
  if (!SelectorString(sel, &s)) return "<error>";
  return s.empty() ? "<none>" : s;
}

// ---------------------------------------------------------------------------
// Other shared formatting

// The CONTAINERS and IMAGES cells of a pod template's containers.
void ContainerCells(const Json& containers, Json* cells) {
  Strings names, images;
  for (const Json& c : Array(containers)) {
    names.push_back(Str(c, {"name"}));
    images.push_back(Str(c, {"image"}));
  }
  cells->push_back(Join(names, ","));
  cells->push_back(Join(images, ","));
}

// Up to three items, then " + N more...", "<unset>" when there are none.
std::string ListWithMore(const Strings& list, bool more, int count, int max) {
  std::string out = Join(list, ",");
  if (more) return out + " + " + std::to_string(count - max) + " more...";
  return out.empty() ? "<unset>" : out;
}

// Load-balancer ingress points: IPs, else hostnames, sorted and unique.
std::string LoadBalancerAddresses(const Json& ingress) {
  std::set<std::string> seen;
  for (const Json& i : Array(ingress)) {
    std::string ip = Str(i, {"ip"});
    std::string host = Str(i, {"hostname"});
    if (!ip.empty()) {
      seen.insert(ip);
    } else if (!host.empty()) {
      seen.insert(host);
    }
  }
  return Join(Strings(seen.begin(), seen.end()), ",");
}

// "RWO,ROX,RWX,RWOP", always in that order, each once.
std::string AccessModes(const Json& modes) {
  std::set<std::string> have;
  for (const Json& m : Array(modes)) have.insert(Str(m));
  Strings out;
  if (have.count("ReadWriteOnce")) out.push_back("RWO");
  if (have.count("ReadOnlyMany")) out.push_back("ROX");
  if (have.count("ReadWriteMany")) out.push_back("RWX");
  if (have.count("ReadWriteOncePod")) out.push_back("RWOP");
  return Join(out, ",");
}

// A condition's status by type, "" when absent.
std::string ConditionStatus(const Json& conditions, const std::string& type) {
  for (const Json& c : Array(conditions))
    if (Str(c, {"type"}) == type) return Str(c, {"status"});
  return "";
}

std::string BoolString(bool b) { return b ? "True" : "False"; }

// host:port, with brackets around IPv6 hosts.
std::string JoinHostPort(const std::string& host, int64_t port) {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

// ---------------------------------------------------------------------------
// Columns and rows

struct Column {
  const char* name;
  const char* type;  // "string", "integer", "boolean", "date"
  int priority;      // 1: shown only with -o wide
  const char* description;
  const char* format = "";
};

struct Row {
  Json cells = Json::array();
  Json conditions = Json::array();
};

using RowFn = std::function<void(const Json& obj, Row* row)>;

struct Printer {
  std::vector<Column> columns;
  RowFn row;
};

const char kNameDescription[] =
    "Name must be unique within a namespace. Is required when creating resources, although "
    "some resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const char kAgeDescription[] =
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is "
    "in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata";

Column NameCol(int priority = 0) { return {"Name", "string", priority, kNameDescription, "name"}; }
Column AgeCol() { return {"Age", "string", 0, kAgeDescription}; }
Column Str0(const char* name, const char* description) { return {name, "string", 0, description}; }
Column Str1(const char* name, const char* description) { return {name, "string", 1, description}; }
Column Int0(const char* name, const char* description) { return {name, "integer", 0, description}; }
Column Bool0(const char* name, const char* description) { return {name, "boolean", 0, description}; }

Column ContainersCol() { return Str1("Containers", "Names of the containers in the pod template."); }
Column ImagesCol() { return Str1("Images", "Images of the containers in the pod template."); }
Column SelectorCol() { return Str1("Selector", "The label selector of the pods."); }

// ---------------------------------------------------------------------------
// Pods

bool IsRestartable(const Json* container) {
  return container && Str(*container, {"restartPolicy"}) == "Always";
}

// The latest lastState.terminated.finishedAt of a container status.
void NoteLastTermination(const Json& status, Instant* last) {
  const Json& term = At(status, {"lastState", "terminated"});
  if (term.is_null()) return;
  Instant finished = ParseTime(At(term, {"finishedAt"}));
  if (Before(*last, finished)) *last = finished;
}

// STATUS of a terminated container with no reason: "Signal:9" or "ExitCode:1".
std::string ExitDescription(const Json& term) {
  int64_t signal = Int(term, {"signal"});
  if (signal != 0) return "Signal:" + std::to_string(signal);
  return "ExitCode:" + std::to_string(Int(term, {"exitCode"}));
}

void PodRow(const Json& pod, Row* row) {
  const Json& spec = At(pod, {"spec"});
  const Json& status = At(pod, {"status"});
  const Json& conditions = At(status, {"conditions"});
  int restarts = 0;
  int sidecar_restarts = 0;
  int total = static_cast<int>(Count(At(spec, {"containers"})));
  int ready = 0;
  Instant last_restart, last_sidecar_restart;

  // A pod is Pending from its creation.
  std::string phase = OrDefault(Str(status, {"phase"}), "Pending");
  std::string reason = phase;
  if (!Str(status, {"reason"}).empty()) reason = Str(status, {"reason"});
  for (const Json& c : Array(conditions))
    if (Str(c, {"type"}) == "PodScheduled" && Str(c, {"reason"}) == "SchedulingGated")
      reason = "SchedulingGated";

  if (phase == "Succeeded") {
    row->conditions.push_back({{"type", "Completed"},
                               {"status", "True"},
                               {"reason", "Succeeded"},
                               {"message", "The pod has completed successfully."}});
  } else if (phase == "Failed") {
    row->conditions.push_back({{"type", "Completed"},
                               {"status", "True"},
                               {"reason", "Failed"},
                               {"message", "The pod failed."}});
  }

  const Json& init_specs = Array(spec, {"initContainers"});
  std::map<std::string, const Json*> init_by_name;
  for (const Json& c : init_specs) {
    init_by_name[Str(c, {"name"})] = &c;
    if (IsRestartable(&c)) ++total;
  }
  auto init_spec = [&](const Json& st) -> const Json* {
    auto it = init_by_name.find(Str(st, {"name"}));
    return it == init_by_name.end() ? nullptr : it->second;
  };

  bool initializing = false;
  const Json& init_statuses = Array(status, {"initContainerStatuses"});
  for (size_t i = 0; i < init_statuses.size(); ++i) {
    const Json& cs = init_statuses[i];
    int count = static_cast<int>(Int(cs, {"restartCount"}));
    restarts += count;
    NoteLastTermination(cs, &last_restart);
    bool sidecar = IsRestartable(init_spec(cs));
    if (sidecar) {
      sidecar_restarts += count;
      NoteLastTermination(cs, &last_sidecar_restart);
    }
    const Json& terminated = At(cs, {"state", "terminated"});
    const Json& waiting = At(cs, {"state", "waiting"});
    if (!terminated.is_null() && Int(terminated, {"exitCode"}) == 0) continue;
    if (sidecar && Bool(At(cs, {"started"}))) {
      if (Bool(At(cs, {"ready"}))) ++ready;
      continue;
    }
    if (!terminated.is_null()) {
      std::string r = Str(terminated, {"reason"});
      reason = "Init:" + (r.empty() ? ExitDescription(terminated) : r);
    } else if (!waiting.is_null() && !Str(waiting, {"reason"}).empty() &&
               Str(waiting, {"reason"}) != "PodInitializing") {
      reason = "Init:" + Str(waiting, {"reason"});
    } else {
      reason = "Init:" + std::to_string(i) + "/" + std::to_string(init_specs.size());
    }
    initializing = true;
    break;
  }

  if (!initializing || ConditionStatus(conditions, "Initialized") == "True") {
    restarts = sidecar_restarts;
    last_restart = last_sidecar_restart;
    bool has_running = false;
    const Json& statuses = Array(status, {"containerStatuses"});
    for (size_t i = statuses.size(); i-- > 0;) {
      const Json& cs = statuses[i];
      restarts += static_cast<int>(Int(cs, {"restartCount"}));
      NoteLastTermination(cs, &last_restart);
      const Json& waiting = At(cs, {"state", "waiting"});
      const Json& terminated = At(cs, {"state", "terminated"});
      if (!waiting.is_null() && !Str(waiting, {"reason"}).empty()) {
        reason = Str(waiting, {"reason"});
      } else if (!terminated.is_null()) {
        std::string r = Str(terminated, {"reason"});
        reason = r.empty() ? ExitDescription(terminated) : r;
      } else if (Bool(At(cs, {"ready"})) && Has(cs, {"state", "running"})) {
        has_running = true;
        ++ready;
      }
    }
    // Back to Running when a container still runs after another completed.
    if (reason == "Completed" && has_running)
      reason = ConditionStatus(conditions, "Ready") == "True" ? "Running" : "NotReady";
  }

  if (Deleting(pod) && Str(status, {"reason"}) == "NodeLost") {
    reason = "Unknown";
  } else if (Deleting(pod) && phase != "Succeeded" && phase != "Failed") {
    reason = "Terminating";
  }

  std::string restarts_cell = std::to_string(restarts);
  if (restarts != 0 && !last_restart.zero)
    restarts_cell += " (" + Since(last_restart) + " ago)";

  // status.podIPs[0], or the single podIP of objects written without podIPs.
  const Json& pod_ips = Array(status, {"podIPs"});
  std::string ip = pod_ips.empty() ? Str(status, {"podIP"}) : Str(pod_ips[0], {"ip"});
  std::string gates = "<none>";
  const Json& gate_specs = Array(spec, {"readinessGates"});
  if (!gate_specs.empty()) {
    int met = 0;
    for (const Json& g : gate_specs)
      if (ConditionStatus(conditions, Str(g, {"conditionType"})) == "True") ++met;
    gates = std::to_string(met) + "/" + std::to_string(gate_specs.size());
  }

  Json& c = row->cells;
  c.push_back(Name(pod));
  c.push_back(std::to_string(ready) + "/" + std::to_string(total));
  c.push_back(reason);
  c.push_back(restarts_cell);
  c.push_back(Age(pod));
  c.push_back(OrDefault(ip, "<none>"));
  c.push_back(OrDefault(Str(spec, {"nodeName"}), "<none>"));
  c.push_back(OrDefault(Str(status, {"nominatedNodeName"}), "<none>"));
  c.push_back(gates);
}

Printer PodPrinter() {
  return {{NameCol(), Str0("Ready", "Ready containers out of all containers of the pod."),
           Str0("Status", "A summary of the state of the pod and its containers."),
           Str0("Restarts", "Container restarts, and how long ago the last one ended."),
           AgeCol(), Str1("IP", "The pod's IP address."),
           Str1("Node", "The node the pod is bound to."),
           Str1("Nominated Node", "The node the scheduler nominated for the pod."),
           Str1("Readiness Gates", "Readiness gates met out of all of them.")},
          PodRow};
}

// ---------------------------------------------------------------------------
// Workloads: apps/v1 and batch/v1

Printer DeploymentPrinter() {
  return {{NameCol(), Str0("Ready", "Ready pods out of desired pods."),
           Str0("Up-to-date", "Pods updated to the current template."),
           Str0("Available", "Pods available to serve."), AgeCol(), ContainersCol(), ImagesCol(),
           SelectorCol()},
          [](const Json& o, Row* r) {
            Json& c = r->cells;
            int64_t desired = Int(o, {"spec", "replicas"}, 1);
            c.push_back(Name(o));
            c.push_back(std::to_string(Int(o, {"status", "readyReplicas"})) + "/" +
                        std::to_string(desired));
            c.push_back(Int(o, {"status", "updatedReplicas"}));
            c.push_back(Int(o, {"status", "availableReplicas"}));
            c.push_back(Age(o));
            ContainerCells(At(o, {"spec", "template", "spec", "containers"}), &c);
            std::string sel;
            c.push_back(SelectorString(At(o, {"spec", "selector"}), &sel) ? sel : "<invalid>");
          }};
}

Printer ReplicaSetPrinter() {
  return {{NameCol(), Int0("Desired", "Desired pods."), Int0("Current", "Pods that exist."),
           Int0("Ready", "Ready pods."), AgeCol(), ContainersCol(), ImagesCol(), SelectorCol()},
          [](const Json& o, Row* r) {
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Int(o, {"spec", "replicas"}, 1));
            c.push_back(Int(o, {"status", "replicas"}));
            c.push_back(Int(o, {"status", "readyReplicas"}));
            c.push_back(Age(o));
            ContainerCells(At(o, {"spec", "template", "spec", "containers"}), &c);
            c.push_back(FormatLabelSelector(At(o, {"spec", "selector"})));
          }};
}

Printer StatefulSetPrinter() {
  return {{NameCol(), Str0("Ready", "Ready pods out of desired pods."), AgeCol(),
           ContainersCol(), ImagesCol()},
          [](const Json& o, Row* r) {
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(std::to_string(Int(o, {"status", "readyReplicas"})) + "/" +
                        std::to_string(Int(o, {"spec", "replicas"}, 1)));
            c.push_back(Age(o));
            ContainerCells(At(o, {"spec", "template", "spec", "containers"}), &c);
          }};
}

Printer DaemonSetPrinter() {
  return {{NameCol(), Int0("Desired", "Nodes that should run the daemon pod."),
           Int0("Current", "Nodes running at least one daemon pod."),
           Int0("Ready", "Nodes whose daemon pod is ready."),
           Int0("Up-to-date", "Nodes running the current template."),
           Int0("Available", "Nodes whose daemon pod is available."),
           Str0("Node Selector", "The node selector of the pod template."), AgeCol(),
           ContainersCol(), ImagesCol(), SelectorCol()},
          [](const Json& o, Row* r) {
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Int(o, {"status", "desiredNumberScheduled"}));
            c.push_back(Int(o, {"status", "currentNumberScheduled"}));
            c.push_back(Int(o, {"status", "numberReady"}));
            c.push_back(Int(o, {"status", "updatedNumberScheduled"}));
            c.push_back(Int(o, {"status", "numberAvailable"}));
            c.push_back(FormatLabels(At(o, {"spec", "template", "spec", "nodeSelector"})));
            c.push_back(Age(o));
            ContainerCells(At(o, {"spec", "template", "spec", "containers"}), &c);
            c.push_back(FormatLabelSelector(At(o, {"spec", "selector"})));
          }};
}

Printer ControllerRevisionPrinter() {
  return {{NameCol(), Str0("Controller", "The object that owns this revision."),
           Str0("Revision", "The revision number."), AgeCol()},
          [](const Json& o, Row* r) {
            std::string controller = "<none>";
            for (const Json& ref : Array(o, {"metadata", "ownerReferences"})) {
              if (!Bool(At(ref, {"controller"}))) continue;
              std::string api_version = Str(ref, {"apiVersion"});
              size_t slash = api_version.find('/');
              std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
              std::string kind = Str(ref, {"kind"});
              controller = Str(ref, {"name"});
              if (!kind.empty() || !group.empty())
                controller =
                    Lower(group.empty() ? kind : kind + "." + group) + "/" + controller;
              break;
            }
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(controller);
            c.push_back(Int(o, {"revision"}));
            c.push_back(Age(o));
          }};
}

bool JobCondition(const Json& job, const char* type) {
  return ConditionStatus(At(job, {"status", "conditions"}), type) == "True";
}

Printer JobPrinter() {
  return {{NameCol(), Str0("Status", "A summary of the job's state."),
           Str0("Completions", "Succeeded pods out of the pods needed."),
           Str0("Duration", "How long the job ran, or has been running."), AgeCol(),
           ContainersCol(), ImagesCol(), SelectorCol()},
          [](const Json& o, Row* r) {
            int64_t succeeded = Int(o, {"status", "succeeded"});
            std::string completions;
            if (Has(o, {"spec", "completions"})) {
              completions = std::to_string(succeeded) + "/" +
                            std::to_string(Int(o, {"spec", "completions"}));
            } else if (int64_t parallelism = Int(o, {"spec", "parallelism"}); parallelism > 1) {
              completions =
                  std::to_string(succeeded) + "/1 of " + std::to_string(parallelism);
            } else {
              completions = std::to_string(succeeded) + "/1";
            }
            std::string duration;
            if (Has(o, {"status", "startTime"})) {
              Instant start = ParseTime(At(o, {"status", "startTime"}));
              Instant end = Has(o, {"status", "completionTime"})
                                ? ParseTime(At(o, {"status", "completionTime"}))
                                : NowInstant();
              duration = HumanDuration(SecondsBetween(start, end));
            }
            std::string status = "Running";
            if (JobCondition(o, "Complete")) {
              status = "Complete";
            } else if (JobCondition(o, "Failed")) {
              status = "Failed";
            } else if (Deleting(o)) {
              status = "Terminating";
            } else if (JobCondition(o, "Suspended")) {
              status = "Suspended";
            } else if (JobCondition(o, "FailureTarget")) {
              status = "FailureTarget";
            }
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(status);
            c.push_back(completions);
            c.push_back(duration);
            c.push_back(Age(o));
            ContainerCells(At(o, {"spec", "template", "spec", "containers"}), &c);
            c.push_back(FormatLabelSelector(At(o, {"spec", "selector"})));
          }};
}

Printer CronJobPrinter() {
  return {{NameCol(), Str0("Schedule", "The cron schedule."),
           Str0("Timezone", "The time zone the schedule is read in."),
           Bool0("Suspend", "Whether new runs are suspended."),
           Int0("Active", "Jobs currently running."),
           Str0("Last Schedule", "How long ago a job was last scheduled."), AgeCol(),
           ContainersCol(), ImagesCol(), SelectorCol()},
          [](const Json& o, Row* r) {
            const Json& job = At(o, {"spec", "jobTemplate", "spec"});
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Str(o, {"spec", "schedule"}));
            c.push_back(OrDefault(Str(o, {"spec", "timeZone"}), "<none>"));
            c.push_back(BoolString(Bool(At(o, {"spec", "suspend"}))));
            c.push_back(static_cast<int64_t>(Count(At(o, {"status", "active"}))));
            c.push_back(Has(o, {"status", "lastScheduleTime"})
                            ? Since(At(o, {"status", "lastScheduleTime"}))
                            : std::string("<none>"));
            c.push_back(Age(o));
            ContainerCells(At(job, {"template", "spec", "containers"}), &c);
            c.push_back(FormatLabelSelector(At(job, {"selector"})));
          }};
}

Printer PodDisruptionBudgetPrinter() {
  return {{NameCol(), Str0("Min Available", "Pods that must stay available."),
           Str0("Max Unavailable", "Pods that may be unavailable."),
           Int0("Allowed Disruptions", "Pods that may be disrupted right now."), AgeCol()},
          [](const Json& o, Row* r) {
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Has(o, {"spec", "minAvailable"})
                            ? IntOrString(At(o, {"spec", "minAvailable"}))
                            : std::string("N/A"));
            c.push_back(Has(o, {"spec", "maxUnavailable"})
                            ? IntOrString(At(o, {"spec", "maxUnavailable"}))
                            : std::string("N/A"));
            c.push_back(Int(o, {"status", "disruptionsAllowed"}));
            c.push_back(Age(o));
          }};
}

// ---------------------------------------------------------------------------
// Autoscaling: both the autoscaling/v2 and the autoscaling/v1 shapes

// The v2 metrics and current metrics of an HPA in either shape, with the
// defaults upstream applies (CPU at 80% when no target is given).
void HpaMetrics(const Json& hpa, Json* specs, Json* statuses) {
  *specs = At(hpa, {"spec", "metrics"});
  if (!specs->is_array() || specs->empty()) {
    const Json& cpu = At(hpa, {"spec", "targetCPUUtilizationPercentage"});
    *specs = Json::array({{{"type", "Resource"},
                           {"resource",
                            {{"name", "cpu"},
                             {"target",
                              {{"type", "Utilization"},
                               {"averageUtilization", cpu.is_null() ? Json(80) : cpu}}}}}}});
  }
  *statuses = At(hpa, {"status", "currentMetrics"});
  if (!statuses->is_array()) {
    *statuses = Json::array();
    const Json& cpu = At(hpa, {"status", "currentCPUUtilizationPercentage"});
    if (!cpu.is_null())
      statuses->push_back({{"type", "Resource"},
                           {"resource", {{"name", "cpu"}, {"current", {{"averageUtilization", cpu}}}}}});
  }
}

std::string HpaTargets(const Json& specs, const Json& statuses) {
  if (specs.empty()) return "<none>";
  Strings list;
  auto status_of = [&](size_t i, const char* source) -> const Json& {
    return i < statuses.size() ? At(statuses[i], {source}) : NullJson();
  };
  // Value and AverageValue targets of Object and External metrics.
  auto value_target = [&](size_t i, const Json& source_spec, const char* source) {
    const Json& target = At(source_spec, {"target"});
    const Json& st = status_of(i, source);
    if (Has(target, {"averageValue"})) {
      std::string current = "<unknown>";
      if (!st.is_null() && Has(st, {"current", "averageValue"}))
        current = Quantity(At(st, {"current", "averageValue"}));
      return current + "/" + Quantity(At(target, {"averageValue"})) + " (avg)";
    }
    std::string current = "<unknown>";
    if (!st.is_null()) current = QuantityPtr(At(st, {"current", "value"}));
    return current + "/" + QuantityPtr(At(target, {"value"}));
  };
  // Resource and ContainerResource metrics.
  auto resource_target = [&](size_t i, const Json& source_spec, const char* source) {
    const Json& target = At(source_spec, {"target"});
    const Json& st = status_of(i, source);
    std::string name = Str(source_spec, {"name"});
    if (Has(target, {"averageValue"})) {
      std::string current = "<unknown>";
      if (!st.is_null()) current = QuantityPtr(At(st, {"current", "averageValue"}));
      return name + ": " + current + "/" + Quantity(At(target, {"averageValue"}));
    }
    std::string current = "<unknown>";
    if (!st.is_null() && Has(st, {"current", "averageUtilization"}))
      current = std::to_string(Int(st, {"current", "averageUtilization"})) + "%";
    std::string goal = "<auto>";
    if (Has(target, {"averageUtilization"}))
      goal = std::to_string(Int(target, {"averageUtilization"})) + "%";
    return name + ": " + current + "/" + goal;
  };
  for (size_t i = 0; i < specs.size(); ++i) {
    const Json& spec = specs[i];
    std::string type = Str(spec, {"type"});
    if (type == "External") {
      list.push_back(value_target(i, At(spec, {"external"}), "external"));
    } else if (type == "Pods") {
      std::string current = "<unknown>";
      const Json& st = status_of(i, "pods");
      if (!st.is_null()) current = QuantityPtr(At(st, {"current", "averageValue"}));
      list.push_back(current + "/" + QuantityPtr(At(spec, {"pods", "target", "averageValue"})));
    } else if (type == "Object") {
      list.push_back(value_target(i, At(spec, {"object"}), "object"));
    } else if (type == "Resource") {
      list.push_back(resource_target(i, At(spec, {"resource"}), "resource"));
    } else if (type == "ContainerResource") {
      list.push_back(resource_target(i, At(spec, {"containerResource"}), "containerResource"));
    } else {
      list.push_back("<unknown type>");
    }
  }
  const size_t max = 2;
  if (list.size() > max) {
    size_t more = list.size() - max;
    list.resize(max);
    return Join(list, ", ") + " + " + std::to_string(more) + " more...";
  }
  return Join(list, ", ");
}

Printer HorizontalPodAutoscalerPrinter() {
  return {{NameCol(), Str0("Reference", "The object being scaled."),
           Str0("Targets", "Current and target values of the metrics."),
           Str0("MinPods", "The fewest replicas to scale down to."),
           Str0("MaxPods", "The most replicas to scale up to."),
           Str0("Replicas", "Replicas the autoscaler last saw."), AgeCol()},
          [](const Json& o, Row* r) {
            Json specs, statuses;
            HpaMetrics(o, &specs, &statuses);
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Str(o, {"spec", "scaleTargetRef", "kind"}) + "/" +
                        Str(o, {"spec", "scaleTargetRef", "name"}));
            c.push_back(HpaTargets(specs, statuses));
            c.push_back(std::to_string(Int(o, {"spec", "minReplicas"}, 1)));
            c.push_back(Int(o, {"spec", "maxReplicas"}));
            c.push_back(Int(o, {"status", "currentReplicas"}));
            c.push_back(Age(o));
          }};
}

// ---------------------------------------------------------------------------
// Services and networking

std::string ServiceExternalIP(const Json& svc, const std::string& type) {
  Strings external;
  for (const Json& ip : Array(svc, {"spec", "externalIPs"})) external.push_back(Str(ip));
  if (type == "ClusterIP" || type == "NodePort")
    return external.empty() ? "<none>" : Join(external, ",");
  if (type == "LoadBalancer") {
    std::string lb = LoadBalancerAddresses(At(svc, {"status", "loadBalancer", "ingress"}));
    if (!external.empty()) return lb.empty() ? Join(external, ",") : lb + "," + Join(external, ",");
    return lb.empty() ? "<pending>" : lb;
  }
  if (type == "ExternalName") return Str(svc, {"spec", "externalName"});
  return "<unknown>";
}

Printer ServicePrinter() {
  return {{NameCol(), Str0("Type", "How the service is exposed."),
           Str0("Cluster-IP", "The service's cluster IP address."),
           Str0("External-IP", "Addresses the service is reachable at from outside."),
           Str0("Port(s)", "The service's ports."), AgeCol(),
           Str1("Selector", "The labels of the pods behind the service.")},
          [](const Json& o, Row* r) {
            std::string type = OrDefault(Str(o, {"spec", "type"}), "ClusterIP");
            std::string cluster_ip = Str(o, {"spec", "clusterIP"});
            const Json& ips = Array(o, {"spec", "clusterIPs"});
            if (!ips.empty()) cluster_ip = Str(ips[0]);
            Strings ports;
            for (const Json& p : Array(o, {"spec", "ports"})) {
              std::string protocol = OrDefault(Str(p, {"protocol"}), "TCP");
              int64_t node_port = Int(p, {"nodePort"});
              std::string s = std::to_string(Int(p, {"port"}));
              if (node_port > 0) s += ":" + std::to_string(node_port);
              ports.push_back(s + "/" + protocol);
            }
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(type);
            c.push_back(OrDefault(cluster_ip, "<none>"));
            c.push_back(ServiceExternalIP(o, type));
            c.push_back(ports.empty() ? "<none>" : Join(ports, ","));
            c.push_back(Age(o));
            c.push_back(FormatLabels(At(o, {"spec", "selector"})));
          }};
}

Printer EndpointsPrinter() {
  return {{NameCol(), Str0("Endpoints", "Addresses and ports of the endpoints."), AgeCol()},
          [](const Json& o, Row* r) {
            std::string out = "<none>";
            const Json& subsets = Array(o, {"subsets"});
            if (!subsets.empty()) {
              const int max = 3;
              Strings list;
              bool more = false;
              int count = 0;
              for (const Json& ss : subsets) {
                const Json& addresses = Array(ss, {"addresses"});
                const Json& ports = Array(ss, {"ports"});
                if (ports.empty()) {
                  // Headless services may have no ports.
                  count += static_cast<int>(addresses.size());
                  for (const Json& a : addresses) {
                    if (static_cast<int>(list.size()) == max) {
                      more = true;
                      break;
                    }
                    list.push_back(Str(a, {"ip"}));
                  }
                  continue;
                }
                for (const Json& p : ports) {
                  count += static_cast<int>(addresses.size());
                  for (const Json& a : addresses) {
                    if (static_cast<int>(list.size()) == max) {
                      more = true;
                      break;
                    }
                    list.push_back(JoinHostPort(Str(a, {"ip"}), Int(p, {"port"})));
                  }
                }
              }
              out = Join(list, ",");
              if (more) out += " + " + std::to_string(count - max) + " more...";
            }
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(out);
            c.push_back(Age(o));
          }};
}

Printer EndpointSlicePrinter() {
  return {{NameCol(), Str0("AddressType", "The kind of addresses in the slice."),
           Str0("Ports", "The ports of the slice."),
           Str0("Endpoints", "The addresses of the slice."), AgeCol()},
          [](const Json& o, Row* r) {
            const int max = 3;
            Strings ports;
            bool more = false;
            int count = 0;
            for (const Json& p : Array(o, {"ports"})) {
              if (static_cast<int>(ports.size()) < max) {
                std::string port = "*";
                if (Has(p, {"port"})) {
                  port = std::to_string(Int(p, {"port"}));
                } else if (Has(p, {"name"})) {
                  port = Str(p, {"name"});
                }
                ports.push_back(port);
              } else {
                more = true;
              }
              ++count;
            }
            std::string ports_cell = ListWithMore(ports, more, count, max);
            Strings addresses;
            more = false;
            count = 0;
            for (const Json& e : Array(o, {"endpoints"})) {
              for (const Json& a : Array(e, {"addresses"})) {
                if (static_cast<int>(addresses.size()) < max) {
                  addresses.push_back(Str(a));
                } else {
                  more = true;
                }
                ++count;
              }
            }
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Str(o, {"addressType"}));
            c.push_back(ports_cell);
            c.push_back(ListWithMore(addresses, more, count, max));
            c.push_back(Age(o));
          }};
}

Printer IngressPrinter() {
  return {{NameCol(), Str0("Class", "The IngressClass that handles the ingress."),
           Str0("Hosts", "Hosts the rules match."),
           Str0("Address", "Addresses of the load balancer."),
           Str0("Ports", "Ports the ingress is served on."), AgeCol()},
          [](const Json& o, Row* r) {
            const Json& rules = Array(o, {"spec", "rules"});
            const size_t max = 3;
            Strings hosts;
            bool more = false;
            for (const Json& rule : rules) {
              if (hosts.size() == max) more = true;
              std::string host = Str(rule, {"host"});
              if (!more && !host.empty()) hosts.push_back(host);
            }
            std::string hosts_cell = hosts.empty() ? "*" : Join(hosts, ",");
            if (!hosts.empty() && more)
              hosts_cell += " + " + std::to_string(static_cast<int64_t>(rules.size()) -
                                                   static_cast<int64_t>(max)) +
                            " more...";
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(OrDefault(Str(o, {"spec", "ingressClassName"}), "<none>"));
            c.push_back(hosts_cell);
            c.push_back(LoadBalancerAddresses(At(o, {"status", "loadBalancer", "ingress"})));
            c.push_back(Count(At(o, {"spec", "tls"})) ? "80, 443" : "80");
            c.push_back(Age(o));
          }};
}

Printer IngressClassPrinter() {
  return {{NameCol(), Str0("Controller", "The controller that implements the class."),
           Str0("Parameters", "The resource holding the class's parameters."), AgeCol()},
          [](const Json& o, Row* r) {
            std::string parameters = "<none>";
            const Json& p = At(o, {"spec", "parameters"});
            if (!p.is_null()) {
              parameters = Str(p, {"kind"});
              if (Has(p, {"apiGroup"})) parameters += "." + Str(p, {"apiGroup"});
              parameters += "/" + Str(p, {"name"});
            }
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Str(o, {"spec", "controller"}));
            c.push_back(parameters);
            c.push_back(Age(o));
          }};
}

Printer NetworkPolicyPrinter() {
  return {{NameCol(), Str0("Pod-Selector", "The pods the policy applies to."), AgeCol()},
          [](const Json& o, Row* r) {
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(FormatLabelSelector(At(o, {"spec", "podSelector"})));
            c.push_back(Age(o));
          }};
}

// ---------------------------------------------------------------------------
// Cluster: nodes, namespaces, events, leases, priority classes

Printer NodePrinter() {
  return {{NameCol(), Str0("Status", "Whether the node is ready and schedulable."),
           Str0("Roles", "The node's roles, from its node-role labels."), AgeCol(),
           Str0("Version", "The kubelet's version."),
           Str1("Internal-IP", "The node's first internal IP address."),
           Str1("External-IP", "The node's first external IP address."),
           Str1("OS-Image", "The node's operating system image."),
           Str1("Kernel-Version", "The node's kernel version."),
           Str1("Container-Runtime", "The node's container runtime and its version.")},
          [](const Json& o, Row* r) {
            Strings status;
            const Json* ready = nullptr;
            for (const Json& cond : Array(o, {"status", "conditions"}))
              if (Str(cond, {"type"}) == "Ready") ready = &cond;  // the last one wins
            if (ready) status.push_back(Str(*ready, {"status"}) == "True" ? "Ready" : "NotReady");
            if (status.empty()) status.push_back("Unknown");
            if (Bool(At(o, {"spec", "unschedulable"}))) status.push_back("SchedulingDisabled");

            std::set<std::string> roles;
            const Json& labels = At(o, {"metadata", "labels"});
            if (labels.is_object()) {
              const std::string prefix = "node-role.kubernetes.io/";
              for (auto it = labels.begin(); it != labels.end(); ++it) {
                const std::string& k = it.key();
                if (k.compare(0, prefix.size(), prefix) == 0) {
                  if (k.size() > prefix.size()) roles.insert(k.substr(prefix.size()));
                } else if (k == "kubernetes.io/role" && !Str(it.value()).empty()) {
                  roles.insert(Str(it.value()));
                }
              }
            }
            auto address = [&](const char* type) {
              for (const Json& a : Array(o, {"status", "addresses"}))
                if (Str(a, {"type"}) == type) return Str(a, {"address"});
              return std::string("<none>");
            };
            const Json& info = At(o, {"status", "nodeInfo"});
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Join(status, ","));
            c.push_back(roles.empty() ? "<none>" : Join(Strings(roles.begin(), roles.end()), ","));
            c.push_back(Age(o));
            c.push_back(Str(info, {"kubeletVersion"}));
            c.push_back(address("InternalIP"));
            c.push_back(address("ExternalIP"));
            c.push_back(OrDefault(Str(info, {"osImage"}), "<unknown>"));
            c.push_back(OrDefault(Str(info, {"kernelVersion"}), "<unknown>"));
            c.push_back(OrDefault(Str(info, {"containerRuntimeVersion"}), "<unknown>"));
          }};
}

Printer NamespacePrinter() {
  return {{NameCol(), Str0("Status", "The phase of the namespace."), AgeCol()},
          [](const Json& o, Row* r) {
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(OrDefault(Str(o, {"status", "phase"}), "Active"));
            c.push_back(Age(o));
          }};
}

// Events in the core/v1 shape and in the events.k8s.io/v1 one, which the
// same storage holds.
Printer EventPrinter() {
  return {{Str0("Last Seen", "When the event was last seen."),
           Str0("Type", "Normal or Warning."), Str0("Reason", "Why the event happened."),
           Str0("Object", "The object the event is about."),
           Str1("Subobject", "The part of the object the event is about."),
           Str1("Source", "The component that reported the event."),
           Str0("Message", "What happened."),
           Str1("First Seen", "When the event was first seen."),
           Str1("Count", "How many times the event happened."), NameCol(1)},
          [](const Json& e, Row* r) {
            auto field = [&](const char* core, const char* events) -> const Json& {
              const Json& v = At(e, {core});
              return v.is_null() ? At(e, {events}) : v;
            };
            Instant first_time = ParseTime(field("firstTimestamp", "deprecatedFirstTimestamp"));
            std::string first =
                first_time.zero ? Since(At(e, {"eventTime"})) : Since(first_time);
            Instant last_time = ParseTime(field("lastTimestamp", "deprecatedLastTimestamp"));
            std::string last = last_time.zero ? first : Since(last_time);
            int64_t count = Int(field("count", "deprecatedCount"));
            const Json& series = At(e, {"series"});
            if (!series.is_null()) {
              last = Since(At(series, {"lastObservedTime"}));
              count = Int(series, {"count"});
            } else if (count == 0) {
              count = 1;  // singleton events of the new API carry no count
            }
            const Json& involved = field("involvedObject", "regarding");
            std::string target = Lower(Str(involved, {"kind"}));
            if (!Str(involved, {"name"}).empty()) target += "/" + Str(involved, {"name"});
            const Json& source = field("source", "deprecatedSource");
            std::string component = Str(source, {"component"});
            if (component.empty()) component = Str(field("reportingComponent", "reportingController"));
            std::string host = Str(source, {"host"});
            if (host.empty()) host = Str(e, {"reportingInstance"});
            Json& c = r->cells;
            c.push_back(last);
            c.push_back(Str(e, {"type"}));
            c.push_back(Str(e, {"reason"}));
            c.push_back(target);
            c.push_back(Str(involved, {"fieldPath"}));
            c.push_back(host.empty() ? component : component + ", " + host);
            c.push_back(TrimSpace(Str(field("message", "note"))));
            c.push_back(first);
            c.push_back(count);
            c.push_back(Name(e));
          }};
}

Printer LeasePrinter() {
  return {{NameCol(), Str0("Holder", "The current holder of the lease."), AgeCol()},
          [](const Json& o, Row* r) {
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Str(o, {"spec", "holderIdentity"}));
            c.push_back(Age(o));
          }};
}

Printer PriorityClassPrinter() {
  return {{NameCol(), Int0("Value", "The priority of pods of this class."),
           Bool0("Global-Default", "Whether pods without a class get this one."), AgeCol(),
           Str0("PreemptionPolicy", "Whether pods of this class preempt lower ones.")},
          [](const Json& o, Row* r) {
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Int(o, {"value"}));
            c.push_back(Bool(At(o, {"globalDefault"})));
            c.push_back(Age(o));
            c.push_back(OrDefault(Str(o, {"preemptionPolicy"}), "PreemptLowerPriority"));
          }};
}

// ---------------------------------------------------------------------------
// Configuration and policy

Printer ConfigMapPrinter() {
  return {{NameCol(), Str0("Data", "Number of keys in the config map."), AgeCol()},
          [](const Json& o, Row* r) {
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(static_cast<int64_t>(Count(At(o, {"data"})) + Count(At(o, {"binaryData"}))));
            c.push_back(Age(o));
          }};
}

Printer SecretPrinter() {
  return {{NameCol(), Str0("Type", "The type of the secret."),
           Str0("Data", "Number of keys in the secret."), AgeCol()},
          [](const Json& o, Row* r) {
            // stringData is folded into data when a secret is written.
            std::set<std::string> keys;
            for (const char* field : {"data", "stringData"}) {
              const Json& m = At(o, {field});
              if (m.is_object())
                for (auto it = m.begin(); it != m.end(); ++it) keys.insert(it.key());
            }
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(OrDefault(Str(o, {"type"}), "Opaque"));
            c.push_back(static_cast<int64_t>(keys.size()));
            c.push_back(Age(o));
          }};
}

Printer ServiceAccountPrinter() {
  return {{NameCol(), Str0("Secrets", "Number of secrets listed by the account."), AgeCol()},
          [](const Json& o, Row* r) {
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(static_cast<int64_t>(Count(At(o, {"secrets"}))));
            c.push_back(Age(o));
          }};
}

Printer ResourceQuotaPrinter() {
  // v1.32 order: AGE before REQUEST and LIMIT.
  return {{NameCol(), AgeCol(), Str0("Request", "Used and hard request quotas."),
           Str0("Limit", "Used and hard limit quotas.")},
          [](const Json& o, Row* r) {
            const Json& hard = At(o, {"status", "hard"});
            const Json& used = At(o, {"status", "used"});
            Strings requests, limits;
            if (hard.is_object()) {
              std::map<std::string, const Json*> sorted;
              for (auto it = hard.begin(); it != hard.end(); ++it) sorted[it.key()] = &it.value();
              for (const auto& [resource, h] : sorted) {
                std::string item = resource + ": " + Quantity(At(used, {resource.c_str()})) +
                                   "/" + Quantity(*h);
                size_t dot = resource.find('.');
                bool is_limit = dot != std::string::npos && resource.substr(0, dot) == "limits";
                (is_limit ? limits : requests).push_back(item);
              }
            }
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Age(o));
            c.push_back(Join(requests, ", "));
            c.push_back(Join(limits, ", "));
          }};
}

// ---------------------------------------------------------------------------
// Storage

// The class from the beta annotation, else from the spec.
std::string StorageClassOf(const Json& o) {
  const Json& beta = At(o, {"metadata", "annotations", "volume.beta.kubernetes.io/storage-class"});
  if (beta.is_string()) return beta.get<std::string>();
  return Str(o, {"spec", "storageClassName"});
}

Printer PersistentVolumePrinter() {
  return {{NameCol(), Str0("Capacity", "The volume's size."),
           Str0("Access Modes", "How the volume can be mounted."),
           Str0("Reclaim Policy", "What happens to the volume when its claim goes."),
           Str0("Status", "The phase of the volume."),
           Str0("Claim", "The claim bound to the volume."),
           Str0("StorageClass", "The volume's storage class."),
           Str0("VolumeAttributesClass", "The volume's attributes class."),
           Str0("Reason", "Why the volume is in its phase."), AgeCol(),
           Str1("VolumeMode", "Filesystem or Block.")},
          [](const Json& o, Row* r) {
            std::string claim;
            const Json& ref = At(o, {"spec", "claimRef"});
            if (!ref.is_null()) claim = Str(ref, {"namespace"}) + "/" + Str(ref, {"name"});
            std::string phase = OrDefault(Str(o, {"status", "phase"}), "Pending");
            if (Deleting(o)) phase = "Terminating";
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Quantity(At(o, {"spec", "capacity", "storage"})));
            c.push_back(AccessModes(At(o, {"spec", "accessModes"})));
            c.push_back(OrDefault(Str(o, {"spec", "persistentVolumeReclaimPolicy"}), "Retain"));
            c.push_back(phase);
            c.push_back(claim);
            c.push_back(StorageClassOf(o));
            c.push_back(OrDefault(Str(o, {"spec", "volumeAttributesClassName"}), "<unset>"));
            c.push_back(Str(o, {"status", "reason"}));
            c.push_back(Age(o));
            c.push_back(OrDefault(Str(o, {"spec", "volumeMode"}), "Filesystem"));
          }};
}

Printer PersistentVolumeClaimPrinter() {
  return {{NameCol(), Str0("Status", "The phase of the claim."),
           Str0("Volume", "The volume bound to the claim."),
           Str0("Capacity", "The bound volume's size."),
           Str0("Access Modes", "How the bound volume can be mounted."),
           Str0("StorageClass", "The claim's storage class."),
           Str0("VolumeAttributesClass", "The claim's attributes class."), AgeCol(),
           Str1("VolumeMode", "Filesystem or Block.")},
          [](const Json& o, Row* r) {
            std::string phase = OrDefault(Str(o, {"status", "phase"}), "Pending");
            if (Deleting(o)) phase = "Terminating";
            std::string volume = Str(o, {"spec", "volumeName"});
            std::string capacity, modes;
            if (!volume.empty()) {
              modes = AccessModes(At(o, {"status", "accessModes"}));
              capacity = Quantity(At(o, {"status", "capacity", "storage"}));
            }
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(phase);
            c.push_back(volume);
            c.push_back(capacity);
            c.push_back(modes);
            c.push_back(StorageClassOf(o));
            c.push_back(OrDefault(Str(o, {"spec", "volumeAttributesClassName"}), "<unset>"));
            c.push_back(Age(o));
            c.push_back(OrDefault(Str(o, {"spec", "volumeMode"}), "Filesystem"));
          }};
}

Printer StorageClassPrinter() {
  return {{NameCol(), Str0("Provisioner", "The volume plugin that provisions volumes."),
           Str0("ReclaimPolicy", "The reclaim policy of provisioned volumes."),
           Str0("VolumeBindingMode", "When volumes are bound and provisioned."),
           Str0("AllowVolumeExpansion", "Whether volumes can be grown."), AgeCol()},
          [](const Json& o, Row* r) {
            std::string name = Name(o);
            if (Annotation(o, "storageclass.kubernetes.io/is-default-class") == "true" ||
                Annotation(o, "storageclass.beta.kubernetes.io/is-default-class") == "true")
              name += " (default)";
            Json& c = r->cells;
            c.push_back(name);
            c.push_back(Str(o, {"provisioner"}));
            c.push_back(OrDefault(Str(o, {"reclaimPolicy"}), "Delete"));
            c.push_back(OrDefault(Str(o, {"volumeBindingMode"}), "Immediate"));
            c.push_back(Bool(At(o, {"allowVolumeExpansion"})));
            c.push_back(Age(o));
          }};
}

// ---------------------------------------------------------------------------
// RBAC

Printer BindingPrinter() {
  return {{NameCol(), Str0("Role", "The role the binding grants."), AgeCol(),
           Str1("Users", "Users bound."), Str1("Groups", "Groups bound."),
           Str1("ServiceAccounts", "Service accounts bound, as namespace/name.")},
          [](const Json& o, Row* r) {
            Strings users, groups, accounts;
            for (const Json& s : Array(o, {"subjects"})) {
              std::string kind = Str(s, {"kind"});
              if (kind == "ServiceAccount") {
                accounts.push_back(Str(s, {"namespace"}) + "/" + Str(s, {"name"}));
              } else if (kind == "User") {
                users.push_back(Str(s, {"name"}));
              } else if (kind == "Group") {
                groups.push_back(Str(s, {"name"}));
              }
            }
            Json& c = r->cells;
            c.push_back(Name(o));
            c.push_back(Str(o, {"roleRef", "kind"}) + "/" + Str(o, {"roleRef", "name"}));
            c.push_back(Age(o));
            c.push_back(Join(users, ", "));
            c.push_back(Join(groups, ", "));
            c.push_back(Join(accounts, ", "));
          }};
}

// ---------------------------------------------------------------------------
// Kinds upstream has no printer for: NAME and CREATED AT, a timestamp.

Printer GenericPrinter() {
  return {{NameCol(), {"Created At", "date", 0, kAgeDescription}},
          [](const Json& o, Row* r) {
            r->cells.push_back(Name(o));
            r->cells.push_back(Rfc3339(ParseTime(At(o, {"metadata", "creationTimestamp"}))));
          }};
}

const Printer& PrinterFor(const ResourceType& type) {
  static const std::map<std::string, Printer> printers = {
      {"Pod", PodPrinter()},
      {"Deployment", DeploymentPrinter()},
      {"ReplicaSet", ReplicaSetPrinter()},
      {"StatefulSet", StatefulSetPrinter()},
      {"DaemonSet", DaemonSetPrinter()},
      {"ControllerRevision", ControllerRevisionPrinter()},
      {"Job", JobPrinter()},
      {"CronJob", CronJobPrinter()},
      {"PodDisruptionBudget", PodDisruptionBudgetPrinter()},
      {"HorizontalPodAutoscaler", HorizontalPodAutoscalerPrinter()},
      {"Service", ServicePrinter()},
      {"Endpoints", EndpointsPrinter()},
      {"EndpointSlice", EndpointSlicePrinter()},
      {"Ingress", IngressPrinter()},
      {"IngressClass", IngressClassPrinter()},
      {"NetworkPolicy", NetworkPolicyPrinter()},
      {"Node", NodePrinter()},
      {"Namespace", NamespacePrinter()},
      {"Event", EventPrinter()},
      {"Lease", LeasePrinter()},
      {"PriorityClass", PriorityClassPrinter()},
      {"ConfigMap", ConfigMapPrinter()},
      {"Secret", SecretPrinter()},
      {"ServiceAccount", ServiceAccountPrinter()},
      {"ResourceQuota", ResourceQuotaPrinter()},
      {"PersistentVolume", PersistentVolumePrinter()},
      {"PersistentVolumeClaim", PersistentVolumeClaimPrinter()},
      {"StorageClass", StorageClassPrinter()},
      {"RoleBinding", BindingPrinter()},
      {"ClusterRoleBinding", BindingPrinter()},
      // Role, ClusterRole, LimitRange, CustomResourceDefinition and the
      // rest: the generic table, as upstream.
  };
  static const Printer generic = GenericPrinter();
  auto it = printers.find(type.kind);
  return it == printers.end() ? generic : it->second;
}

}  // namespace

std::string HumanDuration(int64_t seconds) {
  char buf[32];
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return std::to_string(seconds) + "s";
  int64_t minutes = seconds / 60;
  if (minutes < 10) {
    int64_t s = seconds % 60;
    if (s == 0) return std::to_string(minutes) + "m";
    snprintf(buf, sizeof(buf), "%lldm%llds", (long long)minutes, (long long)s);
    return buf;
  }
  if (minutes < 180) return std::to_string(minutes) + "m";
  int64_t hours = seconds / 3600;
  if (hours < 8) {
    int64_t m = minutes % 60;
    if (m == 0) return std::to_string(hours) + "h";
    snprintf(buf, sizeof(buf), "%lldh%lldm", (long long)hours, (long long)m);
    return buf;
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    if (h == 0) return std::to_string(hours / 24) + "d";
    snprintf(buf, sizeof(buf), "%lldd%lldh", (long long)(hours / 24), (long long)h);
    return buf;
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    int64_t dy = (hours / 24) % 365;
    if (dy == 0) return std::to_string(hours / 24 / 365) + "y";
    snprintf(buf, sizeof(buf), "%lldy%lldd", (long long)(hours / 24 / 365), (long long)dy);
    return buf;
  }
  return std::to_string(hours / 24 / 365) + "y";
}

int64_t SecondsSince(const std::string& ts) {
  Instant t = ParseTime(ts);
  if (t.zero) return 0;
  return SecondsBetween(t, NowInstant());
}

Json ToTable(const ResourceType& type, const std::vector<Json>& objects,
             const std::string& include_object) {
  if (type.custom) return CustomResourceTable(type, objects, include_object);
  const Printer& printer = PrinterFor(type);
  Json defs = Json::array();
  for (const Column& c : printer.columns)
    defs.push_back({{"name", c.name},
                    {"type", c.type},
                    {"format", c.format},
                    {"description", c.description},
                    {"priority", c.priority}});
  Json rows = Json::array();
  for (const auto& o : objects) {
    Row r;
    printer.row(o, &r);
    Json row = {{"cells", std::move(r.cells)}};
    if (!r.conditions.empty()) row["conditions"] = std::move(r.conditions);
    if (include_object == "Object") {
      row["object"] = o;
    } else if (include_object != "None") {
      row["object"] = {{"kind", "PartialObjectMetadata"},
                       {"apiVersion", "meta.k8s.io/v1"},
                       {"metadata", o.contains("metadata") ? o["metadata"] : Json::object()}};
    }
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", Json::object()},
          {"columnDefinitions", defs}, {"rows", rows}};
}

}  // namespace kubit::api

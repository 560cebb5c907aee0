// The cron schedule check of CronJob validation: the errors of the
// robfig/cron (v3) standard parser upstream uses, word for word: five
// fields (minute hour day-of-month month day-of-week), names for months and
// weekdays, ranges, steps, and the @descriptors.
#include <cstdlib>
#include <sstream>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

struct Bounds {
  int64_t min, max;
  const char* const* names;  // lower-case names for min.., or null
};

const char* const kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", nullptr};
const char* const kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

// strconv.Atoi, with its error text.
bool Atoi(const std::string& s, int64_t* out, std::string* err) {
  size_t i = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i >= s.size()) {
    *err = "strconv.Atoi: parsing " + Q(s) + ": invalid syntax";
    return false;
  }
  int64_t v = 0;
  for (; i < s.size(); i++) {
    if (s[i] < '0' || s[i] > '9') {
      *err = "strconv.Atoi: parsing " + Q(s) + ": invalid syntax";
      return false;
    }
    if (v > (INT64_MAX - (s[i] - '0')) / 10) {
      *err = "strconv.Atoi: parsing " + Q(s) + ": value out of range";
      return false;
    }
    v = v * 10 + (s[i] - '0');
  }
  *out = neg ? -v : v;
  return true;
}

bool MustParseInt(const std::string& expr, int64_t* out, std::string* err) {
  std::string e;
  if (!Atoi(expr, out, &e)) {
    *err = "failed to parse int from " + expr + ": " + e;
    return false;
  }
  if (*out < 0) {
    *err = "negative number (" + std::to_string(*out) + ") not allowed: " + expr;
    return false;
  }
  return true;
}

bool ParseIntOrName(const std::string& expr, const Bounds& b, int64_t* out, std::string* err) {
  if (b.names) {
    std::string lower = expr;
    for (char& c : lower) c = char(tolower(static_cast<unsigned char>(c)));
    for (int i = 0; b.names[i]; i++)
      if (lower == b.names[i]) {
        *out = b.min + i;
        return true;
      }
  }
  return MustParseInt(expr, out, err);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) return parts;
    start = pos + 1;
  }
}

std::string GetRange(const std::string& expr, const Bounds& b) {
  std::vector<std::string> range_and_step = Split(expr, '/');
  std::vector<std::string> low_high = Split(range_and_step[0], '-');
  bool single = low_high.size() == 1;
  int64_t start = 0, end = 0, step = 1;
  std::string err;
  if (low_high[0] == "*" || low_high[0] == "?") {
    start = b.min;
    end = b.max;
  } else {
    if (!ParseIntOrName(low_high[0], b, &start, &err)) return err;
    if (low_high.size() == 1) end = start;
    else if (low_high.size() == 2) {
      if (!ParseIntOrName(low_high[1], b, &end, &err)) return err;
    } else {
      return "too many hyphens: " + expr;
    }
  }
  if (range_and_step.size() == 2) {
    if (!MustParseInt(range_and_step[1], &step, &err)) return err;
    if (single) end = b.max;
  } else if (range_and_step.size() > 2) {
    return "too many slashes: " + expr;
  }
  if (start < b.min)
    return "beginning of range (" + std::to_string(start) + ") below minimum (" + std::to_string(b.min) + "): " + expr;
  if (end > b.max)
    return "end of range (" + std::to_string(end) + ") above maximum (" + std::to_string(b.max) + "): " + expr;
  if (start > end)
    return "beginning of range (" + std::to_string(start) + ") beyond end of range (" + std::to_string(end) + "): " + expr;
  if (step == 0) return "step of range should be a positive number: " + expr;
  return "";
}

std::string GetField(const std::string& field, const Bounds& b) {
  for (const std::string& r : Split(field, ',')) {
    if (r.empty()) continue;
    std::string err = GetRange(r, b);
    if (!err.empty()) return err;
  }
  return "";
}

// Go's time.ParseDuration errors.
std::string DurationError(const std::string& orig) {
  std::string s = orig;
  auto quote = [](const std::string& v) { return "\"" + v + "\""; };
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s = s.substr(1);
  if (s == "0") return "";
  if (s.empty()) return "time: invalid duration " + quote(orig);
  static const char* kUnits[] = {"ns", "us", "\xc2\xb5s", "\xce\xbcs", "ms", "s", "m", "h"};
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return "time: invalid duration " + quote(orig);
    size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') i++;
    bool pre = i > 0, post = false;
    if (i < s.size() && s[i] == '.') {
      size_t j = i + 1;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') j++;
      post = j > i + 1;
      i = j;
    }
    if (!pre && !post) return "time: invalid duration " + quote(orig);
    s = s.substr(i);
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !(s[u] >= '0' && s[u] <= '9')) u++;
    if (u == 0) return "time: missing unit in duration " + quote(orig);
    std::string unit = s.substr(0, u);
    bool known = false;
    for (const char* k : kUnits) known = known || unit == k;
    if (!known) return "time: unknown unit " + quote(unit) + " in duration " + quote(orig);
    s = s.substr(u);
  }
  return "";
}

}  // namespace

std::string CronParseError(const std::string& schedule) {
  std::string spec = schedule;
  if (spec.empty()) return "empty spec string";
  if (spec.rfind("TZ=", 0) == 0 || spec.rfind("CRON_TZ=", 0) == 0) {
    size_t sp = spec.find(' ');
    size_t eq = spec.find('=');
    if (sp == std::string::npos) {
      std::string loc = spec.substr(eq + 1);
      return "provided bad location " + loc + ": unknown time zone " + loc;
    }
    spec = spec.substr(sp);
    size_t b = spec.find_first_not_of(" \t\n\r\v\f");
    spec = b == std::string::npos ? "" : spec.substr(b);
    while (!spec.empty() && isspace(static_cast<unsigned char>(spec.back()))) spec.pop_back();
  }
  if (!spec.empty() && spec[0] == '@') {
    static const char* kDescriptors[] = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"};
    for (const char* d : kDescriptors)
      if (spec == d) return "";
    if (spec.rfind("@every ", 0) == 0) {
      std::string err = DurationError(spec.substr(7));
      return err.empty() ? "" : "failed to parse duration " + spec + ": " + err;
    }
    return "unrecognized descriptor: " + spec;
  }
  std::vector<std::string> fields;
  std::istringstream in(spec);
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5) {
    std::string list = "[";
    for (size_t i = 0; i < fields.size(); i++) list += (i ? " " : "") + fields[i];
    return "expected exactly 5 fields, found " + std::to_string(fields.size()) + ": " + list + "]";
  }
  const Bounds bounds[] = {{0, 59, nullptr}, {0, 23, nullptr}, {1, 31, nullptr}, {1, 12, kMonths}, {0, 6, kDays}};
  for (size_t i = 0; i < 5; i++) {
    std::string err = GetField(fields[i], bounds[i]);
    if (!err.empty()) return err;
  }
  return "";
}

}  // namespace kubit::api::validation

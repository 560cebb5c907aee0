#include "core/controllers/cron_schedule.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

namespace kubit::controllers {
namespace {

// Set in a field written as `*` or `?` (without a step above 1): robfig's
// rule for combining day-of-month and day-of-week.
constexpr uint64_t kStar = uint64_t(1) << 63;

struct Bounds {
  int min, max;
  const char* const* names;
};
const char* const kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", nullptr};
const char* const kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};
const Bounds kMinute{0, 59, nullptr}, kHour{0, 23, nullptr}, kDom{1, 31, nullptr}, kMonth{1, 12, kMonths},
    kDow{0, 6, kDays};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) return out;
    start = pos + 1;
  }
}

bool Number(const std::string& s, const Bounds* b, int* out) {
  if (b && b->names) {
    std::string lower = s;
    for (char& c : lower) c = char(tolower(static_cast<unsigned char>(c)));
    for (int i = 0; b->names[i]; i++)
      if (lower == b->names[i]) return *out = b->min + i, true;
  }
  if (s.empty() || s.size() > 6) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool Range(const std::string& expr, const Bounds& b, uint64_t* bits, std::string* error) {
  std::vector<std::string> range_step = Split(expr, '/');
  std::vector<std::string> low_high = Split(range_step[0], '-');
  int start, end, step = 1;
  uint64_t extra = 0;
  auto bad = [&](const std::string& why) { return *error = why + ": " + expr, false; };
  if (range_step.size() > 2) return bad("too many slashes");
  if (low_high[0] == "*" || low_high[0] == "?") {
    start = b.min, end = b.max, extra = kStar;
  } else {
    if (low_high.size() > 2) return bad("too many hyphens");
    if (!Number(low_high[0], &b, &start)) return bad("bad value");
    end = start;
    if (low_high.size() == 2 && !Number(low_high[1], &b, &end)) return bad("bad value");
  }
  if (range_step.size() == 2) {
    if (!Number(range_step[1], nullptr, &step)) return bad("bad step");
    if (low_high.size() == 1) end = b.max;  // "5/10" is "5-max/10"
    if (step > 1) extra = 0;
  }
  if (start < b.min || end > b.max || start > end) return bad("value out of range");
  if (step == 0) return bad("step of range should be a positive number");
  for (int i = start; i <= end; i += step) *bits |= uint64_t(1) << i;
  *bits |= extra;
  return true;
}

bool Field(const std::string& field, const Bounds& b, uint64_t* bits, std::string* error) {
  for (const std::string& r : Split(field, ','))
    if (!Range(r, b, bits, error)) return false;
  return true;
}

bool Has(uint64_t bits, int v) { return (bits >> v) & 1; }

}  // namespace

bool ParseGoDuration(const std::string& text, double* nanos) {
  static const struct { const char* unit; double ns; } kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  std::string s = text;
  double sign = 1;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) sign = s[0] == '-' ? -1 : 1, s.erase(0, 1);
  if (s == "0") return *nanos = 0, true;
  if (s.empty()) return false;
  double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) i++;
    if (i == 0 || s.substr(0, i) == ".") return false;
    double value = atof(s.substr(0, i).c_str());
    size_t j = i;
    while (j < s.size() && !isdigit(static_cast<unsigned char>(s[j])) && s[j] != '.') j++;
    const std::string unit = s.substr(i, j - i);
    bool known = false;
    for (const auto& u : kUnits)
      if (unit == u.unit) total += value * u.ns, known = true;
    if (!known) return false;
    s.erase(0, j);
  }
  *nanos = sign * total;
  return true;
}


bool CronSchedule::Parse(const std::string& text, CronSchedule* out, std::string* error) {
  std::string spec = text;
  while (!spec.empty() && isspace(static_cast<unsigned char>(spec.front()))) spec.erase(0, 1);
  while (!spec.empty() && isspace(static_cast<unsigned char>(spec.back()))) spec.pop_back();
  if (spec.empty()) return *error = "empty spec string", false;
  if (spec.rfind("@every ", 0) == 0) {
    double nanos = 0;
    if (!ParseGoDuration(spec.substr(7), &nanos)) return *error = "failed to parse duration " + spec, false;
    // robfig: at least a second, in whole seconds.
    CronSchedule s;
    s.every_ = std::max<int64_t>(1, static_cast<int64_t>(nanos / 1e9));
    *out = s;
    return true;
  }
  if (spec[0] == '@') {
    static const struct { const char* name; const char* fields; } kDescriptors[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"}};
    for (const auto& d : kDescriptors)
      if (spec == d.name) return Parse(d.fields, out, error);
    return *error = "unrecognized descriptor: " + spec, false;
  }
  std::vector<std::string> fields;
  std::string cur;
  for (char c : spec) {
    if (isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) fields.push_back(cur), cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) fields.push_back(cur);
  if (fields.size() != 5)
    return *error = "expected exactly 5 fields, found " + std::to_string(fields.size()) + ": " + spec, false;
  CronSchedule s;
  if (!Field(fields[0], kMinute, &s.minute_, error) || !Field(fields[1], kHour, &s.hour_, error) ||
      !Field(fields[2], kDom, &s.dom_, error) || !Field(fields[3], kMonth, &s.month_, error) ||
      !Field(fields[4], kDow, &s.dow_, error))
    return false;
  *out = s;
  return true;
}

int64_t CronSchedule::Next(int64_t after, const TimeZone& zone) const {
  if (every_ > 0) return after + every_;
  int64_t t = after + 1;
  bool added = false;
  const int year_limit = zone.ToWall(t).year + 5;
  auto day_matches = [&](const WallTime& w) {
    bool dom = Has(dom_, w.day), dow = Has(dow_, w.weekday);
    // Both restricted: either may match; otherwise both must.
    if ((dom_ & kStar) || (dow_ & kStar)) return dom && dow;
    return dom || dow;
  };
wrap:
  WallTime w = zone.ToWall(t);
  if (w.year > year_limit) return 0;
  while (!Has(month_, w.month)) {
    if (!added) added = true, t = zone.FromWall(w.year, w.month, 1, 0, 0, 0), w = zone.ToWall(t);
    t = zone.FromWall(w.year, w.month + 1, w.day, w.hour, w.minute, w.second);
    w = zone.ToWall(t);
    if (w.month == 1) goto wrap;
  }
  while (!day_matches(w)) {
    if (!added) added = true, t = zone.FromWall(w.year, w.month, w.day, 0, 0, 0), w = zone.ToWall(t);
    t = zone.FromWall(w.year, w.month, w.day + 1, w.hour, w.minute, w.second);
    w = zone.ToWall(t);
    // A DST change moved midnight: back onto it, as robfig does.
    if (w.hour != 0) {
      t += w.hour > 12 ? int64_t(24 - w.hour) * 3600 : -int64_t(w.hour) * 3600;
      w = zone.ToWall(t);
    }
    if (w.day == 1) goto wrap;
  }
  while (!Has(hour_, w.hour)) {
    if (!added) added = true, t = zone.FromWall(w.year, w.month, w.day, w.hour, 0, 0);
    t += 3600;
    w = zone.ToWall(t);
    if (w.hour == 0) goto wrap;
  }
  while (!Has(minute_, w.minute)) {
    if (!added) added = true, t -= ((t % 60) + 60) % 60;
    t += 60;
    w = zone.ToWall(t);
    if (w.minute == 0) goto wrap;
  }
  // Seconds are always 0 in a five-field schedule: robfig steps a second
  // at a time to the next minute and starts over; so does this, at once.
  if (w.second != 0) {
    added = true;
    t += 60 - w.second;
    goto wrap;
  }
  return t;
}

}  // namespace kubit::controllers

#include "core/controllers/cron_schedule_timezone.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

namespace kubit::controllers {
namespace {

int64_t BigEndian(const std::string& b, size_t pos, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) v = (v << 8) | static_cast<unsigned char>(b[pos + i]);
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// Days since 1970-01-01 of a proleptic Gregorian date; month may be any int.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y += (m - 1) / 12;
  m = (m - 1) % 12 + 1;
  if (m <= 0) m += 12, y -= 1;
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

bool TimeZone::Load(const std::string& name, TimeZone* out, std::string* error, const std::string& root) {
  if (name.empty() || name == "UTC") {
    *out = TimeZone();
    return true;
  }
  // time.LoadLocation's rule: no absolute paths, no way out of the root.
  if (name[0] == '/' || name.find("..") != std::string::npos || name.find('\\') != std::string::npos) {
    *error = "invalid time zone name \"" + name + "\"";
    return false;
  }
  std::ifstream in(root + "/" + name, std::ios::binary);
  std::stringstream data;
  if (!in || !(data << in.rdbuf())) {
    *error = "unknown time zone " + name;
    return false;
  }
  if (!Parse(data.str(), out, error)) {
    *error = "time zone " + name + ": " + *error;
    return false;
  }
  return true;
}

bool TimeZone::Parse(const std::string& b, TimeZone* out, std::string* error) {
  auto header = [&](size_t pos, int64_t counts[6]) {
    if (b.size() < pos + 44 || b.compare(pos, 4, "TZif") != 0) return false;
    for (int i = 0; i < 6; i++) counts[i] = BigEndian(b, pos + 20 + 4 * i, 4);
    return true;
  };
  // Counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt.
  int64_t n[6];
  if (!header(0, n)) {
    *error = "not a TZif file";
    return false;
  }
  size_t pos = 44;
  size_t time_size = 4;
  if (b[4] >= '2') {
    // Skip the 32-bit block; the 64-bit one follows with its own header.
    pos += n[3] * 4 + n[3] + n[4] * 6 + n[5] + n[2] * 8 + n[1] + n[0];
    if (!header(pos, n)) {
      *error = "truncated TZif file";
      return false;
    }
    pos += 44;
    time_size = 8;
  }
  const int64_t timecnt = n[3], typecnt = n[4];
  if (typecnt < 1 || b.size() < pos + timecnt * (time_size + 1) + typecnt * 6) {
    *error = "truncated TZif file";
    return false;
  }
  TimeZone z;
  const size_t types_at = pos + timecnt * time_size, infos_at = types_at + timecnt;
  auto offset_of = [&](int64_t type) { return static_cast<int>(BigEndian(b, infos_at + type * 6, 4)); };
  for (int64_t i = 0; i < timecnt; i++) {
    int64_t type = static_cast<unsigned char>(b[types_at + i]);
    if (type >= typecnt) {
      *error = "bad TZif transition type";
      return false;
    }
    z.transitions_.push_back(BigEndian(b, pos + i * time_size, time_size));
    z.offsets_.push_back(offset_of(type));
  }
  z.initial_offset_ = offset_of(0);
  *out = std::move(z);
  return true;
}

int TimeZone::Lookup(int64_t utc, int64_t* start, int64_t* end) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  size_t i = it - transitions_.begin();
  *start = i == 0 ? INT64_MIN : transitions_[i - 1];
  *end = i == transitions_.size() ? INT64_MAX : transitions_[i];
  return i == 0 ? initial_offset_ : offsets_[i - 1];
}

int TimeZone::Offset(int64_t utc) const {
  int64_t start, end;
  return Lookup(utc, &start, &end);
}

WallTime TimeZone::ToWall(int64_t utc) const {
  time_t local = static_cast<time_t>(utc + Offset(utc));
  struct tm tm;
  gmtime_r(&local, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_wday};
}

int64_t TimeZone::FromWall(int year, int month, int day, int hour, int minute, int second) const {
  int64_t wall = DaysFromCivil(year, month, 1) * 86400 + int64_t(day - 1) * 86400 + int64_t(hour) * 3600 +
                 int64_t(minute) * 60 + second;
  // Go's time.Date: the offset in effect at the wall time read as UTC, unless
  // the instant it gives falls outside that offset's span.
  int64_t start, end;
  int offset = Lookup(wall, &start, &end);
  if (offset != 0) {
    int64_t utc = wall - offset;
    if (utc < start || utc >= end) offset = Offset(utc);
  }
  return wall - offset;
}

}  // namespace kubit::controllers

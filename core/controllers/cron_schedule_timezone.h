// TimeZone: a zone of the TZ database read from its TZif file under
// /usr/share/zoneinfo (no network, no tzdata linked in), for CronJobs'
// spec.timeZone. Converts between UTC seconds and wall-clock time the way
// Go's time package does, so schedules fire at the same instants as
// upstream's, across DST changes too.
//
// Instants past the file's last transition keep its last offset (Debian's
// "fat" files list transitions to 2037; the POSIX rule in the footer is not
// read).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kubit::controllers {

// Wall-clock fields; month 1-12, weekday 0 (Sunday)-6.
struct WallTime {
  int year, month, day, hour, minute, second, weekday;
};

class TimeZone {
 public:
  TimeZone() = default;  // UTC
  // "UTC", "" or a TZ database name ("Europe/Berlin"); `root` is where the
  // zone files are. False with *error for an unknown or malformed zone.
  static bool Load(const std::string& name, TimeZone* out, std::string* error,
                   const std::string& root = "/usr/share/zoneinfo");
  // From a TZif file's bytes (the same format as /etc/localtime).
  static bool Parse(const std::string& tzif, TimeZone* out, std::string* error);

  // UTC offset in seconds at `utc`.
  int Offset(int64_t utc) const;
  WallTime ToWall(int64_t utc) const;
  // The instant of a wall-clock time; out-of-range fields carry over
  // (month 13 is January next year), times in a DST gap or overlap
  // resolve as Go's time.Date does.
  int64_t FromWall(int year, int month, int day, int hour, int minute, int second) const;

 private:
  // Offset in effect at `utc`, and the span [start, end) it holds for.
  int Lookup(int64_t utc, int64_t* start, int64_t* end) const;

  std::vector<int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int> offsets_;          // the offset from each transition on
  int initial_offset_ = 0;            // before the first transition
};

}  // namespace kubit::controllers

// Cron schedules and time zones as the CronJob controller reads them:
// robfig/cron's standard syntax and its Next, in UTC and in TZ database
// zones across DST changes.
#include <doctest/doctest.h>

#include <ctime>

#include "core/controllers/cron_schedule.h"

namespace kubit::controllers {
namespace {

int64_t Unix(const std::string& rfc3339_utc) {
  struct tm tm = {};
  REQUIRE(strptime(rfc3339_utc.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm));
  return timegm(&tm);
}

// Next activation after `after` (RFC 3339, UTC) as RFC 3339 in UTC.
std::string NextAfter(const std::string& schedule, const std::string& after, const std::string& zone_name = "UTC") {
  CronSchedule s;
  std::string error;
  REQUIRE_MESSAGE(CronSchedule::Parse(schedule, &s, &error), error);
  TimeZone zone;
  REQUIRE_MESSAGE(TimeZone::Load(zone_name, &zone, &error), error);
  int64_t next = s.Next(Unix(after), zone);
  if (next == 0) return "never";
  time_t t = next;
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool Parses(const std::string& schedule) {
  CronSchedule s;
  std::string error;
  return CronSchedule::Parse(schedule, &s, &error);
}

}  // namespace

TEST_CASE("controllers cron schedule: fields, ranges, steps, names") {
  CHECK(NextAfter("* * * * *", "2026-05-04T10:07:30Z") == "2026-05-04T10:08:00Z");
  CHECK(NextAfter("* * * * *", "2026-05-04T10:07:00Z") == "2026-05-04T10:08:00Z");  // strictly after
  CHECK(NextAfter("*/15 * * * *", "2026-05-04T10:07:00Z") == "2026-05-04T10:15:00Z");
  CHECK(NextAfter("5/20 * * * *", "2026-05-04T10:46:00Z") == "2026-05-04T11:05:00Z");
  CHECK(NextAfter("0,30 9-17/4 * * *", "2026-05-04T13:31:00Z") == "2026-05-04T17:00:00Z");
  CHECK(NextAfter("0 9 * jan-mar MON-FRI", "2026-05-04T10:00:00Z") == "2027-01-01T09:00:00Z");
  CHECK(NextAfter("0 0 29 2 *", "2026-03-01T00:00:00Z") == "2028-02-29T00:00:00Z");
  CHECK(NextAfter("0 0 30 2 *", "2026-03-01T00:00:00Z") == "never");
  // Day of month and day of week both restricted: either matches.
  CHECK(NextAfter("0 0 13 * 5", "2026-11-01T00:00:00Z") == "2026-11-06T00:00:00Z");  // a Friday
  CHECK(NextAfter("0 0 13 * 5", "2026-11-07T00:00:00Z") == "2026-11-13T00:00:00Z");
  // One of them `*`: both must.
  CHECK(NextAfter("0 0 * * 0", "2026-11-22T08:00:00Z") == "2026-11-29T00:00:00Z");
  CHECK(NextAfter("0 0 ? * sun", "2026-11-22T08:00:00Z") == "2026-11-29T00:00:00Z");
}

TEST_CASE("controllers cron schedule: descriptors") {
  CHECK(NextAfter("@hourly", "2026-05-04T10:07:00Z") == "2026-05-04T11:00:00Z");
  CHECK(NextAfter("@daily", "2026-05-04T10:07:00Z") == "2026-05-05T00:00:00Z");
  CHECK(NextAfter("@midnight", "2026-05-04T10:07:00Z") == "2026-05-05T00:00:00Z");
  CHECK(NextAfter("@weekly", "2026-05-04T10:07:00Z") == "2026-05-10T00:00:00Z");
  CHECK(NextAfter("@monthly", "2026-05-04T10:07:00Z") == "2026-06-01T00:00:00Z");
  CHECK(NextAfter("@yearly", "2026-05-04T10:07:00Z") == "2027-01-01T00:00:00Z");
  CHECK(NextAfter("@annually", "2026-05-04T10:07:00Z") == "2027-01-01T00:00:00Z");
  // @every: a fixed period after the given time, whole seconds, at least one.
  CHECK(NextAfter("@every 1h30m", "2026-05-04T10:07:13Z") == "2026-05-04T11:37:13Z");
  CHECK(NextAfter("@every 1.5m", "2026-05-04T10:07:13Z") == "2026-05-04T10:08:43Z");
  CHECK(NextAfter("@every 500ms", "2026-05-04T10:07:13Z") == "2026-05-04T10:07:14Z");
}

TEST_CASE("controllers cron schedule: bad schedules") {
  CHECK_FALSE(Parses("@every"));
  CHECK_FALSE(Parses("@every 5x"));
  CHECK_FALSE(Parses("@often"));
  CHECK_FALSE(Parses("* * * *"));
  CHECK_FALSE(Parses("0 * * * * *"));
  CHECK_FALSE(Parses("60 * * * *"));
  CHECK_FALSE(Parses("* 24 * * *"));
  CHECK_FALSE(Parses("* * 0 * *"));
  CHECK_FALSE(Parses("* * * * 7"));
  CHECK_FALSE(Parses("5-1 * * * *"));
  CHECK_FALSE(Parses("*/0 * * * *"));
  CHECK_FALSE(Parses("1-2-3 * * * *"));
  CHECK_FALSE(Parses("* * * foo *"));
  CHECK_FALSE(Parses(""));
  CHECK(Parses("  0 0 * * *  "));
}

TEST_CASE("controllers cron schedule: time zones and DST") {
  // 09:00 in Berlin: 08:00Z in winter, 07:00Z in summer.
  CHECK(NextAfter("0 9 * * *", "2026-01-10T12:00:00Z", "Europe/Berlin") == "2026-01-11T08:00:00Z");
  CHECK(NextAfter("0 9 * * *", "2026-07-10T12:00:00Z", "Europe/Berlin") == "2026-07-11T07:00:00Z");
  // New York springs forward at 02:00 on 2026-03-08: 02:30 does not exist
  // that day, and the schedule skips it as upstream's does.
  CHECK(NextAfter("30 2 * * *", "2026-03-07T12:00:00Z", "America/New_York") == "2026-03-09T06:30:00Z");
  CHECK(NextAfter("30 2 * * *", "2026-03-06T12:00:00Z", "America/New_York") == "2026-03-07T07:30:00Z");
  // Midnight daily across the change.
  CHECK(NextAfter("0 0 * * *", "2026-03-08T04:00:00Z", "America/New_York") == "2026-03-08T05:00:00Z");
  CHECK(NextAfter("0 0 * * *", "2026-03-08T05:00:00Z", "America/New_York") == "2026-03-09T04:00:00Z");
  TimeZone z;
  std::string error;
  CHECK_FALSE(TimeZone::Load("Mars/Olympus_Mons", &z, &error));
  CHECK(error == "unknown time zone Mars/Olympus_Mons");
  CHECK_FALSE(TimeZone::Load("../etc/passwd", &z, &error));
  CHECK_FALSE(TimeZone::Parse("not a zone file", &z, &error));
}

}  // namespace kubit::controllers

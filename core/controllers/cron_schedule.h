// CronSchedule: a CronJob's spec.schedule, as upstream reads it with
// robfig/cron's standard parser: five fields (minute hour day-of-month
// month day-of-week) of lists, ranges, steps, `*`/`?` and month and
// weekday names, or one of @yearly @annually @monthly @weekly @daily
// @midnight @hourly, or "@every <Go duration>" (upstream's validation uses
// the same parser and accepts it, so its controller runs it too: every
// period after the last run, in whole seconds). Next follows robfig's
// Schedule.Next step for step, in the CronJob's time zone, so jobs start
// at the instants upstream's would.
#pragma once

#include <cstdint>
#include <string>

#include "core/controllers/cron_schedule_timezone.h"

namespace kubit::controllers {

// Go's time.ParseDuration ("1h30m", "1.5s", "300ms"), in nanoseconds:
// the form of @every and of kube-controller-manager's duration flags.
bool ParseGoDuration(const std::string& text, double* nanos);

class CronSchedule {
 public:
  // False with *error on a bad schedule.
  static bool Parse(const std::string& text, CronSchedule* out, std::string* error);
  // The first activation strictly after `after` (unix seconds), or 0 when
  // there is none within five years (a February 30th).
  int64_t Next(int64_t after, const TimeZone& zone) const;

 private:
  uint64_t minute_ = 0, hour_ = 0, dom_ = 0, month_ = 0, dow_ = 0;
  int64_t every_ = 0;  // seconds; non-zero for @every
};

}  // namespace kubit::controllers

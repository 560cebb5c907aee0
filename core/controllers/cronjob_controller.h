// CronJobController: starts a CronJob's Jobs on its schedule, as upstream's
// cronjob-controller (v2): the most recent missed start time since
// lastScheduleTime runs (unless it is older than startingDeadlineSeconds;
// more than 100 missed times are reported), concurrencyPolicy Allow, Forbid
// and Replace, suspend, timeZone (the TZ database; the server's local zone
// when unset), Jobs named <cronjob>-<scheduled time in minutes>, status
// active/lastScheduleTime/lastSuccessfulTime, and the finished Jobs beyond
// successfulJobsHistoryLimit and failedJobsHistoryLimit deleted. Each sync
// asks to run again at the next scheduled time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/client/client.h"
#include "core/client/event_recorder.h"
#include "core/client/informer.h"
#include "core/controllers/cron_schedule.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

struct CronJobControllerOptions {
  std::function<int64_t()> now;  // unix seconds; unset: the system clock
  // The zone of CronJobs without spec.timeZone (upstream: the controller
  // manager's local time).
  std::string local_zone_file = "/etc/localtime";
};

class CronJobController {
 public:
  // Registers its informers (cronjobs, jobs) with `informers`.
  CronJobController(client::Client* client, client::SharedInformerFactory* informers, Logger log,
                    CronJobControllerOptions options = {});
  void Start(int workers = 1);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  // Deletes the oldest finished Jobs beyond the history limits.
  client::Status CleanupHistory(const client::Json& cj, const std::vector<client::ObjectPtr>& jobs);
  client::Status DeleteJob(const client::Json& cj, const std::string& ns, const std::string& name);
  int64_t Now() const;

  client::Client* client_;
  client::Informer* cronjobs_;
  client::Informer* jobs_;
  Logger log_;
  CronJobControllerOptions opts_;
  TimeZone local_zone_;
  client::EventRecorder recorder_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers

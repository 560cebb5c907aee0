// What controllers read off a pod's status, as upstream's podutil:
// active (still counts toward replicas), ready (the Ready condition), and
// available (ready for at least minReadySeconds). Times are the API's
// RFC 3339 strings.
#pragma once

#include <cstdint>
#include <string>

#include "core/client/client.h"

namespace kubit::controllers {

// Not Succeeded or Failed, and not being deleted.
bool IsPodActive(const client::Json& pod);
bool IsPodReady(const client::Json& pod);
// Ready, and Ready since at least `min_ready_seconds` before `now_unix`.
bool IsPodAvailable(const client::Json& pod, int64_t min_ready_seconds, int64_t now_unix);
// When the pod's Ready condition last turned True (unix seconds); 0 if never.
int64_t PodReadySince(const client::Json& pod);
// RFC 3339 ("2026-11-22T08:17:09Z", fractions and offsets allowed) to unix
// seconds; 0 for an empty or malformed time.
int64_t ParseTime(const std::string& rfc3339);
int64_t NowUnix();

}  // namespace kubit::controllers

// Jobs' server-set fields on create, as upstream's job strategy: unless the
// user manages the selector, pods are selected by the Job's uid, which makes
// a Job's pods its own even when names are reused.
#include <nlohmann/json.hpp>

#include "core/apiserver/rest_internal.h"

namespace kubit::apiserver::rest_internal {

void GenerateJobSelector(Json* job) {
  Json& spec = (*job)["spec"];
  if (!spec.is_object()) return;  // validation speaks
  if (spec.value("manualSelector", false)) return;
  const Json& meta = (*job)["metadata"];
  std::string name = meta.value("name", ""), uid = meta.value("uid", "");
  Json& labels = spec["template"]["metadata"]["labels"];
  if (!labels.is_object()) labels = Json::object();
  // A label the user set stays; a conflict is for validation to report.
  for (const char* k : {"job-name", "batch.kubernetes.io/job-name"})
    if (!labels.contains(k)) labels[k] = name;
  for (const char* k : {"controller-uid", "batch.kubernetes.io/controller-uid"})
    if (!labels.contains(k)) labels[k] = uid;
  Json& sel = spec["selector"];
  if (!sel.is_object()) sel = Json::object();
  if (!sel["matchLabels"].is_object()) sel["matchLabels"] = Json::object();
  if (!sel["matchLabels"].contains("batch.kubernetes.io/controller-uid"))
    sel["matchLabels"]["batch.kubernetes.io/controller-uid"] = uid;
}

}  // namespace kubit::apiserver::rest_internal

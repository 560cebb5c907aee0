#include "core/controllers/hpa_metrics_client.h"

#include <nlohmann/json.hpp>

#include "core/api/defaults_quantity.h"

namespace kubit::controllers {

using client::Json;

bool PodUsageFromMetrics(const Json& list, const std::string& resource, std::map<std::string, int64_t>* milli,
                         std::string* error) {
  for (const Json& pod : list.value("items", Json::array())) {
    const std::string name = pod.value("metadata", Json::object()).value("name", "");
    int64_t sum = 0;
    bool complete = !pod.value("containers", Json::array()).empty();
    for (const Json& c : pod.value("containers", Json::array())) {
      const Json usage = c.value("usage", Json::object());
      if (!usage.contains(resource)) {
        complete = false;
        break;
      }
      auto q = api::QuantityFromJson(usage[resource]);
      int64_t v = 0;
      if (q) {
        q->exp += 3;
        q->RoundUp(0);
      }
      if (!q || !q->ToInt64(&v)) {
        *error = "pod " + name + " container " + c.value("name", "") + ": bad " + resource + " usage " +
                 usage[resource].dump();
        return false;
      }
      sum += v;
    }
    if (complete) (*milli)[name] = sum;
  }
  return true;
}

client::Status ResourceMetricsClient::ResourceUsage(const std::string& ns, const std::string& selector,
                                                    const std::string& resource,
                                                    std::map<std::string, int64_t>* milli) {
  client::ListOptions o;
  o.label_selector = selector;
  o.page_size = 0;
  Json list;
  client::Status s = client_->List({"metrics.k8s.io", "v1beta1", "pods"}, ns, o, &list);
  if (!s.ok()) return client::Status::Api(0, "", "unable to fetch metrics from resource metrics API: " + s.message());
  std::string error;
  if (!PodUsageFromMetrics(list, resource, milli, &error))
    return client::Status::Api(0, "", "unable to fetch metrics from resource metrics API: " + error);
  return client::Status();
}

}  // namespace kubit::controllers

// ResourceMetricsClient: the HPA controller's PodMetricsSource reading
// metrics.k8s.io/v1beta1 PodMetrics through the client, as upstream's
// resource metrics client does: one list of the namespace's PodMetrics by
// the target's selector, each pod's usage the sum of its containers'.
#pragma once

#include "core/client/client.h"
#include "core/controllers/hpa_controller.h"

namespace kubit::controllers {

class ResourceMetricsClient : public PodMetricsSource {
 public:
  // `client` must outlive this.
  explicit ResourceMetricsClient(client::Client* client) : client_(client) {}
  client::Status ResourceUsage(const std::string& ns, const std::string& selector, const std::string& resource,
                               std::map<std::string, int64_t>* milli) override;

 private:
  client::Client* client_;
};

// The usage of `resource` per pod of a PodMetricsList, in thousandths of
// its unit (millicores; milli-bytes); pods where a container lacks it are
// left out. False with *error for a malformed quantity.
bool PodUsageFromMetrics(const client::Json& list, const std::string& resource, std::map<std::string, int64_t>* milli,
                         std::string* error);

}  // namespace kubit::controllers

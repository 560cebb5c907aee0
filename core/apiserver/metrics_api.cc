#include "core/apiserver/metrics_api.h"

#include <time.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

#include "core/api/defaults_quantity.h"
#include "core/api/resources.h"
#include "core/api/selectors.h"
#include "core/apiserver/api_error.h"
#include "core/apiserver/responses.h"
#include "net/http_server.h"

namespace kubit::apiserver {

using Json = nlohmann::json;

namespace {

const char kVersion[] = "v1beta1";
const char kGroupVersion[] = "metrics.k8s.io/v1beta1";

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// RFC 3339 in UTC, seconds precision (metav1.Time).
std::string Rfc3339(int64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1000000000);
  tm t;
  gmtime_r(&secs, &t);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &t);
  return buf;
}

// A duration as Go's time.Duration.String() prints it: "15.003s", "1m0.5s", "250ms".
std::string GoDuration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-ns) : static_cast<uint64_t>(ns);
  auto fraction = [](uint64_t whole, uint64_t frac, int digits) {
    std::string f = std::to_string(frac);
    f = std::string(static_cast<size_t>(digits) - f.size(), '0') + f;
    while (!f.empty() && f.back() == '0') f.pop_back();
    return std::to_string(whole) + (f.empty() ? "" : "." + f);
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + fraction(u / 1000, u % 1000, 3) + "µs";
  if (u < 1000000000) return sign + fraction(u / 1000000, u % 1000000, 6) + "ms";
  std::string out = fraction((u / 1000000000) % 60, u % 1000000000, 9) + "s";
  uint64_t minutes = u / 60000000000;
  if (minutes > 0) {
    out = std::to_string(minutes % 60) + "m" + out;
    if (minutes >= 60) out = std::to_string(minutes / 60) + "h" + out;
  }
  return sign + out;
}

// CPU in nanocores and memory in bytes as canonical quantities ("12345n",
// "250m", "1", "8472Ki"), as metrics-server's uint64Quantity makes them.
std::string CpuQuantity(uint64_t nanocores) {
  auto q = api::ParseQuantity(std::to_string(nanocores) + "n");
  return q ? q->String() : "0";
}
std::string MemoryQuantity(uint64_t bytes) {
  auto q = api::ParseQuantity(std::to_string(bytes));
  if (!q) return "0";
  q->format = api::Quantity::Format::kBinarySI;
  return q->String();
}

Json UsageJson(const Usage& u) {
  return {{"cpu", CpuQuantity(u.nanocores)}, {"memory", MemoryQuantity(u.memory)}};
}

bool NodeReady(const Json& node) {
  const Json status = node.value("status", Json::object());
  for (const Json& c : status.value("conditions", Json::array()))
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

// The names of a pod's containers in the order its spec lists them.
std::vector<std::string> ContainerOrder(const Json& pod) {
  std::vector<std::string> out;
  const Json spec = pod.value("spec", Json::object());
  for (const char* list : {"initContainers", "containers"})
    for (const Json& c : spec.value(list, Json::array())) out.push_back(c.value("name", ""));
  return out;
}

ApiError MetricsNotFound(const std::string& kind, const std::string& resource, const std::string& name) {
  ApiError e{404, "NotFound", kind + "." + kMetricsGroup + " \"" + name + "\" not found"};
  e.details_name = name;
  e.details_group = kMetricsGroup;
  e.details_kind = resource;
  return e;
}

Json GroupDocument() {
  Json g = MetricsApi::GroupEntry();
  g["kind"] = "APIGroup";
  g["apiVersion"] = "v1";
  return g;
}

Json ResourceList() {
  Json resources = Json::array();
  for (const auto& [plural, kind, namespaced] :
       {std::tuple{"nodes", "NodeMetrics", false}, std::tuple{"pods", "PodMetrics", true}})
    resources.push_back({{"name", plural}, {"singularName", ""}, {"namespaced", namespaced},
                         {"kind", kind}, {"verbs", {"get", "list"}}});
  return {{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", kGroupVersion},
          {"resources", resources}};
}

}  // namespace

MetricsApi::MetricsApi(store::Store* state, NodeTunnels* tunnels, MetricsApiOptions options)
    : state_(state), tunnels_(tunnels), opts_(std::move(options)), points_(opts_.resolution) {}

void MetricsApi::Start() {
  if (!opts_.enabled || loop_.joinable()) return;
  loop_ = std::thread([this] { Loop(); });
}

void MetricsApi::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (loop_.joinable()) loop_.join();
}

void MetricsApi::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    l.unlock();
    ScrapeOnce();
    l.lock();
    cv_.wait_for(l, opts_.resolution, [this] { return stopping_; });
  }
}

bool MetricsApi::ScrapeNode(const std::string& node, std::string* text, std::string* error) {
  std::unique_ptr<net::Conn> conn;
  const int timeout_ms = static_cast<int>(std::min<int64_t>(opts_.resolution.count(), 10000));
  if (!tunnels_->Dial(node, &conn, error, timeout_ms)) return false;
  conn->SetReadTimeout(timeout_ms);
  if (!conn->Write("GET /metrics/resource HTTP/1.1\r\nHost: kubelet\r\nAccept: text/plain\r\n\r\n")) {
    *error = "the kubelet's stream closed before the request was sent";
    return false;
  }
  // The kubelet answers and closes: read to the end.
  std::string answer;
  char buf[65536];
  long n;
  while ((n = conn->Read(buf, sizeof(buf))) > 0) {
    answer.append(buf, static_cast<size_t>(n));
    if (answer.size() > (64u << 20)) {
      *error = "the kubelet's answer is larger than 64 MiB";
      return false;
    }
  }
  if (n < 0) {
    *error = "reading the kubelet's answer failed or timed out";
    return false;
  }
  size_t head_end = answer.find("\r\n\r\n");
  if (answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 12 || head_end == std::string::npos) {
    *error = "the kubelet sent no HTTP answer";
    return false;
  }
  int status = std::atoi(answer.c_str() + 9);
  if (status != 200) {
    *error = "the kubelet answered " + answer.substr(0, answer.find("\r\n"));
    return false;
  }
  *text = answer.substr(head_end + 4);
  return true;
}

void MetricsApi::ScrapeOnce() {
  const api::ResourceType* nodes_type = api::FindType("", "v1", "nodes");
  store::ListResult nodes;
  if (!state_->List(nodes_type->storage_prefix(), {}, &nodes).ok()) return;
  std::vector<std::string> ready;
  for (const auto& kv : nodes.items) {
    Json node = Json::parse(kv->value, nullptr, false);
    if (node.is_object() && NodeReady(node)) ready.push_back(node["metadata"].value("name", ""));
  }
  // Every node at once: a slow board must not hold the others back.
  MetricsBatch batch;
  std::map<std::string, std::string> errors;
  std::mutex batch_mu;
  std::vector<std::thread> scrapes;
  for (const auto& name : ready)
    scrapes.emplace_back([this, name, &batch, &errors, &batch_mu] {
      std::string text, error;
      MetricsBatch one;
      const int64_t scraped_ns = NowNs();
      bool ok = (opts_.scrape ? opts_.scrape(name, &text, &error) : ScrapeNode(name, &text, &error)) &&
                DecodeResourceMetrics(name, text, scraped_ns, &one, &error);
      std::lock_guard<std::mutex> l(batch_mu);
      if (!ok) {
        errors[name] = error;
        return;
      }
      batch.nodes.insert(one.nodes.begin(), one.nodes.end());
      for (auto& [ref, containers] : one.pods) batch.pods[ref] = std::move(containers);
    });
  for (auto& t : scrapes) t.join();
  points_.Store(batch);
  if (!opts_.log) return;
  for (const auto& [node, error] : errors) {
    auto it = failing_.find(node);
    if (it == failing_.end() || it->second != error)
      opts_.log("metrics: scraping node " + node + " failed: " + error);
  }
  for (const auto& [node, error] : failing_)
    if (!errors.count(node) && std::find(ready.begin(), ready.end(), node) != ready.end())
      opts_.log("metrics: scraping node " + node + " works again");
  failing_ = std::move(errors);
}

void MetricsApi::Serve(const RequestInfo& info, net::HttpRequest& req, net::HttpResponse& resp) {
  const bool nodes = info.plural == "nodes";
  if (info.version != kVersion || (!nodes && info.plural != "pods") || !info.subresource.empty() ||
      (nodes && !info.ns.empty()))
    return SendError(resp, ApiError::NotFoundPath());
  if (info.verb != "get" && info.verb != "list")
    return SendError(resp, ApiError::MethodNotAllowed("the server does not allow this method on the requested resource"));
  api::LabelSelector labels;
  api::FieldSelector fields;
  std::string error;
  if (!api::LabelSelector::Parse(req.Param("labelSelector"), &labels, &error) ||
      !api::FieldSelector::Parse(req.Param("fieldSelector"), &fields, &error))
    return SendError(resp, ApiError::BadRequest(error));
  const api::ResourceType* type = api::FindType("", "v1", nodes ? "nodes" : "pods");
  const std::string now = Rfc3339(NowNs());

  // The metrics object of one node or pod; null when it has no usage yet.
  auto metrics_of = [&](const Json& obj) -> Json {
    const Json meta = obj.value("metadata", Json::object());
    Json out_meta = {{"name", meta.value("name", "")}, {"creationTimestamp", now}};
    if (!nodes) out_meta["namespace"] = meta.value("namespace", "");
    if (meta.contains("labels")) out_meta["labels"] = meta["labels"];
    Usage u;
    if (nodes) {
      if (!points_.Node(meta.value("name", ""), &u)) return nullptr;
      return {{"metadata", out_meta}, {"timestamp", Rfc3339(u.timestamp_ns)}, {"window", GoDuration(u.window_ns)},
              {"usage", UsageJson(u)}};
    }
    std::vector<std::pair<std::string, Usage>> containers;
    if (!points_.Pod({meta.value("namespace", ""), meta.value("name", "")}, &containers, &u)) return nullptr;
    Json list = Json::array();
    std::vector<std::string> order = ContainerOrder(obj);
    auto rank = [&order](const std::string& name) {
      return std::find(order.begin(), order.end(), name) - order.begin();
    };
    std::stable_sort(containers.begin(), containers.end(),
                     [&rank](const auto& a, const auto& b) { return rank(a.first) < rank(b.first); });
    for (const auto& [name, cu] : containers) list.push_back({{"name", name}, {"usage", UsageJson(cu)}});
    return {{"metadata", out_meta}, {"timestamp", Rfc3339(u.timestamp_ns)}, {"window", GoDuration(u.window_ns)},
            {"containers", list}};
  };
  const std::string kind = nodes ? "NodeMetrics" : "PodMetrics";

  if (info.verb == "get") {
    store::KeyValue kv;
    store::Status s = state_->Get(type->storage_key(info.ns, info.name), &kv);
    if (s.IsNotFound()) return SendError(resp, ApiError::NotFound(*type, info.name));
    if (!s.ok()) return SendError(resp, ApiError::Internal(s.ToString()));
    Json obj = Json::parse(kv.value, nullptr, false);
    Json m = obj.is_object() ? metrics_of(obj) : Json();
    if (m.is_null())
      return SendError(resp, MetricsNotFound(nodes ? "nodemetrics" : "podmetrics", info.plural,
                                             nodes ? info.name : info.ns + "/" + info.name));
    m["kind"] = kind;
    m["apiVersion"] = kGroupVersion;
    return SendJson(resp, 200, m);
  }
  store::ListResult all;
  std::string prefix = type->storage_prefix() + (nodes || info.ns.empty() ? "" : info.ns + "/");
  store::Status s = state_->List(prefix, {}, &all);
  if (!s.ok()) return SendError(resp, ApiError::Internal(s.ToString()));
  Json items = Json::array();
  for (const auto& kv : all.items) {
    Json obj = Json::parse(kv->value, nullptr, false);
    if (!obj.is_object() || !labels.Matches(obj["metadata"].value("labels", Json::object()))) continue;
    Json m = metrics_of(obj);
    if (!m.is_null() && fields.Matches(m)) items.push_back(std::move(m));
  }
  SendJson(resp, 200, {{"kind", kind + "List"}, {"apiVersion", kGroupVersion}, {"metadata", Json::object()},
                       {"items", items}});
}

Json MetricsApi::GroupEntry() {
  Json v = {{"groupVersion", kGroupVersion}, {"version", kVersion}};
  return {{"name", kMetricsGroup}, {"versions", Json::array({v})}, {"preferredVersion", v}};
}

Json MetricsApi::AggregatedGroup() {
  Json resources = Json::array();
  for (const auto& r : ResourceList()["resources"])
    resources.push_back({{"resource", r["name"]},
                         {"responseKind", {{"group", kMetricsGroup}, {"version", kVersion}, {"kind", r["kind"]}}},
                         {"scope", r["namespaced"].get<bool>() ? "Namespaced" : "Cluster"},
                         {"singularResource", r["singularName"]},
                         {"verbs", r["verbs"]}});
  return {{"metadata", {{"name", kMetricsGroup}, {"creationTimestamp", nullptr}}},
          {"versions", Json::array({{{"version", kVersion}, {"resources", resources}, {"freshness", "Current"}}})}};
}

bool MetricsApi::ServeDiscovery(const std::string& path, net::HttpResponse& resp) const {
  const std::string group = std::string("/apis/") + kMetricsGroup;
  if (!opts_.enabled) return false;
  if (path == group || path == group + "/") {
    SendJson(resp, 200, GroupDocument());
    return true;
  }
  if (path == group + "/" + kVersion || path == group + "/" + kVersion + "/") {
    SendJson(resp, 200, ResourceList());
    return true;
  }
  return false;
}

}  // namespace kubit::apiserver

#include "core/network/ingress_proxy.h"

#include <nlohmann/json.hpp>

#include "core/network/ingress_class.h"
#include "core/network/ingress_routes.h"

namespace kubit::network {

using client::Json;
using client::ObjectPtr;
using Clock = std::chrono::steady_clock;

namespace {

const client::Resource kIngresses{"networking.k8s.io", "v1", "ingresses"};
const client::Resource kIngressClasses{"networking.k8s.io", "v1", "ingressclasses"};
const client::Resource kServices{"", "v1", "services"};
const client::Resource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices"};
const client::Resource kSecrets{"", "v1", "secrets"};
const char* kServiceNameIndex = "service-name";

}  // namespace

IngressProxy::IngressProxy(client::Client* client, IngressProxyOptions options)
    : client_(client),
      opts_(std::move(options)),
      informers_(client, [this](const std::string& m) { Log(true, "informer: " + m); }),
      ingresses_(informers_.For(kIngresses)),
      classes_(informers_.For(kIngressClasses)),
      services_(informers_.For(kServices)),
      slices_(informers_.For(kEndpointSlices)) {
  slices_->AddIndex(kServiceNameIndex, [](const Json& s) -> std::vector<std::string> {
    const Json& m = s["metadata"];
    if (!m.contains("labels") || !m["labels"].is_object()) return {};
    std::string svc = m["labels"].value("kubernetes.io/service-name", "");
    if (svc.empty()) return {};
    return {m.value("namespace", "") + "/" + svc};
  });
  client::EventHandlers h;
  h.on_add = [this](const ObjectPtr&) { Changed(); };
  h.on_update = [this](const ObjectPtr&, const ObjectPtr&) { Changed(); };
  h.on_delete = [this](const ObjectPtr&, bool) { Changed(); };
  for (client::Informer* i : {ingresses_, classes_, services_, slices_}) i->AddHandler(h);
}

IngressProxy::~IngressProxy() { Stop(); }

void IngressProxy::Log(bool error, const std::string& message) const {
  if (opts_.log) opts_.log(error, message);
}

void IngressProxy::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return;
    started_ = true;
  }
  informers_.Start();
  thread_ = std::thread([this] { Run(); });
}

void IngressProxy::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  informers_.Stop();
  std::unique_ptr<net::HttpProxy> proxy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    proxy = std::move(proxy_);
  }
  if (proxy) proxy->Stop();
}

bool IngressProxy::Serving(int* http_port, int* https_port) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!proxy_) return false;
  *http_port = proxy_->http_port();
  *https_port = proxy_->https_port();
  return true;
}

void IngressProxy::Changed() {
  std::lock_guard<std::mutex> lock(mu_);
  dirty_ = true;
  cv_.notify_all();
}

void IngressProxy::Run() {
  // The caches first: a table built from half a list would serve 404s.
  while (!informers_.WaitForSync(std::chrono::milliseconds(500))) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
  }
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Woken by a change, else every `refresh` for the Secrets (and for
      // ports that could not be bound).
      cv_.wait_for(lock, opts_.refresh, [&] { return dirty_ || stop_; });
      if (stop_) return;
      // Gathers the burst a single change brings (a rollout moves many slices).
      cv_.wait_for(lock, opts_.debounce, [&] { return stop_; });
      if (stop_) return;
      dirty_ = false;
    }
    Sync();
  }
}

ObjectPtr IngressProxy::Secret(const std::string& ns, const std::string& name) {
  std::string key = ns + "/" + name;
  auto it = secrets_.find(key);
  if (it != secrets_.end() && Clock::now() - it->second.read < opts_.refresh) return it->second.object;
  Json obj;
  client::Status s = client_->Get(kSecrets, ns, name, &obj);
  if (!s.ok() && !s.IsNotFound()) {
    Log(true, "ingress: cannot read secret " + key + ": " + s.message());
    // The last copy read serves until the server answers again.
    return it != secrets_.end() ? it->second.object : nullptr;
  }
  ObjectPtr got = s.ok() ? std::make_shared<const Json>(std::move(obj)) : nullptr;
  secrets_[key] = {got, Clock::now()};
  return got;
}

void IngressProxy::Sync() {
  ObjectPtr cls = classes_->Get(kIngressClass);
  if (!cls) {
    std::unique_ptr<net::HttpProxy> gone;
    {
      std::lock_guard<std::mutex> lock(mu_);
      gone = std::move(proxy_);
    }
    if (gone) gone->Stop();
    if (gone || !announced_off_) Log(false, "ingress: no IngressClass kubit; the proxy is off");
    announced_off_ = true;
    secrets_.clear();
    return;
  }
  bool running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running = proxy_ != nullptr;
  }
  if (!running) {
    auto proxy = std::make_unique<net::HttpProxy>(opts_.proxy);
    std::string error;
    if (!proxy->Start(&error)) {
      if (error != last_start_error_) Log(true, "ingress: cannot start the proxy (retrying): " + error);
      last_start_error_ = error;
      return;
    }
    last_start_error_.clear();
    announced_off_ = false;
    Log(false, "ingress: proxy listening on " + opts_.proxy.bind_address + " ports " +
                   std::to_string(proxy->http_port()) + " (http) and " + std::to_string(proxy->https_port()) +
                   " (https)");
    std::lock_guard<std::mutex> lock(mu_);
    proxy_ = std::move(proxy);
  }

  IngressObjects objs;
  for (const ObjectPtr& ing : ingresses_->List())
    if (ServedByKubit(*ing, cls.get())) objs.ingresses.push_back(ing);
  objs.service = [this](const std::string& ns, const std::string& name) { return services_->Get(ns, name); };
  objs.endpoint_slices = [this](const std::string& ns, const std::string& svc) {
    return slices_->ByIndex(kServiceNameIndex, ns + "/" + svc);
  };
  std::map<std::string, CachedSecret> used;
  objs.secret = [&](const std::string& ns, const std::string& name) {
    ObjectPtr s = Secret(ns, name);
    used[ns + "/" + name] = secrets_[ns + "/" + name];
    return s;
  };
  std::vector<std::string> problems;
  net::ProxyRouteTable table = BuildIngressRoutes(objs, &problems);
  secrets_ = std::move(used);  // Secrets no Ingress names any more are forgotten
  std::string joined;
  for (const auto& p : problems) joined += (joined.empty() ? "" : "; ") + p;
  if (joined != last_problems_ && !joined.empty()) Log(true, "ingress: " + joined);
  last_problems_ = joined;
  std::lock_guard<std::mutex> lock(mu_);
  if (proxy_) proxy_->SetRoutes(std::move(table));
}

}  // namespace kubit::network

#include "core/controllers/root_ca_publisher.h"

#include <nlohmann/json.hpp>

#include "core/controllers/serviceaccount_controller.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;

namespace {

const client::Resource kNamespaces{"", "v1", "namespaces"};
const client::Resource kConfigMaps{"", "v1", "configmaps"};
const char* kDescriptionAnnotation = "kubernetes.io/description";
// Upstream's wording, so that the object reads the same as on any cluster.
const char* kDescription =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
    "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is "
    "guaranteed across distributions of Kubernetes clusters.";

client::ListOptions OnlyRootCA() {
  client::ListOptions o;
  o.field_selector = std::string("metadata.name=") + kRootCAConfigMap;
  return o;
}

}  // namespace

RootCAPublisher::RootCAPublisher(client::Client* client, client::SharedInformerFactory* informers,
                                 std::string ca_pem, Logger log)
    : client_(client),
      namespaces_(informers->For(kNamespaces)),
      configmaps_(informers->For(kConfigMaps, "", OnlyRootCA())),
      ca_pem_(std::move(ca_pem)),
      log_(log),
      loop_("root-ca-cert-publisher", [this](const std::string& ns) { return Sync(ns); }, log) {
  client::EventHandlers ns_events;
  ns_events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  ns_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) {
    loop_.queue().Add(client::ObjectKey(*o));
  };
  namespaces_->AddHandler(ns_events);
  auto namespace_of = [](const ObjectPtr& o) {
    std::string ns, name;
    client::SplitKey(client::ObjectKey(*o), &ns, &name);
    return ns;
  };
  client::EventHandlers cm_events;
  cm_events.on_update = [this, namespace_of](const ObjectPtr&, const ObjectPtr& o) {
    loop_.queue().Add(namespace_of(o));
  };
  cm_events.on_delete = [this, namespace_of](const ObjectPtr& o, bool) { loop_.queue().Add(namespace_of(o)); };
  configmaps_->AddHandler(cm_events);
}

void RootCAPublisher::Start(int workers) { loop_.Start(workers); }

void RootCAPublisher::Stop() { loop_.Stop(); }

client::Status RootCAPublisher::Sync(const std::string& ns) {
  ObjectPtr nsobj = namespaces_->Get(ns);
  if (!nsobj || NamespaceTerminating(*nsobj)) return client::Status();
  Json data = {{"ca.crt", ca_pem_}};
  ObjectPtr cm = configmaps_->Get(ns, kRootCAConfigMap);
  client::Status s;
  if (!cm) {
    Json fresh = {{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata", {{"name", kRootCAConfigMap}, {"annotations", {{kDescriptionAnnotation, kDescription}}}}},
                  {"data", data}};
    s = client_->Create(kConfigMaps, ns, fresh);
    if (s.IsAlreadyExists()) return client::Status();  // the cache lags; its event follows
  } else {
    const Json meta = cm->value("metadata", Json::object());
    bool described = meta.contains("annotations") && meta["annotations"].is_object() &&
                     !meta["annotations"].value(kDescriptionAnnotation, "").empty();
    if (cm->value("data", Json()) == data && described) return client::Status();
    Json fixed = *cm;  // the cache's copy stays as it is
    fixed["data"] = data;
    fixed["metadata"]["annotations"][kDescriptionAnnotation] = kDescription;
    s = client_->Update(kConfigMaps, ns, fixed);
    if (s.IsConflict() || s.IsNotFound()) return client::Status();  // a newer event is queued
  }
  if (s.IsForbidden() && s.message().find("being terminated") != std::string::npos) return client::Status();
  if (s.ok() && log_) log_(LogLevel::kDebug, std::string("root-ca-cert-publisher: published ") + ns + "/" + kRootCAConfigMap);
  return s;
}

}  // namespace kubit::controllers

#include "core/controllers/serviceaccount_controller.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;

namespace {

const client::Resource kNamespaces{"", "v1", "namespaces"};
const client::Resource kServiceAccounts{"", "v1", "serviceaccounts"};

}  // namespace

bool NamespaceTerminating(const Json& ns) {
  const Json& meta = ns.value("metadata", Json::object());
  const Json& status = ns.value("status", Json::object());
  return (meta.is_object() && meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null()) ||
         (status.is_object() && status.value("phase", "") == "Terminating");
}

ServiceAccountController::ServiceAccountController(client::Client* client,
                                                   client::SharedInformerFactory* informers, Logger log,
                                                   std::vector<std::string> names)
    : client_(client),
      namespaces_(informers->For(kNamespaces)),
      accounts_(informers->For(kServiceAccounts)),
      log_(log),
      names_(std::move(names)),
      loop_("serviceaccount-controller", [this](const std::string& ns) { return Sync(ns); }, log) {
  client::EventHandlers ns_events;
  ns_events.on_add = [this](const ObjectPtr& o) { loop_.queue().Add(client::ObjectKey(*o)); };
  ns_events.on_update = [this](const ObjectPtr&, const ObjectPtr& o) {
    loop_.queue().Add(client::ObjectKey(*o));
  };
  namespaces_->AddHandler(ns_events);
  client::EventHandlers sa_events;
  sa_events.on_delete = [this](const ObjectPtr& o, bool) {
    std::string ns, name;
    client::SplitKey(client::ObjectKey(*o), &ns, &name);
    if (std::find(names_.begin(), names_.end(), name) != names_.end()) loop_.queue().Add(ns);
  };
  accounts_->AddHandler(sa_events);
}

void ServiceAccountController::Start(int workers) { loop_.Start(workers); }

void ServiceAccountController::Stop() { loop_.Stop(); }

client::Status ServiceAccountController::Sync(const std::string& ns) {
  ObjectPtr nsobj = namespaces_->Get(ns);
  if (!nsobj || NamespaceTerminating(*nsobj)) return client::Status();
  for (const std::string& name : names_) {
    if (accounts_->Get(ns, name)) continue;
    Json sa = {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", name}}}};
    client::Status s = client_->Create(kServiceAccounts, ns, sa);
    if (s.ok()) {
      if (log_) log_(LogLevel::kDebug, "serviceaccount-controller: created " + ns + "/" + name);
      continue;
    }
    // Already made (the cache lags), or the namespace is going away.
    if (s.IsAlreadyExists() || s.IsNotFound()) continue;
    if (s.IsForbidden() && s.message().find("being terminated") != std::string::npos) continue;
    return s;
  }
  return client::Status();
}

}  // namespace kubit::controllers

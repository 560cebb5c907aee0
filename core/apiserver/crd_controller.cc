#include "core/apiserver/crd_controller.h"

#include <nlohmann/json.hpp>

#include "core/api/custom_resources.h"
#include "core/api/meta.h"
#include "core/api/resources.h"

namespace kubit::apiserver {
namespace {

using api::Json;

const std::string kCrdPrefix = "/registry/apiextensions.k8s.io/customresourcedefinitions/";

Json Condition(const std::string& type, const std::string& reason, const std::string& message) {
  return {{"type", type}, {"status", "True"}, {"lastTransitionTime", api::Now()},
          {"reason", reason}, {"message", message}};
}

}  // namespace

const char* CrdController::kCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

CrdController::~CrdController() { Stop(); }

store::Status CrdController::Start() {
  SafeSync();
  store::Status s = state_->Watch(kCrdPrefix, state_->CurrentRevision() + 1, &watcher_);
  if (!s.ok()) return s;
  thread_ = std::thread([this] { Run(); });
  return store::Status::Ok();
}

void CrdController::Stop() {
  stop_ = true;
  if (watcher_) watcher_->Cancel();
  if (thread_.joinable()) thread_.join();
}

void CrdController::Run() {
  while (!stop_) {
    std::vector<store::EventPtr> events;
    store::Status s = watcher_->Next(&events, std::chrono::milliseconds(1000));
    if (stop_) return;
    if (!s.ok()) {
      state_->Watch(kCrdPrefix, state_->CurrentRevision() + 1, &watcher_);
      SafeSync();
      continue;
    }
    if (!events.empty()) SafeSync();
  }
}

// A malformed CRD in the store must not take the server down.
void CrdController::SafeSync() {
  try {
    Sync();
  } catch (const std::exception&) {
  }
}

void CrdController::Sync() {
  store::ListResult crds;
  if (!state_->List(kCrdPrefix, {}, &crds).ok()) return;
  std::vector<api::ResourceType> types;
  std::string signature;
  for (const auto& kv : crds.items) {
    Json crd = Json::parse(kv->value, nullptr, false);
    if (crd.is_discarded()) continue;
    Json& meta = crd["metadata"];
    std::vector<api::ResourceType> served = api::TypesFromCRD(crd);
    if (meta.contains("deletionTimestamp")) {
      // Remove every custom object, then the finalizer; the store write
      // that empties the finalizers deletes the CRD.
      for (const auto& t : served) {
        store::ListResult objs;
        if (!state_->List(t.storage_prefix(), {}, &objs).ok()) continue;
        for (const auto& o : objs.items) state_->Delete(o->key, o->mod_revision);
      }
      Json fins = Json::array();
      for (const auto& f : meta.value("finalizers", Json::array()))
        if (f != kCleanupFinalizer) fins.push_back(f);
      if (fins.empty()) {
        state_->Delete(kv->key, kv->mod_revision);
      } else {
        meta["finalizers"] = fins;
        state_->Update(kv->key, crd.dump(), kv->mod_revision);
      }
      continue;
    }
    signature += kv->key + "@" + std::to_string(kv->mod_revision) + ";";
    // A new CRD: accept its names and say it is established.
    Json& status = crd["status"];
    if (!status.is_object()) status = Json::object();
    bool established = false;
    for (const auto& c : status.value("conditions", Json::array()))
      established |= c.value("type", "") == "Established" && c.value("status", "") == "True";
    if (!established && !served.empty()) {
      status["conditions"] = {
          Condition("NamesAccepted", "NoConflicts", "no conflicts found"),
          Condition("Established", "InitialNamesAccepted", "the initial names have been accepted")};
      status["acceptedNames"] = crd["spec"].value("names", Json::object());
      Json stored = Json::array();
      for (const auto& v : crd["spec"].value("versions", Json::array()))
        if (v.value("storage", false)) stored.push_back(v.value("name", ""));
      status["storedVersions"] = stored;
      // The status write changes the signature; the watch brings us back.
      state_->Update(kv->key, crd.dump(), kv->mod_revision);
    }
    for (auto& t : served) types.push_back(std::move(t));
  }
  if (signature != served_signature_) {
    api::SetCustomTypes(types);
    served_signature_ = signature;
  }
}

}  // namespace kubit::apiserver

#include "core/controllers/local_path_provisioner.h"

#include <nlohmann/json.hpp>

#include "core/controllers/json_fields.h"
#include "core/controllers/pv_binder_match.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;
using client::Status;

namespace {

const client::Resource kVolumes{"", "v1", "persistentvolumes"};
const client::Resource kClaims{"", "v1", "persistentvolumeclaims"};
const client::Resource kClasses{"storage.k8s.io", "v1", "storageclasses"};
const client::Resource kNodes{"", "v1", "nodes"};

using fields::Annotation;
using fields::Field;
using fields::Name;
using fields::Ns;
using fields::Str;
using fields::Uid;



std::string VolumeNameFor(const Json& claim) { return "pvc-" + Uid(claim); }

}  // namespace

Json LocalPathVolume(const Json& claim, const Json& storage_class, const std::string& node,
                     const std::string& storage_dir) {
  std::string name = VolumeNameFor(claim);
  std::string policy = Str(storage_class, "reclaimPolicy");
  Json modes = Field(Field(claim, "spec"), "accessModes");
  Json pv = {
      {"apiVersion", "v1"},
      {"kind", "PersistentVolume"},
      {"metadata",
       {{"name", name},
        {"annotations", {{kAnnProvisionedBy, kLocalPathProvisioner}, {"local.path.provisioner/selected-node", node}}}}},
      {"spec",
       {{"capacity", {{"storage", Field(Field(Field(Field(claim, "spec"), "resources"), "requests"), "storage")}}},
        {"accessModes", modes.is_array() && !modes.empty() ? modes : Json::array({"ReadWriteOnce"})},
        {"persistentVolumeReclaimPolicy", policy.empty() ? "Delete" : policy},
        {"storageClassName", Name(storage_class)},
        {"volumeMode", "Filesystem"},
        {"hostPath",
         {{"path", storage_dir + "/" + name + "_" + Ns(claim) + "_" + Name(claim)}, {"type", "DirectoryOrCreate"}}},
        {"nodeAffinity",
         {{"required",
           {{"nodeSelectorTerms",
             Json::array({{{"matchExpressions",
                            Json::array({{{"key", "kubernetes.io/hostname"},
                                          {"operator", "In"},
                                          {"values", Json::array({node})}}})}}})}}}}},
        {"claimRef",
         {{"kind", "PersistentVolumeClaim"},
          {"apiVersion", "v1"},
          {"namespace", Ns(claim)},
          {"name", Name(claim)},
          {"uid", Uid(claim)}}}}}};
  if (Field(storage_class, "mountOptions").is_array()) pv["spec"]["mountOptions"] = storage_class["mountOptions"];
  return pv;
}

LocalPathProvisioner::LocalPathProvisioner(client::Client* client, client::SharedInformerFactory* informers,
                                           Logger log)
    : client_(client),
      claims_(informers->For(kClaims)),
      volumes_(informers->For(kVolumes)),
      classes_(informers->For(kClasses)),
      nodes_(informers->For(kNodes)),
      events_(client, kLocalPathProvisioner),
      log_(log),
      loop_("local-path-provisioner", [this](const std::string& key) { return Sync(key); }, log) {
  client::EventHandlers ch;
  ch.on_add = [this](const ObjectPtr& o) { loop_.queue().Add("claim:" + client::ObjectKey(*o)); };
  ch.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add("claim:" + client::ObjectKey(*o)); };
  claims_->AddHandler(ch);
  client::EventHandlers vh;
  vh.on_add = [this](const ObjectPtr& o) { loop_.queue().Add("volume:" + Name(*o)); };
  vh.on_update = [this](const ObjectPtr&, const ObjectPtr& o) { loop_.queue().Add("volume:" + Name(*o)); };
  volumes_->AddHandler(vh);
  // A node publishing its directory late releases the claims waiting for it.
  client::EventHandlers nh;
  nh.on_update = [this](const ObjectPtr& old_node, const ObjectPtr& node) {
    if (Annotation(*old_node, kAnnLocalPathDir) == Annotation(*node, kAnnLocalPathDir)) return;
    for (const ObjectPtr& c : claims_->List())
      if (Annotation(*c, kAnnSelectedNode) == Name(*node)) loop_.queue().Add("claim:" + client::ObjectKey(*c));
  };
  nodes_->AddHandler(nh);
}

void LocalPathProvisioner::Start(int workers) { loop_.Start(workers); }

void LocalPathProvisioner::Stop() { loop_.Stop(); }

Status LocalPathProvisioner::Sync(const std::string& key) {
  if (key.rfind("claim:", 0) == 0) return SyncClaim(key.substr(6));
  if (key.rfind("volume:", 0) == 0) return SyncVolume(key.substr(7));
  return Status();
}

Status LocalPathProvisioner::SyncClaim(const std::string& key) {
  ObjectPtr claim = claims_->Get(key);
  if (!claim || !Field(Field(*claim, "metadata"), "deletionTimestamp").is_null()) return Status();
  // The binder hands a claim over by naming its provisioner.
  if (Annotation(*claim, kAnnStorageProvisioner) != kLocalPathProvisioner &&
      Annotation(*claim, kAnnBetaStorageProvisioner) != kLocalPathProvisioner)
    return Status();
  if (!Str(Field(*claim, "spec"), "volumeName").empty()) return Status();
  std::string name = VolumeNameFor(*claim);
  if (volumes_->Get(name)) return Status();
  ObjectPtr cls = classes_->Get(ClaimClassName(*claim));
  if (!cls || Str(*cls, "provisioner") != kLocalPathProvisioner) return Status();
  std::string node_name = Annotation(*claim, kAnnSelectedNode);
  if (node_name.empty()) {
    events_.Event(*claim, client::kEventTypeWarning, "ProvisioningFailed",
                  "failed to provision volume with StorageClass \"" + Name(*cls) +
                      "\": configuration error, no node was specified");
    return Status();
  }
  if (Str(Field(*claim, "spec"), "volumeMode") == "Block") {
    events_.Event(*claim, client::kEventTypeWarning, "ProvisioningFailed",
                  "failed to provision volume with StorageClass \"" + Name(*cls) +
                      "\": volumeMode Block is not supported by " + kLocalPathProvisioner);
    return Status();
  }
  ObjectPtr node = nodes_->Get(node_name);
  std::string dir = node ? Annotation(*node, kAnnLocalPathDir) : std::string();
  if (dir.empty()) {
    // Comes back when the node (or its annotation) shows up.
    events_.Event(*claim, client::kEventTypeNormal, "Provisioning",
                  "waiting for node \"" + node_name + "\" to publish its storage directory (" + kAnnLocalPathDir + ")");
    return Status();
  }
  events_.Event(*claim, client::kEventTypeNormal, "Provisioning",
                std::string("External provisioner is provisioning volume for claim \"") + key + "\"");
  Status s = client_->Create(kVolumes, "", LocalPathVolume(*claim, *cls, node_name, dir));
  if (s.IsAlreadyExists()) return Status();
  if (!s.ok()) {
    events_.Event(*claim, client::kEventTypeWarning, "ProvisioningFailed",
                  "failed to provision volume with StorageClass \"" + Name(*cls) + "\": " + s.message());
    return s;
  }
  events_.Event(*claim, client::kEventTypeNormal, "ProvisioningSucceeded",
                "Successfully provisioned volume " + name);
  if (log_) log_(LogLevel::kInfo, "local-path-provisioner: provisioned " + name + " for " + key + " on " + node_name);
  return Status();
}

Status LocalPathProvisioner::SyncVolume(const std::string& name) {
  ObjectPtr volume = volumes_->Get(name);
  if (!volume || Annotation(*volume, kAnnProvisionedBy) != kLocalPathProvisioner) return Status();
  const Json& meta = Field(*volume, "metadata");
  if (!Field(meta, "deletionTimestamp").is_null()) return Status();
  if (Str(Field(*volume, "status"), "phase") != "Released" ||
      Str(Field(*volume, "spec"), "persistentVolumeReclaimPolicy") != "Delete")
    return Status();
  client::DeleteOptions opts;
  opts.precondition_uid = Uid(*volume);
  Status s = client_->Delete(kVolumes, "", name, opts);
  if (s.IsNotFound()) return Status();
  if (s.ok() && log_) log_(LogLevel::kInfo, "local-path-provisioner: deleted " + name);
  return s;
}

}  // namespace kubit::controllers

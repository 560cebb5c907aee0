// PersistentVolumeBinderController: upstream's persistentvolume-binder
// with the pvc-protection and pv-protection controllers beside it.
// Claims bind to the smallest matching volume (pv_binder_match.h), both
// sides written in upstream's order (volume claimRef, volume phase, claim
// volumeName, claim phase) with pv.kubernetes.io/bind-completed and
// bound-by-controller. A claim without a volume waits: for its first
// consumer (WaitForFirstConsumer class, until the scheduler names a node
// in volume.kubernetes.io/selected-node), or for its class's provisioner,
// which the claim names in volume.kubernetes.io/storage-provisioner. A
// claim whose volume went is Lost; a volume whose claim went is Released
// and reclaimed (Retain: kept; Delete: left to the provisioner that made
// it, Failed for a volume nobody provisioned; Recycle: Failed). Claims
// without a class get the default StorageClass (upstream's retroactive
// assignment). Finalizers: a claim is not removed while a pod that is not
// finished uses it, a volume while it is Bound.
#pragma once

#include <string>

#include "core/client/client.h"
#include "core/client/event_recorder.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class PersistentVolumeBinderController {
 public:
  // Registers its informers (persistentvolumes, persistentvolumeclaims,
  // storageclasses, pods).
  PersistentVolumeBinderController(client::Client* client, client::SharedInformerFactory* informers, Logger log);
  void Start(int workers = 1);
  void Stop();
  // Keys: "claim:<ns>/<name>" or "volume:<name>".
  client::Status Sync(const std::string& key);

 private:
  client::Status SyncClaim(const std::string& key);
  client::Status SyncVolume(const std::string& name);
  client::Status Bind(const client::Json& volume, const client::Json& claim);
  // Adds or removes `finalizer`; *changed when it wrote.
  client::Status SetFinalizer(const client::Resource& r, const client::Json& obj, const std::string& finalizer,
                              bool present, bool* changed);
  client::Status SetClaimPhase(const client::Json& claim, const std::string& phase);
  client::Status SetVolumePhase(const client::Json& volume, const std::string& phase, const std::string& message = "");
  bool ClaimInUse(const client::Json& claim) const;
  client::ObjectPtr DefaultClass() const;
  void EnqueueClaimsOf(const client::Json& pod);

  client::Client* client_;
  client::Informer* volumes_;
  client::Informer* claims_;
  client::Informer* classes_;
  client::Informer* pods_;
  client::EventRecorder events_;
  Logger log_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers

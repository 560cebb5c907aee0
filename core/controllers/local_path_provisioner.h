// LocalPathProvisioner: k3s's local-path-provisioner inside the server.
// Claims of a class whose provisioner is rancher.io/local-path, once the
// scheduler has named their node (volume.kubernetes.io/selected-node; the
// class is WaitForFirstConsumer), get a PersistentVolume "pvc-<uid>" of
// type hostPath (DirectoryOrCreate) at <storage-dir>/pvc-<uid>_<ns>_<name>
// with node affinity to that node and the class's reclaim policy,
// pre-bound to the claim (the binder completes the binding). The storage
// directory is the node's own (its kubelet publishes it in the node
// annotation kubit.io/local-path-dir, as each node has its --data-dir),
// and that kubelet creates the directory when a pod mounts the volume, so
// the server never touches the board's disk. A Released volume of the
// Delete policy is deleted here; the node's kubelet then removes the
// directory of a volume that is gone (runtime/kubelet/volumes_local_path.h).
#pragma once

#include <string>

#include "core/client/client.h"
#include "core/client/event_recorder.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

inline constexpr const char* kLocalPathProvisioner = "rancher.io/local-path";
// The node annotation holding the directory its local volumes live in.
inline constexpr const char* kAnnLocalPathDir = "kubit.io/local-path-dir";

// The PersistentVolume for `claim` of `storage_class` on `node` whose
// local volumes live under `storage_dir`.
client::Json LocalPathVolume(const client::Json& claim, const client::Json& storage_class, const std::string& node,
                             const std::string& storage_dir);

class LocalPathProvisioner {
 public:
  // Registers its informers (persistentvolumeclaims, persistentvolumes,
  // storageclasses, nodes).
  LocalPathProvisioner(client::Client* client, client::SharedInformerFactory* informers, Logger log);
  void Start(int workers = 1);
  void Stop();
  // Keys: "claim:<ns>/<name>" or "volume:<name>".
  client::Status Sync(const std::string& key);

 private:
  client::Status SyncClaim(const std::string& key);
  client::Status SyncVolume(const std::string& name);

  client::Client* client_;
  client::Informer* claims_;
  client::Informer* volumes_;
  client::Informer* classes_;
  client::Informer* nodes_;
  client::EventRecorder events_;
  Logger log_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers

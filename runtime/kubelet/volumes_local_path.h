// The node's half of the local-path provisioner
// (core/controllers/local_path_provisioner.h). Local volumes live in
// <data-dir>/storage/pvc-<uid>_<ns>_<name>: the node publishes that
// directory in its Node annotation kubit.io/local-path-dir, so volumes are
// placed under its own --data-dir; pods' mounts create the directories
// (hostPath DirectoryOrCreate). When the provisioner deletes a volume
// (reclaim policy Delete), this node removes its directory: each pass
// asks the server for the volume "pvc-<uid>" of every directory there and
// removes the directories of those that are gone. Driven by what is on
// the disk rather than by watching volumes, a node that was away when the
// volume went (or never mounted it) is right too, and the node needs no
// right to list volumes (the Node authorizer lets it get its own local
// volumes and learn that one is gone). A volume can only go once the
// pods using its claim have left (pvc-protection), so the directories are
// checked at every pass for a few minutes after such a pod left this
// node, and otherwise once a minute.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/client/client.h"

namespace kubit::kubelet {

class LocalPathVolumes {
 public:
  // `client` must outlive this.
  LocalPathVolumes(client::Client* client, std::string node_name, std::string data_dir,
                   std::function<void(const std::string&)> log);

  // The storage directory of this node: <data-dir>/storage.
  const std::string& dir() const { return dir_; }
  // Publishes the directory (checked again once a minute), then removes
  // the directories of deleted volumes. Called by the pod manager's
  // housekeeping.
  void Sync();
  // A pod left this node (any thread): if it used claims, their volumes
  // may be deleted soon.
  void PodGone(const nlohmann::json& pod);

 private:
  bool Publish(std::string* error);
  void RemoveDeleted();

  client::Client* client_;
  std::string node_name_;
  std::string dir_;
  std::function<void(const std::string&)> log_;
  bool published_ = false;
  std::chrono::steady_clock::time_point next_scan_{};  // housekeeping thread only
  std::atomic<std::chrono::steady_clock::rep> busy_until_{0};  // steady_clock ticks
};

// Removes a directory tree without following symlinks or crossing into
// mounts (a pod's bind mount of it may linger); false with *error.
bool RemoveLocalVolumeDir(const std::string& path, std::string* error);

}  // namespace kubit::kubelet

// AgentCache: what an agent keeps in <data-dir>/agent/state.db so that its
// pods keep running while the server is away (KubeEdge's edge autonomy):
// the pods bound to this node as last seen, the ConfigMaps, Secrets and
// PersistentVolumeClaims they read, and this node's Node (its podCIDR).
// A store::Store over SQLite, so a kill -9 at any moment leaves what was
// written; mode 0600, as it holds Secrets.
//
// Only what the kubelet needs to run a pod again is kept: a pod without
// its status (the kubelet's own to rebuild) and resourceVersion, every
// object without managedFields; a put that changes none of those bytes
// writes nothing, so status updates and re-reads cost no disk.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace kubit::store {
class Store;
}

namespace kubit::kubelet {

class AgentCache {
 public:
  // Opens (creating) <data_dir>/agent/state.db. False with *error when it
  // cannot (a corrupt file is named in the error).
  static bool Open(const std::string& data_dir, std::unique_ptr<AgentCache>* out, std::string* error);
  ~AgentCache();
  AgentCache(const AgentCache&) = delete;
  AgentCache& operator=(const AgentCache&) = delete;

  // `resource` is the plural ("pods", "configmaps", "secrets",
  // "persistentvolumeclaims", "nodes"); cluster-scoped objects have ns "".
  // False with *error when the write failed.
  bool Put(const std::string& resource, const nlohmann::json& object, std::string* error);
  bool Remove(const std::string& resource, const std::string& ns, const std::string& name, std::string* error);
  bool Get(const std::string& resource, const std::string& ns, const std::string& name, nlohmann::json* out);
  std::vector<nlohmann::json> List(const std::string& resource);

  // What Put keeps of an object (tests compare against it).
  static nlohmann::json Kept(const std::string& resource, const nlohmann::json& object);

 private:
  explicit AgentCache(std::unique_ptr<store::Store> store);

  std::unique_ptr<store::Store> store_;
  std::mutex mu_;
  std::map<std::string, std::string> bytes_;  // key -> value as stored
};

}  // namespace kubit::kubelet

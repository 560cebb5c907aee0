// ManifestDeployer: the auto-deploy directory (<data-dir>/server/manifests),
// as k3s's deploy controller keeps it: every *.yaml, *.yml and *.json file
// there is applied at start and whenever it changes (inotify), and checked
// every resync; objects a file no longer holds are deleted, and all of a
// removed file's. A file with a "<file>.skip" beside it is left alone.
// Each file is an Addon (see addon.h); what went wrong is an Event on it
// and a line in the log, and a failed file is tried again after a while.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "core/client/client.h"
#include "core/client/event_recorder.h"
#include "manifests/addon.h"
#include "manifests/kinds.h"

namespace kubit::manifests {

struct DeployerOptions {
  std::string dir;
  // Where objects of a namespaced kind without a namespace go, as with
  // `kubectl apply`.
  std::string default_namespace = "default";
  // How often unchanged files are checked for objects deleted behind
  // their back (and put back).
  std::chrono::seconds resync{300};
  // After a failure, the first wait before another try; each failure
  // again doubles it, up to max_retry.
  std::chrono::seconds retry{10};
  std::chrono::seconds max_retry{300};
  std::function<void(bool error, const std::string& message)> log;
};

class ManifestDeployer {
 public:
  // `client` must outlive the deployer; it needs rights to apply anything
  // (the server's controllers' client).
  ManifestDeployer(client::Client* client, DeployerOptions options);
  ~ManifestDeployer();  // stops
  ManifestDeployer(const ManifestDeployer&) = delete;
  ManifestDeployer& operator=(const ManifestDeployer&) = delete;

  // Creates the directory if needed and starts watching it; the first pass
  // runs at once in the deployer's thread.
  bool Start(std::string* error);
  void Stop();

 private:
  struct FileState {
    std::string path;
    std::string checksum;  // of the text last applied in full
    std::vector<ObjectRef> objects;
    // After a failure: the text that failed and when to try it again
    // (never, for text that cannot be read: only a change helps).
    std::string failed_checksum;
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::seconds backoff{0};
  };

  void Run();
  // Looks at every file; `check_objects` also re-applies unchanged files
  // whose objects are gone. Returns when the next pass is due at the latest.
  std::chrono::steady_clock::time_point Pass(bool check_objects);
  bool LoadAddons();
  void Deploy(const std::string& name, const std::string& path, const std::string& text,
              const std::string& checksum);
  void Remove(const std::string& name);
  bool ObjectsPresent(const FileState& state);
  client::Json SaveAddon(const std::string& name, const FileState& state);
  void Log(bool error, const std::string& message);

  client::Client* client_;
  DeployerOptions options_;
  KindResolver kinds_;
  client::EventRecorder events_;
  bool loaded_ = false;  // the Addons were read
  std::map<std::string, FileState> files_;  // by Addon name
  int inotify_fd_ = -1;
  int wake_fd_ = -1;  // an eventfd: Stop
  std::thread thread_;
};

}  // namespace kubit::manifests

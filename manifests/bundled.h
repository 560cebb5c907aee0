// The packaged components' manifests, compiled into the binary and written
// into the auto-deploy directory at every start, as k3s writes its
// traefik.yaml (and coredns.yaml, local-storage.yaml): the deployer then
// applies them like any other file. `--disable NAME` removes the file
// instead (so the deployer deletes what it made); a "<file>.skip" beside
// a file keeps kubit from writing it (the user owns it then).
#pragma once

#include <string>
#include <vector>

namespace kubit::manifests {

struct BundledManifest {
  std::string name;  // the component, as --disable names it; the file is <name>.yaml
  std::string text;
};

// What the manifests depend on: the server's flags.
struct BundledOptions {
  std::string cluster_dns = "10.43.0.10";  // the kube-dns Service's ClusterIP (--cluster-dns)
};

std::vector<BundledManifest> BundledManifests(const BundledOptions& options = {});

// Writes (atomically, only when the text differs) or removes each bundled
// manifest in `dir`. False with *error for a file that cannot be written.
bool WriteBundledManifests(const std::string& dir, const std::vector<std::string>& disabled, std::string* error,
                           const BundledOptions& options = {});

}  // namespace kubit::manifests

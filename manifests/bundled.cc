#include "manifests/bundled.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace kubit::manifests {

namespace {

// The ingress proxy every node runs while this class exists (k3s ships
// Traefik's).
std::string Traefik() {
  return R"(apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: kubit
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: kubit.io/ingress
)";
}

// The cluster DNS: no Deployment, as every node answers on the Service's
// address itself (core/network/dns_node.h, which looks for the node-local
// annotation); the Service publishes the address as k3s's coredns.yaml does.
std::string CoreDns(const BundledOptions& o) {
  return R"(apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
    kubernetes.io/cluster-service: "true"
    kubernetes.io/name: CoreDNS
  annotations:
    kubit.io/node-local: "true"
spec:
  clusterIP: )" + o.cluster_dns + R"(
  clusterIPs: [)" + o.cluster_dns + R"(]
  ports:
  - name: dns
    port: 53
    protocol: UDP
  - name: dns-tcp
    port: 53
    protocol: TCP
)";
}

// The default StorageClass of k3s's local-path-provisioner; the
// provisioner itself runs in the server's controllers
// (core/controllers/local_path_provisioner.h), not as a Deployment.
std::string LocalStorage() {
  return R"(apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
)";
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool WriteAtomically(const std::string& path, const std::string& text, std::string* error) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "write " + path + ": " + strerror(errno);
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace

std::vector<BundledManifest> BundledManifests(const BundledOptions& options) {
  return {{"coredns", CoreDns(options)}, {"traefik", Traefik()}, {"local-storage", LocalStorage()}};
}

bool WriteBundledManifests(const std::string& dir, const std::vector<std::string>& disabled, std::string* error,
                           const BundledOptions& options) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "mkdir " + dir + ": " + strerror(errno);
    return false;
  }
  for (const auto& m : BundledManifests(options)) {
    std::string path = dir + "/" + m.name + ".yaml";
    if (std::find(disabled.begin(), disabled.end(), m.name) != disabled.end()) {
      if (unlink(path.c_str()) != 0 && errno != ENOENT) {
        *error = "remove " + path + ": " + strerror(errno);
        return false;
      }
      continue;
    }
    struct stat st;
    if (stat((path + ".skip").c_str(), &st) == 0) continue;
    std::string current;
    if (ReadFile(path, &current) && current == m.text) continue;
    if (!WriteAtomically(path, m.text, error)) return false;
  }
  return true;
}

}  // namespace kubit::manifests

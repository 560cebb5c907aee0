// Pod defaults: SetDefaults_PodSpec, _Container, _Probe, _Volume and the
// volume sources, and SetDefaults_Pod, as core/v1's defaulters apply them to
// a Pod and to every pod template.
#include <cctype>
#include <string_view>

#include "core/api/defaults_internal.h"

namespace kubit::api::defaults {
namespace {

constexpr int kDefaultMode = 0644;  // 420: secret, configMap, downwardAPI, projected

// The tag of an image reference as the kubelet's image-name parser finds it
// ("latest" when there is neither tag nor digest); empty when the reference
// does not parse or has only a digest.
std::string ImageTag(const std::string& image) {
  if (image.empty()) return "";
  for (char c : image)
    if (c <= ' ' || c == 0x7f) return "";
  std::string ref = image;
  bool has_digest = false;
  size_t at = ref.find('@');
  if (at != std::string::npos) {
    has_digest = true;
    ref = ref.substr(0, at);
  }
  std::string tag;
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    tag = ref.substr(colon + 1);
    ref = ref.substr(0, colon);
  }
  // The path (everything after a domain) must be lower case; a domain is a
  // first component holding '.' or ':' or being "localhost".
  size_t first = ref.find('/');
  std::string path = ref;
  if (first != std::string::npos) {
    std::string domain = ref.substr(0, first);
    if (domain.find_first_of(".:") != std::string::npos || domain == "localhost")
      path = ref.substr(first + 1);
  }
  if (path.empty()) return "";
  for (char c : path)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
          c == '/'))
      return "";
  if (!tag.empty()) {
    if (tag.size() > 128) return "";
    for (char c : tag)
      if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return "";
  }
  if (tag.empty() && !has_digest) return "latest";
  return tag;
}

void DefaultHTTPGet(Json* h) {
  if (!h) return;
  SetIfMissing(h, "path", "/");
  SetIfMissing(h, "scheme", "HTTP");
}

void DefaultProbe(Json* p) {
  if (!p) return;
  SetIfMissing(p, "timeoutSeconds", 1);
  SetIfMissing(p, "periodSeconds", 10);
  SetIfMissing(p, "successThreshold", 1);
  SetIfMissing(p, "failureThreshold", 3);
  DefaultHTTPGet(ObjAt(p, "httpGet"));
  if (Json* g = ObjAt(p, "grpc")) SetIfMissing(g, "service", "");
}

void DefaultFieldRef(Json* holder) {
  if (Json* f = ObjAt(holder, "fieldRef")) SetIfMissing(f, "apiVersion", "v1");
}

void DefaultContainer(Json* c) {
  if (!Has(*c, "imagePullPolicy"))
    (*c)["imagePullPolicy"] = ImageTag(Str(*c, "image")) == "latest" ? "Always" : "IfNotPresent";
  SetIfMissing(c, "terminationMessagePath", "/dev/termination-log");
  SetIfMissing(c, "terminationMessagePolicy", "File");
  EachObj(c, "ports", [](Json* p) { SetIfMissing(p, "protocol", "TCP"); });
  EachObj(c, "env", [](Json* e) {
    if (Json* vf = ObjAt(e, "valueFrom")) DefaultFieldRef(vf);
  });
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"})
    DefaultProbe(ObjAt(c, probe));
  if (Json* lc = ObjAt(c, "lifecycle")) {
    for (const char* hook : {"postStart", "preStop"})
      if (Json* h = ObjAt(lc, hook)) DefaultHTTPGet(ObjAt(h, "httpGet"));
  }
}

// Every source a Volume can hold.
constexpr std::string_view kVolumeSources[] = {
    "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret",
    "nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder",
    "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume",
    "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO",
    "storageos", "csi", "ephemeral", "image",
};

void DefaultVolume(Json* v) {
  bool any = false;
  for (std::string_view s : kVolumeSources) any |= v->contains(std::string(s));
  if (!any) (*v)["emptyDir"] = Json::object();
  if (Json* hp = ObjAt(v, "hostPath")) SetIfMissing(hp, "type", "");
  for (const char* s : {"secret", "configMap"})
    if (Json* src = ObjAt(v, s)) SetIfMissing(src, "defaultMode", kDefaultMode);
  if (Json* d = ObjAt(v, "downwardAPI")) {
    SetIfMissing(d, "defaultMode", kDefaultMode);
    EachObj(d, "items", DefaultFieldRef);
  }
  if (Json* p = ObjAt(v, "projected")) {
    SetIfMissing(p, "defaultMode", kDefaultMode);
    EachObj(p, "sources", [](Json* src) {
      if (Json* t = ObjAt(src, "serviceAccountToken")) SetIfMissing(t, "expirationSeconds", 3600);
      if (Json* d = ObjAt(src, "downwardAPI")) EachObj(d, "items", DefaultFieldRef);
    });
  }
  if (Json* i = ObjAt(v, "iscsi")) SetIfMissing(i, "iscsiInterface", "default");
  if (Json* r = ObjAt(v, "rbd")) {
    SetIfMissing(r, "pool", "rbd");
    SetIfMissing(r, "user", "admin");
    SetIfMissing(r, "keyring", "/etc/ceph/keyring");
  }
  if (Json* a = ObjAt(v, "azureDisk")) {
    SetIfMissing(a, "cachingMode", "ReadWrite");
    SetIfMissing(a, "fsType", "ext4");
    SetIfMissing(a, "readOnly", false);
    SetIfMissing(a, "kind", "Shared");
  }
  if (Json* s = ObjAt(v, "scaleIO")) {
    SetIfMissing(s, "storageMode", "ThinProvisioned");
    SetIfMissing(s, "fsType", "xfs");
  }
  if (Json* e = ObjAt(v, "ephemeral"))
    if (Json* t = ObjAt(e, "volumeClaimTemplate")) DefaultPVCSpec(Child(t, "spec"));
}

// With host networking every container port is also a host port.
void DefaultHostNetworkPorts(Json* spec, const char* list) {
  EachObj(spec, list, [](Json* c) {
    EachObj(c, "ports", [](Json* p) {
      bool unset = !Has(*p, "hostPort") || (*p)["hostPort"] == 0;
      if (unset && Has(*p, "containerPort")) (*p)["hostPort"] = (*p)["containerPort"];
    });
  });
}

// Requests default to limits, for the resources a container limits.
void DefaultRequestsFromLimits(Json* spec, const char* list) {
  EachObj(spec, list, [](Json* c) {
    Json* res = ObjAt(c, "resources");
    if (!res || !IsObj(*res, "limits")) return;
    Json* req = Child(res, "requests");
    if (!req) return;
    for (auto it = (*res)["limits"].begin(); it != (*res)["limits"].end(); ++it)
      SetIfMissing(req, it.key().c_str(), it.value());
  });
}

}  // namespace

void DefaultPVCSpec(Json* spec) {
  if (spec) SetIfMissing(spec, "volumeMode", "Filesystem");
}

void DefaultPodSpec(Json* spec, bool restart_policy) {
  if (!spec) return;
  SetIfMissing(spec, "dnsPolicy", "ClusterFirst");
  if (restart_policy) SetIfMissing(spec, "restartPolicy", "Always");
  SetIfMissing(spec, "securityContext", Json::object());
  SetIfMissing(spec, "terminationGracePeriodSeconds", 30);
  SetIfMissing(spec, "schedulerName", "default-scheduler");
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"})
    EachObj(spec, list, DefaultContainer);
  EachObj(spec, "volumes", DefaultVolume);
}

void DefaultPodTemplate(Json* tmpl, bool restart_policy) {
  if (!tmpl) return;
  DefaultPodSpec(Child(tmpl, "spec"), restart_policy);
}

void DefaultPod(Json* pod) {
  Json* spec = Child(pod, "spec");
  if (!spec) return;
  DefaultPodSpec(spec);
  DefaultRequestsFromLimits(spec, "containers");
  DefaultRequestsFromLimits(spec, "initContainers");
  SetIfMissing(spec, "enableServiceLinks", true);
  if (Has(*spec, "hostNetwork") && (*spec)["hostNetwork"] == true) {
    DefaultHostNetworkPorts(spec, "containers");
    DefaultHostNetworkPorts(spec, "initContainers");
  }
}

}  // namespace kubit::api::defaults

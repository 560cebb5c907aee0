// Defaults of the core/v1 kinds other than the pod spec itself (which is in
// defaults_pod.cc): Service, Secret, volumes and claims, Namespace, Node,
// Endpoints, LimitRange.
#include "core/api/defaults_internal.h"

namespace kubit::api::defaults {
namespace {

std::string Base64(const std::string& in) {
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kChars[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += kChars[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool IsHeadless(const Json& spec) {
  if (Str(spec, "clusterIP") == "None") return true;
  return IsArr(spec, "clusterIPs") && !spec["clusterIPs"].empty() && spec["clusterIPs"][0] == "None";
}

void DefaultService(Json* svc) {
  Json* spec = Child(svc, "spec");
  if (!spec) return;
  SetIfMissing(spec, "sessionAffinity", "None");
  std::string affinity = Str(*spec, "sessionAffinity");
  if (affinity == "None") spec->erase("sessionAffinityConfig");
  if (affinity == "ClientIP") {
    const Json* cfg = ObjAt(spec, "sessionAffinityConfig");
    bool have = cfg && IsObj(*cfg, "clientIP") && Has((*cfg)["clientIP"], "timeoutSeconds") &&
                !(*cfg)["clientIP"]["timeoutSeconds"].is_null();
    if (!have) (*spec)["sessionAffinityConfig"] = {{"clientIP", {{"timeoutSeconds", 10800}}}};
  }
  SetIfMissing(spec, "type", "ClusterIP");
  std::string type = Str(*spec, "type");
  EachObj(spec, "ports", [](Json* p) {
    SetIfMissing(p, "protocol", "TCP");
    const Json& tp = Has(*p, "targetPort") ? (*p)["targetPort"] : Json();
    bool unset = tp.is_null() || tp == 0 || tp == "";
    if (unset && Has(*p, "port")) (*p)["targetPort"] = (*p)["port"];
  });
  bool external_ips = IsArr(*spec, "externalIPs") && !(*spec)["externalIPs"].empty();
  bool externally_accessible = type == "LoadBalancer" || type == "NodePort" ||
                               (type == "ClusterIP" && external_ips);
  if (externally_accessible) SetIfMissing(spec, "externalTrafficPolicy", "Cluster");
  if (type == "NodePort" || type == "LoadBalancer" || type == "ClusterIP")
    SetIfMissing(spec, "internalTrafficPolicy", "Cluster");
  if (type == "LoadBalancer") {
    SetIfMissing(spec, "allocateLoadBalancerNodePorts", true);
    if (Json* st = ObjAt(svc, "status"))
      if (Json* lb = ObjAt(st, "loadBalancer"))
        EachObj(lb, "ingress", [](Json* ing) {
          if (!Str(*ing, "ip").empty()) SetIfMissing(ing, "ipMode", "VIP");
        });
  }
  if (type == "ExternalName") return;
  // clusterIP and clusterIPs hold the same first value (the strategy's
  // normalization on create); the address itself is allocated elsewhere.
  if (Has(*spec, "clusterIP") && !Has(*spec, "clusterIPs"))
    (*spec)["clusterIPs"] = Json::array({(*spec)["clusterIP"]});
  else if (!Has(*spec, "clusterIP") && IsArr(*spec, "clusterIPs") && !(*spec)["clusterIPs"].empty())
    (*spec)["clusterIP"] = (*spec)["clusterIPs"][0];
  // IP families as the allocator sets them on a single-stack IPv4 cluster.
  size_t families = IsArr(*spec, "ipFamilies") ? (*spec)["ipFamilies"].size() : 0;
  size_t ips = IsArr(*spec, "clusterIPs") ? (*spec)["clusterIPs"].size() : 0;
  if (!Has(*spec, "ipFamilyPolicy") && (families == 2 || ips == 2))
    (*spec)["ipFamilyPolicy"] = "RequireDualStack";
  bool selectorless = !IsObj(*spec, "selector") || (*spec)["selector"].empty();
  if (IsHeadless(*spec) && selectorless) {
    SetIfMissing(spec, "ipFamilyPolicy", "RequireDualStack");
    if (families == 0) (*spec)["ipFamilies"] = Json::array({"IPv4"});
    Json& fam = (*spec)["ipFamilies"];
    if (fam.is_array() && fam.size() < 2 && Str(*spec, "ipFamilyPolicy") != "SingleStack")
      fam.push_back(fam.empty() || fam[0] == "IPv4" ? "IPv6" : "IPv4");
    return;
  }
  SetIfMissing(spec, "ipFamilyPolicy", "SingleStack");
  if (families == 0) {
    std::string ip = Str(*spec, "clusterIP");
    bool v6 = ip.find(':') != std::string::npos;
    (*spec)["ipFamilies"] = Json::array({v6 ? "IPv6" : "IPv4"});
  }
}

// stringData is write-only: its entries replace those of data.
void DefaultSecret(Json* s) {
  SetIfMissing(s, "type", "Opaque");
  if (IsObj(*s, "stringData")) {
    Json* data = Child(s, "data");
    if (data) {
      for (auto it = (*s)["stringData"].begin(); it != (*s)["stringData"].end(); ++it)
        if (it.value().is_string()) (*data)[it.key()] = Base64(it.value().get<std::string>());
    }
  }
  s->erase("stringData");
}

void DefaultPersistentVolume(Json* pv) {
  if (Json* st = Child(pv, "status")) SetIfMissing(st, "phase", "Pending");
  Json* spec = Child(pv, "spec");
  if (!spec) return;
  SetIfMissing(spec, "persistentVolumeReclaimPolicy", "Retain");
  SetIfMissing(spec, "volumeMode", "Filesystem");
  if (Json* hp = ObjAt(spec, "hostPath")) SetIfMissing(hp, "type", "");
  if (Json* i = ObjAt(spec, "iscsi")) SetIfMissing(i, "iscsiInterface", "default");
  if (Json* r = ObjAt(spec, "rbd")) {
    SetIfMissing(r, "pool", "rbd");
    SetIfMissing(r, "user", "admin");
    SetIfMissing(r, "keyring", "/etc/ceph/keyring");
  }
  if (Json* a = ObjAt(spec, "azureDisk")) {
    SetIfMissing(a, "cachingMode", "ReadWrite");
    SetIfMissing(a, "fsType", "ext4");
    SetIfMissing(a, "readOnly", false);
    SetIfMissing(a, "kind", "Shared");
  }
  if (Json* s = ObjAt(spec, "scaleIO")) {
    SetIfMissing(s, "storageMode", "ThinProvisioned");
    SetIfMissing(s, "fsType", "xfs");
  }
}

void DefaultLimitRange(Json* lr) {
  Json* spec = ObjAt(lr, "spec");
  if (!spec) return;
  EachObj(spec, "limits", [](Json* item) {
    if (Str(*item, "type") != "Container") return;
    Json* def = Child(item, "default");
    Json* req = Child(item, "defaultRequest");
    if (!def || !req) return;
    auto copy_missing = [](const Json& from, Json* to) {
      if (!from.is_object()) return;
      for (auto it = from.begin(); it != from.end(); ++it) SetIfMissing(to, it.key().c_str(), it.value());
    };
    if (IsObj(*item, "max")) copy_missing((*item)["max"], def);
    copy_missing(*def, req);
    if (IsObj(*item, "min")) copy_missing((*item)["min"], req);
  });
}

}  // namespace

bool DefaultCoreKind(const ResourceType& t, Json* obj) {
  if (!t.group.empty()) return false;
  const std::string& k = t.kind;
  if (k == "Pod") {
    DefaultPod(obj);
  } else if (k == "Service") {
    DefaultService(obj);
  } else if (k == "Secret") {
    DefaultSecret(obj);
  } else if (k == "PersistentVolume") {
    DefaultPersistentVolume(obj);
  } else if (k == "PersistentVolumeClaim") {
    if (Json* st = Child(obj, "status")) SetIfMissing(st, "phase", "Pending");
    DefaultPVCSpec(Child(obj, "spec"));
  } else if (k == "Namespace") {
    std::string name = IsObj(*obj, "metadata") ? Str((*obj)["metadata"], "name") : "";
    Json* meta = Child(obj, "metadata");
    Json* labels = meta && !name.empty() ? Child(meta, "labels") : nullptr;
    if (labels) (*labels)["kubernetes.io/metadata.name"] = name;
    if (Json* st = Child(obj, "status")) SetIfMissing(st, "phase", "Active");
  } else if (k == "Node") {
    Json* st = ObjAt(obj, "status");
    if (st && IsObj(*st, "capacity") && !Has(*st, "allocatable")) (*st)["allocatable"] = (*st)["capacity"];
  } else if (k == "Endpoints") {
    EachObj(obj, "subsets", [](Json* ss) {
      EachObj(ss, "ports", [](Json* p) { SetIfMissing(p, "protocol", "TCP"); });
    });
  } else if (k == "LimitRange") {
    DefaultLimitRange(obj);
  } else {
    return false;
  }
  return true;
}

}  // namespace kubit::api::defaults

// Validation of PersistentVolumeClaims (spec, and what may change on
// update) and PersistentVolumes (capacity, sources, reclaim policy).
#include <algorithm>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

// ---- volumes and claims ----------------------------------------------------

void ValidatePVC(const Json& pvc, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(pvc, "spec");
  ValidatePVCSpec(spec, Path("spec"), errs);
  if (!old) return;
  const Json& os = ObjOrEmpty(*old, "spec");
  Json ns = spec, oc = os;
  if (Str(os, "volumeName").empty()) {
    if (Has(ns, "volumeName")) oc["volumeName"] = ns["volumeName"];
    else oc.erase("volumeName");
  }
  // A storage class may be set once when it was nil.
  if (!Has(os, "storageClassName") && Has(ns, "storageClassName")) oc["storageClassName"] = ns["storageClassName"];
  bool bound = Str(ObjOrEmpty(pvc, "status"), "phase") == "Bound";
  auto storage = [](const Json& s) -> const Json* {
    const Json* r = GetObj(s, "resources");
    const Json* q = r ? GetObj(*r, "requests") : nullptr;
    return q ? Get(*q, "storage") : nullptr;
  };
  if (bound && ns.contains("resources") && ns["resources"].is_object() && ns["resources"].contains("requests") &&
      ns["resources"]["requests"].is_object()) {
    if (const Json* o = storage(os)) ns["resources"]["requests"]["storage"] = *o;
    else ns["resources"]["requests"].erase("storage");
  }
  if (!SameValue(&ns, &oc))
    errs->push_back(Forbidden(Path("spec"),
                              "spec is immutable after creation except resources.requests and volumeAttributesClassName for "
                              "bound claims\n" + SpecDiff(oc, ns, "core.PersistentVolumeClaimSpec")));
  const Json* nq = storage(spec);
  const Json* oq = storage(os);
  auto nv = nq ? Qty(*nq) : std::nullopt;
  auto ov = oq ? Qty(*oq) : std::nullopt;
  if (nv && ov && CompareQuantity(*nv, *ov) < 0) {
    const Json& cap = ObjOrEmpty(ObjOrEmpty(*old, "status"), "capacity");
    auto sv = Has(cap, "storage") ? Qty(cap["storage"]) : std::nullopt;
    Quantity zero;
    if (CompareQuantity(*nv, sv ? *sv : zero) <= 0)
      errs->push_back(Forbidden(Path("spec").Child("resources").Child("requests").Child("storage"),
                                "field can not be less than status.capacity"));
  }
  if (!SameValue(Get(spec, "volumeMode"), Get(os, "volumeMode")))
    errs->push_back(Invalid(Path("volumeMode"), Has(spec, "volumeMode") ? Q(Str(spec, "volumeMode")) : "null", kImmutable));
}

constexpr const char* kPVSources[] = {
    "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd", "quobyte", "cephfs",
    "iscsi", "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume", "photonPersistentDisk", "portworxVolume",
    "azureDisk", "scaleIO", "local", "storageos", "csi"};

void ValidatePV(const Json& pv, const Json* old, Errs* errs) {
  const Json& spec = ObjOrEmpty(pv, "spec");
  Path sp("spec");
  static const std::vector<std::string> kModes = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"};
  const Json& modes = Items(spec, "accessModes");
  if (modes.empty()) errs->push_back(Required(sp.Child("accessModes")));
  bool rwop = false, other = false;
  for (const Json& m : modes) {
    std::string mode = m.is_string() ? m.get<std::string>() : "";
    bool known = std::find(kModes.begin(), kModes.end(), mode) != kModes.end();
    if (!known) errs->push_back(NotSupported(sp.Child("accessModes"), Q(mode), kModes));
    if (mode == "ReadWriteOncePod") rwop = true;
    else if (known) other = true;
  }
  if (rwop && other) errs->push_back(Forbidden(sp.Child("accessModes"), "may not use ReadWriteOncePod with other access modes"));
  const Json& cap = ObjOrEmpty(spec, "capacity");
  if (cap.empty()) errs->push_back(Required(sp.Child("capacity")));
  if (!cap.contains("storage") || cap.size() > 1) {
    std::string v = "core.ResourceList{";
    bool first = true;
    for (auto it = cap.begin(); it != cap.end(); ++it) {
      auto q = Qty(it.value());
      v += (first ? "" : ", ") + Q(it.key()) + ":" + (q ? q->GoSyntax() : GoValue(it.value()));
      first = false;
    }
    errs->push_back(NotSupported(sp.Child("capacity"), cap.empty() ? "core.ResourceList(nil)" : v + "}", {"storage"}));
  }
  for (auto it = cap.begin(); it != cap.end(); ++it) {
    auto q = Qty(it.value());
    if (!q) continue;
    Path cp = sp.Child("capacity").Key(it.key());
    int64_t v = 0;
    q->ToInt64(&v);
    if (v < 0) errs->push_back(Invalid(cp, GoInt(v), "must be a valid resource quantity"));
    if (q->Sign() <= 0) errs->push_back(Invalid(cp, Q(q->String()), "must be greater than zero"));
  }
  if (Has(spec, "persistentVolumeReclaimPolicy")) {
    std::string rp = Str(spec, "persistentVolumeReclaimPolicy");
    if (rp != "Delete" && rp != "Recycle" && rp != "Retain")
      errs->push_back(NotSupported(sp.Child("persistentVolumeReclaimPolicy"), Q(rp), {"Delete", "Recycle", "Retain"}));
  }
  bool affinity = false;
  if (const Json* na = GetObj(spec, "nodeAffinity")) {
    affinity = true;
    if (const Json* req = GetObj(*na, "required")) ValidateNodeSelector(*req, sp.Child("nodeAffinity").Child("required"), errs);
    else errs->push_back(Required(sp.Child("nodeAffinity").Child("required"), "must specify required node constraints"));
  }
  int n = 0;
  for (const char* src : kPVSources) {
    const Json* s = GetObj(spec, src);
    if (!s) continue;
    std::string key = src;
    if (n > 0 && key != "flexVolume") {
      errs->push_back(Forbidden(sp.Child(key == "cephfs" ? "cephFS" : key), "may not specify more than 1 volume type"));
      continue;
    }
    n++;
    if (key == "hostPath") ValidateHostPathSource(*s, sp.Child("hostPath"), errs);
    else if (key == "nfs") ValidateNFSSource(*s, sp.Child("nfs"), errs);
    else if (key == "local") {
      std::string path = Str(*s, "path");
      if (path.empty()) errs->push_back(Required(sp.Child("local").Child("path")));
      else {
        Errs back;
        ValidateLocalDescendingPath(path, sp.Child("local").Child("path"), &back);
        for (auto& e : back)
          if (e.detail == "must not contain '..'") errs->push_back(e);
      }
      if (!affinity) errs->push_back(Required(sp.Child("nodeAffinity"), "Local volume requires node affinity"));
    } else if (key == "csi") {
      ValidateCSIDriverName(Str(*s, "driver"), sp.Child("csi").Child("driver"), errs);
      if (Str(*s, "volumeHandle").empty()) errs->push_back(Required(sp.Child("csi").Child("volumeHandle")));
    }
  }
  if (n == 0) errs->push_back(Required(sp, "must specify a volume type"));
  if (const Json* hp = GetObj(spec, "hostPath"))
    if ((Str(*hp, "path") == "/" || Str(*hp, "path") == "//") && Str(spec, "persistentVolumeReclaimPolicy") == "Recycle")
      errs->push_back(Forbidden(sp.Child("persistentVolumeReclaimPolicy"), "may not be 'recycle' for a hostPath mount of '/'"));
  if (std::string sc = Str(spec, "storageClassName"); !sc.empty()) AddAll(errs, sp.Child("storageClassName"), sc, IsDNS1123Subdomain(sc));
  if (Has(spec, "volumeMode")) {
    std::string vm = Str(spec, "volumeMode");
    if (vm != "Block" && vm != "Filesystem") errs->push_back(NotSupported(sp.Child("volumeMode"), Q(vm), {"Block", "Filesystem"}));
  }
  if (!old) return;
  const Json& os = ObjOrEmpty(*old, "spec");
  Json ns_src = Json::object(), os_src = Json::object();
  for (const char* src : kPVSources) {
    if (Has(spec, src)) ns_src[src] = spec[src];
    if (Has(os, src)) os_src[src] = os[src];
  }
  // A controllerExpandSecretRef may be added.
  if (ns_src.contains("csi") && os_src.contains("csi") && !Has(os_src["csi"], "controllerExpandSecretRef"))
    ns_src["csi"].erase("controllerExpandSecretRef");
  if (!SameValue(&ns_src, &os_src))
    errs->push_back(Forbidden(sp.Child("persistentvolumesource"),
                              "spec.persistentvolumesource is immutable after creation\n" +
                                  SpecDiff(os_src, ns_src, "core.PersistentVolumeSource")));
  if (!SameValue(Get(spec, "volumeMode"), Get(os, "volumeMode")))
    errs->push_back(Invalid(Path("volumeMode"), Has(spec, "volumeMode") ? Q(Str(spec, "volumeMode")) : "null", kImmutable));
  if (Has(os, "nodeAffinity") && !SameValue(Get(spec, "nodeAffinity"), Get(os, "nodeAffinity")))
    errs->push_back(Invalid(Path("nodeAffinity"), "core.VolumeNodeAffinity{...}", std::string(kImmutable) + ", except for updating from beta label to GA"));
}

}  // namespace

void ValidateClaimKind(const ResourceType& t, const Json& obj, const Json* old, Errs* errs) {
  if (t.kind == "PersistentVolumeClaim") ValidatePVC(obj, old, errs);
  else ValidatePV(obj, old, errs);
}

}  // namespace kubit::api::validation

// Volume validation (ValidateVolumes and each volume source) and the
// PersistentVolumeClaimSpec rules shared by claims, ephemeral volumes and
// claim templates.
#include <algorithm>
#include <set>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

const char kFileModeError[] = "must be a number between 0 and 0777 (octal), both inclusive";

void ValidateMode(const Json& o, const char* key, const Path& p, Errs* errs) {
  if (auto m = Int(o, key); m && (*m > 0777 || *m < 0)) errs->push_back(Invalid(p, GoInt(*m), kFileModeError));
}

void ValidateLocalNonReservedPath(const std::string& v, const Path& p, Errs* errs) {
  ValidateLocalDescendingPath(v, p, errs);
  if (v.rfind("..", 0) == 0 && v.rfind("../", 0) != 0) errs->push_back(Invalid(p, Q(v), "must not start with '..'"));
}

void ValidateKeyToPath(const Json& kp, const Path& p, Errs* errs) {
  std::string key = Str(kp, "key"), path = Str(kp, "path");
  if (key.empty()) errs->push_back(Required(p.Child("key")));
  if (path.empty()) errs->push_back(Required(p.Child("path")));
  ValidateLocalNonReservedPath(path, p.Child("path"), errs);
  ValidateMode(kp, "mode", p.Child("mode"), errs);
}

void ValidateItems(const Json& src, const Path& p, Errs* errs) {
  const Json& items = Items(src, "items");
  for (size_t i = 0; i < items.size(); i++) ValidateKeyToPath(items[i], p.Child("items").Index(i), errs);
}

void ValidateDownwardAPIFile(const Json& file, const Path& p, Errs* errs) {
  static const std::vector<std::string> kVolumeFields = {"metadata.annotations", "metadata.labels", "metadata.name",
                                                         "metadata.namespace", "metadata.uid"};
  std::string path = Str(file, "path");
  if (path.empty()) errs->push_back(Required(p.Child("path")));
  ValidateLocalNonReservedPath(path, p.Child("path"), errs);
  const Json* field_ref = GetObj(file, "fieldRef");
  const Json* res_ref = GetObj(file, "resourceFieldRef");
  if (field_ref) {
    ValidateObjectFieldSelector(*field_ref, kVolumeFields, p.Child("fieldRef"), errs);
    if (res_ref) errs->push_back(Invalid(p, Q("resource"), "fieldRef and resourceFieldRef can not be specified simultaneously"));
  } else if (res_ref) {
    ValidateResourceFieldSelector(*res_ref, true, p.Child("resourceFieldRef"), errs);
  } else {
    errs->push_back(Required(p, "one of fieldRef and resourceFieldRef is required"));
  }
  ValidateMode(file, "mode", p.Child("mode"), errs);
}

void ValidateProjected(const Json& proj, const Path& p, Errs* errs) {
  ValidateMode(proj, "defaultMode", p.Child("defaultMode"), errs);
  std::set<std::string> paths;
  const Json& sources = Items(proj, "sources");
  for (size_t i = 0; i < sources.size(); i++) {
    const Json& src = sources[i];
    Path sp = p.Child("sources").Index(i);
    int n = 0;
    for (const char* kind : {"secret", "configMap"}) {
      const Json* s = GetObj(src, kind);
      if (!s) continue;
      n++;
      Path kp = sp.Child(kind);
      if (Str(*s, "name").empty()) errs->push_back(Required(kp.Child("name")));
      const Json& items = Items(*s, "items");
      for (size_t j = 0; j < items.size(); j++) {
        ValidateKeyToPath(items[j], kp.Child("items").Index(j), errs);
        std::string path = Str(items[j], "path");
        if (!path.empty() && !paths.insert(path).second)
          errs->push_back(Invalid(p, Q(Str(*s, "name")), "conflicting duplicate paths"));
      }
    }
    if (const Json* d = GetObj(src, "downwardAPI")) {
      n++;
      for (const Json& file : Items(*d, "items")) {
        ValidateDownwardAPIFile(file, sp.Child("downwardAPI"), errs);
        std::string path = Str(file, "path");
        if (!path.empty() && !paths.insert(path).second) errs->push_back(Invalid(p, Q(path), "conflicting duplicate paths"));
      }
    }
    if (const Json* t = GetObj(src, "serviceAccountToken")) {
      n++;
      Path tp = sp.Child("serviceAccountToken");
      int64_t exp = Int(*t, "expirationSeconds").value_or(0);
      if (exp < 600) errs->push_back(Invalid(tp.Child("expirationSeconds"), GoInt(exp), "may not specify a duration less than 10 minutes"));
      if (exp > (int64_t(1) << 32))
        errs->push_back(Invalid(tp.Child("expirationSeconds"), GoInt(exp), "may not specify a duration larger than 2^32 seconds"));
      std::string path = Str(*t, "path");
      if (path.empty()) errs->push_back(Required(p.Child("path")));
      else ValidateLocalNonReservedPath(path, p.Child("path"), errs);
    }
    if (const Json* b = GetObj(src, "clusterTrustBundle")) {
      n++;
      Path bp = sp.Child("clusterTrustBundle");
      bool name = Has(*b, "name"), signer = Has(*b, "signerName");
      if (!name && !signer) errs->push_back(Required(bp, "either name or signerName must be specified"));
      std::string path = Str(*b, "path");
      if (path.empty()) errs->push_back(Required(bp.Child("path")));
      ValidateLocalNonReservedPath(path, bp.Child("path"), errs);
      if (!paths.insert(path).second) errs->push_back(Invalid(p, Q(path), "conflicting duplicate paths"));
    }
    if (n > 1) errs->push_back(Forbidden(sp, "may not specify more than 1 volume type per source"));
  }
}

// ObjectMeta of an embedded template: only labels and annotations.
void ValidateTemplateObjectMeta(const Json* meta, const Path& p, Errs* errs) {
  if (!meta) return;
  ValidateAnnotations(GetObj(*meta, "annotations"), p.Child("annotations"), errs);
  ValidateLabels(GetObj(*meta, "labels"), p.Child("labels"), errs);
  for (auto it = meta->begin(); it != meta->end(); ++it) {
    if (it.key() == "labels" || it.key() == "annotations") continue;
    const Json& v = it.value();
    bool zero = v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty()) ||
                ((v.is_array() || v.is_object()) && v.empty()) || (v.is_number() && v == 0);
    if (!zero) errs->push_back(Forbidden(p.Child(it.key()), "cannot be set"));
  }
}

void ValidateDataSource(const Json& ds, bool ref, const Path& p, Errs* errs) {
  std::string name = Str(ds, "name"), kind = Str(ds, "kind"), group = Str(ds, "apiGroup");
  if (name.empty()) errs->push_back(Required(p.Child("name")));
  if (kind.empty()) errs->push_back(Required(p.Child("kind")));
  if (group.empty() && kind != "PersistentVolumeClaim")
    errs->push_back(Invalid(p, Q(kind), "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  if (!group.empty()) AddAll(errs, p.Child("apiGroup"), group, IsDNS1123Subdomain(group));
  if (ref)
    if (std::string ns = Str(ds, "namespace"); !ns.empty()) AddAll(errs, p.Child("namespace"), ns, IsDNS1123Label(ns));
}

// One source of a Volume; the number of sources is counted in `n`.
struct SourceCheck {
  const Json& vol;
  const Path& p;
  Errs* errs;
  int n = 0;
  // The source object under `key` when it is the first source seen.
  const Json* Take(const char* key, const char* forbidden_path = nullptr) {
    const Json* s = GetObj(vol, key);
    if (!s) return nullptr;
    if (n > 0) {
      errs->push_back(Forbidden(p.Child(forbidden_path ? forbidden_path : key), "may not specify more than 1 volume type"));
      return nullptr;
    }
    n++;
    return s;
  }
  void RequireStr(const Json& s, const Path& sp, const char* key, std::string detail = "") {
    if (Str(s, key).empty()) errs->push_back(Required(sp.Child(key), detail));
  }
};

void ValidateVolumeSource(const Json& vol, const Path& p, const std::string& vol_name, const Json* pod_meta,
                          Errs* errs) {
  SourceCheck c{vol, p, errs};
  if (const Json* ed = GetObj(vol, "emptyDir")) {
    c.n++;
    if (const Json* sl = Get(*ed, "sizeLimit"))
      if (auto q = Qty(*sl); q && q->Sign() < 0)
        errs->push_back(Forbidden(p.Child("emptyDir").Child("sizeLimit"), "SizeLimit field must be a valid resource quantity"));
  }
  if (const Json* s = c.Take("hostPath")) ValidateHostPathSource(*s, p.Child("hostPath"), errs);
  if (const Json* s = c.Take("gitRepo")) {
    c.RequireStr(*s, p.Child("gitRepo"), "repository");
    ValidateLocalDescendingPath(Str(*s, "directory"), p.Child("gitRepo").Child("directory"), errs);
  }
  auto disk = [&](const Json& s, const Path& sp, const char* id) {
    c.RequireStr(s, sp, id);
    int64_t part = Int(s, "partition").value_or(0);
    if (part < 0 || part > 255) errs->push_back(Invalid(sp.Child("partition"), GoInt(part), InclusiveRangeError(1, 255)));
  };
  if (const Json* s = c.Take("gcePersistentDisk")) disk(*s, p.Child("persistentDisk"), "pdName");
  if (const Json* s = c.Take("awsElasticBlockStore")) disk(*s, p.Child("awsElasticBlockStore"), "volumeID");
  if (const Json* s = c.Take("secret")) {
    Path sp = p.Child("secret");
    c.RequireStr(*s, sp, "secretName");
    ValidateMode(*s, "defaultMode", sp.Child("defaultMode"), errs);
    ValidateItems(*s, sp, errs);
  }
  if (const Json* s = c.Take("nfs")) ValidateNFSSource(*s, p.Child("nfs"), errs);
  if (const Json* s = c.Take("iscsi")) {
    Path sp = p.Child("iscsi");
    c.RequireStr(*s, sp, "targetPortal");
    std::string iqn = Str(*s, "iqn");
    if (iqn.empty()) errs->push_back(Required(sp.Child("iqn")));
    else if (iqn.rfind("iqn", 0) != 0 && iqn.rfind("eui", 0) != 0 && iqn.rfind("naa", 0) != 0)
      errs->push_back(Invalid(sp.Child("iqn"), Q(iqn), "must be valid format starting with iqn, eui, or naa"));
    int64_t lun = Int(*s, "lun").value_or(0);
    if (lun < 0 || lun > 255) errs->push_back(Invalid(sp.Child("lun"), GoInt(lun), InclusiveRangeError(0, 255)));
    if ((Bool(*s, "chapAuthDiscovery") || Bool(*s, "chapAuthSession")) && !Has(*s, "secretRef"))
      errs->push_back(Required(sp.Child("secretRef")));
  }
  if (const Json* s = c.Take("glusterfs")) {
    c.RequireStr(*s, p.Child("glusterfs"), "endpoints");
    c.RequireStr(*s, p.Child("glusterfs"), "path");
  }
  if (const Json* s = c.Take("flocker")) {
    std::string name = Str(*s, "datasetName"), uuid = Str(*s, "datasetUUID");
    Path sp = p.Child("flocker");
    if (name.empty() && uuid.empty()) errs->push_back(Required(sp, "one of datasetName and datasetUUID is required"));
    if (!name.empty() && !uuid.empty())
      errs->push_back(Invalid(sp, Q("resource"), "datasetName and datasetUUID can not be specified simultaneously"));
    if (name.find('/') != std::string::npos) errs->push_back(Invalid(sp.Child("datasetName"), Q(name), "must not contain '/'"));
  }
  if (const Json* s = c.Take("persistentVolumeClaim")) c.RequireStr(*s, p.Child("persistentVolumeClaim"), "claimName");
  if (const Json* s = c.Take("rbd")) {
    if (Len(*s, "monitors") == 0) errs->push_back(Required(p.Child("rbd").Child("monitors")));
    c.RequireStr(*s, p.Child("rbd"), "image");
  }
  if (const Json* s = c.Take("cinder")) {
    c.RequireStr(*s, p.Child("cinder"), "volumeID");
    if (const Json* ref = GetObj(*s, "secretRef"); ref && Str(*ref, "name").empty())
      errs->push_back(Required(p.Child("cinder").Child("secretRef").Child("name")));
  }
  if (const Json* s = c.Take("cephfs", "cephFS"))
    if (Len(*s, "monitors") == 0) errs->push_back(Required(p.Child("cephfs").Child("monitors")));
  if (const Json* s = c.Take("quobyte")) {
    Path sp = p.Child("quobyte");
    if (Str(*s, "registry").empty())
      errs->push_back(Required(sp.Child("registry"), "must be a host:port pair or multiple pairs separated by commas"));
    else if (Str(*s, "tenant").size() >= 65)
      errs->push_back(Required(sp.Child("tenant"), "must be a UUID and may not exceed a length of 64 characters"));
    c.RequireStr(*s, sp, "volume");
  }
  if (const Json* s = c.Take("downwardAPI", "downwarAPI")) {
    Path sp = p.Child("downwardAPI");
    ValidateMode(*s, "defaultMode", sp.Child("defaultMode"), errs);
    for (const Json& file : Items(*s, "items")) ValidateDownwardAPIFile(file, sp, errs);
  }
  if (const Json* s = c.Take("fc")) {
    Path sp = p.Child("fc");
    size_t wwns = Len(*s, "targetWWNs"), wwids = Len(*s, "wwids");
    if (wwns < 1 && wwids < 1)
      errs->push_back(Required(sp.Child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"));
    if (wwns != 0 && wwids != 0)
      errs->push_back(Invalid(sp.Child("targetWWNs"), GoStrings(GetArr(*s, "targetWWNs")),
                              "targetWWNs and wwids can not be specified simultaneously"));
    if (wwns != 0) {
      if (!Has(*s, "lun")) errs->push_back(Required(sp.Child("lun"), "lun is required if targetWWNs is specified"));
      else if (int64_t lun = Int(*s, "lun").value_or(0); lun < 0 || lun > 255)
        errs->push_back(Invalid(sp.Child("lun"), GoInt(lun), InclusiveRangeError(0, 255)));
    }
  }
  if (const Json* s = c.Take("flexVolume")) {
    Path sp = p.Child("flexVolume");
    c.RequireStr(*s, sp, "driver");
    if (const Json* opts = GetObj(*s, "options"))
      for (auto it = opts->begin(); it != opts->end(); ++it) {
        std::string ns = it.key().substr(0, it.key().find('/'));
        std::string norm = "." + ns;
        for (char& ch : norm) ch = char(tolower(static_cast<unsigned char>(ch)));
        auto ends = [&](const std::string& suf) {
          return norm.size() >= suf.size() && norm.compare(norm.size() - suf.size(), suf.size(), suf) == 0;
        };
        if (ends(".kubernetes.io") || ends(".k8s.io"))
          errs->push_back(Invalid(sp.Child("options").Key(it.key()), Q(it.key()), "kubernetes.io and k8s.io namespaces are reserved"));
      }
  }
  if (const Json* s = c.Take("configMap")) {
    Path sp = p.Child("configMap");
    c.RequireStr(*s, sp, "name");
    ValidateMode(*s, "defaultMode", sp.Child("defaultMode"), errs);
    ValidateItems(*s, sp, errs);
  }
  if (const Json* s = c.Take("azureFile")) {
    c.RequireStr(*s, p.Child("azureFile"), "secretName");
    c.RequireStr(*s, p.Child("azureFile"), "shareName");
  }
  if (const Json* s = c.Take("vsphereVolume")) c.RequireStr(*s, p.Child("vsphereVolume"), "volumePath");
  if (const Json* s = c.Take("photonPersistentDisk")) c.RequireStr(*s, p.Child("photonPersistentDisk"), "pdID");
  if (const Json* s = c.Take("portworxVolume")) c.RequireStr(*s, p.Child("portworxVolume"), "volumeID");
  if (const Json* s = c.Take("azureDisk")) {
    Path sp = p.Child("azureDisk");
    c.RequireStr(*s, sp, "diskName");
    c.RequireStr(*s, sp, "diskURI");
    std::string cm = Str(*s, "cachingMode"), kind = Str(*s, "kind"), uri = Str(*s, "diskURI");
    if (Has(*s, "cachingMode") && cm != "None" && cm != "ReadOnly" && cm != "ReadWrite")
      errs->push_back(NotSupported(sp.Child("cachingMode"), Q(cm), {"None", "ReadOnly", "ReadWrite"}));
    if (Has(*s, "kind") && kind != "Dedicated" && kind != "Managed" && kind != "Shared")
      errs->push_back(NotSupported(sp.Child("kind"), Q(kind), {"Dedicated", "Managed", "Shared"}));
    if (Has(*s, "kind") && kind == "Managed" && uri.rfind("/subscriptions/", 0) != 0)
      errs->push_back(NotSupported(sp.Child("diskURI"), Q(uri),
                                   {"/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/{disk-id}"}));
    if (Has(*s, "kind") && kind != "Managed" && uri.rfind("https://", 0) != 0)
      errs->push_back(NotSupported(sp.Child("diskURI"), Q(uri),
                                   {"https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd"}));
  }
  if (const Json* s = c.Take("storageos")) {
    Path sp = p.Child("storageos");
    std::string vn = Str(*s, "volumeName"), vns = Str(*s, "volumeNamespace");
    if (vn.empty()) errs->push_back(Required(sp.Child("volumeName")));
    else AddAll(errs, sp.Child("volumeName"), vn, IsDNS1123Label(vn));
    if (!vns.empty()) AddAll(errs, sp.Child("volumeNamespace"), vns, IsDNS1123Label(vns));
  }
  if (const Json* s = c.Take("projected")) ValidateProjected(*s, p.Child("projected"), errs);
  if (const Json* s = c.Take("scaleIO")) {
    for (const char* f : {"gateway", "system", "volumeName"}) c.RequireStr(*s, p.Child("scaleIO"), f);
  }
  if (const Json* s = c.Take("csi")) {
    Path sp = p.Child("csi");
    ValidateCSIDriverName(Str(*s, "driver"), sp.Child("driver"), errs);
    if (const Json* ref = GetObj(*s, "nodePublishSecretRef")) {
      std::string name = Str(*ref, "name");
      if (name.empty()) errs->push_back(Required(sp.Child("nodePublishSecretRef").Child("name")));
      else AddAll(errs, sp.Child("name"), name, IsDNS1123Subdomain(name));
    }
  }
  if (const Json* s = c.Take("ephemeral")) {
    Path sp = p.Child("ephemeral");
    const Json* tmpl = GetObj(*s, "volumeClaimTemplate");
    if (!tmpl) {
      errs->push_back(Required(sp.Child("volumeClaimTemplate")));
    } else {
      Path tp = sp.Child("volumeClaimTemplate");
      ValidateTemplateObjectMeta(GetObj(*tmpl, "metadata"), tp.Child("metadata"), errs);
      static const Json kEmpty = Json::object();
      const Json* spec = GetObj(*tmpl, "spec");
      ValidatePVCSpec(spec ? *spec : kEmpty, tp.Child("spec"), errs);
      std::string pod_name = pod_meta ? Str(*pod_meta, "name") : "";
      if (!pod_name.empty() && !vol_name.empty()) {
        std::string pvc = pod_name + "-" + vol_name;
        for (const auto& m : IsDNS1123Subdomain(pvc))
          errs->push_back(Invalid(p.Child("name"), Q(vol_name), "PVC name " + Q(pvc) + ": " + m));
      }
    }
  }
  if (const Json* s = c.Take("image")) {
    std::string pp = Str(*s, "pullPolicy");
    Path sp = p.Child("image");
    if (pod_meta && Str(*s, "reference").empty()) errs->push_back(Required(sp.Child("reference")));
    if (pp.empty()) errs->push_back(Required(sp.Child("pullPolicy")));
    else if (pp != "Always" && pp != "IfNotPresent" && pp != "Never")
      errs->push_back(NotSupported(sp.Child("pullPolicy"), Q(pp), {"Always", "IfNotPresent", "Never"}));
  }
  if (c.n == 0) errs->push_back(Required(p, "must specify a volume type"));
}

}  // namespace

void ValidateLocalDescendingPath(const std::string& v, const Path& p, Errs* errs) {
  if (!v.empty() && v[0] == '/') errs->push_back(Invalid(p, Q(v), "must be a relative path"));
  size_t start = 0;
  while (start <= v.size()) {
    size_t slash = v.find('/', start);
    std::string part = v.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part == "..") {
      errs->push_back(Invalid(p, Q(v), "must not contain '..'"));
      break;
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

void ValidateHostPathSource(const Json& hp, const Path& p, Errs* errs) {
  std::string path = Str(hp, "path");
  if (path.empty()) return errs->push_back(Required(p.Child("path")));
  Errs back;
  ValidateLocalDescendingPath(path, p.Child("path"), &back);
  for (auto& e : back)
    if (e.detail == "must not contain '..'") errs->push_back(e);
  if (const Json* t = Get(hp, "type")) {
    static const std::vector<std::string> kTypes = {"", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate",
                                                    "File", "FileOrCreate", "Socket"};
    std::string type = t->is_string() ? t->get<std::string>() : "";
    if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end())
      errs->push_back(NotSupported(p.Child("type"), Q(type), kTypes));
  }
}

void ValidateNFSSource(const Json& nfs, const Path& p, Errs* errs) {
  std::string server = Str(nfs, "server"), path = Str(nfs, "path");
  if (server.empty()) errs->push_back(Required(p.Child("server")));
  if (path.empty()) errs->push_back(Required(p.Child("path")));
  if (path.empty() || path[0] != '/') errs->push_back(Invalid(p.Child("path"), Q(path), "must be an absolute path"));
}

void ValidateCSIDriverName(const std::string& v, const Path& p, Errs* errs) {
  if (v.empty()) errs->push_back(Required(p));
  if (v.size() > 63) errs->push_back(TooLong(p, 63));
  std::string lower = v;
  for (char& ch : lower) ch = char(tolower(static_cast<unsigned char>(ch)));
  AddAll(errs, p, v, IsDNS1123Subdomain(lower));
}

std::vector<VolumeInfo> ValidateVolumes(const Json& spec, const Json* pod_meta, const Path& p, Errs* errs) {
  std::vector<VolumeInfo> vols;
  std::set<std::string> names, created;
  const Json& list = Items(spec, "volumes");
  std::string pod_name = pod_meta ? Str(*pod_meta, "name") : "";
  if (!pod_name.empty())
    for (const Json& v : list)
      if (Has(v, "ephemeral")) created.insert(pod_name + "-" + Str(v, "name"));
  for (size_t i = 0; i < list.size(); i++) {
    const Json& v = list[i];
    Path ip = p.Index(i);
    std::string name = Str(v, "name");
    Errs el;
    ValidateVolumeSource(v, ip, name, pod_meta, &el);
    if (name.empty()) el.push_back(Required(ip.Child("name")));
    else AddAll(&el, ip.Child("name"), name, IsDNS1123Label(name));
    if (names.count(name)) el.push_back(Duplicate(ip.Child("name"), Q(name)));
    if (el.empty()) {
      names.insert(name);
      vols.push_back({name, &v});
    } else {
      errs->insert(errs->end(), el.begin(), el.end());
    }
    if (const Json* pvc = GetObj(v, "persistentVolumeClaim"); pvc && created.count(Str(*pvc, "claimName")))
      errs->push_back(Invalid(ip.Child("persistentVolumeClaim").Child("claimName"), Q(Str(*pvc, "claimName")),
                              "must not reference a PVC that gets created for an ephemeral volume"));
  }
  return vols;
}

void ValidatePVCSpec(const Json& spec, const Path& p, Errs* errs) {
  static const std::vector<std::string> kModes = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"};
  const Json& modes = Items(spec, "accessModes");
  if (modes.empty()) errs->push_back(Required(p.Child("accessModes"), "at least 1 access mode is required"));
  ValidateLabelSelector(GetObj(spec, "selector"), p.Child("selector"), errs);
  bool rwop = false, other = false;
  for (const Json& m : modes) {
    std::string mode = m.is_string() ? m.get<std::string>() : "";
    bool known = std::find(kModes.begin(), kModes.end(), mode) != kModes.end();
    if (!known) errs->push_back(NotSupported(p.Child("accessModes"), Q(mode), kModes));
    if (mode == "ReadWriteOncePod") rwop = true;
    else if (known) other = true;
  }
  if (rwop && other) errs->push_back(Forbidden(p.Child("accessModes"), "may not use ReadWriteOncePod with other access modes"));
  Path sp = p.Child("resources").Key("storage");
  const Json* res = GetObj(spec, "resources");
  const Json* req = res ? GetObj(*res, "requests") : nullptr;
  const Json* storage = req ? Get(*req, "storage") : nullptr;
  if (!storage) {
    errs->push_back(Required(sp));
  } else if (auto q = Qty(*storage); q && q->Sign() <= 0) {
    errs->push_back(Invalid(sp, Q(q->String()), "must be greater than zero"));
  } else {
    ValidateResourceQuantityValue("storage", *storage, sp, errs);
  }
  if (std::string sc = Str(spec, "storageClassName"); !sc.empty()) AddAll(errs, p.Child("storageClassName"), sc, IsDNS1123Subdomain(sc));
  if (Has(spec, "volumeMode")) {
    std::string vm = Str(spec, "volumeMode");
    if (vm != "Block" && vm != "Filesystem") errs->push_back(NotSupported(p.Child("volumeMode"), Q(vm), {"Block", "Filesystem"}));
  }
  const Json* ds = GetObj(spec, "dataSource");
  const Json* dsr = GetObj(spec, "dataSourceRef");
  if (ds) ValidateDataSource(*ds, false, p.Child("dataSource"), errs);
  if (dsr) ValidateDataSource(*dsr, true, p.Child("dataSourceRef"), errs);
  if (dsr && !Str(*dsr, "namespace").empty()) {
    if (ds) errs->push_back(Invalid(p, "\"dataSource\"", "may not be specified when dataSourceRef.namespace is specified"));
  } else if (ds && dsr) {
    if (Str(*ds, "apiGroup") != Str(*dsr, "apiGroup") || Str(*ds, "kind") != Str(*dsr, "kind") ||
        Str(*ds, "name") != Str(*dsr, "name"))
      errs->push_back(Invalid(p, "\"dataSource\"", "must match dataSourceRef"));
  }
}

}  // namespace kubit::api::validation

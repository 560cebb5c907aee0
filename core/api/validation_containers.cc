// Containers as the pod spec validation checks them: name, image, ports,
// env and envFrom (with the downward API selectors), volume mounts and
// devices, pull policy, resources, probes, lifecycle hooks and security
// contexts, for regular, init and ephemeral containers.
#include <algorithm>
#include <set>

#include "core/api/validation_internal.h"

namespace kubit::api::validation {
namespace {

const std::vector<std::string> kProtocols = {"SCTP", "TCP", "UDP"};

std::string ToLower(std::string s) {
  for (char& c : s) c = char(tolower(static_cast<unsigned char>(c)));
  return s;
}

// Names validated as a prefix (generateName-like) allow a trailing dash.
std::string MaskTrailingDash(std::string name) {
  if (name.size() > 1 && name.back() == '-') name = name.substr(0, name.size() - 2) + "a";
  return name;
}

// ---- ports, env, mounts -------------------------------------------------

void ValidateContainerPorts(const Json& ports, const Path& p, Errs* errs) {
  std::set<std::string> names;
  for (size_t i = 0; i < ports.size(); i++) {
    const Json& port = ports[i];
    Path ip = p.Index(i);
    std::string name = Str(port, "name");
    if (!name.empty()) {
      auto msgs = IsValidPortName(name);
      if (!msgs.empty()) AddAll(errs, ip.Child("name"), name, msgs);
      else if (!names.insert(name).second) errs->push_back(Duplicate(ip.Child("name"), Q(name)));
    }
    int64_t cp = Int(port, "containerPort").value_or(0);
    if (cp == 0) errs->push_back(Required(ip.Child("containerPort")));
    else
      for (const auto& m : IsValidPortNum(cp)) errs->push_back(Invalid(ip.Child("containerPort"), GoInt(cp), m));
    int64_t hp = Int(port, "hostPort").value_or(0);
    if (hp != 0)
      for (const auto& m : IsValidPortNum(hp)) errs->push_back(Invalid(ip.Child("hostPort"), GoInt(hp), m));
    std::string proto = Str(port, "protocol");
    if (proto.empty()) errs->push_back(Required(ip.Child("protocol")));
    else if (std::find(kProtocols.begin(), kProtocols.end(), proto) == kProtocols.end())
      errs->push_back(NotSupported(ip.Child("protocol"), Q(proto), kProtocols));
  }
}

void ValidateSubscriptKey(const std::string& path, const std::string& sub, const Path& p, Errs* errs) {
  if (path == "metadata.annotations") AddAll(errs, p, ToLower(sub), IsQualifiedName(ToLower(sub)));
  else if (path == "metadata.labels") AddAll(errs, p, sub, IsQualifiedName(sub));
  else errs->push_back(Invalid(p, Q(path), "does not support subscript"));
}

void ValidateKeySelector(const Json& s, const Path& p, Errs* errs) {
  std::string name = Str(s, "name"), key = Str(s, "key");
  AddAll(errs, p.Child("name"), name, IsDNS1123Subdomain(name));
  if (key.empty()) errs->push_back(Required(p.Child("key")));
  else AddAll(errs, p.Child("key"), key, IsConfigMapKey(key));
}

void ValidateEnv(const Json& env, const Path& p, Errs* errs) {
  static const std::vector<std::string> kEnvFields = {"metadata.name", "metadata.namespace", "metadata.uid",
                                                      "spec.nodeName", "spec.serviceAccountName", "status.hostIP",
                                                      "status.hostIPs", "status.podIP", "status.podIPs"};
  for (size_t i = 0; i < env.size(); i++) {
    const Json& ev = env[i];
    Path ip = p.Index(i);
    std::string name = Str(ev, "name");
    if (name.empty()) errs->push_back(Required(ip.Child("name")));
    else AddAll(errs, ip.Child("name"), name, IsRelaxedEnvVarName(name));
    const Json* vf = GetObj(ev, "valueFrom");
    if (!vf) continue;
    Path vp = ip.Child("valueFrom");
    int sources = 0;
    if (const Json* f = GetObj(*vf, "fieldRef")) {
      sources++;
      ValidateObjectFieldSelector(*f, kEnvFields, vp.Child("fieldRef"), errs);
    }
    if (const Json* f = GetObj(*vf, "resourceFieldRef")) {
      sources++;
      ValidateResourceFieldSelector(*f, false, vp.Child("resourceFieldRef"), errs);
    }
    if (const Json* f = GetObj(*vf, "configMapKeyRef")) {
      sources++;
      ValidateKeySelector(*f, vp.Child("configMapKeyRef"), errs);
    }
    if (const Json* f = GetObj(*vf, "secretKeyRef")) {
      sources++;
      ValidateKeySelector(*f, vp.Child("secretKeyRef"), errs);
    }
    if (sources == 0)
      errs->push_back(Invalid(vp, Q(""), "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
    else if (!Str(ev, "value").empty())
      errs->push_back(Invalid(vp, Q(""), "may not be specified when `value` is not empty"));
    else if (sources > 1)
      errs->push_back(Invalid(vp, Q(""), "may not have more than one field specified at a time"));
  }
}

void ValidateEnvFrom(const Json& list, const Path& p, Errs* errs) {
  for (size_t i = 0; i < list.size(); i++) {
    const Json& ev = list[i];
    Path ip = p.Index(i);
    std::string prefix = Str(ev, "prefix");
    if (!prefix.empty()) AddAll(errs, ip.Child("prefix"), prefix, IsRelaxedEnvVarName(prefix));
    int sources = 0;
    for (const char* ref : {"configMapRef", "secretRef"}) {
      const Json* r = GetObj(ev, ref);
      if (!r) continue;
      sources++;
      std::string name = Str(*r, "name");
      if (name.empty()) errs->push_back(Required(ip.Child(ref).Child("name")));
      else AddAll(errs, ip.Child(ref).Child("name"), name, IsDNS1123Subdomain(MaskTrailingDash(name)));
    }
    if (sources == 0) errs->push_back(Invalid(p, Q(""), "must specify one of: `configMapRef` or `secretRef`"));
    else if (sources > 1) errs->push_back(Invalid(p, Q(""), "may not have more than one field specified at a time"));
  }
}

const VolumeInfo* FindVolume(const std::vector<VolumeInfo>& vols, const std::string& name) {
  for (const auto& v : vols)
    if (v.name == name) return &v;
  return nullptr;
}

void ValidateVolumeMounts(const Json& c, const std::vector<VolumeInfo>& vols, const Path& p, Errs* errs) {
  const Json& mounts = Items(c, "volumeMounts");
  const Json& devices = Items(c, "volumeDevices");
  std::set<std::string> points;
  bool privileged = false;
  if (const Json* sc = GetObj(c, "securityContext")) privileged = Bool(*sc, "privileged");
  for (size_t i = 0; i < mounts.size(); i++) {
    const Json& m = mounts[i];
    Path ip = p.Index(i);
    std::string name = Str(m, "name"), path = Str(m, "mountPath");
    if (name.empty()) errs->push_back(Required(ip.Child("name")));
    const VolumeInfo* vol = FindVolume(vols, name);
    if (!vol) errs->push_back(NotFound(ip.Child("name"), Q(name)));
    if (path.empty()) errs->push_back(Required(ip.Child("mountPath")));
    if (!points.insert(path).second) errs->push_back(Invalid(ip.Child("mountPath"), Q(path), "must be unique"));
    for (const Json& d : devices) {
      if (Str(d, "name") == name && !name.empty())
        errs->push_back(Invalid(ip.Child("name"), Q(name), "must not already exist in volumeDevices"));
    }
    for (const Json& d : devices)
      if (Str(d, "devicePath") == path)
        errs->push_back(Invalid(ip.Child("mountPath"), Q(path), "must not already exist as a path in volumeDevices"));
    std::string sub = Str(m, "subPath"), sub_expr = Str(m, "subPathExpr");
    if (vol && vol->source && Has(*vol->source, "image")) {
      if (!sub.empty()) errs->push_back(Invalid(ip.Child("subPath"), Q(sub), "not allowed in image volume sources"));
      if (!sub_expr.empty())
        errs->push_back(Invalid(ip.Child("subPathExpr"), Q(sub_expr), "not allowed in image volume sources"));
    }
    if (!sub.empty()) ValidateLocalDescendingPath(sub, p.Child("subPath"), errs);
    if (!sub_expr.empty()) {
      if (!sub.empty())
        errs->push_back(Invalid(ip.Child("subPathExpr"), Q(sub_expr), "subPathExpr and subPath are mutually exclusive"));
      ValidateLocalDescendingPath(sub_expr, p.Child("subPathExpr"), errs);
    }
    std::string prop = Str(m, "mountPropagation");
    if (Has(m, "mountPropagation")) {
      static const std::vector<std::string> kProps = {"Bidirectional", "HostToContainer", "None"};
      if (std::find(kProps.begin(), kProps.end(), prop) == kProps.end())
        errs->push_back(NotSupported(p.Child("mountPropagation"), Q(prop), kProps));
      if (prop == "Bidirectional" && !privileged)
        errs->push_back(Forbidden(p.Child("mountPropagation"),
                                  "Bidirectional mount propagation is available only to privileged containers"));
    }
    if (Has(m, "recursiveReadOnly")) {
      std::string rro = Str(m, "recursiveReadOnly");
      Path rp = p.Child("recursiveReadOnly");
      if (rro == "Enabled" || rro == "IfPossible") {
        if (!Bool(m, "readOnly")) errs->push_back(Forbidden(rp, "may only be specified when readOnly is true"));
        if (!prop.empty() && prop != "None")
          errs->push_back(Forbidden(rp, "may only be specified when mountPropagation is None or not specified"));
      } else if (rro != "Disabled") {
        errs->push_back(NotSupported(rp, Q(rro), {"Disabled", "Enabled", "IfPossible"}));
      }
    }
  }
}

void ValidateVolumeDevices(const Json& c, const std::vector<VolumeInfo>& vols, const Path& p, Errs* errs) {
  const Json& devices = Items(c, "volumeDevices");
  const Json& mounts = Items(c, "volumeMounts");
  std::set<std::string> paths, names;
  for (size_t i = 0; i < devices.size(); i++) {
    const Json& d = devices[i];
    Path ip = p.Index(i);
    std::string name = Str(d, "name"), path = Str(d, "devicePath");
    const VolumeInfo* vol = FindVolume(vols, name);
    bool is_pvc = vol && vol->source && (Has(*vol->source, "persistentVolumeClaim") || Has(*vol->source, "ephemeral"));
    if (name.empty()) errs->push_back(Required(ip.Child("name")));
    if (names.count(name)) errs->push_back(Invalid(ip.Child("name"), Q(name), "must be unique"));
    if (vol && !is_pvc)
      errs->push_back(Invalid(ip.Child("name"), Q(name),
                              "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"));
    if (!vol) errs->push_back(NotFound(ip.Child("name"), Q(name)));
    if (path.empty()) errs->push_back(Required(ip.Child("devicePath")));
    if (paths.count(path)) errs->push_back(Invalid(ip.Child("devicePath"), Q(path), "must be unique"));
    Errs back;
    if (!path.empty()) ValidateLocalDescendingPath(path, ip, &back);
    bool backsteps = false;
    for (const auto& e : back) backsteps |= e.detail == "must not contain '..'";
    if (backsteps) errs->push_back(Invalid(ip.Child("devicePath"), Q(path), "can not contain backsteps ('..')"));
    else paths.insert(path);
    for (const Json& m : mounts) {
      if (Str(m, "name") == name)
        errs->push_back(Invalid(ip.Child("name"), Q(name), "must not already exist in volumeMounts"));
      if (Str(m, "mountPath") == path)
        errs->push_back(Invalid(ip.Child("devicePath"), Q(path), "must not already exist as a path in volumeMounts"));
    }
    if (!name.empty()) names.insert(name);
  }
}

// ---- probes and lifecycle -------------------------------------------------

void ValidateHandler(const Json& h, bool lifecycle, const std::optional<int64_t>& grace, const Path& p,
                     Errs* errs) {
  int n = 0;
  auto one = [&](const char* key) -> const Json* {
    const Json* v = GetObj(h, key);
    if (!v) return nullptr;
    if (n++ > 0) {
      errs->push_back(Forbidden(p.Child(key), "may not specify more than 1 handler type"));
      return nullptr;
    }
    return v;
  };
  if (const Json* e = one("exec"))
    if (Len(*e, "command") == 0) errs->push_back(Required(p.Child("exec").Child("command")));
  if (const Json* g = one("httpGet")) {
    Path gp = p.Child("httpGet");
    if (Str(*g, "path").empty()) errs->push_back(Required(gp.Child("path")));
    ValidatePortNumOrName(Get(*g, "port") ? *Get(*g, "port") : Json(0), gp.Child("port"), errs);
    std::string scheme = Str(*g, "scheme");
    if (scheme != "HTTP" && scheme != "HTTPS") errs->push_back(NotSupported(gp.Child("scheme"), Q(scheme), {"HTTP", "HTTPS"}));
    for (const Json& hdr : Items(*g, "httpHeaders"))
      AddAll(errs, gp.Child("httpHeaders"), Str(hdr, "name"), IsHTTPHeaderName(Str(hdr, "name")));
  }
  if (const Json* t = one("tcpSocket"))
    ValidatePortNumOrName(Get(*t, "port") ? *Get(*t, "port") : Json(0), p.Child("tcpSocket").Child("port"), errs);
  if (!lifecycle) {
    if (const Json* g = one("grpc")) {
      int64_t port = Int(*g, "port").value_or(0);
      for (const auto& m : IsValidPortNum(port)) errs->push_back(Invalid(p.Child("grpc").Child("port"), GoInt(port), m));
    }
  } else if (const Json* s = one("sleep")) {
    int64_t secs = Int(*s, "seconds").value_or(0);
    if (grace && (secs <= 0 || secs > *grace))
      errs->push_back(Invalid(p.Child("sleep"), GoInt(secs),
                              "must be greater than 0 and less than terminationGracePeriodSeconds (" +
                                  std::to_string(*grace) +
                                  "). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."));
  }
  if (n == 0) errs->push_back(Required(p, "must specify a handler type"));
}

enum class ProbeKind { kLiveness, kReadiness, kStartup };

void ValidateProbe(const Json* probe, ProbeKind kind, const std::optional<int64_t>& grace, const Path& p,
                   Errs* errs) {
  if (!probe || !probe->is_object()) return;
  ValidateHandler(*probe, false, grace, p, errs);
  for (const char* f : {"initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"})
    ValidateNonnegative(*probe, f, p.Child(f), errs);
  if (auto t = Int(*probe, "terminationGracePeriodSeconds"); t && *t <= 0)
    errs->push_back(Invalid(p.Child("terminationGracePeriodSeconds"), GoInt(*t), "must be greater than 0"));
  if (kind != ProbeKind::kReadiness) {
    int64_t st = Int(*probe, "successThreshold").value_or(0);
    if (st != 1) errs->push_back(Invalid(p.Child("successThreshold"), GoInt(st), "must be 1"));
  } else if (auto t = Int(*probe, "terminationGracePeriodSeconds")) {
    errs->push_back(Invalid(p.Child("terminationGracePeriodSeconds"), GoInt(*t), "must not be set for readinessProbes"));
  }
}

void ValidateLifecycle(const Json& lc, const std::optional<int64_t>& grace, const Path& p, Errs* errs) {
  for (const char* hook : {"postStart", "preStop"})
    if (const Json* h = GetObj(lc, hook)) ValidateHandler(*h, true, grace, p.Child(hook), errs);
}



// ---- containers ----------------------------------------------------------

void ValidateContainerCommon(const Json& c, const PodContext& ctx, const Path& p, Errs* errs) {
  std::string name = Str(c, "name");
  if (name.empty()) errs->push_back(Required(p.Child("name")));
  else AddAll(errs, p.Child("name"), name, IsDNS1123Label(name));
  if (Str(c, "image").empty()) errs->push_back(Required(p.Child("image")));
  std::string tmp = Str(c, "terminationMessagePolicy");
  if (tmp.empty()) errs->push_back(Required(p.Child("terminationMessagePolicy")));
  else if (tmp != "File" && tmp != "FallbackToLogsOnError")
    errs->push_back(NotSupported(p.Child("terminationMessagePolicy"), Q(tmp), {"File", "FallbackToLogsOnError"}));
  ValidateContainerPorts(Items(c, "ports"), p.Child("ports"), errs);
  ValidateEnv(Items(c, "env"), p.Child("env"), errs);
  ValidateEnvFrom(Items(c, "envFrom"), p.Child("envFrom"), errs);
  ValidateVolumeMounts(c, ctx.vols, p.Child("volumeMounts"), errs);
  ValidateVolumeDevices(c, ctx.vols, p.Child("volumeDevices"), errs);
  std::string pull = Str(c, "imagePullPolicy");
  if (pull.empty()) errs->push_back(Required(p.Child("imagePullPolicy")));
  else if (pull != "Always" && pull != "IfNotPresent" && pull != "Never")
    errs->push_back(NotSupported(p.Child("imagePullPolicy"), Q(pull), {"Always", "IfNotPresent", "Never"}));
  ValidateResources(GetObj(c, "resources"), ctx.claims, p.Child("resources"), errs);
  const Json& resize = Items(c, "resizePolicy");
  std::set<std::string> resized;
  Path rp = p.Child("resizePolicy");
  for (size_t i = 0; i < resize.size(); i++) {
    std::string res = Str(resize[i], "resourceName"), pol = Str(resize[i], "restartPolicy");
    if (!resized.insert(res).second) errs->push_back(Duplicate(rp.Index(i), Q(res)));
    if (res.empty()) errs->push_back(Required(rp));
    else if (res != "cpu" && res != "memory") errs->push_back(NotSupported(rp, Q(res), {"cpu", "memory"}));
    if (pol.empty()) errs->push_back(Required(rp));
    else if (pol != "NotRequired" && pol != "RestartContainer")
      errs->push_back(NotSupported(rp, Q(pol), {"NotRequired", "RestartContainer"}));
    if (ctx.restart_policy == "Never" && pol != "NotRequired")
      errs->push_back(Invalid(rp, Q(pol), "must be 'NotRequired' when `restartPolicy` is 'Never'"));
  }
  ValidateSecurityContext(GetObj(c, "securityContext"), ctx.host_users, p.Child("securityContext"), errs);
}

// Host ports must not repeat (protocol, hostIP, port) across `containers`;
// paths count from 0 within the list given.
void CheckHostPortConflicts(const std::vector<const Json*>& containers, const Path& p, Errs* errs) {
  std::set<std::string> seen;
  for (size_t ci = 0; ci < containers.size(); ci++) {
    const Json& ports = Items(*containers[ci], "ports");
    for (size_t pi = 0; pi < ports.size(); pi++) {
      int64_t hp = Int(ports[pi], "hostPort").value_or(0);
      if (hp == 0) continue;
      std::string key = Str(ports[pi], "protocol") + "/" + Str(ports[pi], "hostIP") + "/" + std::to_string(hp);
      if (!seen.insert(key).second)
        errs->push_back(Duplicate(p.Index(ci).Child("ports").Index(pi).Child("hostPort"), Q(key)));
    }
  }
}

}  // namespace

void ValidateSeccompProfile(const Json* sp, const Path& p, Errs* errs) {
  if (!sp || !sp->is_object()) return;
  std::string type = Str(*sp, "type");
  if (type.empty()) errs->push_back(Required(p.Child("type"), "type is required when seccompProfile is set"));
  else if (type != "Localhost" && type != "RuntimeDefault" && type != "Unconfined")
    errs->push_back(NotSupported(p.Child("type"), Q(type), {"Localhost", "RuntimeDefault", "Unconfined"}));
  if (type == "Localhost") {
    if (!Has(*sp, "localhostProfile"))
      errs->push_back(Required(p.Child("localhostProfile"), "must be set when seccomp type is Localhost"));
    else ValidateLocalDescendingPath(Str(*sp, "localhostProfile"), p.Child("localhostProfile"), errs);
  } else if (Has(*sp, "localhostProfile")) {
    errs->push_back(Invalid(p.Child("localhostProfile"),
                            "core.SeccompProfile{Type:" + Q(type) + ", LocalhostProfile:(*string)(...)}",
                            "can only be set when seccomp type is Localhost"));
  }
}

void ValidateAppArmorProfile(const Json* ap, const Path& p, Errs* errs) {
  if (!ap || !ap->is_object()) return;
  std::string type = Str(*ap, "type");
  if (type == "Localhost") {
    if (!Has(*ap, "localhostProfile")) {
      errs->push_back(Required(p.Child("localhostProfile"), "must be set when AppArmor type is Localhost"));
    } else {
      std::string lp = Str(*ap, "localhostProfile");
      size_t b = lp.find_first_not_of(" \t\n\r\v\f"), e = lp.find_last_not_of(" \t\n\r\v\f");
      std::string trimmed = b == std::string::npos ? "" : lp.substr(b, e - b + 1);
      if (trimmed != lp) errs->push_back(Invalid(p.Child("localhostProfile"), Q(lp), "must not be padded with whitespace"));
      else if (trimmed.empty())
        errs->push_back(Required(p.Child("localhostProfile"), "must be set when AppArmor type is Localhost"));
      if (lp.size() > 4095) errs->push_back(TooLong(p.Child("localhostProfile"), 4095));
    }
  } else if (type == "RuntimeDefault" || type == "Unconfined") {
    if (Has(*ap, "localhostProfile"))
      errs->push_back(Invalid(p.Child("localhostProfile"), Q(Str(*ap, "localhostProfile")),
                              "can only be set when AppArmor type is Localhost"));
  } else if (type.empty()) {
    errs->push_back(Required(p.Child("type"), "type is required when appArmorProfile is set"));
  } else {
    errs->push_back(NotSupported(p.Child("type"), Q(type), {"Localhost", "RuntimeDefault", "Unconfined"}));
  }
}

void ValidateIDs(const Json& sc, const Path& p, Errs* errs, bool fs_group) {
  const char* keys[] = {"fsGroup", "runAsUser", "runAsGroup"};
  for (const char* k : keys) {
    if (!fs_group && std::string(k) == "fsGroup") continue;
    if (auto v = Int(sc, k))
      for (const auto& m : IsValidUserOrGroupID(*v)) errs->push_back(Invalid(p.Child(k), GoInt(*v), m));
  }
}

void ValidateSecurityContext(const Json* sc, bool host_users, const Path& p, Errs* errs) {
  if (!sc || !sc->is_object()) return;
  ValidateIDs(*sc, p, errs, false);
  if (Has(*sc, "procMount")) {
    std::string pm = Str(*sc, "procMount");
    if (pm != "Default" && pm != "Unmasked")
      errs->push_back(NotSupported(p.Child("procMount"), Q(pm), {"Default", "Unmasked"}));
    if (host_users && pm == "Unmasked")
      errs->push_back(Invalid(p.Child("procMount"), Q(pm), "`hostUsers` must be false to use `Unmasked`"));
  }
  ValidateSeccompProfile(GetObj(*sc, "seccompProfile"), p.Child("seccompProfile"), errs);
  const Json* ape = Get(*sc, "allowPrivilegeEscalation");
  if (ape && ape->is_boolean() && !ape->get<bool>()) {
    if (Bool(*sc, "privileged"))
      errs->push_back(Invalid(p, "core.SecurityContext{...}",
                              "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
    if (const Json* caps = GetObj(*sc, "capabilities"))
      for (const Json& c : Items(*caps, "add"))
        if (c == "CAP_SYS_ADMIN")
          errs->push_back(Invalid(p, "core.SecurityContext{...}",
                                  "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"));
  }
  ValidateAppArmorProfile(GetObj(*sc, "appArmorProfile"), p.Child("appArmorProfile"), errs);
}

// utilsysctl.GetNamespace: the namespace a sysctl belongs to.

void ValidateContainers(const Json& spec, const PodContext& ctx, const Path& p, Errs* errs) {
  const Json& list = Items(spec, "containers");
  if (list.empty()) return errs->push_back(Required(p));
  std::set<std::string> names;
  std::vector<const Json*> all;
  for (size_t i = 0; i < list.size(); i++) {
    const Json& c = list[i];
    Path ip = p.Index(i);
    all.push_back(&c);
    ValidateContainerCommon(c, ctx, ip, errs);
    std::string name = Str(c, "name");
    if (!names.insert(name).second) errs->push_back(Duplicate(ip.Child("name"), Q(name)));
    if (const Json* lc = GetObj(c, "lifecycle")) ValidateLifecycle(*lc, ctx.grace, ip.Child("lifecycle"), errs);
    ValidateProbe(GetObj(c, "livenessProbe"), ProbeKind::kLiveness, ctx.grace, ip.Child("livenessProbe"), errs);
    ValidateProbe(GetObj(c, "readinessProbe"), ProbeKind::kReadiness, ctx.grace, ip.Child("readinessProbe"), errs);
    ValidateProbe(GetObj(c, "startupProbe"), ProbeKind::kStartup, ctx.grace, ip.Child("startupProbe"), errs);
    if (Has(c, "restartPolicy")) errs->push_back(Forbidden(ip.Child("restartPolicy"), "may not be set for non-init containers"));
  }
  CheckHostPortConflicts(all, p, errs);
}

void ValidateInitContainers(const Json& spec, const PodContext& ctx, const Path& p, Errs* errs) {
  std::set<std::string> names;
  for (const Json& c : Items(spec, "containers")) names.insert(Str(c, "name"));
  const Json& list = Items(spec, "initContainers");
  for (size_t i = 0; i < list.size(); i++) {
    const Json& c = list[i];
    Path ip = p.Index(i);
    ValidateContainerCommon(c, ctx, ip, errs);
    bool always = false;
    if (Has(c, "restartPolicy")) {
      std::string rp = Str(c, "restartPolicy");
      if (rp != "Always") errs->push_back(NotSupported(ip.Child("restartPolicy"), Q(rp), {"Always"}));
      always = rp == "Always";
    }
    std::string name = Str(c, "name");
    if (names.count(name)) errs->push_back(Duplicate(ip.Child("name"), Q(name)));
    else if (!name.empty()) names.insert(name);
    CheckHostPortConflicts({&c}, p, errs);
    if (always) {
      if (const Json* lc = GetObj(c, "lifecycle")) ValidateLifecycle(*lc, ctx.grace, ip.Child("lifecycle"), errs);
      ValidateProbe(GetObj(c, "livenessProbe"), ProbeKind::kLiveness, ctx.grace, ip.Child("livenessProbe"), errs);
      ValidateProbe(GetObj(c, "readinessProbe"), ProbeKind::kReadiness, ctx.grace, ip.Child("readinessProbe"), errs);
      ValidateProbe(GetObj(c, "startupProbe"), ProbeKind::kStartup, ctx.grace, ip.Child("startupProbe"), errs);
    } else {
      for (const char* f : {"lifecycle", "livenessProbe", "readinessProbe", "startupProbe"})
        if (Has(c, f)) errs->push_back(Forbidden(ip.Child(f), "may not be set for init containers without restartPolicy=Always"));
    }
  }
}

void ValidateEphemeralContainers(const Json& spec, const PodContext& ctx, const Path& p, Errs* errs) {
  const Json& list = Items(spec, "ephemeralContainers");
  if (list.empty()) return;
  std::set<std::string> other, all;
  for (const char* l : {"containers", "initContainers"})
    for (const Json& c : Items(spec, l)) other.insert(Str(c, "name")), all.insert(Str(c, "name"));
  static const char* kForbidden[] = {"ports", "resources", "livenessProbe", "readinessProbe", "startupProbe",
                                     "lifecycle", "resizePolicy", "restartPolicy"};
  for (size_t i = 0; i < list.size(); i++) {
    const Json& c = list[i];
    Path ip = p.Index(i);
    ValidateContainerCommon(c, ctx, ip, errs);
    std::string image = Str(c, "image");
    if (!image.empty() && (isspace(static_cast<unsigned char>(image.front())) || isspace(static_cast<unsigned char>(image.back()))))
      errs->push_back(Invalid(ip.Child("image"), Q(image), "must not have leading or trailing whitespace"));
    std::string name = Str(c, "name");
    if (all.count(name)) errs->push_back(Duplicate(ip.Child("name"), Q(name)));
    else all.insert(name);
    std::string target = Str(c, "targetContainerName");
    if (!target.empty() && !other.count(target)) errs->push_back(NotFound(ip.Child("targetContainerName"), Q(target)));
    for (const char* f : kForbidden)
      if (Has(c, f) && !(std::string(f) == "resources" && Len(c, f) == 0))
        errs->push_back(Forbidden(ip.Child(f), "cannot be set for an Ephemeral Container"));
    const Json& mounts = Items(c, "volumeMounts");
    for (size_t m = 0; m < mounts.size(); m++) {
      if (!Str(mounts[m], "subPath").empty())
        errs->push_back(Forbidden(ip.Child("volumeMounts").Index(m).Child("subPath"), "cannot be set for an Ephemeral Container"));
      if (!Str(mounts[m], "subPathExpr").empty())
        errs->push_back(Forbidden(ip.Child("volumeMounts").Index(m).Child("subPathExpr"), "cannot be set for an Ephemeral Container"));
    }
  }
}

void ValidateObjectFieldSelector(const Json& fs, const std::vector<std::string>& expressions, const Path& p,
                                 Errs* errs) {
  std::string version = Str(fs, "apiVersion"), fp = Str(fs, "fieldPath");
  if (version.empty()) return errs->push_back(Required(p.Child("apiVersion")));
  if (fp.empty()) return errs->push_back(Required(p.Child("fieldPath")));
  static const std::set<std::string> kConvertible = {
      "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid",
      "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName", "spec.schedulerName", "status.phase",
      "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs", "spec.host"};
  // metadata.labels['key'] and metadata.annotations['key'].
  std::string path = fp, sub;
  bool subscripted = false;
  if (fp.size() > 2 && fp.compare(fp.size() - 2, 2, "']") == 0) {
    size_t open = fp.find("['");
    if (open != std::string::npos && open > 0) {
      path = fp.substr(0, open);
      sub = fp.substr(open + 2, fp.size() - open - 4);
      subscripted = true;
    }
  }
  std::string err;
  if (version != "v1") err = "unsupported pod version: " + version;
  else if (subscripted && path != "metadata.annotations" && path != "metadata.labels")
    err = "field label does not support subscript: " + fp;
  else if (!subscripted && !kConvertible.count(fp)) err = "field label not supported: " + fp;
  if (!err.empty()) return errs->push_back(Invalid(p.Child("fieldPath"), Q(fp), "error converting fieldPath: " + err));
  if (subscripted) return ValidateSubscriptKey(path, sub, p, errs);
  if (path == "spec.host") path = "spec.nodeName";
  if (std::find(expressions.begin(), expressions.end(), path) == expressions.end())
    errs->push_back(NotSupported(p.Child("fieldPath"), Q(path), expressions));
}

void ValidateResourceFieldSelector(const Json& fs, bool volume, const Path& p, Errs* errs) {
  static const std::vector<std::string> kResources = {"limits.cpu", "limits.ephemeral-storage", "limits.memory",
                                                      "requests.cpu", "requests.ephemeral-storage",
                                                      "requests.memory"};
  std::string res = Str(fs, "resource");
  if (volume && Str(fs, "containerName").empty()) {
    errs->push_back(Required(p.Child("containerName")));
  } else if (res.empty()) {
    errs->push_back(Required(p.Child("resource")));
  } else if (std::find(kResources.begin(), kResources.end(), res) == kResources.end() &&
             res.rfind("requests.hugepages-", 0) != 0 && res.rfind("limits.hugepages-", 0) != 0) {
    errs->push_back(NotSupported(p.Child("resource"), Q(res), kResources));
  }
  const Json* div = Get(fs, "divisor");
  auto dq = div ? Qty(*div) : std::nullopt;
  if (!dq || dq->IsZero()) return;
  std::string d = dq->String();
  static const std::set<std::string> kBytes = {"1", "1k", "1M", "1G", "1T", "1P", "1E",
                                               "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"};
  const char* all = "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei";
  if ((res == "limits.cpu" || res == "requests.cpu") && d != "1m" && d != "1")
    errs->push_back(Invalid(p.Child("divisor"), Q(res), "only divisor's values 1m and 1 are supported with the cpu resource"));
  if ((res == "limits.memory" || res == "requests.memory") && !kBytes.count(d))
    errs->push_back(Invalid(p.Child("divisor"), Q(res),
                            std::string("only divisor's values ") + all + " are supported with the memory resource"));
  if ((res == "limits.ephemeral-storage" || res == "requests.ephemeral-storage") && !kBytes.count(d))
    errs->push_back(Invalid(p.Child("divisor"), Q(res),
                            std::string("only divisor's values ") + all +
                                " are supported with the local ephemeral storage resource"));
  if ((res.rfind("requests.hugepages-", 0) == 0 || res.rfind("limits.hugepages-", 0) == 0) && !kBytes.count(d))
    errs->push_back(Invalid(p.Child("divisor"), Q(res),
                            std::string("only divisor's values ") + all + " are supported with the hugepages resource"));
}

void ValidatePortNumOrName(const Json& port, const Path& p, Errs* errs) {
  if (port.is_string()) {
    AddAll(errs, p, port.get<std::string>(), IsValidPortName(port.get<std::string>()));
    return;
  }
  int64_t n = port.is_number_integer() ? port.get<int64_t>() : 0;
  for (const auto& m : IsValidPortNum(n)) errs->push_back(Invalid(p, GoInt(n), m));
}

}  // namespace kubit::api::validation

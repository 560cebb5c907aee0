#include "runtime/kubelet/volumes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/kubelet/atomic_writer.h"
#include "runtime/kubelet/pod_naming.h"

namespace kubit::kubelet {

using Json = nlohmann::json;

namespace {

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

bool MkdirAll(const std::string& path, mode_t mode, std::string* error) {
  for (size_t i = 1; i <= path.size(); i++) {
    if (i != path.size() && path[i] != '/') continue;
    std::string p = path.substr(0, i);
    if (mkdir(p.c_str(), mode) != 0 && errno != EEXIST) {
      *error = Errno("mkdir " + p);
      return false;
    }
  }
  return true;
}

bool IsMountPoint(const std::string& path) {
  struct stat a, b;
  if (stat(path.c_str(), &a) != 0 || stat((path + "/..").c_str(), &b) != 0) return false;
  return a.st_dev != b.st_dev;
}

int ModeOf(const Json& item, int def) {
  return item.contains("mode") && item["mode"].is_number_integer() ? item["mode"].get<int>() : def;
}

gid_t FsGroup(const Json& pod) {
  const Json sc = pod["spec"].value("securityContext", Json::object());
  return sc.contains("fsGroup") && sc["fsGroup"].is_number_integer() ? sc["fsGroup"].get<gid_t>()
                                                                     : static_cast<gid_t>(-1);
}

// configMap or secret keys into the payload: every key, or the items.
bool KeysPayload(const std::string& resource, const Json& pod, const Json& src, int default_mode,
                 const VolumeEnv& env, Payload* payload, std::string* error) {
  std::string ns = pod["metadata"].value("namespace", "default");
  std::string name = src.value(resource == "secrets" ? "secretName" : "name", "");
  if (resource == "secrets" && name.empty()) name = src.value("name", "");
  bool optional = src.value("optional", false);
  const char* singular = resource == "secrets" ? "secret" : "configmap";
  Json obj;
  std::string why;
  switch (env.objects(resource, ns, name, &obj, &why)) {
    case Lookup::kFound:
      break;
    case Lookup::kNotFound:
      if (optional) return true;
      *error = std::string(singular) + " \"" + name + "\" not found";
      return false;
    case Lookup::kError:
      *error = why;
      return false;
  }
  int mode = src.contains("defaultMode") && src["defaultMode"].is_number_integer()
                 ? src["defaultMode"].get<int>()
                 : default_mode;
  if (src.contains("items") && src["items"].is_array() && !src["items"].empty()) {
    for (const auto& item : src["items"]) {
      std::string key = item.value("key", ""), value;
      if (!ObjectValue(resource, obj, key, &value)) {
        if (optional) continue;
        *error = std::string(singular) + " references non-existent " +
                 (resource == "secrets" ? "secret key: " : "config key: ") + key;
        return false;
      }
      (*payload)[item.value("path", key)] = {value, ModeOf(item, mode)};
    }
    return true;
  }
  for (const char* field : {"data", "binaryData"}) {
    if (!obj.contains(field) || !obj[field].is_object()) continue;
    for (auto it = obj[field].begin(); it != obj[field].end(); ++it) {
      std::string value;
      if (ObjectValue(resource, obj, it.key(), &value)) (*payload)[it.key()] = {value, mode};
    }
  }
  return true;
}

bool DownwardPayload(const Json& pod, const Json& src, int default_mode, const VolumeEnv& env,
                     Payload* payload, std::string* error) {
  int mode = src.contains("defaultMode") && src["defaultMode"].is_number_integer()
                 ? src["defaultMode"].get<int>()
                 : default_mode;
  for (const auto& item : src.value("items", Json::array())) {
    std::string value;
    if (item.contains("fieldRef")) {
      if (!PodFieldValue(pod, env.facts, item["fieldRef"].value("fieldPath", ""), &value, error))
        return false;
    } else if (item.contains("resourceFieldRef")) {
      const Json& ref = item["resourceFieldRef"];
      std::string cname = ref.value("containerName", "");
      const Json* target = nullptr;
      for (const char* list : {"initContainers", "containers"})
        if (pod["spec"].contains(list))  // not value(): target points into the pod
          for (const auto& c : pod["spec"][list])
            if (c.value("name", "") == cname) target = &c;
      if (!target) {
        *error = "container " + cname + " not found for resourceFieldRef";
        return false;
      }
      if (!ResourceFieldValue(*target, env.facts, ref, &value, error)) return false;
    }
    (*payload)[item.value("path", "")] = {value, ModeOf(item, mode)};
  }
  return true;
}

// The PV's directory on this node: a hostPath (checked and created per its
// type, as a hostPath volume) or a local volume (which must exist). The
// local-path provisioner's directories are made 0777, as its helper's
// `mkdir -m 0777` does, so pods of any user can write there.
bool PersistentVolumePath(const Json& pv, std::string* path, std::string* error) {
  const Json spec = pv.value("spec", Json::object());
  std::string name = pv["metadata"].value("name", "");
  if (spec.contains("hostPath") && spec["hostPath"].is_object()) {
    *path = spec["hostPath"].value("path", "");
    std::string type = spec["hostPath"].value("type", "");
    bool created = type == "DirectoryOrCreate" && access(path->c_str(), F_OK) != 0;
    if (!CheckHostPath(*path, type, error)) return false;
    const Json ann = pv["metadata"].value("annotations", Json::object());
    if (created && ann.value("pv.kubernetes.io/provisioned-by", "") == "rancher.io/local-path") chmod(path->c_str(), 0777);
    return true;
  }
  if (spec.contains("local") && spec["local"].is_object()) {
    *path = spec["local"].value("path", "");
    struct stat st;
    if (stat(path->c_str(), &st) != 0) {
      *error = Errno("local volume \"" + name + "\": " + *path);
      return false;
    }
    return true;
  }
  *error = "persistentvolume \"" + name + "\" is neither hostPath nor local";
  return false;
}

}  // namespace

bool CheckHostPath(const std::string& path, const std::string& type, std::string* error) {
  struct stat st;
  bool exists = stat(path.c_str(), &st) == 0;
  if (type.empty()) return true;
  if (type == "DirectoryOrCreate") {
    if (!exists) return MkdirAll(path, 0755, error);
    if (S_ISDIR(st.st_mode)) return true;
  } else if (type == "FileOrCreate") {
    if (!exists) {
      if (!MkdirAll(path.substr(0, path.rfind('/')), 0755, error)) return false;
      int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) {
        *error = Errno("create " + path);
        return false;
      }
      close(fd);
      return true;
    }
    if (S_ISREG(st.st_mode)) return true;
  } else if (type == "Directory" && exists && S_ISDIR(st.st_mode)) {
    return true;
  } else if (type == "File" && exists && S_ISREG(st.st_mode)) {
    return true;
  } else if (type == "Socket" && exists && S_ISSOCK(st.st_mode)) {
    return true;
  } else if (type == "CharDevice" && exists && S_ISCHR(st.st_mode)) {
    return true;
  } else if (type == "BlockDevice" && exists && S_ISBLK(st.st_mode)) {
    return true;
  }
  const char* what = type == "Directory" || type == "DirectoryOrCreate" ? "a directory"
                     : type == "File" || type == "FileOrCreate"        ? "a file"
                     : type == "Socket"                                ? "a socket file"
                     : type == "CharDevice"                            ? "a character device"
                     : type == "BlockDevice"                           ? "a block device"
                                                                       : nullptr;
  if (!what) {
    *error = "invalid hostPath type \"" + type + "\"";
    return false;
  }
  *error = "hostPath type check failed: " + path + " is not " + what;
  return false;
}

bool VolumePayload(const Json& pod, const Json& v, const VolumeEnv& env, Payload* payload,
                   std::string* error) {
  if (v.contains("configMap")) return KeysPayload("configmaps", pod, v["configMap"], 0644, env, payload, error);
  if (v.contains("secret")) return KeysPayload("secrets", pod, v["secret"], 0644, env, payload, error);
  if (v.contains("downwardAPI")) return DownwardPayload(pod, v["downwardAPI"], 0644, env, payload, error);
  const Json& p = v["projected"];
  int mode = p.contains("defaultMode") && p["defaultMode"].is_number_integer()
                 ? p["defaultMode"].get<int>()
                 : 0644;
  for (const auto& s : p.value("sources", Json::array())) {
    bool ok = true;
    if (s.contains("configMap")) {
      Json src = s["configMap"];
      src["defaultMode"] = mode;
      ok = KeysPayload("configmaps", pod, src, mode, env, payload, error);
    } else if (s.contains("secret")) {
      Json src = s["secret"];
      src["defaultMode"] = mode;
      ok = KeysPayload("secrets", pod, src, mode, env, payload, error);
    } else if (s.contains("downwardAPI")) {
      ok = DownwardPayload(pod, s["downwardAPI"], mode, env, payload, error);
    } else if (s.contains("serviceAccountToken")) {
      const Json& t = s["serviceAccountToken"];
      std::string token;
      if (!env.tokens) {
        *error = "no TokenRequest client for serviceAccountToken volumes";
        return false;
      }
      ok = env.tokens(pod, t.value("audience", ""), t.value("expirationSeconds", int64_t{3600}),
                      &token, error);
      if (ok) (*payload)[t.value("path", "token")] = {token, mode};
    }
    if (!ok) return false;
  }
  return true;
}

bool SetUpVolumes(const Json& pod, const VolumeEnv& env, VolumePaths* out, std::string* error) {
  std::string uid = pod["metadata"].value("uid", "");
  std::string base = PodDir(env.data_dir, uid) + "/volumes";
  gid_t fs_group = FsGroup(pod);
  for (const auto& v : pod["spec"].value("volumes", Json::array())) {
    std::string name = v.value("name", "");
    std::string dir = base + "/" + name;
    VolumePath vp{dir, false};
    if (v.contains("emptyDir")) {
      const Json& e = v["emptyDir"];
      bool created = access(dir.c_str(), F_OK) != 0;
      if (!MkdirAll(dir, 0777, error)) return false;
      if (created) {
        chmod(dir.c_str(), 0777);
        if (fs_group != static_cast<gid_t>(-1)) {
          chown(dir.c_str(), static_cast<uid_t>(-1), fs_group);
          chmod(dir.c_str(), 02777);
        }
      }
      if (e.value("medium", "") == "Memory" && !IsMountPoint(dir)) {
        std::string opts = "mode=0777";
        int64_t milli = 0;
        if (e.contains("sizeLimit") && QuantityMilli(e["sizeLimit"], &milli) && milli > 0)
          opts += ",size=" + std::to_string(milli / 1000);
        if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
          *error = Errno("mount tmpfs on " + dir);
          return false;
        }
      }
    } else if (v.contains("hostPath")) {
      vp.path = v["hostPath"].value("path", "");
      if (!CheckHostPath(vp.path, v["hostPath"].value("type", ""), error)) return false;
    } else if (v.contains("persistentVolumeClaim")) {
      const Json& c = v["persistentVolumeClaim"];
      std::string claim = c.value("claimName", ""), why;
      Json pvc, pv;
      std::string ns = pod["metadata"].value("namespace", "default");
      if (env.objects("persistentvolumeclaims", ns, claim, &pvc, &why) != Lookup::kFound) {
        *error = why.empty() ? "persistentvolumeclaim \"" + claim + "\" not found" : why;
        return false;
      }
      std::string pv_name = pvc.value("spec", Json::object()).value("volumeName", "");
      if (pv_name.empty()) {
        *error = "persistentvolumeclaim \"" + claim + "\" is not bound";
        return false;
      }
      if (env.objects("persistentvolumes", "", pv_name, &pv, &why) != Lookup::kFound) {
        *error = why.empty() ? "persistentvolume \"" + pv_name + "\" not found" : why;
        return false;
      }
      // As the kubelet's volume manager: the volume must be reserved for this claim.
      const Json ref = pv.value("spec", Json::object()).value("claimRef", Json::object());
      if (ref.value("uid", "") != pvc["metadata"].value("uid", "")) {
        *error = "persistentvolume \"" + pv_name + "\" is not bound to claim \"" + claim + "\"";
        return false;
      }
      if (!PersistentVolumePath(pv, &vp.path, error)) return false;
      vp.read_only = c.value("readOnly", false);
    } else if (v.contains("configMap") || v.contains("secret") || v.contains("downwardAPI") ||
               v.contains("projected")) {
      Payload payload;
      bool changed = false;
      if (!VolumePayload(pod, v, env, &payload, error) ||
          !WriteAtomic(dir, payload, &changed, error, fs_group))
        return false;
      vp.read_only = true;
    } else {
      *error = "volume \"" + name + "\": unsupported volume type";
      return false;
    }
    (*out)[name] = vp;
  }
  return true;
}

bool ContainerMounts(const Json& container, const VolumePaths& volumes, const EnvList& env,
                     std::vector<container::Mount>* out, std::string* error) {
  for (const auto& m : container.value("volumeMounts", Json::array())) {
    std::string name = m.value("name", "");
    auto it = volumes.find(name);
    if (it == volumes.end()) {
      *error = "cannot find volume \"" + name + "\" to mount into container \"" +
               container.value("name", "") + "\"";
      return false;
    }
    container::Mount mount;
    mount.source = it->second.path;
    mount.destination = m.value("mountPath", "");
    mount.read_only = m.value("readOnly", false) || it->second.read_only;
    std::string sub = m.value("subPath", "");
    if (m.contains("subPathExpr")) sub = ExpandVars(m.value("subPathExpr", ""), env);
    if (!sub.empty()) {
      if (!ValidPayloadPath(sub)) {
        *error = "invalid subPath \"" + sub + "\": must be a relative path without ..";
        return false;
      }
      mount.source += "/" + sub;
      struct stat st;
      if (stat(mount.source.c_str(), &st) != 0 && !MkdirAll(mount.source, 0755, error)) return false;
    }
    out->push_back(mount);
  }
  return true;
}

bool TearDownVolumes(const std::string& data_dir, const std::string& pod_uid, std::string* error) {
  std::string dir = PodDir(data_dir, pod_uid);
  std::string vols = dir + "/volumes";
  if (DIR* d = opendir(vols.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      std::string p = vols + "/" + n;
      if (IsMountPoint(p) && umount2(p.c_str(), MNT_DETACH) != 0) {
        *error = Errno("umount " + p);
        closedir(d);
        return false;
      }
    }
    closedir(d);
  }
  // Remove what is left, never crossing into a mount (a hostPath is not
  // under this directory, so only the pod's own files go).
  std::vector<std::string> stack = {dir}, order;
  while (!stack.empty()) {
    std::string p = stack.back();
    stack.pop_back();
    order.push_back(p);
    struct stat st;
    if (lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (DIR* d = opendir(p.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") stack.push_back(p + "/" + n);
      }
      closedir(d);
    }
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    struct stat st;
    if (lstat(it->c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode) ? rmdir(it->c_str()) != 0 : unlink(it->c_str()) != 0) {
      *error = Errno("remove " + *it);
      return false;
    }
  }
  return true;
}

}  // namespace kubit::kubelet

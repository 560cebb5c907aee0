#include "runtime/kubelet/env.h"

#include <map>

#include "core/api/defaults_quantity.h"

namespace kubit::kubelet {

using Json = nlohmann::json;

std::string ExpandVars(const std::string& in,
                       const std::function<bool(const std::string&, std::string*)>& lookup) {
  std::string out;
  for (size_t i = 0; i < in.size(); i++) {
    if (in[i] != '$' || i + 1 == in.size()) {
      out += in[i];
      continue;
    }
    char next = in[i + 1];
    if (next == '$') {  // escaped: $$ is a literal $
      out += '$';
      i++;
    } else if (next == '(') {
      size_t close = in.find(')', i + 2);
      if (close == std::string::npos) {  // unterminated: kept as written
        out += in.substr(i);
        break;
      }
      std::string name = in.substr(i + 2, close - i - 2), value;
      if (!name.empty() && lookup(name, &value))
        out += value;
      else
        out += in.substr(i, close - i + 1);
      i = close;
    } else {
      out += '$';
    }
  }
  return out;
}

std::string ExpandVars(const std::string& in, const EnvList& env) {
  return ExpandVars(in, [&](const std::string& name, std::string* value) {
    for (auto it = env.rbegin(); it != env.rend(); ++it)
      if (it->first == name) {
        *value = it->second;
        return true;
      }
    return false;
  });
}

bool QuantityMilli(const Json& v, int64_t* milli) {
  auto q = api::QuantityFromJson(v);
  if (!q) return false;
  q->RoundUp(-3);
  int64_t n = 0;
  for (char c : q->digits) {
    if (n > (INT64_MAX - 9) / 10) return false;
    n = n * 10 + (c - '0');
  }
  for (int e = q->exp + 3; e > 0; e--) {
    if (n > INT64_MAX / 10) return false;
    n *= 10;
  }
  for (int e = q->exp + 3; e < 0; e++) n /= 10;
  *milli = q->negative ? -n : n;
  return true;
}

namespace {

std::string MapEntry(const Json& meta, const char* field, const std::string& key) {
  auto m = meta.find(field);
  if (m == meta.end() || !m->is_object()) return "";
  auto v = m->find(key);
  return v != m->end() && v->is_string() ? v->get<std::string>() : "";
}

// A whole labels/annotations map as the downward API volume writes it:
// key="value" lines, sorted, values quoted as Go's %q.
std::string FormatMap(const Json& meta, const char* field) {
  std::string out;
  auto m = meta.find(field);
  if (m == meta.end() || !m->is_object()) return out;
  std::map<std::string, std::string> sorted;
  for (auto it = m->begin(); it != m->end(); ++it)
    if (it.value().is_string()) sorted[it.key()] = it.value().get<std::string>();
  for (const auto& [k, v] : sorted) {
    if (!out.empty()) out += '\n';
    out += k + "=" + Json(v).dump();
  }
  return out;
}

}  // namespace

bool PodFieldValue(const Json& pod, const PodFacts& facts, const std::string& path,
                   std::string* value, std::string* error) {
  const Json meta = pod.value("metadata", Json::object());
  const Json spec = pod.value("spec", Json::object());
  auto subscript = [&](const std::string& prefix, std::string* key) {
    if (path.rfind(prefix + "['", 0) != 0 || path.size() < prefix.size() + 4 ||
        path.compare(path.size() - 2, 2, "']") != 0)
      return false;
    *key = path.substr(prefix.size() + 2, path.size() - prefix.size() - 4);
    return true;
  };
  std::string key;
  if (path == "metadata.name") *value = meta.value("name", "");
  else if (path == "metadata.namespace") *value = meta.value("namespace", "");
  else if (path == "metadata.uid") *value = meta.value("uid", "");
  else if (path == "metadata.labels") *value = FormatMap(meta, "labels");
  else if (path == "metadata.annotations") *value = FormatMap(meta, "annotations");
  else if (subscript("metadata.labels", &key)) *value = MapEntry(meta, "labels", key);
  else if (subscript("metadata.annotations", &key)) *value = MapEntry(meta, "annotations", key);
  else if (path == "spec.nodeName") *value = spec.value("nodeName", "");
  else if (path == "spec.serviceAccountName") *value = spec.value("serviceAccountName", "");
  else if (path == "status.podIP" || path == "status.podIPs") *value = facts.pod_ip;
  else if (path == "status.hostIP" || path == "status.hostIPs") *value = facts.host_ip;
  else {
    *error = "unsupported fieldPath: " + path;
    return false;
  }
  return true;
}

bool ResourceFieldValue(const Json& container, const PodFacts& facts, const Json& ref,
                        std::string* value, std::string* error) {
  std::string resource = ref.value("resource", "");
  const Json res = container.value("resources", Json::object());
  size_t dot = resource.find('.');
  std::string section = dot == std::string::npos ? "" : resource.substr(0, dot);
  std::string name = dot == std::string::npos ? "" : resource.substr(dot + 1);
  if ((section != "limits" && section != "requests") ||
      (name != "cpu" && name != "memory" && name != "ephemeral-storage")) {
    *error = "unsupported container resource : " + resource;
    return false;
  }
  int64_t milli = 0;
  const Json list = res.value(section, Json::object());
  if (list.contains(name)) {
    if (!QuantityMilli(list[name], &milli)) {
      *error = "invalid quantity for " + resource;
      return false;
    }
  } else if (section == "limits") {
    // No limit: the node's allocatable, as upstream's defaulting of limits does.
    if (name == "cpu") milli = facts.node_cpu_milli;
    if (name == "memory") milli = facts.node_memory_bytes * 1000;
  }
  int64_t divisor = 1000;  // in thousandths: the default divisor 1 (a core, a byte)
  if (ref.contains("divisor") && !QuantityMilli(ref["divisor"], &divisor)) {
    *error = "invalid divisor for " + resource;
    return false;
  }
  if (divisor <= 0) {
    *error = "divisor must be positive for " + resource;
    return false;
  }
  // Upstream rounds up (math.Ceil) and never reports a cpu of 0.
  int64_t n = (milli + divisor - 1) / divisor;
  if (name == "cpu" && n == 0 && section == "limits") n = 1;
  *value = std::to_string(n);
  return true;
}

namespace {

void Set(EnvList* env, const std::string& name, const std::string& value) {
  for (auto& [k, v] : *env)
    if (k == name) {
      v = value;
      return;
    }
  env->emplace_back(name, value);
}

// Singular resource names, as upstream's configmap/secret managers word
// their NotFound errors.
const char* Singular(const std::string& resource) {
  return resource == "secrets" ? "secret" : "configmap";
}
const char* KindOf(const std::string& resource) {
  return resource == "secrets" ? "Secret" : "ConfigMap";
}

// Fetches ns/name; *found false (and true returned) for a missing optional one.
bool Fetch(const ObjectSource& objects, const std::string& resource, const std::string& ns,
           const std::string& name, bool optional, Json* out, bool* found, std::string* error) {
  std::string why;
  switch (objects(resource, ns, name, out, &why)) {
    case Lookup::kFound:
      *found = true;
      return true;
    case Lookup::kNotFound:
      *found = false;
      if (optional) return true;
      *error = std::string(Singular(resource)) + " \"" + name + "\" not found";
      return false;
    case Lookup::kError:
      break;
  }
  *error = why;
  return false;
}

}  // namespace

bool BuildEnv(const Json& pod, const Json& container, const PodFacts& facts,
              const ObjectSource& objects, EnvList* out, std::string* error) {
  const std::string ns = pod["metadata"].value("namespace", "default");
  EnvList env;
  for (const auto& from : container.value("envFrom", Json::array())) {
    std::string prefix = from.value("prefix", "");
    for (const char* which : {"configMapRef", "secretRef"}) {
      if (!from.contains(which)) continue;
      const Json& ref = from[which];
      std::string resource = std::string(which) == "secretRef" ? "secrets" : "configmaps";
      Json obj;
      bool found = false;
      if (!Fetch(objects, resource, ns, ref.value("name", ""), ref.value("optional", false), &obj,
                 &found, error))
        return false;
      if (!found) continue;
      for (const char* field : {"data", "binaryData"}) {
        if (!obj.contains(field) || !obj[field].is_object()) continue;
        if (resource == "secrets" && std::string(field) == "binaryData") continue;
        for (auto it = obj[field].begin(); it != obj[field].end(); ++it) {
          std::string value;
          if (ObjectValue(resource, obj, it.key(), &value)) Set(&env, prefix + it.key(), value);
        }
      }
    }
  }
  for (const auto& e : container.value("env", Json::array())) {
    std::string name = e.value("name", "");
    if (!e.contains("valueFrom")) {
      Set(&env, name, ExpandVars(e.value("value", ""), env));
      continue;
    }
    const Json& from = e["valueFrom"];
    std::string value;
    if (from.contains("fieldRef")) {
      if (!PodFieldValue(pod, facts, from["fieldRef"].value("fieldPath", ""), &value, error))
        return false;
    } else if (from.contains("resourceFieldRef")) {
      const Json& ref = from["resourceFieldRef"];
      const Json* target = &container;
      std::string cname = ref.value("containerName", "");
      if (!cname.empty())
        for (const char* list : {"initContainers", "containers"})
          if (pod["spec"].contains(list))  // not value(): target points into the pod
            for (const auto& c : pod["spec"][list])
              if (c.value("name", "") == cname) target = &c;
      if (!ResourceFieldValue(*target, facts, ref, &value, error)) return false;
    } else {
      bool is_secret = from.contains("secretKeyRef");
      const char* which = is_secret ? "secretKeyRef" : "configMapKeyRef";
      if (!from.contains(which)) continue;
      const Json& ref = from[which];
      std::string resource = is_secret ? "secrets" : "configmaps";
      std::string oname = ref.value("name", ""), key = ref.value("key", "");
      bool optional = ref.value("optional", false);
      Json obj;
      bool found = false;
      if (!Fetch(objects, resource, ns, oname, optional, &obj, &found, error)) return false;
      if (!found) continue;
      if (!ObjectValue(resource, obj, key, &value)) {
        if (optional) continue;
        *error = "couldn't find key " + key + " in " + KindOf(resource) + " " + ns + "/" + oname;
        return false;
      }
    }
    Set(&env, name, value);
  }
  *out = std::move(env);
  return true;
}

}  // namespace kubit::kubelet

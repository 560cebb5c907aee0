#include "core/api/strategic_merge.h"

#include <nlohmann/json.hpp>
#include <vector>

namespace kubit::api {
namespace {

using Json = nlohmann::json;

struct ListStrategy {
  std::string merge_key;  // empty: replace the list (or merge primitives, below)
  bool merge_primitives = false;
};

// Upstream's patchMergeKey / patchStrategy tags, by field name and where it
// sits. `path` is the chain of field names from the object root.
ListStrategy StrategyFor(const std::string& kind, const std::vector<std::string>& path) {
  const std::string& f = path.back();
  std::string parent = path.size() >= 2 ? path[path.size() - 2] : "";
  if (f == "containers" || f == "initContainers" || f == "ephemeralContainers" || f == "volumes" ||
      f == "imagePullSecrets" || f == "env" || f == "resourceClaims" || f == "schedulingGates" ||
      f == "secrets")
    return {"name"};
  if (f == "volumeMounts") return {"mountPath"};
  if (f == "volumeDevices") return {"devicePath"};
  if (f == "hostAliases") return {"ip"};
  if (f == "ownerReferences") return {"uid"};
  if (f == "topologySpreadConstraints") return {"topologyKey"};
  if (f == "conditions" || (f == "addresses" && kind == "Node")) return {"type"};
  if (f == "finalizers") return {"", true};
  if (f == "ports") {
    if (kind == "Service" && path.size() == 2 && parent == "spec") return {"port"};
    if (parent == "containers" || parent == "initContainers" || parent == "ephemeralContainers")
      return {"containerPort"};
  }
  return {};
}

bool Merge(const std::string& kind, std::vector<std::string>& path, const Json& orig,
           const Json& patch, Json* out, std::string* error);

bool MergeList(const std::string& kind, std::vector<std::string>& path, const Json& orig,
               const Json& patch, const Json* order, const Json* delete_prims, Json* out,
               std::string* error) {
  ListStrategy s = StrategyFor(kind, path);
  Json base = orig.is_array() ? orig : Json::array();
  if (s.merge_primitives) {
    Json result = base;
    for (const auto& v : patch)
      if (std::find(result.begin(), result.end(), v) == result.end()) result.push_back(v);
    if (delete_prims && delete_prims->is_array()) {
      Json kept = Json::array();
      for (const auto& v : result)
        if (std::find(delete_prims->begin(), delete_prims->end(), v) == delete_prims->end())
          kept.push_back(v);
      result = kept;
    }
    *out = result;
    return true;
  }
  if (s.merge_key.empty()) {
    // A list without a merge key is replaced, but `$patch: replace` items
    // and the like are not expected here.
    *out = patch;
    return true;
  }
  const std::string& key = s.merge_key;
  // A `{$patch: replace}` element replaces the whole list with the rest.
  for (const auto& item : patch)
    if (item.is_object() && item.value("$patch", "") == "replace") {
      Json result = Json::array();
      for (const auto& i : patch)
        if (!(i.is_object() && i.contains("$patch"))) result.push_back(i);
      *out = result;
      return true;
    }
  Json result = base;
  for (const auto& item : patch) {
    if (!item.is_object() || !item.contains(key)) {
      *error = "map: " + item.dump() + " does not contain declared merge key: " + key;
      return false;
    }
    auto it = std::find_if(result.begin(), result.end(), [&](const Json& e) {
      return e.is_object() && e.contains(key) && e[key] == item[key];
    });
    std::string directive = item.value("$patch", "");
    if (directive == "delete") {
      if (it != result.end()) result.erase(it);
      continue;
    }
    Json merged;
    if (!Merge(kind, path, it != result.end() ? *it : Json::object(), item, &merged, error))
      return false;
    if (it != result.end()) *it = merged;
    else result.push_back(merged);
  }
  // $setElementOrder: the patch's order first for the elements it names.
  if (order && order->is_array()) {
    Json ordered = Json::array();
    std::vector<bool> used(result.size(), false);
    for (const auto& o : *order) {
      for (size_t i = 0; i < result.size(); i++) {
        if (!used[i] && result[i].is_object() && o.is_object() && o.contains(key) &&
            result[i].contains(key) && result[i][key] == o[key]) {
          ordered.push_back(result[i]);
          used[i] = true;
        }
      }
    }
    for (size_t i = 0; i < result.size(); i++)
      if (!used[i]) ordered.push_back(result[i]);
    result = ordered;
  }
  *out = result;
  return true;
}

bool Merge(const std::string& kind, std::vector<std::string>& path, const Json& orig,
           const Json& patch, Json* out, std::string* error) {
  if (!patch.is_object()) {
    *out = patch;
    return true;
  }
  std::string directive = patch.value("$patch", "");
  if (directive == "replace") {
    Json r = patch;
    r.erase("$patch");
    *out = r;
    return true;
  }
  if (directive == "delete") {
    *out = Json();  // the caller drops it
    return true;
  }
  Json result = orig.is_object() ? orig : Json::object();
  for (const auto& [k, v] : patch.items()) {
    if (k == "$patch" || k == "$retainKeys" || k.rfind("$setElementOrder/", 0) == 0 ||
        k.rfind("$deleteFromPrimitiveList/", 0) == 0)
      continue;
    if (v.is_null()) {
      result.erase(k);
      continue;
    }
    path.push_back(k);
    Json merged;
    bool ok;
    if (v.is_array()) {
      const Json* order = patch.contains("$setElementOrder/" + k) ? &patch["$setElementOrder/" + k] : nullptr;
      const Json* dels = patch.contains("$deleteFromPrimitiveList/" + k)
                             ? &patch["$deleteFromPrimitiveList/" + k] : nullptr;
      ok = MergeList(kind, path, result.contains(k) ? result[k] : Json(), v, order, dels, &merged, error);
    } else if (v.is_object()) {
      ok = Merge(kind, path, result.contains(k) ? result[k] : Json(), v, &merged, error);
    } else {
      merged = v;
      ok = true;
    }
    path.pop_back();
    if (!ok) return false;
    if (merged.is_null()) result.erase(k);
    else result[k] = merged;
  }
  // A primitive list delete without a matching list in the patch.
  for (const auto& [k, v] : patch.items()) {
    if (k.rfind("$deleteFromPrimitiveList/", 0) != 0) continue;
    std::string field = k.substr(25);
    if (patch.contains(field) || !result.contains(field) || !result[field].is_array()) continue;
    Json kept = Json::array();
    for (const auto& e : result[field])
      if (std::find(v.begin(), v.end(), e) == v.end()) kept.push_back(e);
    result[field] = kept;
  }
  if (patch.contains("$retainKeys") && patch["$retainKeys"].is_array()) {
    Json kept = Json::object();
    for (const auto& k : patch["$retainKeys"])
      if (k.is_string() && result.contains(k.get<std::string>()))
        kept[k.get<std::string>()] = result[k.get<std::string>()];
    result = kept;
  }
  *out = result;
  return true;
}

}  // namespace

bool StrategicMerge(const std::string& kind, const Json& original, const Json& patch, Json* out,
                    std::string* error) {
  if (!patch.is_object()) {
    *error = "strategic merge patch must be a JSON object";
    return false;
  }
  std::vector<std::string> path;
  return Merge(kind, path, original, patch, out, error);
}

}  // namespace kubit::api

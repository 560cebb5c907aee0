#include "manifests/apply.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/api/yaml.h"

namespace kubit::manifests {

namespace {

// Namespaces before what lives in them, definitions before their
// resources; the rest in file order.
int ApplyRank(const client::Json& obj) {
  std::string kind = obj.value("kind", "");
  if (kind == "Namespace") return 0;
  if (kind == "CustomResourceDefinition") return 1;
  return 2;
}

std::string Describe(const client::Json& obj) {
  return obj.value("kind", "") + "/" + obj["metadata"].value("name", "");
}

bool CheckObject(const client::Json& obj, size_t index, std::string* error) {
  std::string where = "document " + std::to_string(index + 1);
  if (!obj.is_object()) {
    *error = where + ": not an object";
    return false;
  }
  if (!obj.contains("apiVersion") || !obj["apiVersion"].is_string() || obj["apiVersion"].get<std::string>().empty()) {
    *error = where + ": apiVersion not set";
    return false;
  }
  if (!obj.contains("kind") || !obj["kind"].is_string() || obj["kind"].get<std::string>().empty()) {
    *error = where + ": kind not set";
    return false;
  }
  if (!obj.contains("metadata") || !obj["metadata"].is_object() || !obj["metadata"].contains("name") ||
      !obj["metadata"]["name"].is_string() || obj["metadata"]["name"].get<std::string>().empty()) {
    *error = where + ": metadata.name not set (generateName cannot be applied)";
    return false;
  }
  return true;
}

}  // namespace

bool ParseManifest(const std::string& text, std::vector<client::Json>* out, std::string* error) {
  std::vector<nlohmann::json> docs;
  if (!api::ParseYamlDocuments(text, &docs, error)) return false;
  std::vector<client::Json> objects;
  for (auto& doc : docs) {
    if (doc.is_null()) continue;
    if (doc.is_object() && doc.value("kind", "") == "List" && doc.contains("items") && doc["items"].is_array()) {
      for (auto& item : doc["items"]) objects.push_back(std::move(item));
    } else {
      objects.push_back(std::move(doc));
    }
  }
  for (size_t i = 0; i < objects.size(); i++) {
    if (!CheckObject(objects[i], i, error)) return false;
  }
  std::stable_sort(objects.begin(), objects.end(),
                   [](const client::Json& a, const client::Json& b) { return ApplyRank(a) < ApplyRank(b); });
  *out = std::move(objects);
  return true;
}

ApplyResult ApplyObjects(client::Client* client, KindResolver* kinds, const std::vector<client::Json>& objects,
                         const std::string& default_namespace) {
  ApplyResult result;
  bool defines_kinds = false;
  for (const auto& obj : objects) {
    ResolvedKind rk;
    std::string error;
    std::string api_version = obj["apiVersion"].get<std::string>();
    std::string kind = obj["kind"].get<std::string>();
    bool resolved = kinds->Resolve(api_version, kind, &rk, &error) == KindResolver::kResolved;
    // A resource of a definition applied just before: the server serves it
    // a moment after the definition is established.
    for (int i = 0; !resolved && defines_kinds && i < 50; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      resolved = kinds->Resolve(api_version, kind, &rk, &error) == KindResolver::kResolved;
    }
    if (!resolved) {
      result.errors.push_back(Describe(obj) + ": " + error);
      continue;
    }
    client::Json body = obj;
    std::string ns;
    if (rk.namespaced) {
      ns = body["metadata"].value("namespace", "");
      if (ns.empty()) ns = default_namespace;
      body["metadata"]["namespace"] = ns;
    } else {
      body["metadata"].erase("namespace");
    }
    std::string name = body["metadata"]["name"].get<std::string>();
    client::PatchOptions po;
    po.field_manager = kFieldManager;
    po.force = true;
    client::Status s = client->Patch(rk.resource, ns, name, client::PatchType::kApply, body.dump(), nullptr, po);
    if (!s.ok()) {
      result.errors.push_back(Describe(obj) + ": " + s.message());
      continue;
    }
    if (kind == "CustomResourceDefinition") defines_kinds = true;
    result.applied.push_back({api_version, kind, ns, name});
  }
  return result;
}

std::vector<std::string> DeleteObjects(client::Client* client, KindResolver* kinds,
                                       const std::vector<ObjectRef>& objects) {
  std::vector<std::string> errors;
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    ResolvedKind rk;
    std::string error;
    KindResolver::Result r = kinds->Resolve(it->api_version, it->kind, &rk, &error);
    if (r == KindResolver::kUnknown) continue;  // a kind no longer served has no objects left
    if (r == KindResolver::kError) {
      errors.push_back(it->kind + "/" + it->name + ": " + error);
      continue;
    }
    client::DeleteOptions opts;
    opts.propagation_policy = "Background";
    client::Status s = client->Delete(rk.resource, it->ns, it->name, opts);
    if (!s.ok() && !s.IsNotFound()) errors.push_back(it->kind + "/" + it->name + ": " + s.message());
  }
  return errors;
}

}  // namespace kubit::manifests

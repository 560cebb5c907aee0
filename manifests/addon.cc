#include "manifests/addon.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>
#include <tuple>

namespace kubit::manifests {

const client::Resource kAddons{"k3s.cattle.io", "v1", "addons"};

bool ObjectRef::operator<(const ObjectRef& o) const {
  return std::tie(api_version, kind, ns, name) < std::tie(o.api_version, o.kind, o.ns, o.name);
}

namespace {

client::Json AddonDefinition() {
  client::Json string_type = {{"type", "string"}};
  client::Json schema = {
      {"type", "object"},
      {"properties",
       {{"spec", {{"type", "object"}, {"properties", {{"source", string_type}, {"checksum", string_type}}}}},
        {"status", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}};
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", "addons.k3s.cattle.io"}}},
          {"spec",
           {{"group", "k3s.cattle.io"},
            {"scope", "Namespaced"},
            {"names", {{"kind", "Addon"}, {"listKind", "AddonList"}, {"plural", "addons"}, {"singular", "addon"}}},
            {"versions",
             {{{"name", "v1"},
               {"served", true},
               {"storage", true},
               {"schema", {{"openAPIV3Schema", schema}}},
               {"additionalPrinterColumns",
                {{{"name", "Source"}, {"type", "string"}, {"jsonPath", ".spec.source"}},
                 {{"name", "Checksum"}, {"type", "string"}, {"jsonPath", ".spec.checksum"}}}}}}}}}};
}

bool Established(const client::Json& crd) {
  if (!crd.contains("status") || !crd["status"].contains("conditions")) return false;
  for (const auto& c : crd["status"]["conditions"]) {
    if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
  }
  return false;
}

}  // namespace

bool EnsureAddonDefinition(client::Client* client, std::string* error) {
  const client::Resource crds{"apiextensions.k8s.io", "v1", "customresourcedefinitions"};
  client::Json crd;
  client::Status s = client->Get(crds, "", "addons.k3s.cattle.io", &crd);
  if (s.IsNotFound()) {
    s = client->Create(crds, "", AddonDefinition(), &crd);
    if (s.IsAlreadyExists()) s = client->Get(crds, "", "addons.k3s.cattle.io", &crd);
  }
  if (!s.ok()) {
    *error = "the Addon definition: " + s.message();
    return false;
  }
  // The server establishes a new definition at once; a short wait covers
  // the moment between.
  for (int i = 0; i < 50 && !Established(crd); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (s = client->Get(crds, "", "addons.k3s.cattle.io", &crd); !s.ok()) {
      *error = "the Addon definition: " + s.message();
      return false;
    }
  }
  if (!Established(crd)) {
    *error = "the Addon definition is not established";
    return false;
  }
  return true;
}

std::string AddonName(const std::string& file_name) {
  std::string base = file_name.substr(0, file_name.rfind('.'));
  std::string out;
  for (char c : base) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    out += ok ? c : '-';
  }
  // Names start and end with an alphanumeric character.
  while (!out.empty() && (out.front() == '-' || out.front() == '.')) out.erase(out.begin());
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  return out.substr(0, 253);
}

client::Json AddonObject(const Addon& addon) {
  client::Json objects = client::Json::array();
  for (const auto& o : addon.objects) {
    client::Json ref = {{"apiVersion", o.api_version}, {"kind", o.kind}, {"name", o.name}};
    if (!o.ns.empty()) ref["namespace"] = o.ns;
    objects.push_back(ref);
  }
  client::Json spec = {{"source", addon.source}};
  if (!addon.checksum.empty()) spec["checksum"] = addon.checksum;
  return {{"apiVersion", "k3s.cattle.io/v1"},
          {"kind", "Addon"},
          {"metadata", {{"name", addon.name}, {"namespace", kAddonNamespace}}},
          {"spec", spec},
          {"status", {{"objects", objects}}}};
}

Addon AddonFrom(const client::Json& obj) {
  Addon a;
  a.name = obj["metadata"].value("name", "");
  if (obj.contains("spec") && obj["spec"].is_object()) {
    a.source = obj["spec"].value("source", "");
    a.checksum = obj["spec"].value("checksum", "");
  }
  if (obj.contains("status") && obj["status"].is_object() && obj["status"].contains("objects") &&
      obj["status"]["objects"].is_array()) {
    for (const auto& r : obj["status"]["objects"]) {
      if (!r.is_object()) continue;
      a.objects.push_back({r.value("apiVersion", ""), r.value("kind", ""), r.value("namespace", ""),
                           r.value("name", "")});
    }
  }
  return a;
}

}  // namespace kubit::manifests

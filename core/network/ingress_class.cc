#include "core/network/ingress_class.h"

#include <nlohmann/json.hpp>

namespace kubit::network {

using client::Json;

namespace {

const client::Resource kIngressClasses{"networking.k8s.io", "v1", "ingressclasses"};

std::string Annotation(const Json& obj, const char* key) {
  const Json* a = obj.contains("metadata") ? &obj["metadata"] : nullptr;
  if (!a || !a->is_object() || !a->contains("annotations") || !(*a)["annotations"].is_object()) return "";
  const Json& anns = (*a)["annotations"];
  return anns.contains(key) && anns[key].is_string() ? anns[key].get<std::string>() : "";
}

}  // namespace

std::string IngressClassOf(const Json& ingress) {
  if (ingress.contains("spec") && ingress["spec"].is_object()) {
    const Json& spec = ingress["spec"];
    if (spec.contains("ingressClassName") && spec["ingressClassName"].is_string())
      return spec["ingressClassName"].get<std::string>();
  }
  return Annotation(ingress, "kubernetes.io/ingress.class");
}

bool IsDefaultIngressClass(const Json& ingress_class) {
  return Annotation(ingress_class, kDefaultClassAnnotation) == "true";
}

bool ServedByKubit(const Json& ingress, const Json* kubit_class) {
  if (!kubit_class) return false;
  std::string cls = IngressClassOf(ingress);
  return cls == kIngressClass || (cls.empty() && IsDefaultIngressClass(*kubit_class));
}

client::Status EnsureIngressClass(client::Client* client) {
  Json existing;
  client::Status s = client->Get(kIngressClasses, "", kIngressClass, &existing);
  if (!s.IsNotFound()) return s;
  Json cls = {{"apiVersion", "networking.k8s.io/v1"},
              {"kind", "IngressClass"},
              {"metadata",
               {{"name", kIngressClass},
                {"labels", {{kBundledLabel, "true"}}},
                {"annotations", {{kDefaultClassAnnotation, "true"}}}}},
              {"spec", {{"controller", kIngressController}}}};
  s = client->Create(kIngressClasses, "", cls);
  return s.IsAlreadyExists() ? client::Status() : s;
}

client::Status RemoveBundledIngressClass(client::Client* client) {
  Json existing;
  client::Status s = client->Get(kIngressClasses, "", kIngressClass, &existing);
  if (s.IsNotFound()) return client::Status();
  if (!s.ok()) return s;
  const Json& meta = existing["metadata"];
  if (!meta.contains("labels") || !meta["labels"].is_object() || meta["labels"].value(kBundledLabel, "") != "true")
    return client::Status();
  client::DeleteOptions o;
  o.precondition_uid = meta.value("uid", "");
  s = client->Delete(kIngressClasses, "", kIngressClass, o);
  return s.IsNotFound() || s.IsConflict() ? client::Status() : s;
}

}  // namespace kubit::network

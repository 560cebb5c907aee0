#include "core/network/ingress_class.h"

#include <nlohmann/json.hpp>

namespace kubit::network {

using Json = nlohmann::json;

namespace {

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

}  // namespace kubit::network

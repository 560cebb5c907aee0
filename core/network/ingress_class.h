// Which Ingresses kubit's ingress proxy serves: those of IngressClass
// "kubit" (spec.ingressClassName, or the older kubernetes.io/ingress.class
// annotation), and those naming no class while "kubit" is the default
// class. The server's bundled manifests make that class (k3s's Traefik
// ships one; manifests/bundled.cc); nodes run the proxy only while it
// exists.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>


namespace kubit::network {

inline constexpr const char* kIngressClass = "kubit";
inline constexpr const char* kIngressController = "kubit.io/ingress";
inline constexpr const char* kDefaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class";

// The class an Ingress names, or "" for none.
std::string IngressClassOf(const nlohmann::json& ingress);
// An IngressClass marked as the cluster's default.
bool IsDefaultIngressClass(const nlohmann::json& ingress_class);
// Whether kubit serves `ingress`, given the IngressClass "kubit" (null if absent).
bool ServedByKubit(const nlohmann::json& ingress, const nlohmann::json* kubit_class);

}  // namespace kubit::network

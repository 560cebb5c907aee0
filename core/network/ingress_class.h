// Which Ingresses kubit's ingress proxy serves: those of IngressClass
// "kubit" (spec.ingressClassName, or the older kubernetes.io/ingress.class
// annotation), and those naming no class while "kubit" is the default
// class. The server ensures that class exists (k3s's Traefik ships one);
// nodes run the proxy only while it does.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/client/client.h"

namespace kubit::network {

inline constexpr const char* kIngressClass = "kubit";
inline constexpr const char* kIngressController = "kubit.io/ingress";
inline constexpr const char* kDefaultClassAnnotation = "ingressclass.kubernetes.io/is-default-class";
// Marks the class the server made, so that `--disable traefik` removes
// only that one, never a class a user made by the same name.
inline constexpr const char* kBundledLabel = "kubit.io/bundled";

// The class an Ingress names, or "" for none.
std::string IngressClassOf(const nlohmann::json& ingress);
// An IngressClass marked as the cluster's default.
bool IsDefaultIngressClass(const nlohmann::json& ingress_class);
// Whether kubit serves `ingress`, given the IngressClass "kubit" (null if absent).
bool ServedByKubit(const nlohmann::json& ingress, const nlohmann::json* kubit_class);

// Creates IngressClass "kubit" (controller kubit.io/ingress, the default
// class) unless one exists; an existing one is left as it is.
client::Status EnsureIngressClass(client::Client* client);
// Deletes the IngressClass "kubit" the server made, if any (`--disable
// traefik`); one without the bundled label is left alone.
client::Status RemoveBundledIngressClass(client::Client* client);

}  // namespace kubit::network

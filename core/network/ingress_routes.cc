#include "core/network/ingress_routes.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "net/base64.h"

namespace kubit::network {

using client::Json;
using client::ObjectPtr;

namespace {

const Json& Field(const Json& o, const char* key) {
  static const Json null;
  return o.is_object() && o.contains(key) ? o[key] : null;
}

std::string Str(const Json& o, const char* key) {
  const Json& v = Field(o, key);
  return v.is_string() ? v.get<std::string>() : "";
}

const Json& Items(const Json& o, const char* key) {
  static const Json empty = Json::array();
  const Json& v = Field(o, key);
  return v.is_array() ? v : empty;
}

// A backend as the proxy takes it; `name` says where it points.
net::ProxyBackend Backend(const IngressObjects& objs, const std::string& ns, const Json& backend,
                          std::vector<std::string>* problems) {
  net::ProxyBackend out;
  const Json& svc_ref = Field(backend, "service");
  std::string svc_name = Str(svc_ref, "name");
  const Json& port = Field(svc_ref, "port");
  out.name = ns + "/" + svc_name + ":" +
             (Field(port, "number").is_number() ? std::to_string(port["number"].get<int64_t>()) : Str(port, "name"));
  if (svc_name.empty()) {  // a resource backend: not served
    out.name = ns + "/" + Str(Field(backend, "resource"), "kind") + "/" + Str(Field(backend, "resource"), "name");
    problems->push_back(out.name + ": resource backends are not supported");
    return out;
  }
  ObjectPtr svc = objs.service(ns, svc_name);
  if (!svc) {
    problems->push_back(out.name + ": service not found");
    return out;
  }
  std::string problem;
  out.endpoints = ServiceBackendEndpoints(*svc, objs.endpoint_slices(ns, svc_name), port, &problem);
  if (!problem.empty()) problems->push_back(out.name + ": " + problem);
  return out;
}

bool ReadyEndpoint(const Json& ep) {
  const Json& ready = Field(Field(ep, "conditions"), "ready");
  return !ready.is_boolean() || ready.get<bool>();  // unset means ready
}

}  // namespace

std::vector<std::string> ServiceBackendEndpoints(const Json& service, const std::vector<ObjectPtr>& slices,
                                                 const Json& backend_port, std::string* problem) {
  std::vector<std::string> out;
  const Json* svc_port = nullptr;
  for (const Json& p : Items(Field(service, "spec"), "ports")) {
    bool by_number = Field(backend_port, "number").is_number() &&
                     Field(p, "port").is_number() && p["port"] == backend_port["number"];
    bool by_name = !Str(backend_port, "name").empty() && Str(p, "name") == Str(backend_port, "name");
    if (by_number || by_name) {
      svc_port = &p;
      break;
    }
  }
  if (!svc_port) {
    *problem = "the service has no such port";
    return out;
  }
  // A slice names its ports as the Service does ("" for a lone unnamed one).
  const std::string port_name = Str(*svc_port, "name");
  for (const ObjectPtr& slice : slices) {
    std::string type = Str(*slice, "addressType");
    int64_t port = -1;
    for (const Json& p : Items(*slice, "ports"))
      if (Str(p, "name") == port_name && Field(p, "port").is_number()) port = p["port"].get<int64_t>();
    if (port < 0) continue;
    for (const Json& ep : Items(*slice, "endpoints")) {
      if (!ReadyEndpoint(ep)) continue;
      for (const Json& a : Items(ep, "addresses")) {
        if (!a.is_string()) continue;
        std::string ip = a.get<std::string>();
        out.push_back((type == "IPv6" ? "[" + ip + "]" : ip) + ":" + std::to_string(port));
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

net::ProxyRouteTable BuildIngressRoutes(const IngressObjects& objs, std::vector<std::string>* problems) {
  std::vector<ObjectPtr> ingresses = objs.ingresses;
  auto order = [](const ObjectPtr& o) {
    const Json& m = Field(*o, "metadata");
    return std::make_tuple(Str(m, "creationTimestamp"), Str(m, "namespace"), Str(m, "name"));
  };
  std::sort(ingresses.begin(), ingresses.end(),
            [&](const ObjectPtr& a, const ObjectPtr& b) { return order(a) < order(b); });
  net::ProxyRouteTable table;
  for (const ObjectPtr& ing : ingresses) {
    const std::string ns = Str(Field(*ing, "metadata"), "namespace");
    const Json& spec = Field(*ing, "spec");
    std::vector<std::string> rule_hosts;
    for (const Json& rule : Items(spec, "rules")) {
      std::string host = Str(rule, "host");
      for (char& c : host) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      if (!host.empty()) rule_hosts.push_back(host);
      for (const Json& p : Items(Field(rule, "http"), "paths")) {
        net::ProxyRoute r;
        r.host = host;
        r.path = Str(p, "path").empty() ? "/" : Str(p, "path");
        // ImplementationSpecific is served as Prefix.
        r.type = Str(p, "pathType") == "Exact" ? net::ProxyPathType::kExact : net::ProxyPathType::kPrefix;
        r.backend = Backend(objs, ns, Field(p, "backend"), problems);
        table.routes.push_back(std::move(r));
      }
    }
    if (Field(spec, "defaultBackend").is_object() && !table.has_default_backend) {
      table.has_default_backend = true;
      table.default_backend = Backend(objs, ns, spec["defaultBackend"], problems);
    }
    for (const Json& tls : Items(spec, "tls")) {
      std::string secret_name = Str(tls, "secretName");
      if (secret_name.empty()) continue;
      net::ProxyCertificate cert;
      for (const Json& h : Items(tls, "hosts"))
        if (h.is_string()) cert.hosts.push_back(h.get<std::string>());
      // No hosts: the certificate is for the Ingress's own hosts.
      if (cert.hosts.empty()) cert.hosts = rule_hosts;
      for (auto& h : cert.hosts)
        for (char& c : h) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
      ObjectPtr secret = objs.secret(ns, secret_name);
      const Json& data = secret ? Field(*secret, "data") : Json();
      if (!secret || !net::Base64Decode(Str(data, "tls.crt"), &cert.cert_pem) ||
          !net::Base64Decode(Str(data, "tls.key"), &cert.key_pem) || cert.cert_pem.empty() || cert.key_pem.empty()) {
        problems->push_back(ns + "/" + secret_name + ": " +
                            (secret ? "secret has no tls.crt and tls.key" : "TLS secret not found"));
        continue;
      }
      table.certificates.push_back(std::move(cert));
    }
  }
  return table;
}

}  // namespace kubit::network

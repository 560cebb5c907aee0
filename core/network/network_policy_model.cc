#include "core/network/network_policy_model.h"

#include <netinet/in.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/api/selectors.h"

namespace kubit::network {

using client::Json;
using client::ObjectPtr;

namespace {

// A pod that can be guarded or be a peer: it has an IPv4 address of the
// pod network and runs.
struct PodView {
  const Json* obj;
  std::string ns;
  uint32_t ip;
};

const Json& Labels(const Json& obj) {
  static const Json kNone = Json::object();
  const Json& m = obj["metadata"];
  auto it = m.find("labels");
  return it != m.end() && it->is_object() ? *it : kNone;
}

bool Selector(const Json& sel, api::LabelSelector* out) {
  std::string ignored;  // the API server validated it; a bad one selects nothing
  return sel.is_object() && api::LabelSelector::FromJson(sel, out, &ignored);
}

uint8_t Protocol(const Json& port) {
  std::string p = port.value("protocol", "TCP");
  if (p == "UDP") return IPPROTO_UDP;
  if (p == "SCTP") return IPPROTO_SCTP;
  return IPPROTO_TCP;
}

// The number of container port `name` of `protocol` in `pod`; 0: none.
uint16_t NamedPort(const Json& pod, const std::string& name, uint8_t protocol) {
  const Json& spec = pod["spec"];
  for (const char* list : {"initContainers", "containers"}) {
    auto cs = spec.find(list);
    if (cs == spec.end() || !cs->is_array()) continue;
    for (const Json& c : *cs) {
      auto ports = c.find("ports");
      if (ports == c.end() || !ports->is_array()) continue;
      for (const Json& p : *ports)
        if (p.value("name", "") == name && Protocol(p) == protocol) return p.value("containerPort", 0);
    }
  }
  return 0;
}

// "10.0.0.0/8" with host bits ignored, as upstream parses ipBlocks; false
// for IPv6 and anything else this IPv4 data path cannot hold.
bool Cidr(const std::string& s, net::Ipv4Prefix* out) {
  size_t slash = s.find('/');
  if (slash == std::string::npos) return false;
  uint32_t ip;
  if (!net::ParseIpv4(s.substr(0, slash), &ip)) return false;
  int len = 0;
  try {
    len = std::stoi(s.substr(slash + 1));
  } catch (...) {
    return false;
  }
  if (len < 0 || len > 32) return false;
  out->len = len;
  out->addr = ip & out->mask();
  return true;
}

class Resolver {
 public:
  Resolver(const std::vector<ObjectPtr>& pods, const std::vector<ObjectPtr>& namespaces) {
    for (const ObjectPtr& n : namespaces) {
      std::string name = (*n)["metadata"].value("name", "");
      Json labels = Labels(*n);
      // Set by the API server on every namespace; kept here for objects older than that.
      labels["kubernetes.io/metadata.name"] = name;
      ns_labels_[name] = std::move(labels);
    }
    for (const ObjectPtr& p : pods) {
      const Json& status = (*p)["status"];
      std::string phase = status.value("phase", "");
      if (phase == "Succeeded" || phase == "Failed") continue;
      if ((*p)["spec"].value("hostNetwork", false)) continue;
      uint32_t ip;
      if (!status.contains("podIP") || !status["podIP"].is_string() || !net::ParseIpv4(status["podIP"], &ip)) continue;
      pods_.push_back({p.get(), (*p)["metadata"].value("namespace", ""), ip});
    }
  }

  const std::vector<PodView>& pods() const { return pods_; }

  // The pods a peer with selectors selects, from policy namespace `ns`.
  std::vector<const PodView*> Peers(const Json& peer, const std::string& ns) const {
    std::vector<const PodView*> out;
    api::LabelSelector pod_sel, ns_sel;
    bool has_pod = peer.contains("podSelector"), has_ns = peer.contains("namespaceSelector");
    if ((has_pod && !Selector(peer["podSelector"], &pod_sel)) || (has_ns && !Selector(peer["namespaceSelector"], &ns_sel)))
      return out;
    for (const PodView& p : pods_) {
      if (has_ns) {
        auto it = ns_labels_.find(p.ns);
        if (it == ns_labels_.end() || !ns_sel.Matches(it->second)) continue;
      } else if (p.ns != ns) {
        continue;
      }
      if (has_pod && !pod_sel.Matches(Labels(*p.obj))) continue;
      out.push_back(&p);
    }
    return out;
  }

 private:
  std::map<std::string, Json> ns_labels_;
  std::vector<PodView> pods_;
};

// The rules one NetworkPolicy rule makes for isolated pod `self`.
void AddRules(const Resolver& r, const Json& rule, bool ingress, const std::string& ns, const PodView& self,
              std::vector<net::PolicyRule>* out) {
  net::PolicyRule base;  // its peers
  std::vector<const PodView*> peer_pods;
  auto peers = rule.find(ingress ? "from" : "to");
  if (peers == rule.end() || !peers->is_array() || peers->empty()) {
    base.any_peer = true;
  } else {
    for (const Json& peer : *peers) {
      if (peer.contains("ipBlock")) {
        const Json& b = peer["ipBlock"];
        net::PolicyIpBlock block;
        if (!Cidr(b.value("cidr", ""), &block.cidr)) continue;
        if (b.contains("except") && b["except"].is_array())
          for (const Json& e : b["except"]) {
            net::Ipv4Prefix x;
            if (e.is_string() && Cidr(e.get<std::string>(), &x)) block.except.push_back(x);
          }
        base.blocks.push_back(std::move(block));
        continue;
      }
      for (const PodView* p : r.Peers(peer, ns)) {
        peer_pods.push_back(p);
        base.pod_ips.push_back(p->ip);
      }
    }
  }
  auto ports = rule.find("ports");
  if (ports == rule.end() || !ports->is_array() || ports->empty()) {
    out->push_back(std::move(base));
    return;
  }
  // Numbers apply to every peer; a name to the peers (egress) or the
  // isolated pod (ingress) that have it, per the number it has there.
  net::PolicyRule numbered = base;
  std::map<std::pair<uint8_t, uint16_t>, std::vector<uint32_t>> named;  // egress: port -> peer pods
  for (const Json& port : *ports) {
    uint8_t proto = Protocol(port);
    auto pv = port.find("port");
    if (pv == port.end() || pv->is_null()) {
      numbered.ports.push_back({proto, 0, 0});
    } else if (pv->is_number_integer()) {
      numbered.ports.push_back({proto, pv->get<uint16_t>(), port.value("endPort", uint16_t(0))});
    } else if (pv->is_string()) {
      const std::string name = pv->get<std::string>();
      if (ingress) {
        if (uint16_t n = NamedPort(*self.obj, name, proto)) numbered.ports.push_back({proto, n, 0});
        continue;
      }
      // Any destination: the pods of the cluster that have the name.
      const std::vector<const PodView*>* candidates = &peer_pods;
      std::vector<const PodView*> all;
      if (base.any_peer) {
        for (const PodView& p : r.pods()) all.push_back(&p);
        candidates = &all;
      }
      for (const PodView* p : *candidates)
        if (uint16_t n = NamedPort(*p->obj, name, proto)) named[{proto, n}].push_back(p->ip);
    }
  }
  if (!numbered.ports.empty()) out->push_back(std::move(numbered));
  for (auto& [port, ips] : named) {
    net::PolicyRule rule_for_port;
    rule_for_port.pod_ips = std::move(ips);
    rule_for_port.ports.push_back({port.first, port.second, 0});
    out->push_back(std::move(rule_for_port));
  }
}

}  // namespace

std::vector<net::PodPolicy> NetworkPolicyModel(const std::vector<ObjectPtr>& policies, const std::vector<ObjectPtr>& pods,
                                               const std::vector<ObjectPtr>& namespaces, const std::string& node_name) {
  Resolver r(pods, namespaces);
  std::vector<net::PodPolicy> out;
  for (const PodView& self : r.pods()) {
    if ((*self.obj)["spec"].value("nodeName", "") != node_name) continue;
    net::PodPolicy pp;
    pp.name = self.ns + "/" + (*self.obj)["metadata"].value("name", "");
    pp.ip = self.ip;
    for (const ObjectPtr& np : policies) {
      if ((*np)["metadata"].value("namespace", "") != self.ns) continue;
      const Json& spec = (*np)["spec"];
      api::LabelSelector sel;
      if (!spec.contains("podSelector") || !Selector(spec["podSelector"], &sel) || !sel.Matches(Labels(*self.obj)))
        continue;
      bool has_egress = spec.contains("egress") && spec["egress"].is_array() && !spec["egress"].empty();
      bool types_ingress = true, types_egress = has_egress;
      if (spec.contains("policyTypes") && spec["policyTypes"].is_array() && !spec["policyTypes"].empty()) {
        types_ingress = types_egress = false;
        for (const Json& t : spec["policyTypes"]) {
          if (t == "Ingress") types_ingress = true;
          if (t == "Egress") types_egress = true;
        }
      }
      for (bool ingress : {true, false}) {
        if (!(ingress ? types_ingress : types_egress)) continue;
        (ingress ? pp.ingress_isolated : pp.egress_isolated) = true;
        auto rules = spec.find(ingress ? "ingress" : "egress");
        if (rules == spec.end() || !rules->is_array()) continue;
        for (const Json& rule : *rules)
          if (rule.is_object()) AddRules(r, rule, ingress, self.ns, self, ingress ? &pp.ingress : &pp.egress);
      }
    }
    if (pp.ingress_isolated || pp.egress_isolated) out.push_back(std::move(pp));
  }
  return out;
}

}  // namespace kubit::network

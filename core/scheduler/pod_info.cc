#include "core/scheduler/pod_info.h"

namespace kubit::scheduler {
namespace {

const Json& Field(const Json& obj, const char* name) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(name);
  return it == obj.end() ? kNull : *it;
}

std::string Str(const Json& obj, const char* name) {
  const Json& v = Field(obj, name);
  return v.is_string() ? v.get<std::string>() : "";
}

int64_t Int(const Json& obj, const char* name, int64_t def) {
  const Json& v = Field(obj, name);
  return v.is_number_integer() ? v.get<int64_t>() : def;
}

// Iterates an array field, skipping anything that is not an array.
template <typename F>
void Each(const Json& obj, const char* name, F f) {
  const Json& arr = Field(obj, name);
  if (arr.is_array())
    for (const auto& e : arr) f(e);
}

std::vector<NodeSelectorRequirement> Requirements(const Json& list) {
  std::vector<NodeSelectorRequirement> out;
  if (!list.is_array()) return out;
  for (const auto& r : list) {
    NodeSelectorRequirement req{Str(r, "key"), Str(r, "operator"), {}};
    Each(r, "values", [&](const Json& v) {
      if (v.is_string()) req.values.push_back(v.get<std::string>());
    });
    out.push_back(std::move(req));
  }
  return out;
}

NodeSelectorTerm ReadNodeTerm(const Json& t) {
  return {Requirements(Field(t, "matchExpressions")), Requirements(Field(t, "matchFields"))};
}

// A selector, with the pod's values of `match_keys` required (In) and of
// `mismatch_keys` refused (NotIn), as matchLabelKeys and mismatchLabelKeys
// ask; an absent selector stays absent (it matches nothing).
Selector ReadSelector(const Json& sel, const Json& labels, const Json& match_keys,
                      const Json& mismatch_keys) {
  Selector out;
  if (!sel.is_object()) return out;
  Json merged = sel;
  auto add = [&](const Json& keys, const char* op) {
    if (!keys.is_array()) return;
    for (const auto& k : keys) {
      if (!k.is_string() || !labels.contains(k.get<std::string>())) continue;
      merged["matchExpressions"].push_back(
          {{"key", k}, {"operator", op}, {"values", {labels[k.get<std::string>()]}}});
    }
  };
  add(match_keys, "In");
  add(mismatch_keys, "NotIn");
  std::string error;
  out.present = api::LabelSelector::FromJson(merged, &out.selector, &error);
  return out;
}

AffinityTerm ReadAffinityTerm(const Json& t, const PodInfo& pod, int32_t weight) {
  AffinityTerm term;
  term.weight = weight;
  term.topology_key = Str(t, "topologyKey");
  term.selector = ReadSelector(Field(t, "labelSelector"), pod.labels, Field(t, "matchLabelKeys"),
                               Field(t, "mismatchLabelKeys"));
  Each(t, "namespaces", [&](const Json& n) {
    if (n.is_string()) term.namespaces.insert(n.get<std::string>());
  });
  const Json& ns_sel = Field(t, "namespaceSelector");
  if (ns_sel.is_object()) {
    api::LabelSelector s;
    std::string error;
    if (api::LabelSelector::FromJson(ns_sel, &s, &error)) term.namespace_selector = std::move(s);
  }
  if (term.namespaces.empty() && !ns_sel.is_object()) term.namespaces.insert(pod.ns);
  return term;
}

void ReadPodAffinity(const Json& a, const PodInfo& pod, std::vector<AffinityTerm>* required,
                     std::vector<AffinityTerm>* preferred) {
  Each(a, "requiredDuringSchedulingIgnoredDuringExecution",
       [&](const Json& t) { required->push_back(ReadAffinityTerm(t, pod, 0)); });
  Each(a, "preferredDuringSchedulingIgnoredDuringExecution", [&](const Json& w) {
    preferred->push_back(
        ReadAffinityTerm(Field(w, "podAffinityTerm"), pod, static_cast<int32_t>(Int(w, "weight", 0))));
  });
}

void ReadPorts(const Json& container, std::vector<HostPort>* out) {
  Each(container, "ports", [&](const Json& p) {
    int64_t host_port = Int(p, "hostPort", 0);
    if (host_port <= 0) return;
    HostPort hp;
    hp.port = static_cast<int32_t>(host_port);
    if (std::string ip = Str(p, "hostIP"); !ip.empty()) hp.ip = ip;
    if (std::string proto = Str(p, "protocol"); !proto.empty()) hp.protocol = proto;
    out->push_back(hp);
  });
}

}  // namespace

std::shared_ptr<const PodInfo> NewPodInfo(ObjectPtr obj, PodInfo::Priority priority) {
  auto p = std::make_shared<PodInfo>();
  const Json& pod = *obj;
  const Json& meta = Field(pod, "metadata");
  const Json& spec = Field(pod, "spec");
  const Json& status = Field(pod, "status");
  p->ns = Str(meta, "namespace");
  p->name = Str(meta, "name");
  p->key = p->ns.empty() ? p->name : p->ns + "/" + p->name;
  p->uid = Str(meta, "uid");
  p->creation_timestamp = Str(meta, "creationTimestamp");
  p->start_time = Str(status, "startTime");
  if (p->start_time.empty()) p->start_time = p->creation_timestamp;
  if (const Json& l = Field(meta, "labels"); l.is_object()) p->labels = l;
  p->terminating = Field(meta, "deletionTimestamp").is_string();
  p->node_name = Str(spec, "nodeName");
  p->nominated_node_name = Str(status, "nominatedNodeName");
  p->scheduler_name = Str(spec, "schedulerName");
  p->priority = priority.value;
  p->preempt_never = priority.preempt_never;

  p->requests = PodRequests(pod, false);
  p->non_zero_requests = PodRequests(pod, true);
  Each(spec, "initContainers", [&](const Json& c) {
    if (Str(c, "restartPolicy") == "Always") ReadPorts(c, &p->host_ports);
    p->images.push_back(Str(c, "image"));
  });
  Each(spec, "containers", [&](const Json& c) {
    ReadPorts(c, &p->host_ports);
    p->images.push_back(Str(c, "image"));
  });
  Each(spec, "tolerations", [&](const Json& t) {
    Toleration tol{Str(t, "key"), Str(t, "operator"), Str(t, "value"), Str(t, "effect")};
    if (tol.op.empty()) tol.op = "Equal";
    p->tolerations.push_back(std::move(tol));
  });

  if (const Json& ns = Field(spec, "nodeSelector"); ns.is_object())
    for (const auto& [k, v] : ns.items())
      if (v.is_string()) p->node_selector[k] = v.get<std::string>();
  const Json& affinity = Field(spec, "affinity");
  const Json& node_affinity = Field(affinity, "nodeAffinity");
  const Json& required = Field(node_affinity, "requiredDuringSchedulingIgnoredDuringExecution");
  if (required.is_object()) {
    std::vector<NodeSelectorTerm> terms;
    Each(required, "nodeSelectorTerms", [&](const Json& t) { terms.push_back(ReadNodeTerm(t)); });
    p->required_node_affinity = std::move(terms);
  }
  Each(node_affinity, "preferredDuringSchedulingIgnoredDuringExecution", [&](const Json& w) {
    p->preferred_node_affinity.push_back(
        {static_cast<int32_t>(Int(w, "weight", 0)), ReadNodeTerm(Field(w, "preference"))});
  });
  ReadPodAffinity(Field(affinity, "podAffinity"), *p, &p->required_affinity, &p->preferred_affinity);
  ReadPodAffinity(Field(affinity, "podAntiAffinity"), *p, &p->required_anti_affinity,
                  &p->preferred_anti_affinity);

  Each(spec, "topologySpreadConstraints", [&](const Json& c) {
    SpreadConstraint sc;
    sc.max_skew = static_cast<int32_t>(Int(c, "maxSkew", 1));
    sc.topology_key = Str(c, "topologyKey");
    sc.hard = Str(c, "whenUnsatisfiable") != "ScheduleAnyway";
    sc.selector = ReadSelector(Field(c, "labelSelector"), p->labels, Field(c, "matchLabelKeys"), nullptr);
    sc.min_domains = static_cast<int32_t>(Int(c, "minDomains", 1));
    sc.honor_node_affinity = Str(c, "nodeAffinityPolicy") != "Ignore";
    sc.honor_node_taints = Str(c, "nodeTaintsPolicy") == "Honor";
    p->spread_constraints.push_back(std::move(sc));
  });
  p->pod = std::move(obj);
  return p;
}

bool Tolerates(const std::vector<Toleration>& tolerations, const Taint& taint) {
  for (const auto& t : tolerations) {
    if (!t.effect.empty() && t.effect != taint.effect) continue;
    if (!t.key.empty() && t.key != taint.key) continue;
    if (t.op == "Exists" || (t.op == "Equal" && t.value == taint.value)) return true;
  }
  return false;
}

bool TermMatchesNamespace(const AffinityTerm& term, const std::string& ns, const Json& ns_labels) {
  if (term.namespaces.count(ns)) return true;
  return term.namespace_selector && term.namespace_selector->Matches(ns_labels);
}

bool TermMatchesPod(const AffinityTerm& term, const PodInfo& pod, const Json& ns_labels) {
  return TermMatchesNamespace(term, pod.ns, ns_labels) && term.selector.Matches(pod.labels);
}

}  // namespace kubit::scheduler

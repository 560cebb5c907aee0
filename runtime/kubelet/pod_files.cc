#include "runtime/kubelet/pod_files.h"

#include <algorithm>
#include <sstream>
#include <vector>

namespace kubit::kubelet {

using Json = nlohmann::json;

std::string PodHostname(const Json& pod) {
  std::string h = pod["spec"].value("hostname", "");
  if (h.empty()) h = pod["metadata"].value("name", "");
  if (h.size() > 63) h.resize(63);
  while (!h.empty() && (h.back() == '-' || h.back() == '.')) h.pop_back();
  return h;
}

std::string HostsFile(const Json& pod, const std::string& pod_ip, const DnsSettings& dns,
                      const std::string& host_hosts) {
  const Json spec = pod.value("spec", Json::object());
  std::string out;
  if (spec.value("hostNetwork", false)) {
    out = host_hosts;
    if (!out.empty() && out.back() != '\n') out += '\n';
  } else {
    out =
        "# Kubernetes-managed hosts file.\n"
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "fe00::0\tip6-mcastprefix\n"
        "fe00::1\tip6-allnodes\n"
        "fe00::2\tip6-allrouters\n";
    if (!pod_ip.empty()) {
      std::string host = PodHostname(pod), sub = spec.value("subdomain", "");
      std::string ns = pod["metadata"].value("namespace", "default");
      if (!sub.empty())
        out += pod_ip + "\t" + host + "." + sub + "." + ns + ".svc." + dns.cluster_domain + "\t" + host + "\n";
      else
        out += pod_ip + "\t" + host + "\n";
    }
  }
  const Json aliases = spec.value("hostAliases", Json::array());
  if (!aliases.empty()) {
    out += "\n# Entries added by HostAliases.\n";
    for (const auto& a : aliases) {
      out += a.value("ip", "");
      for (const auto& h : a.value("hostnames", Json::array()))
        if (h.is_string()) out += "\t" + h.get<std::string>();
      out += "\n";
    }
  }
  return out;
}

namespace {

struct Resolv {
  std::vector<std::string> nameservers, searches, options;
};

void AddUnique(std::vector<std::string>* to, const std::string& v) {
  if (std::find(to->begin(), to->end(), v) == to->end()) to->push_back(v);
}

// An option by its name ("ndots" of "ndots:5"): a later one replaces it.
void SetOption(std::vector<std::string>* opts, const std::string& name, const std::string& value) {
  std::string text = value.empty() ? name : name + ":" + value;
  for (auto& o : *opts)
    if (o.substr(0, o.find(':')) == name) {
      o = text;
      return;
    }
  opts->push_back(text);
}

// The host file as kubelet reads it: nameservers; the last "search" line
// (without "." and trailing dots); options, a later one replacing an
// earlier one of the same name. "domain" lines are not read (kubelet
// ignores them too); "#" and ";" start comments.
Resolv ParseResolv(const std::string& text) {
  Resolv r;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t comment = line.find_first_of("#;");
    if (comment != std::string::npos) line.resize(comment);
    std::istringstream words(line);
    std::string key, w;
    words >> key;
    if (key == "nameserver") {
      if (words >> w) r.nameservers.push_back(w);
    } else if (key == "search") {
      r.searches.clear();
      while (words >> w) {
        while (w.size() > 1 && w.back() == '.') w.pop_back();
        if (w != ".") r.searches.push_back(w);
      }
    } else if (key == "options") {
      while (words >> w) {
        size_t colon = w.find(':');
        SetOption(&r.options, w.substr(0, colon), colon == std::string::npos ? "" : w.substr(colon + 1));
      }
    }
  }
  return r;
}

// kubelet's limits: 32 search domains, none over 253 characters, 2048
// characters in all (the last ones dropped first).
void FitSearches(std::vector<std::string>* searches) {
  if (searches->size() > 32) searches->resize(32);
  searches->erase(std::remove_if(searches->begin(), searches->end(),
                                 [](const std::string& s) { return s.size() > 253; }),
                  searches->end());
  size_t total = 0;
  for (const auto& s : *searches) total += s.size() + (total ? 1 : 0);
  while (total > 2048 && !searches->empty()) {
    total -= searches->back().size() + (searches->size() > 1 ? 1 : 0);
    searches->pop_back();
  }
}

}  // namespace

std::string ResolvConf(const Json& pod, const DnsSettings& dns, const std::string& host_resolv) {
  const Json spec = pod.value("spec", Json::object());
  std::string policy = spec.value("dnsPolicy", "ClusterFirst");
  bool host_net = spec.value("hostNetwork", false);
  Resolv host = ParseResolv(host_resolv), r;
  bool cluster = (policy == "ClusterFirst" && !host_net) || policy == "ClusterFirstWithHostNet";
  if (cluster && dns.cluster_dns.empty()) cluster = false;
  if (policy == "None") {
    // dnsConfig alone.
  } else if (cluster) {
    std::string ns = pod["metadata"].value("namespace", "default");
    r.nameservers = {dns.cluster_dns};
    r.searches = {ns + ".svc." + dns.cluster_domain, "svc." + dns.cluster_domain, dns.cluster_domain};
    for (const auto& s : host.searches) AddUnique(&r.searches, s);
    r.options = {"ndots:5"};
  } else {
    r = host;
  }
  const Json cfg = spec.value("dnsConfig", Json::object());
  for (const auto& n : cfg.value("nameservers", Json::array()))
    if (n.is_string()) AddUnique(&r.nameservers, n.get<std::string>());
  for (const auto& s : cfg.value("searches", Json::array()))
    if (s.is_string()) AddUnique(&r.searches, s.get<std::string>());
  for (const auto& o : cfg.value("options", Json::array()))
    SetOption(&r.options, o.value("name", ""), o.value("value", ""));
  if (r.nameservers.size() > 3) r.nameservers.resize(3);
  FitSearches(&r.searches);
  std::string out;
  if (!r.searches.empty()) {
    out += "search";
    for (const auto& s : r.searches) out += " " + s;
    out += "\n";
  }
  for (const auto& n : r.nameservers) out += "nameserver " + n + "\n";
  if (!r.options.empty()) {
    out += "options";
    for (const auto& o : r.options) out += " " + o;
    out += "\n";
  }
  return out;
}

}  // namespace kubit::kubelet

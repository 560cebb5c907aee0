#include "runtime/kubelet/join.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "net/base64.h"
#include "net/http_client.h"
#include "net/pki.h"

namespace kubit::kubelet {
namespace {

using Json = nlohmann::json;

struct Token {
  std::string ca_hash, secret;
};

bool ParseToken(const std::string& token, Token* out, std::string* error) {
  const std::string sep = "::server:";
  size_t p = token.find(sep);
  if (token.rfind("K10", 0) != 0 || p != 3 + 64 || token.size() == p + sep.size()) {
    *error = "the token must be the full K10<ca hash>::server:<secret> token from the server's "
             "<data-dir>/server/token, so that this node can check the server's CA before sending it";
    return false;
  }
  out->ca_hash = token.substr(3, 64);
  out->secret = token.substr(p + sep.size());
  return true;
}

bool ReadFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out->append(buf, static_cast<size_t>(n));
  close(fd);
  return n == 0;
}

// Write to a temporary name, fsync, rename: a crash leaves the old file or
// the new one, never half of one.
bool WriteFile(const std::string& path, const std::string& data, mode_t mode, std::string* error) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  bool ok = fd >= 0 && fchmod(fd, mode) == 0 &&
            write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "write " + path + ": " + strerror(errno);
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool MakeDir(const std::string& path, std::string* error) {
  std::string partial;
  for (size_t i = 0; i <= path.size(); i++) {
    if (i < path.size() && path[i] != '/') continue;
    partial = path.substr(0, i);
    if (partial.empty()) continue;
    if (mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      *error = "mkdir " + partial + ": " + strerror(errno);
      return false;
    }
  }
  return true;
}

// The node's password: made once, kept; proves to the server that a later
// join of this name is this node again.
bool NodePassword(const std::string& agent_dir, std::string* out, std::string* error) {
  std::string path = agent_dir + "/node-password";
  if (ReadFile(path, out)) {
    while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
    if (out->size() >= 16) return true;
  }
  *out = net::RandomHex(32);
  return WriteFile(path, *out + "\n", 0600, error);
}

// CN and expiry of a PEM certificate.
bool CertificateInfo(const std::string& pem, std::string* cn, time_t* not_after) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  if (bio) BIO_free(bio);
  if (!x) return false;
  char buf[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf));
  *cn = buf;
  struct tm tm;
  bool ok = ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1;
  if (ok) *not_after = timegm(&tm);
  X509_free(x);
  return ok;
}

std::string Kubeconfig(const std::string& server, const std::string& node, const std::string& ca,
                       const std::string& cert, const std::string& key) {
  return "apiVersion: v1\nkind: Config\nclusters:\n- name: kubit\n  cluster:\n    server: " + server +
         "\n    certificate-authority-data: " + net::Base64Encode(ca) +
         "\nusers:\n- name: system:node:" + node + "\n  user:\n    client-certificate-data: " +
         net::Base64Encode(cert) + "\n    client-key-data: " + net::Base64Encode(key) +
         "\ncontexts:\n- name: kubit\n  context:\n    cluster: kubit\n    user: system:node:" + node +
         "\ncurrent-context: kubit\n";
}

// An earlier join that still fits: same server, a CA that matches the
// token, this node's name, a certificate good for another 30 days. No
// network needed, so an agent starts while the server is away.
bool ReuseEarlierJoin(const JoinOptions& opts, const Token& token, client::Config* config) {
  std::string path = KubeletKubeconfigPath(opts.data_dir), error;
  if (!client::LoadKubeconfig(path, "", config, &error)) return false;
  std::string cn;
  time_t not_after = 0;
  return config->server == opts.server_url && net::Sha256Hex(config->tls.ca_pem) == token.ca_hash &&
         CertificateInfo(config->tls.cert_pem, &cn, &not_after) && cn == "system:node:" + opts.node_name &&
         not_after > time(nullptr) + 30 * 86400;
}

}  // namespace

bool FetchClusterNetwork(const JoinOptions& opts, const client::Config& config, ClusterNetwork* out,
                         std::string* error) {
  Token token;
  if (!ParseToken(opts.token, &token, error)) return false;
  const std::string path = opts.data_dir + "/agent/cluster-network.json";
  net::HttpClientOptions o;
  o.tls.ca_pem = config.tls.ca_pem;
  o.tls.server_name = config.tls.server_name;
  o.connect_timeout_ms = 3000;  // an agent starting while the server is away waits no longer
  net::HttpClient http(o);
  net::HttpClientRequest get;
  get.url = opts.server_url + "/v1-kubit/config";
  get.headers = {{"Authorization", "Basic " + net::Base64Encode("node:" + token.secret)}};
  net::HttpClientResponse resp;
  std::string body, why;
  bool fresh = false;
  if (!http.Do(get, &resp, &why)) {
    // Away: what the server said last time.
    if (!ReadFile(path, &body)) {
      *error = "cannot get the cluster's network settings from " + opts.server_url + ": " + why;
      return false;
    }
  } else if (resp.status != 200) {
    *error = "the server answered " + std::to_string(resp.status) + " for its network settings";
    return false;
  } else {
    body = resp.body;
    fresh = true;
  }
  Json j = Json::parse(body, nullptr, false);
  if (!j.is_object() || !j["clusterCIDR"].is_string()) {
    *error = "the cluster's network settings are not readable: " + body.substr(0, 200);
    return false;
  }
  out->cluster_cidr = j.value("clusterCIDR", "");
  out->service_cidr = j.value("serviceCIDR", "");
  out->cluster_dns = j.value("clusterDNS", "");
  out->cluster_domain = j.value("clusterDomain", "cluster.local");
  out->flannel_backend = j.value("flannelBackend", "vxlan");
  return !fresh || WriteFile(path, body, 0644, error);
}

std::string KubeletKubeconfigPath(const std::string& data_dir) {
  return data_dir + "/agent/kubelet.kubeconfig";
}

bool JoinCluster(const JoinOptions& opts, client::Config* config, std::string* error) {
  Token token;
  if (!ParseToken(opts.token, &token, error)) return false;
  net::Url url;
  if (!net::ParseUrl(opts.server_url, &url) || url.scheme != "https") {
    *error = "--server must be an https:// URL, got \"" + opts.server_url + "\"";
    return false;
  }
  if (ReuseEarlierJoin(opts, token, config)) return true;
  std::string agent_dir = opts.data_dir + "/agent", password;
  if (!MakeDir(agent_dir, error) || !NodePassword(agent_dir, &password, error)) return false;

  // The CA, fetched without trusting anything yet, then checked.
  net::HttpClientOptions bootstrap;
  bootstrap.tls.insecure_skip_verify = true;
  net::HttpClient insecure(bootstrap);
  net::HttpClientRequest get;
  get.url = opts.server_url + "/cacerts";
  net::HttpClientResponse resp;
  if (!insecure.Do(get, &resp, error)) {
    *error = "cannot reach the server at " + opts.server_url + ": " + *error;
    return false;
  }
  if (resp.status != 200) {
    *error = "the server answered " + std::to_string(resp.status) + " for /cacerts";
    return false;
  }
  std::string ca = resp.body;
  if (net::Sha256Hex(ca) != token.ca_hash) {
    *error = "the server's CA does not match the token: its hash is " + net::Sha256Hex(ca) +
             ", the token says " + token.ca_hash + " (a wrong token, or not the server you think)";
    return false;
  }

  net::HttpClientOptions trusted;
  trusted.tls.ca_pem = ca;
  net::HttpClient client(trusted);
  net::HttpClientRequest post;
  post.method = "POST";
  post.url = opts.server_url + "/v1-kubit/client-kubelet";
  post.headers = {{"Authorization", "Basic " + net::Base64Encode("node:" + token.secret)},
                  {"Kubit-Node-Name", opts.node_name},
                  {"Kubit-Node-Password", password}};
  if (!client.Do(post, &resp, error)) {
    *error = "cannot get this node's certificate: " + *error;
    return false;
  }
  Json body = Json::parse(resp.body, nullptr, false);
  if (resp.status != 200) {
    std::string msg = body.is_object() ? body.value("message", resp.body) : resp.body;
    *error = "the server refused to let node \"" + opts.node_name + "\" join (" +
             std::to_string(resp.status) + "): " + msg;
    return false;
  }
  if (!body.is_object() || !body["cert"].is_string() || !body["key"].is_string()) {
    *error = "the server's answer holds no certificate";
    return false;
  }
  std::string cert = body["cert"], key = body["key"];
  std::string kubeconfig = Kubeconfig(opts.server_url, opts.node_name, ca, cert, key);
  if (!WriteFile(KubeletKubeconfigPath(opts.data_dir), kubeconfig, 0600, error)) return false;
  return client::LoadKubeconfig(KubeletKubeconfigPath(opts.data_dir), "", config, error);
}

}  // namespace kubit::kubelet

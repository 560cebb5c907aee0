#include "core/apiserver/cluster_pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace kubit::apiserver {
namespace {

bool IsIP(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool MkdirP(const std::string& path, unsigned mode, std::string* error) {
  for (size_t i = 1; i <= path.size(); i++) {
    if (i != path.size() && path[i] != '/') continue;
    std::string part = path.substr(0, i);
    if (mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
      *error = "mkdir " + part + ": " + strerror(errno);
      return false;
    }
  }
  return true;
}

// Loads cert+key from files, or makes them with `make` and writes them.
template <typename Make>
bool LoadOrMake(const std::string& dir, const std::string& name, net::KeyPair* kp, Make make,
                std::string* error) {
  std::string crt = dir + "/" + name + ".crt", key = dir + "/" + name + ".key";
  if (ReadFile(crt, &kp->cert_pem) && ReadFile(key, &kp->key_pem)) return true;
  if (!make(kp, error)) return false;
  return WriteFileAtomic(key, kp->key_pem, 0600, error) &&
         WriteFileAtomic(crt, kp->cert_pem, 0644, error);
}

std::string Base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += t[n >> 18];
    out += t[(n >> 12) & 63];
    out += t[(n >> 6) & 63];
    out += t[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += t[n >> 18];
    out += t[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += t[n >> 18];
    out += t[(n >> 12) & 63];
    out += t[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  *out = ss.str();
  return true;
}

bool WriteFileAtomic(const std::string& path, const std::string& data, unsigned mode,
                     std::string* error) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    *error = "create " + tmp + ": " + strerror(errno);
    return false;
  }
  fchmod(fd, mode);  // the umask must not widen or narrow what was asked
  bool ok = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
            fsync(fd) == 0;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "write " + path + ": " + strerror(errno);
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool EnsureClusterPKI(const PKIOptions& opts, ClusterPKI* out, std::string* error) {
  std::string dir = opts.data_dir + "/server/tls";
  if (!MkdirP(dir, 0700, error)) return false;
  if (!LoadOrMake(dir, "server-ca", &out->ca,
                  [](net::KeyPair* kp, std::string* e) {
                    return net::GenerateCA("kubit-server-ca@" + std::to_string(time(nullptr)), kp, e);
                  },
                  error))
    return false;

  // The serving certificate names every way clients reach this server.
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  std::vector<std::string> dns = {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
                                  "kubernetes.default.svc.cluster.local", "localhost", host};
  std::vector<std::string> ips = {"127.0.0.1", "::1"};
  for (const auto& s : opts.sans) (IsIP(s) ? ips : dns).push_back(s);
  for (const auto& s : opts.node_ips) ips.push_back(s);
  std::string crt = dir + "/serving-kube-apiserver.crt", key = dir + "/serving-kube-apiserver.key";
  bool have = ReadFile(crt, &out->serving.cert_pem) && ReadFile(key, &out->serving.key_pem);
  if (have) {
    auto got = net::CertificateSANs(out->serving.cert_pem);
    auto has = [&](const std::string& s) { return std::find(got.begin(), got.end(), s) != got.end(); };
    for (const auto& d : dns) have = have && has("DNS:" + d);
    for (const auto& i : ips) have = have && (has("IP:" + i) || i == "::1");
  }
  if (!have) {
    net::CertRequest req;
    req.common_name = "kube-apiserver";
    req.dns_names = dns;
    req.ip_addresses = ips;
    req.server = true;
    if (!net::IssueCertificate(out->ca, req, &out->serving, error) ||
        !WriteFileAtomic(key, out->serving.key_pem, 0600, error) ||
        !WriteFileAtomic(crt, out->serving.cert_pem, 0644, error))
      return false;
  }
  if (!LoadOrMake(dir, "client-admin", &out->admin,
                  [&](net::KeyPair* kp, std::string* e) {
                    net::CertRequest req;
                    req.common_name = "system:admin";
                    req.organizations = {"system:masters"};
                    req.client = true;
                    return net::IssueCertificate(out->ca, req, kp, e);
                  },
                  error))
    return false;
  std::string sa = dir + "/service.key";
  if (!ReadFile(sa, &out->sa_key_pem)) {
    if (!net::GenerateKey(&out->sa_key_pem, error) ||
        !WriteFileAtomic(sa, out->sa_key_pem, 0600, error))
      return false;
  }

  // The join token: K10<sha256 of the CA bundle>::server:<secret>, as k3s,
  // so that joiners can check the CA they are given.
  std::string token_path = opts.data_dir + "/server/token";
  std::string secret;
  if (!opts.token.empty()) {
    size_t p = opts.token.find("::server:");
    secret = p == std::string::npos ? opts.token : opts.token.substr(p + 9);
  } else if (ReadFile(token_path, &out->token)) {
    while (!out->token.empty() && isspace(static_cast<unsigned char>(out->token.back())))
      out->token.pop_back();
    size_t p = out->token.find("::server:");
    secret = p == std::string::npos ? out->token : out->token.substr(p + 9);
  } else {
    secret = net::RandomHex(16);
  }
  out->token = "K10" + net::Sha256Hex(out->ca.cert_pem) + "::server:" + secret;
  std::string on_disk;
  if (!ReadFile(token_path, &on_disk) || on_disk != out->token + "\n") {
    if (!WriteFileAtomic(token_path, out->token + "\n", 0600, error)) return false;
  }
  return true;
}

bool WriteAdminKubeconfig(const ClusterPKI& pki, const std::string& server_url,
                          const std::string& path, unsigned mode, std::string* error) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0 && !MkdirP(path.substr(0, slash), 0755, error))
    return false;
  std::string y =
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- cluster:\n"
      "    certificate-authority-data: " + Base64(pki.ca.cert_pem) + "\n"
      "    server: " + server_url + "\n"
      "  name: default\n"
      "contexts:\n"
      "- context:\n"
      "    cluster: default\n"
      "    user: default\n"
      "  name: default\n"
      "current-context: default\n"
      "preferences: {}\n"
      "users:\n"
      "- name: default\n"
      "  user:\n"
      "    client-certificate-data: " + Base64(pki.admin.cert_pem) + "\n"
      "    client-key-data: " + Base64(pki.admin.key_pem) + "\n";
  return WriteFileAtomic(path, y, mode, error);
}

}  // namespace kubit::apiserver

// client::Config: where the API server is and who we are to it, from a
// kubeconfig file (what `kubit server` writes for the admin and the agent
// writes for the kubelet) or for the in-process transport of `kubit
// server` itself.
#pragma once

#include <functional>
#include <string>

#include "net/http_client.h"

namespace kubit::client {

struct Config {
  std::string server;        // base URL, "https://127.0.0.1:6443"
  net::TlsConfig tls;        // CA, client certificate, server name
  std::string bearer_token;  // sent as "Authorization: Bearer ..."
  std::string ns;            // the context's namespace ("default" when unset)
  // Replaces TCP dialing (the in-process transport).
  std::function<int(std::string* error)> dial;
  std::string user_agent = "kubit";
  int timeout_ms = 60000;    // longest wait for any read of an ordinary request
};

// Reads a kubeconfig: `context` (empty: current-context) names the
// cluster (server, certificate-authority(-data), insecure-skip-tls-verify,
// tls-server-name) and user (client-certificate(-data), client-key(-data),
// token, tokenFile). Relative file paths are relative to the kubeconfig's
// folder, as kubectl resolves them. False with *error naming what is
// missing or unreadable.
bool LoadKubeconfig(const std::string& path, const std::string& context, Config* out,
                    std::string* error);

// The configuration for a client inside the process that runs the API
// server: plain HTTP over `dial` (apiserver::ApiServer::InProcessDialer),
// the identity being the dialer's.
Config InProcessConfig(std::function<int(std::string* error)> dial);

}  // namespace kubit::client

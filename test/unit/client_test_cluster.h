// TestCluster: a real API server (store in a temporary folder, generated
// PKI, HTTPS on a free 127.0.0.1 port) for the core/client and controller
// tests, with an in-process client and an admin kubeconfig for HTTPS.
#pragma once

#include <doctest/doctest.h>
#include <signal.h>

#include <memory>
#include <string>

#include "core/apiserver/api_server.h"
#include "core/apiserver/cluster_pki.h"
#include "core/client/client.h"
#include "store/store.h"
#include "test/unit/temp_dir.h"

namespace kubit::test {

struct TestCluster {
  TestCluster() {
    // The server's TLS writes to clients that hung up rely on SIGPIPE
    // being ignored, as kubit's main does.
    signal(SIGPIPE, SIG_IGN);
    store::Options so;
    so.path = dir.File("state.db");
    so.key_namespace = "/registry/";
    REQUIRE(store::Store::Open(so, &state).ok());
    apiserver::PKIOptions po;
    po.data_dir = dir.path();
    std::string error;
    REQUIRE_MESSAGE(apiserver::EnsureClusterPKI(po, &pki, &error), error);
    apiserver::ApiServerOptions ao;
    ao.bind_address = "127.0.0.1";
    ao.port = 0;
    api = std::make_unique<apiserver::ApiServer>(ao, state.get(), &pki);
    REQUIRE_MESSAGE(api->Start(&error), error);
    kubeconfig = dir.File("admin.yaml");
    REQUIRE(apiserver::WriteAdminKubeconfig(pki, url(), kubeconfig, 0600, &error));
  }
  ~TestCluster() {
    api->Stop();
    state->Close();
  }

  std::string url() const { return "https://127.0.0.1:" + std::to_string(api->port()); }
  // A client over the in-process transport, as `user` in `groups`.
  std::unique_ptr<client::Client> InProcess(const std::string& user = "system:admin",
                                            std::vector<std::string> groups = {"system:masters"}) {
    return std::make_unique<client::Client>(client::InProcessConfig(api->InProcessDialer(user, groups)));
  }
  // A client over HTTPS with the admin kubeconfig.
  std::unique_ptr<client::Client> Https() {
    std::unique_ptr<client::Client> c;
    std::string error;
    REQUIRE_MESSAGE(client::Client::FromKubeconfig(kubeconfig, "", &c, &error), error);
    return c;
  }

  TempDir dir{"kubit-client"};
  std::unique_ptr<store::Store> state;
  apiserver::ClusterPKI pki;
  std::unique_ptr<apiserver::ApiServer> api;
  std::string kubeconfig;
};

}  // namespace kubit::test

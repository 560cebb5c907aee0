// RootCAPublisher: every active namespace has the ConfigMap
// "kube-root-ca.crt" holding the cluster CA under "ca.crt", so that pods
// can verify the API server (their projected ServiceAccount volumes
// mount it). Made when missing, put back when changed or deleted, as
// upstream's root-ca-cert-publisher.
#pragma once

#include <string>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

inline constexpr const char* kRootCAConfigMap = "kube-root-ca.crt";

class RootCAPublisher {
 public:
  // Registers its informers (namespaces; configmaps named kube-root-ca.crt).
  RootCAPublisher(client::Client* client, client::SharedInformerFactory* informers, std::string ca_pem,
                  Logger log);
  void Start(int workers = 1);
  void Stop();
  client::Status Sync(const std::string& ns);

 private:
  client::Client* client_;
  client::Informer* namespaces_;
  client::Informer* configmaps_;
  std::string ca_pem_;
  Logger log_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers

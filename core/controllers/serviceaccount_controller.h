// ServiceAccountController: every active namespace has a "default"
// ServiceAccount; it is made when a namespace appears and made again when
// someone deletes it (upstream's serviceaccounts-controller). Terminating
// namespaces are left alone.
#pragma once

#include <string>
#include <vector>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class ServiceAccountController {
 public:
  // Registers its informers (namespaces, serviceaccounts) with `informers`.
  ServiceAccountController(client::Client* client, client::SharedInformerFactory* informers, Logger log,
                           std::vector<std::string> names = {"default"});
  void Start(int workers = 1);
  void Stop();
  // Makes the missing ServiceAccounts of namespace `ns`.
  client::Status Sync(const std::string& ns);

 private:
  client::Client* client_;
  client::Informer* namespaces_;
  client::Informer* accounts_;
  Logger log_;
  std::vector<std::string> names_;
  SyncLoop loop_;
};

// True for a namespace being deleted (a deletionTimestamp or phase
// Terminating): nothing new may be created in it.
bool NamespaceTerminating(const client::Json& ns);

}  // namespace kubit::controllers

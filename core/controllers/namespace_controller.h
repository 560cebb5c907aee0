// NamespaceController: namespaces being deleted are emptied and then
// removed (see namespace_deleter.h), a pass at a time: again after a
// back-off when a pass fails, and again after about half the estimated
// time when content is still going away, as upstream's namespace
// controller.
#pragma once

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/controllers/namespace_deleter.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class NamespaceController {
 public:
  // Registers its informer (namespaces) with `informers`.
  NamespaceController(client::Client* client, client::SharedInformerFactory* informers, Logger log);
  void Start(int workers = 2);
  void Stop();
  client::Status Sync(const std::string& name);

 private:
  NamespaceDeleter deleter_;
  Logger log_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers

#include "core/controllers/controller_manager.h"

#include "core/controllers/namespace_controller.h"
#include "core/controllers/root_ca_publisher.h"
#include "core/controllers/serviceaccount_controller.h"

namespace kubit::controllers {

ControllerManager::ControllerManager(client::Client* client, ControllerManagerOptions options)
    : opts_(std::move(options)),
      informers_(client, [log = opts_.log](const std::string& m) {
        if (log) log(LogLevel::kWarn, "informer: " + m);
      }) {
  service_accounts_ = std::make_unique<ServiceAccountController>(client, &informers_, opts_.log);
  root_ca_ = std::make_unique<RootCAPublisher>(client, &informers_, opts_.ca_pem, opts_.log);
  namespaces_ = std::make_unique<NamespaceController>(client, &informers_, opts_.log);
}

ControllerManager::~ControllerManager() { Stop(); }

void ControllerManager::Start() {
  informers_.Start();
  // Workers judge by the caches: an empty one would have them create what
  // exists already. In-process the first lists take milliseconds.
  if (!informers_.WaitForSync(std::chrono::seconds(30)) && opts_.log)
    opts_.log(LogLevel::kWarn, "controllers: informers not synced after 30 s; starting anyway");
  service_accounts_->Start();
  root_ca_->Start();
  namespaces_->Start();
}

void ControllerManager::Stop() {
  // Workers first (they use the caches), then the informers feeding them.
  namespaces_->Stop();
  root_ca_->Stop();
  service_accounts_->Stop();
  informers_.Stop();
}

}  // namespace kubit::controllers

#include "core/controllers/namespace_controller.h"

#include <nlohmann/json.hpp>

namespace kubit::controllers {

using client::ObjectPtr;

NamespaceController::NamespaceController(client::Client* client, client::SharedInformerFactory* informers,
                                         Logger log)
    : deleter_(client), log_(log), loop_("namespace-controller", [this](const std::string& n) { return Sync(n); }, log) {
  auto enqueue_if_deleting = [this](const ObjectPtr& o) {
    const client::Json meta = o->value("metadata", client::Json::object());
    if (meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null())
      loop_.queue().Add(client::ObjectKey(*o));
  };
  client::EventHandlers h;
  h.on_add = enqueue_if_deleting;
  h.on_update = [enqueue_if_deleting](const ObjectPtr&, const ObjectPtr& o) { enqueue_if_deleting(o); };
  informers->For({"", "v1", "namespaces"})->AddHandler(h);
}

void NamespaceController::Start(int workers) { loop_.Start(workers); }

void NamespaceController::Stop() { loop_.Stop(); }

client::Status NamespaceController::Sync(const std::string& name) {
  int64_t remaining = 0;
  client::Status s = deleter_.Delete(name, &remaining);
  if (s.ok() && remaining > 0) {
    if (log_)
      log_(LogLevel::kDebug, "namespace-controller: content remains in " + name + ", estimate " +
                                 std::to_string(remaining) + " seconds before it is removed");
    loop_.queue().AddAfter(name, std::chrono::seconds(remaining / 2 + 1));
  }
  return s;
}

}  // namespace kubit::controllers

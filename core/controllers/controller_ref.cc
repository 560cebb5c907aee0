#include "core/controllers/controller_ref.h"

#include <nlohmann/json.hpp>

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;

Json ControllerRefFor(const Json& owner) {
  const Json& meta = owner["metadata"];
  return {{"apiVersion", owner.value("apiVersion", "")},
          {"kind", owner.value("kind", "")},
          {"name", meta.value("name", "")},
          {"uid", meta.value("uid", "")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

Json ControllerRefOf(const Json& obj) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return nullptr;
  auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return nullptr;
  for (const Json& ref : *refs)
    if (ref.is_object() && ref.value("controller", false)) return ref;
  return nullptr;
}

std::string ControllerKeyOf(const Json& obj, const std::string& kind) {
  Json ref = ControllerRefOf(obj);
  if (ref.is_null() || ref.value("kind", "") != kind) return "";
  std::string ns = obj["metadata"].value("namespace", "");
  return ns.empty() ? ref.value("name", "") : ns + "/" + ref.value("name", "");
}

bool BeingDeleted(const Json& obj) {
  auto meta = obj.find("metadata");
  return meta != obj.end() && meta->is_object() && meta->contains("deletionTimestamp") &&
         !(*meta)["deletionTimestamp"].is_null();
}

namespace {

// Patches carry the object's uid so that a same-named successor is never
// adopted or released by mistake (upstream's patch shape).
client::Status PatchOwnerRefs(client::Client* client, const client::Resource& r, const Json& obj,
                              const Json& owner_refs_patch, Json* out) {
  Json patch = {{"metadata", {{"ownerReferences", owner_refs_patch}, {"uid", obj["metadata"]["uid"]}}}};
  return client->Patch(r, obj["metadata"].value("namespace", ""), obj["metadata"].value("name", ""),
                       client::PatchType::kStrategicMerge, patch.dump(), out);
}

}  // namespace

client::Status ClaimObjects(client::Client* client, const Json& owner, const api::LabelSelector& selector,
                            const std::vector<ObjectPtr>& candidates, const ClaimOptions& options,
                            std::vector<ObjectPtr>* claimed) {
  const std::string owner_uid = owner["metadata"].value("uid", "");
  const bool owner_deleting = BeingDeleted(owner);
  bool adoption_checked = false;
  client::Status adoption_status;
  for (const ObjectPtr& obj : candidates) {
    const Json& labels = (*obj)["metadata"].value("labels", Json::object());
    const bool matches = selector.Matches(labels);
    Json ref = ControllerRefOf(*obj);
    if (!ref.is_null()) {
      if (ref.value("uid", "") != owner_uid) continue;  // someone else's
      if (matches || owner_deleting) {
        claimed->push_back(obj);
        continue;
      }
      Json out;
      client::Status s =
          PatchOwnerRefs(client, options.resource, *obj, Json::array({{{"$patch", "delete"}, {"uid", owner_uid}}}), &out);
      if (!s.ok() && !s.IsNotFound() && !s.IsInvalid()) return s;  // Invalid: the uid changed; gone
      continue;
    }
    if (!matches || owner_deleting || BeingDeleted(*obj)) continue;
    if (!adoption_checked) {
      adoption_checked = true;
      if (options.can_adopt) adoption_status = options.can_adopt();
    }
    if (!adoption_status.ok()) return adoption_status;
    Json out;
    client::Status s = PatchOwnerRefs(client, options.resource, *obj, Json::array({ControllerRefFor(owner)}), &out);
    if (s.IsNotFound() || s.IsInvalid()) continue;
    if (!s.ok()) return s;
    claimed->push_back(std::make_shared<const Json>(std::move(out)));
  }
  return client::Status();
}

}  // namespace kubit::controllers

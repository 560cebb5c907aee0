#include "runtime/kubelet/object_source.h"

#include "net/base64.h"

namespace kubit::kubelet {

bool ObjectValue(const std::string& resource, const nlohmann::json& obj, const std::string& key,
                 std::string* value) {
  if (resource == "secrets") {
    auto d = obj.find("data");
    if (d == obj.end() || !d->is_object() || !d->contains(key) || !(*d)[key].is_string()) return false;
    return net::Base64Decode((*d)[key].get<std::string>(), value);
  }
  auto d = obj.find("data");
  if (d != obj.end() && d->is_object() && d->contains(key) && (*d)[key].is_string()) {
    *value = (*d)[key].get<std::string>();
    return true;
  }
  auto b = obj.find("binaryData");
  if (b != obj.end() && b->is_object() && b->contains(key) && (*b)[key].is_string())
    return net::Base64Decode((*b)[key].get<std::string>(), value);
  return false;
}

}  // namespace kubit::kubelet

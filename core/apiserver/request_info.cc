#include "core/apiserver/request_info.h"

#include <vector>

namespace kubit::apiserver {

bool ParseRequestInfo(const std::string& method, const std::string& path, bool watch_param,
                      RequestInfo* out) {
  std::vector<std::string> parts;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) parts.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  size_t i = 0;
  if (parts.size() >= 2 && parts[0] == "api") {
    out->group = "";
    out->version = parts[1];
    i = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis") {
    out->group = parts[1];
    out->version = parts[2];
    i = 3;
  } else {
    return false;
  }
  if (i >= parts.size()) return false;  // discovery, not a resource
  bool legacy_watch = false;
  if (parts[i] == "watch") {  // the old /watch/ path prefix
    legacy_watch = true;
    i++;
  }
  // namespaces/{ns}/{plural}/... ; namespaces/{name}[/status|/finalize] is
  // the namespace itself.
  bool namespace_object = false;
  if (parts[i] == "namespaces" && i + 1 < parts.size()) {
    out->ns = parts[i + 1];
    if (i + 2 < parts.size() && parts[i + 2] != "status" && parts[i + 2] != "finalize") i += 2;
    else namespace_object = true;
  }
  if (i >= parts.size()) return false;
  out->plural = parts[i++];
  if (i < parts.size()) out->name = parts[i++];
  if (i < parts.size()) out->subresource = parts[i++];
  if (i < parts.size()) return false;
  out->type = api::FindType(out->group, out->version, out->plural);
  if (namespace_object) out->ns.clear();
  if (out->type && !out->type->namespaced && !out->ns.empty())
    out->type = nullptr;  // a cluster-scoped type under a namespace
  const bool named = !out->name.empty();
  if (method == "GET" || method == "HEAD") {
    out->verb = legacy_watch || watch_param ? "watch" : named ? "get" : "list";
  } else if (method == "POST") {
    out->verb = "create";
  } else if (method == "PUT") {
    out->verb = "update";
  } else if (method == "PATCH") {
    out->verb = "patch";
  } else if (method == "DELETE") {
    out->verb = named ? "delete" : "deletecollection";
  } else {
    out->verb = "";
  }
  return true;
}

}  // namespace kubit::apiserver

// libFuzzer target over what the API server decodes from clients: HTTP
// request heads and query parameters, resource paths, label and field
// selectors, JSON bodies, and the patch engines (JSON patch, merge patch,
// strategic merge patch), protobuf bodies, plus table printing of whatever
// decodes, and YAML bodies.
// Input: one selector byte, then the data; patches put the object and the
// patch on either side of the first NUL byte.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/api/printers.h"
#include "core/api/protobuf.h"
#include "core/api/yaml.h"
#include "core/api/resources.h"
#include "core/api/selectors.h"
#include "core/api/strategic_merge.h"
#include "core/apiserver/request_info.h"
#include "net/http_server.h"

using nlohmann::json;
using namespace kubit;

namespace {

// A malformed document is an error the server reports (400/422), not a crash.
bool Parse(const std::string& s, json* out) {
  *out = json::parse(s, nullptr, false);
  return !out->is_discarded();
}

void Patches(uint8_t which, const std::string& data) {
  size_t nul = data.find('\0');
  json obj, patch;
  if (nul == std::string::npos || !Parse(data.substr(0, nul), &obj) ||
      !Parse(data.substr(nul + 1), &patch))
    return;
  const auto& types = api::BuiltinTypes();
  const std::string& kind = types[which % types.size()].kind;
  try {
    switch (which % 3) {
      case 0: {
        json out;
        std::string err;
        if (api::StrategicMerge(kind, obj, patch, &out, &err)) (void)out.dump();
        break;
      }
      case 1:
        obj.merge_patch(patch);
        (void)obj.dump();
        break;
      case 2:
        (void)obj.patch(patch).dump();
        break;
    }
  } catch (const json::exception&) {
    // Rejected patches come back to the client as errors.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t sel = data[0];
  std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (sel % 7) {
    case 0: {  // request head, parameters, resource path
      net::HttpRequest req;
      std::string version;
      if (net::ParseRequestHead(rest, &req, &version)) {
        auto params = req.Params();
        (void)req.Param("watch");
        apiserver::RequestInfo info;
        apiserver::ParseRequestInfo(req.method, req.path, params.count("watch") > 0, &info);
      }
      break;
    }
    case 1: {  // selectors
      api::LabelSelector ls;
      api::FieldSelector fs;
      std::string err;
      size_t nul = rest.find('\0');
      std::string text = rest.substr(0, nul);
      json obj;
      if (nul != std::string::npos) Parse(rest.substr(nul + 1), &obj);
      if (api::LabelSelector::Parse(text, &ls, &err)) ls.Matches(obj);
      if (api::FieldSelector::Parse(text, &fs, &err)) fs.Matches(obj);
      break;
    }
    case 2:
      Patches(sel / 5, rest);
      break;
    case 3: {  // tables of arbitrary objects
      json obj;
      if (!Parse(rest, &obj)) break;
      const auto& types = api::BuiltinTypes();
      try {
        (void)api::ToTable(types[(sel / 5) % types.size()], {obj}, "").dump();
      } catch (const json::exception&) {
      }
      break;
    }
    case 4:
      (void)net::PercentDecode(rest, true);
      break;
    case 6: {  // YAML request bodies
      json out;
      std::string err;
      if (api::ParseYaml(rest, &out, &err)) (void)out.dump();
      break;
    }
    case 5: {  // protobuf request bodies
      json out;
      std::string err;
      if (api::DecodeProtobufObject(rest, &out, &err)) (void)out.dump();
      break;
    }
  }
  return 0;
}

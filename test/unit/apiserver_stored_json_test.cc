// SpliceResourceVersion against the parse-and-set it replaces: the same
// object for every shape of stored JSON, a metadata key only at the top
// level, and a refusal (so the caller parses) for what is not an object
// with a metadata object.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/apiserver/stored_json.h"

namespace kubit::apiserver {
namespace {

using Json = nlohmann::json;

void Same(const Json& stored, int64_t rev) {
  std::string out;
  REQUIRE(SpliceResourceVersion(stored.dump(), rev, &out));
  Json want = stored;
  want["metadata"]["resourceVersion"] = std::to_string(rev);
  CHECK(Json::parse(out) == want);
  // As a list item: without apiVersion and kind.
  REQUIRE(SpliceResourceVersion(stored.dump(), rev, &out, true));
  want.erase("apiVersion");
  want.erase("kind");
  CHECK(Json::parse(out) == want);
}

TEST_CASE("apiserver stored json: the resourceVersion spliced in equals parsing and setting it") {
  Same({{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "a"}, {"namespace", "d"}}},
        {"data", {{"k", "has \"metadata\":{ inside, and } ] , \\\\ and \\\""}}}},
       42);
  Same({{"metadata", Json::object()}}, 1);
  // A key sorting before metadata holds objects with metadata of their own.
  Same({{"apiVersion", "example.com/v1"}, {"kind", "X"},
        {"items", {{{"metadata", {{"name", "inner"}}}}, nullptr, true, 1.5, "s"}},
        {"metadata", {{"name", "outer"}, {"labels", {{"a", "b"}}}}},
        {"spec", {{"template", {{"metadata", {{"labels", {{"x", "y"}}}}}}}}}},
       7);
  Same({{"a", -12}, {"b", false}, {"c", Json::array()}, {"metadata", {{"name", "n"}}}, {"z", nullptr}}, 99);
  // Runs of backslashes before quotes, long strings around the metadata.
  Same({{"apiVersion", "v1"}, {"data", {{"x", std::string(5000, 'x') + "\\\\\"q\\"}, {"y", "\\"}}},
        {"kind", "ConfigMap"}, {"metadata", {{"name", "\"quoted\\"}}}, {"z", std::string(3000, '"')}},
       3);
}

TEST_CASE("apiserver stored json: no top-level metadata object, no splice") {
  std::string out = "untouched";
  CHECK_FALSE(SpliceResourceVersion("", 1, &out));
  CHECK_FALSE(SpliceResourceVersion("[1]", 1, &out));
  CHECK_FALSE(SpliceResourceVersion("{\"kind\":\"X\"}", 1, &out));
  CHECK_FALSE(SpliceResourceVersion("{\"metadata\":\"str\"}", 1, &out));
  CHECK_FALSE(SpliceResourceVersion("{\"spec\":{\"metadata\":{}}}", 1, &out));
  CHECK_FALSE(SpliceResourceVersion("{\"a\":\"unterminated", 1, &out));
  CHECK(out == "untouched");
}

}  // namespace
}  // namespace kubit::apiserver

// Helpers shared by the files of core/api/managed_fields*.cc.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/api/managed_fields.h"

namespace kubit::api::smd {

using Json = nlohmann::json;

// Deeper values are refused (the walks recurse once per level).
constexpr int kMaxDepth = 1000;
bool TooDeep(const Json& v, int limit = kMaxDepth);

// upstream's value.Compare and value.Equals: numbers compare numerically
// (ints with floats), then strings, bools, lists, maps, null.
int ValueCompare(const Json& a, const Json& b);
bool ValueEquals(const Json& a, const Json& b);
// value.ToString: strings quoted, numbers and bools as Go prints them.
std::string ValueToString(const Json& v);

// Go's strconv.Quote (%q).
std::string GoQuote(const std::string& s);
// Go's strconv.FormatFloat(f, 'g', -1, 64) (%v of a float64).
std::string GoFormatG(double f);

// The path element of an item of a set or map-list; false with *error
// (upstream's words) when the item cannot be one.
bool ItemPathElement(const SmdType& list, const Json& item, PathElement* pe, std::string* error);

// How a value of a type is walked.
enum class Shape { kLeaf, kMap, kList };
Shape ShapeOf(const SmdType& t, const Json& v);

}  // namespace kubit::api::smd

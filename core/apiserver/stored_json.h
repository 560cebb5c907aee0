// Stored objects as clients see them, without parsing: the store keeps an
// object's JSON without its resourceVersion (the revision is the truth), so
// serving it means adding metadata.resourceVersion. Watches and lists of
// kinds stored in the version served, with no selector to evaluate, splice
// it into the stored bytes instead of parsing and re-encoding every object
// for every watcher.
#pragma once

#include <cstdint>
#include <string>

namespace kubit::apiserver {

// `stored` with "resourceVersion":"<revision>" first in its top-level
// metadata object; `list_item` also drops the top-level apiVersion and
// kind (items of a typed list carry none). False (and *out untouched) when
// `stored` is not an object with a metadata object: the caller parses
// instead.
bool SpliceResourceVersion(const std::string& stored, int64_t revision, std::string* out,
                           bool list_item = false);

}  // namespace kubit::apiserver

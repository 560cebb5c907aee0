// The continue token of a paged list: the revision the first page was read
// at and the last key returned, so that every page comes from one snapshot.
// Opaque to callers (base64url).
#pragma once

#include <string>

#include "store/store.h"

namespace kubit::store {

std::string EncodeContinueToken(Revision revision, const std::string& last_key);
bool DecodeContinueToken(const std::string& token, Revision* revision, std::string* last_key);

}  // namespace kubit::store

// ContainerSpec to and from JSON: agent/containers/<id>/spec.json, read
// back by exec (the process settings), ps (the image) and rm (the layers).
#pragma once

#include <string>

#include "runtime/container/spec.h"

namespace kubit::runtime::container {

std::string SpecToJson(const ContainerSpec& spec);
bool SpecFromJson(const std::string& text, ContainerSpec* out, std::string* error);

}  // namespace kubit::runtime::container

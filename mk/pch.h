// Precompiled for every translation unit (the Makefile passes -include):
// nlohmann/json alone takes ~2 s of each compile to parse, and most of the
// tree uses it. Sources still include what they use; this file only saves
// the parsing, and if the .gch is stale or made with other flags, g++ reads
// this header as a plain one instead.
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

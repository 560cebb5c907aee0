// YAML (or JSON) text to JSON values, as the API server reads apply
// patches (Content-Type application/apply-patch+yaml) and other YAML bodies.
//
// Upstream decodes these with sigs.k8s.io/yaml, whose YAML layer is a fork
// of go-yaml v2; this follows its scalar resolution so the same text gives
// the same JSON:
//   - plain scalars: true/false (also True/TRUE, and YAML 1.1's yes/no/on/off,
//     y/n), null/Null/NULL/~ and empty values, integers (decimal, 0x hex,
//     0o and leading-0 octal, 0b binary, '_' separators), floats (1.5, 1e3,
//     .5); anything else, timestamps included, is a string;
//   - quoted scalars are strings; explicit tags (!!str, !!int, !!float,
//     !!bool, !!null, !!binary) are honoured;
//   - mapping keys become strings (`1: a` has the key "1", `yes: a` "true");
//   - merge keys (<<) merge the mapping or sequence of mappings they name;
//     later keys win over earlier ones, as in go-yaml v2;
//   - numbers are JSON numbers as Go's encoding/json would give them back:
//     integral floats (3.0, 1e3) become integers; .inf and .nan are errors;
//   - only the first document of a stream is read.
// Text that is JSON (it starts with '{' or '[') is parsed as JSON directly.
//
// Bodies come from clients, so this never crashes and never runs away:
// nesting deeper than kMaxYamlDepth, aliases that expand into far more
// values or bytes than the text holds ("billion laughs"), and any parser
// exception are errors.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kubit::api {

constexpr int kMaxYamlDepth = 1000;

// Parses the first document of `text`. An empty document gives null.
// False with *error ("error converting YAML to JSON: yaml: line 3, column 5:
// ...", lines and columns counted from 1) when the text is not YAML.
bool ParseYaml(std::string_view text, nlohmann::json* out, std::string* error);

// Every document of a "---"-separated stream (empty documents give null).
bool ParseYamlDocuments(std::string_view text, std::vector<nlohmann::json>* out,
                        std::string* error);

}  // namespace kubit::api

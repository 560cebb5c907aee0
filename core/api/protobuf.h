// Decoding of Kubernetes protobuf request bodies (Content-Type
// application/vnd.kubernetes.protobuf) into the API's JSON.
//
// A body is the magic "k8s\0" and a runtime.Unknown envelope: its typeMeta
// names the apiVersion and kind, and its raw bytes are the object's message,
// which is decoded against the built-in schema (core/api/schema.h) into the
// JSON the same object has in the API: Time as RFC 3339, Quantity and
// IntOrString as their strings/numbers, bytes as base64, RawExtension and
// FieldsV1 as embedded JSON, list wrappers as arrays. Zero values of fields
// the JSON leaves out (omitempty, not pointers) are left out here too.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace kubit::api {

namespace schema {
struct Message;
}

// "k8s\0", the first bytes of every Kubernetes protobuf body.
inline constexpr std::string_view kProtobufMagic{"k8s\0", 4};
inline constexpr std::string_view kProtobufContentType = "application/vnd.kubernetes.protobuf";

// Decodes a whole body into a JSON object with apiVersion and kind set.
// False with `error` set when the body is malformed or names a kind that is
// not built in; never reads past the body.
bool DecodeProtobufObject(const std::string& body, nlohmann::json* out, std::string* error);

// Decodes one message (no magic, no envelope) of type `m` into JSON.
bool DecodeProtobufMessage(const schema::Message& m, std::string_view data, nlohmann::json* out,
                           std::string* error);

}  // namespace kubit::api

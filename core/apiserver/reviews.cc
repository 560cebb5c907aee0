#include "core/apiserver/reviews.h"

#include "core/apiserver/node_authorizer.h"

#include <time.h>

#include <nlohmann/json.hpp>

#include "core/api/meta.h"
#include "core/api/resources.h"
#include "core/apiserver/api_error.h"
#include "core/apiserver/responses.h"
#include "core/apiserver/rest.h"
#include "net/http_server.h"

namespace kubit::apiserver {
namespace {

using api::Json;

Json UserJson(const UserInfo& u) {
  Json extra = Json::object();
  for (const auto& [k, v] : u.extra) extra[k] = v;
  Json j = {{"username", u.name}, {"groups", u.groups}};
  if (!u.uid.empty()) j["uid"] = u.uid;
  if (!extra.empty()) j["extra"] = extra;
  return j;
}

std::vector<std::string> StringList(const Json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

// Attributes of an access review's spec.
Attributes FromSpec(const Json& spec, const UserInfo& user) {
  Attributes a;
  a.user = user;
  if (spec.contains("resourceAttributes") && spec["resourceAttributes"].is_object()) {
    const Json& r = spec["resourceAttributes"];
    a.resource_request = true;
    a.verb = r.value("verb", "");
    a.api_group = r.value("group", "");
    a.resource = r.value("resource", "");
    a.subresource = r.value("subresource", "");
    a.ns = r.value("namespace", "");
    a.name = r.value("name", "");
  } else if (spec.contains("nonResourceAttributes") && spec["nonResourceAttributes"].is_object()) {
    const Json& r = spec["nonResourceAttributes"];
    a.resource_request = false;
    a.verb = r.value("verb", "");
    a.path = r.value("path", "");
  }
  return a;
}

bool IsSystemMaster(const UserInfo& u) {
  for (const auto& g : u.groups)
    if (g == "system:masters") return true;
  return false;
}

}  // namespace

void Reviews::Serve(const RequestInfo& info, const UserInfo& user, net::HttpRequest& req,
                    net::HttpResponse& resp) const {
  const api::ResourceType& t = *info.type;
  if (info.verb != "create" || !info.name.empty())
    return SendError(resp, ApiError::MethodNotAllowed(
                               "the server does not allow this method on the requested resource"));
  Json body;
  ApiError err;
  if (!ParseRequestBody(req, &body, &err)) return SendError(resp, err);
  Json spec = body.value("spec", Json::object());
  Json out = {{"kind", t.kind},
              {"apiVersion", t.api_version()},
              {"metadata", {{"creationTimestamp", nullptr}}},
              {"spec", spec}};
  if (t.kind == "SelfSubjectReview") {
    out.erase("spec");
    out["status"] = {{"userInfo", UserJson(user)}};
  } else if (t.kind == "TokenReview") {
    UserInfo who;
    bool ok = authn_->AuthenticateToken(spec.value("token", ""), &who);
    out["status"] = {{"authenticated", ok}};
    if (ok) out["status"]["user"] = UserJson(who);
  } else if (t.kind == "SelfSubjectAccessReview" || t.kind == "SubjectAccessReview" ||
             t.kind == "LocalSubjectAccessReview") {
    UserInfo subject = user;
    if (t.kind != "SelfSubjectAccessReview") {
      subject = UserInfo();
      subject.name = spec.value("user", "");
      subject.uid = spec.value("uid", "");
      subject.groups = StringList(spec.value("groups", Json::array()));
    }
    Attributes a = FromSpec(spec, subject);
    if (t.kind == "LocalSubjectAccessReview") {
      if (a.ns.empty()) a.ns = info.ns;
      if (a.ns != info.ns)
        return SendError(resp, ApiError::BadRequest(
                                   "spec.resourceAttributes.namespace must match namespace: " +
                                   info.ns));
    }
    bool allowed = authorize_(a);
    std::string node;
    out["status"] = {{"allowed", allowed}};
    if (allowed && !IsSystemMaster(subject))
      out["status"]["reason"] = NodeAuthorizer::IsNode(subject, &node) ? "" : "allowed by RBAC";
  } else if (t.kind == "SelfSubjectRulesReview") {
    std::string ns = spec.value("namespace", "");
    Json resource_rules = Json::array(), url_rules = Json::array();
    std::vector<RbacAuthorizer::Rule> rules;
    if (IsSystemMaster(user)) {
      rules.push_back({{"*"}, {"*"}, {"*"}, {}, {}});
      rules.push_back({{"*"}, {}, {}, {}, {"*"}});
    }
    for (auto& r : rbac_->RulesFor(user, ns)) rules.push_back(r);
    for (const auto& r : rules) {
      if (!r.non_resource_urls.empty()) {
        url_rules.push_back({{"verbs", r.verbs}, {"nonResourceURLs", r.non_resource_urls}});
      } else {
        Json j = {{"verbs", r.verbs}, {"apiGroups", r.api_groups}, {"resources", r.resources}};
        if (!r.resource_names.empty()) j["resourceNames"] = r.resource_names;
        resource_rules.push_back(j);
      }
    }
    out["status"] = {{"resourceRules", resource_rules},
                     {"nonResourceRules", url_rules},
                     {"incomplete", false}};
  }
  SendJson(resp, 201, out);
}

void Reviews::ServeToken(const RequestInfo& info, net::HttpRequest& req,
                         net::HttpResponse& resp) const {
  const api::ResourceType& sa = *info.type;
  Json body;
  ApiError err;
  if (!ParseRequestBody(req, &body, &err)) return SendError(resp, err);
  store::KeyValue kv;
  store::Status s = state_->Get(sa.storage_key(info.ns, info.name), &kv);
  if (!s.ok()) return SendError(resp, ApiError::FromStore(s, sa, info.name));
  std::string uid = Json::parse(kv.value)["metadata"].value("uid", "");
  Json spec = body.value("spec", Json::object());
  int64_t seconds = spec.value("expirationSeconds", int64_t{3600});
  if (seconds < 600)
    return SendError(resp, ApiError::BadRequest(
                               "spec.expirationSeconds: Invalid value: " + std::to_string(seconds) +
                               ": may not specify a duration less than 10 minutes"));
  if (seconds > int64_t{1} << 32)
    return SendError(resp, ApiError::BadRequest("spec.expirationSeconds: Invalid value: " +
                                                std::to_string(seconds) +
                                                ": may not specify a duration larger than 2^32 seconds"));
  Authenticator::Token token;
  std::string error;
  std::vector<std::string> audiences = StringList(spec.value("audiences", Json::array()));
  if (!authn_->IssueServiceAccountToken(info.ns, info.name, uid, audiences, seconds, &token, &error))
    return SendError(resp, ApiError::Internal(error));
  char stamp[32];
  time_t exp = static_cast<time_t>(token.expires_at);
  struct tm tm;
  gmtime_r(&exp, &tm);
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (audiences.empty()) audiences = {Authenticator::Issuer()};
  spec["audiences"] = audiences;
  spec["expirationSeconds"] = seconds;
  if (!spec.contains("boundObjectRef")) spec["boundObjectRef"] = nullptr;
  Json out = {{"kind", "TokenRequest"},
              {"apiVersion", "authentication.k8s.io/v1"},
              {"metadata", {{"name", info.name}, {"namespace", info.ns}, {"creationTimestamp", nullptr}}},
              {"spec", spec},
              {"status", {{"token", token.token}, {"expirationTimestamp", stamp}}}};
  SendJson(resp, 201, out);
}

}  // namespace kubit::apiserver

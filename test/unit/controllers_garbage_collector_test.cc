// The garbage collector against the real API server, over ConfigMaps
// owning ConfigMaps (any kind works the same): Background, Orphan and
// Foreground propagation, dangling references, several owners; and the
// API server's side: which finalizers a DELETE's propagationPolicy sets.
#include <doctest/doctest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/client/informer.h"
#include "core/controllers/garbage_collector.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::controllers {
namespace {

using client::Json;
using client::Resource;
using client::Status;

const Resource kConfigMaps{"", "v1", "configmaps"};

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

Json MakeCM(client::Client& c, const std::string& name, const std::vector<Json>& owners = {},
            const std::vector<std::string>& finalizers = {}) {
  Json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}};
  Json refs = Json::array();
  for (const Json& o : owners)
    refs.push_back({{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"name", o["metadata"]["name"]},
                    {"uid", o["metadata"]["uid"]},
                    {"blockOwnerDeletion", true}});
  if (!refs.empty()) cm["metadata"]["ownerReferences"] = refs;
  if (!finalizers.empty()) cm["metadata"]["finalizers"] = finalizers;
  Json out;
  Status s = c.Create(kConfigMaps, "default", cm, &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return out;
}

bool Gone(client::Client& c, const std::string& name) {
  Json out;
  return c.Get(kConfigMaps, "default", name, &out).IsNotFound();
}

Json Fetch(client::Client& c, const std::string& name) {
  Json out;
  Status s = c.Get(kConfigMaps, "default", name, &out);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return out;
}

Status DeleteWith(client::Client& c, const std::string& name, const std::string& policy) {
  client::DeleteOptions o;
  o.propagation_policy = policy;
  return c.Delete(kConfigMaps, "default", name, o);
}

struct Collector {
  explicit Collector(client::Client* c) : informers(c), gc(c, &informers, nullptr) {
    informers.Start();
    REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
    gc.Start();
  }
  client::SharedInformerFactory informers;
  GarbageCollector gc;
};

TEST_CASE("apiserver: a DELETE's propagationPolicy sets the collector's finalizers") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  MakeCM(*c, "fg");
  REQUIRE(DeleteWith(*c, "fg", "Foreground").ok());
  Json fg = Fetch(*c, "fg");
  CHECK(fg["metadata"]["finalizers"] == Json::array({"foregroundDeletion"}));
  CHECK(fg["metadata"].contains("deletionTimestamp"));
  // A second DELETE may change the policy.
  REQUIRE(DeleteWith(*c, "fg", "Orphan").ok());
  CHECK(Fetch(*c, "fg")["metadata"]["finalizers"] == Json::array({"orphan"}));
  // Background drops the collector's finalizer; nothing holds the object.
  REQUIRE(DeleteWith(*c, "fg", "Background").ok());
  CHECK(Gone(*c, "fg"));

  MakeCM(*c, "bad");
  Status s = DeleteWith(*c, "bad", "Sideways");
  CHECK(s.IsInvalid());
  MakeCM(*c, "plain");
  REQUIRE(c->Delete(kConfigMaps, "default", "plain").ok());
  CHECK(Gone(*c, "plain"));
}

TEST_CASE("garbage collector: Background deletes dependents, dangling references count as gone") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Collector gc(c.get());
  Json owner = MakeCM(*c, "owner");
  MakeCM(*c, "dep-1", {owner});
  Json dep2 = MakeCM(*c, "dep-2", {owner});
  MakeCM(*c, "grandchild", {dep2});
  REQUIRE(DeleteWith(*c, "owner", "Background").ok());
  CHECK(Eventually([&] { return Gone(*c, "dep-1") && Gone(*c, "dep-2") && Gone(*c, "grandchild"); }));

  // An owner of the same name but another uid is not the owner.
  Json impostor = MakeCM(*c, "impostor");
  Json fake = impostor;
  fake["metadata"]["uid"] = "00000000-0000-0000-0000-000000000000";
  MakeCM(*c, "dangling", {fake});
  CHECK(Eventually([&] { return Gone(*c, "dangling"); }));
  CHECK_FALSE(Gone(*c, "impostor"));
}

TEST_CASE("garbage collector: a dependent with a live owner is kept; the dead reference is dropped") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Collector gc(c.get());
  Json a = MakeCM(*c, "a"), b = MakeCM(*c, "b");
  MakeCM(*c, "shared", {a, b});
  REQUIRE(DeleteWith(*c, "a", "Background").ok());
  CHECK(Eventually([&] { return Fetch(*c, "shared")["metadata"]["ownerReferences"].size() == 1; }));
  Json refs = Fetch(*c, "shared")["metadata"]["ownerReferences"];
  CHECK(refs[0]["name"] == "b");
}

TEST_CASE("garbage collector: Orphan removes the owner's references, then its finalizer") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Collector gc(c.get());
  Json owner = MakeCM(*c, "owner");
  Json other = MakeCM(*c, "other");
  MakeCM(*c, "dep", {owner});
  MakeCM(*c, "dep-two-owners", {owner, other});
  REQUIRE(DeleteWith(*c, "owner", "Orphan").ok());
  CHECK(Eventually([&] { return Gone(*c, "owner"); }));
  Json dep = Fetch(*c, "dep");
  CHECK_FALSE(dep["metadata"].contains("ownerReferences"));
  Json two = Fetch(*c, "dep-two-owners");
  REQUIRE(two["metadata"]["ownerReferences"].size() == 1);
  CHECK(two["metadata"]["ownerReferences"][0]["name"] == "other");
}

TEST_CASE("garbage collector: Foreground keeps the owner until blocking dependents are gone") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Collector gc(c.get());
  Json owner = MakeCM(*c, "owner");
  // A finalizer of someone else's holds the dependent, and so the owner.
  MakeCM(*c, "held", {owner}, {"example.com/hold"});
  REQUIRE(DeleteWith(*c, "owner", "Foreground").ok());
  CHECK(Eventually([&] { return Fetch(*c, "held")["metadata"].contains("deletionTimestamp"); }));
  Json waiting = Fetch(*c, "owner");
  CHECK(waiting["metadata"]["finalizers"] == Json::array({"foregroundDeletion"}));
  Json held = Fetch(*c, "held");
  held["metadata"].erase("finalizers");
  REQUIRE(c->Update(kConfigMaps, "default", held).ok());
  CHECK(Eventually([&] { return Gone(*c, "held") && Gone(*c, "owner"); }));
}

TEST_CASE("garbage collector: Foreground goes down a chain, the deepest dependents first") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Collector gc(c.get());
  Json top = MakeCM(*c, "top");
  Json mid = MakeCM(*c, "mid", {top});
  MakeCM(*c, "leaf", {mid}, {"example.com/hold"});
  REQUIRE(DeleteWith(*c, "top", "Foreground").ok());
  // The middle one has a dependent of its own: it is deleted in the
  // foreground too, and waits for the held leaf, as does the top.
  REQUIRE(Eventually([&] {
    Json m;
    return c->Get(kConfigMaps, "default", "mid", &m).ok() && m["metadata"].contains("deletionTimestamp") &&
           m["metadata"]["finalizers"] == Json::array({"foregroundDeletion"});
  }));
  CHECK_FALSE(Gone(*c, "top"));
  Json leaf = Fetch(*c, "leaf");
  leaf["metadata"].erase("finalizers");
  REQUIRE(c->Update(kConfigMaps, "default", leaf).ok());
  CHECK(Eventually([&] { return Gone(*c, "leaf") && Gone(*c, "mid") && Gone(*c, "top"); }));
}

TEST_CASE("garbage collector: an owner of a kind served later is judged once the kind appears") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  client::SharedInformerFactory informers(c.get());
  GarbageCollector gc(c.get(), &informers, nullptr, std::chrono::seconds(1));
  informers.Start();
  REQUIRE(informers.WaitForSync(std::chrono::seconds(10)));
  gc.Start();
  Json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata",
              {{"name", "of-a-gadget"},
               {"ownerReferences",
                {{{"apiVersion", "example.com/v1"}, {"kind", "Gadget"}, {"name", "g"}, {"uid", "11111111-2222-3333-4444-555555555555"}}}}}}};
  REQUIRE(c->Create(kConfigMaps, "default", cm).ok());
  CHECK_FALSE(Gone(*c, "of-a-gadget"));  // Gadgets are not served: the owner may yet exist
  Json crd = {{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", "gadgets.example.com"}}},
              {"spec",
               {{"group", "example.com"},
                {"scope", "Namespaced"},
                {"names", {{"plural", "gadgets"}, {"singular", "gadget"}, {"kind", "Gadget"}}},
                {"versions",
                 {{{"name", "v1"},
                   {"served", true},
                   {"storage", true},
                   {"schema", {{"openAPIV3Schema", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}}}}}};
  REQUIRE(c->Create({"apiextensions.k8s.io", "v1", "customresourcedefinitions"}, "", crd).ok());
  CHECK(Eventually([&] { return Gone(*c, "of-a-gadget"); }));  // served now, and there is no such Gadget
}

}  // namespace
}  // namespace kubit::controllers

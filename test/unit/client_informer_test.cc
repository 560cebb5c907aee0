// Informers against the real API server: sync, events with old and new
// objects, indices, late handlers, selections, the shared factory, and a
// re-list with tombstones after the watch's resource version is compacted
// away.
#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/api/resources.h"
#include "core/client/informer.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::client {
namespace {

const Resource kConfigMaps{"", "v1", "configmaps"};
constexpr auto kDeadline = std::chrono::seconds(20);

Json ConfigMap(const std::string& name, const std::string& app, const std::string& ns = "default") {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", {{"app", app}}}}},
          {"data", {{"v", "1"}}}};
}

// Handler calls as "add x", "update x 1->2", "delete x" (with "?" for a
// tombstone), and a wait for one of them.
struct Recorder {
  EventHandlers Handlers() {
    EventHandlers h;
    h.on_add = [this](const ObjectPtr& o) { Record("add " + ObjectKey(*o)); };
    h.on_update = [this](const ObjectPtr& a, const ObjectPtr& b) {
      Record("update " + ObjectKey(*b) + " " + (*a)["data"].value("v", "") + "->" + (*b)["data"].value("v", ""));
    };
    h.on_delete = [this](const ObjectPtr& o, bool unknown) {
      Record("delete " + ObjectKey(*o) + (unknown ? " ?" : ""));
    };
    return h;
  }
  void Record(const std::string& e) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(e);
    cv.notify_all();
  }
  bool WaitFor(const std::string& e) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kDeadline, [&] { return std::find(events.begin(), events.end(), e) != events.end(); });
  }
  std::vector<std::string> Events() {
    std::lock_guard<std::mutex> lock(mu);
    return events;
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> events;
};

}  // namespace

TEST_CASE("client informer: sync, events, indices and late handlers") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  REQUIRE(c->Create(kConfigMaps, "default", ConfigMap("a", "web")).ok());
  REQUIRE(c->Create(kConfigMaps, "kube-system", ConfigMap("b", "db", "kube-system")).ok());

  Informer inf(c.get(), kConfigMaps);
  inf.AddIndex("app", [](const Json& o) {
    return std::vector<std::string>{o["metadata"]["labels"].value("app", "")};
  });
  Recorder rec;
  inf.AddHandler(rec.Handlers());
  CHECK_FALSE(inf.HasSynced());
  inf.Start();
  REQUIRE(inf.WaitForSync(kDeadline));
  CHECK(inf.Keys() == std::vector<std::string>{"default/a", "kube-system/b"});
  CHECK(rec.Events() == std::vector<std::string>{"add default/a", "add kube-system/b"});
  ObjectPtr a = inf.Get("default", "a");
  REQUIRE(a);
  CHECK((*a)["kind"] == "ConfigMap");  // list items get their kind back
  CHECK((*a)["apiVersion"] == "v1");
  CHECK(inf.Get("default/zzz") == nullptr);
  CHECK(inf.ByIndex(kNamespaceIndex, "kube-system").size() == 1);
  CHECK(inf.ByIndex("app", "web").size() == 1);
  CHECK(inf.ByIndex("app", "nothing").empty());
  CHECK(inf.ByIndex("no-such-index", "web").empty());

  // Changes arrive through the watch.
  REQUIRE(c->Patch(kConfigMaps, "default", "a", PatchType::kMerge,
                   R"({"metadata":{"labels":{"app":"db"}},"data":{"v":"2"}})").ok());
  REQUIRE(rec.WaitFor("update default/a 1->2"));
  CHECK(inf.ByIndex("app", "web").empty());
  CHECK(inf.ByIndex("app", "db").size() == 2);
  REQUIRE(c->Create(kConfigMaps, "default", ConfigMap("c", "web")).ok());
  REQUIRE(rec.WaitFor("add default/c"));
  REQUIRE(c->Delete(kConfigMaps, "kube-system", "b").ok());
  REQUIRE(rec.WaitFor("delete kube-system/b"));
  CHECK(inf.Get("kube-system/b") == nullptr);
  CHECK(inf.ByIndex(kNamespaceIndex, "kube-system").empty());
  CHECK_FALSE(inf.ResourceVersion().empty());

  // An index added late covers what is cached; a handler added late hears
  // of it as adds.
  inf.AddIndex("has-v", [](const Json& o) { return std::vector<std::string>{o["data"].value("v", "")}; });
  CHECK(inf.ByIndex("has-v", "2").size() == 1);
  Recorder late;
  inf.AddHandler(late.Handlers());
  CHECK(late.Events() == std::vector<std::string>{"add default/a", "add default/c"});
  inf.Stop();
  inf.Stop();
}

TEST_CASE("client informer: selections and the shared factory") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  REQUIRE(c->Create(kConfigMaps, "default", ConfigMap("x", "web")).ok());
  REQUIRE(c->Create(kConfigMaps, "default", ConfigMap("y", "web")).ok());
  REQUIRE(c->Create(kConfigMaps, "kube-system", ConfigMap("x", "web", "kube-system")).ok());

  SharedInformerFactory factory(c.get());
  ListOptions by_name;
  by_name.field_selector = "metadata.name=x";
  Informer* named = factory.For(kConfigMaps, "", by_name);
  Informer* in_default = factory.For(kConfigMaps, "default");
  CHECK(factory.For(kConfigMaps, "", by_name) == named);  // shared
  CHECK(factory.For(kConfigMaps, "default") == in_default);
  CHECK(named != in_default);
  Recorder rec;
  named->AddHandler(rec.Handlers());
  factory.Start();
  REQUIRE(factory.WaitForSync(kDeadline));
  CHECK(named->Keys() == std::vector<std::string>{"default/x", "kube-system/x"});
  CHECK(in_default->Keys() == std::vector<std::string>{"default/x", "default/y"});

  // An object leaving the selection is a delete for it.
  REQUIRE(c->Delete(kConfigMaps, "default", "x").ok());
  REQUIRE(c->Create(kConfigMaps, "default", ConfigMap("z", "web")).ok());
  REQUIRE(rec.WaitFor("delete default/x"));
  CHECK(rec.Events() == std::vector<std::string>{"add default/x", "add kube-system/x", "delete default/x"});
  factory.Stop();
}

TEST_CASE("client informer: re-list after 410 Gone, with tombstones for what was missed") {
  test::TestCluster cluster;
  // The dialer can be pointed at a new API server over the same store.
  std::mutex dial_mu;
  std::function<int(std::string*)> dial = cluster.api->InProcessDialer("system:admin", {"system:masters"});
  Client c(InProcessConfig([&](std::string* error) {
    std::lock_guard<std::mutex> lock(dial_mu);
    return dial(error);
  }));
  REQUIRE(c.Create(kConfigMaps, "default", ConfigMap("keep", "web")).ok());
  REQUIRE(c.Create(kConfigMaps, "default", ConfigMap("lost", "web")).ok());
  InformerOptions o;
  o.ns = "default";
  o.initial_backoff = std::chrono::milliseconds(5);
  std::mutex log_mu;
  std::vector<std::string> log;
  o.log = [&](const std::string& m) {
    std::lock_guard<std::mutex> lock(log_mu);
    log.push_back(m);
  };
  Informer inf(&c, kConfigMaps, o);
  Recorder rec;
  inf.AddHandler(rec.Handlers());
  inf.Start();
  REQUIRE(inf.WaitForSync(kDeadline));

  // The server goes away; meanwhile "lost" is deleted and history
  // compacted, so the informer's resource version is gone when it is back.
  cluster.api->Stop();
  const api::ResourceType* t = api::FindType("", "v1", "configmaps");
  REQUIRE(cluster.state->Delete(t->storage_key("default", "lost")).ok());
  REQUIRE(cluster.state->Compact(cluster.state->CurrentRevision()).ok());
  apiserver::ApiServerOptions ao;
  ao.bind_address = "127.0.0.1";
  ao.port = 0;
  auto second = std::make_unique<apiserver::ApiServer>(ao, cluster.state.get(), &cluster.pki);
  std::string error;
  REQUIRE_MESSAGE(second->Start(&error), error);
  {
    std::lock_guard<std::mutex> lock(dial_mu);
    dial = second->InProcessDialer("system:admin", {"system:masters"});
  }
  cluster.api.swap(second);

  REQUIRE(rec.WaitFor("delete default/lost ?"));
  CHECK(inf.Keys() == std::vector<std::string>{"default/keep"});
  // "keep" did not change: no update for it.
  CHECK(rec.Events() == std::vector<std::string>{"add default/keep", "add default/lost", "delete default/lost ?"});
  // And the watch runs again.
  REQUIRE(c.Create(kConfigMaps, "default", ConfigMap("new", "web")).ok());
  REQUIRE(rec.WaitFor("add default/new"));
  inf.Stop();
  std::lock_guard<std::mutex> lock(log_mu);
  bool relisted = false;
  for (const auto& m : log) relisted |= m.find("listing again") != std::string::npos;
  CHECK(relisted);
}

}  // namespace kubit::client

namespace kubit::client {
namespace {

TEST_CASE("client informer: cached objects carry no managedFields; a transform of one's own replaces the default") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  REQUIRE(c->Create(kConfigMaps, "default", ConfigMap("mf", "web")).ok());
  Json served;
  REQUIRE(c->Get(kConfigMaps, "default", "mf", &served).ok());
  REQUIRE(served["metadata"].contains("managedFields"));  // the server keeps them
  Informer inf(c.get(), kConfigMaps);
  inf.Start();
  REQUIRE(inf.WaitForSync(kDeadline));
  CHECK_FALSE((*inf.Get("default", "mf"))["metadata"].contains("managedFields"));
  // Watch events too.
  Recorder rec;
  inf.AddHandler(rec.Handlers());
  REQUIRE(c->Create(kConfigMaps, "default", ConfigMap("mf2", "web")).ok());
  REQUIRE(rec.WaitFor("add default/mf2"));
  CHECK_FALSE((*inf.Get("default", "mf2"))["metadata"].contains("managedFields"));
  inf.Stop();

  InformerOptions keep;
  keep.selection.transform = [](Json& o) { o["metadata"]["labels"]["seen"] = "yes"; };
  Informer mine(c.get(), kConfigMaps, keep);
  mine.Start();
  REQUIRE(mine.WaitForSync(kDeadline));
  const Json& cached = *mine.Get("default", "mf");
  CHECK(cached["metadata"].contains("managedFields"));
  CHECK(cached["metadata"]["labels"]["seen"] == "yes");
}

}  // namespace
}  // namespace kubit::client

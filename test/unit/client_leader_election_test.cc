// Leader election against the real API server: one of two candidates
// leads, the other takes over when the leader stops (the lease is given up
// at once) or when a leader stops renewing (after the lease duration), and
// the Lease records holder and transitions as client-go writes them.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/client/leader_election.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::client {
namespace {

const Resource kLeases{"coordination.k8s.io", "v1", "leases"};

struct Candidate {
  Candidate(Client* c, const std::string& id) {
    LeaderElectionConfig cfg;
    cfg.name = "test-lock";
    cfg.identity = id;
    cfg.lease_duration = std::chrono::milliseconds(2000);
    cfg.renew_deadline = std::chrono::milliseconds(1500);
    cfg.retry_period = std::chrono::milliseconds(100);
    cfg.on_started_leading = [this] { started++; };
    cfg.on_stopped_leading = [this] { stopped++; };
    elector = std::make_unique<LeaderElector>(c, cfg);
  }
  std::atomic<int> started{0}, stopped{0};
  std::unique_ptr<LeaderElector> elector;
};

bool Eventually(const std::function<bool()>& f) {
  for (int i = 0; i < 300; i++) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

Json Lease(Client* c) {
  Json lease;
  REQUIRE(c->Get(kLeases, "kube-system", "test-lock", &lease).ok());
  return lease["spec"];
}

TEST_CASE("client leader election: one leads, the other takes over when it stops") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Candidate a(c.get(), "a"), b(c.get(), "b");
  a.elector->Start();
  REQUIRE(Eventually([&] { return a.elector->IsLeader(); }));
  b.elector->Start();
  // b keeps trying while a renews: it never leads.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK_FALSE(b.elector->IsLeader());
  CHECK(b.started == 0);
  Json spec = Lease(c.get());
  CHECK(spec["holderIdentity"] == "a");
  CHECK(spec["leaseDurationSeconds"] == 2);
  CHECK(spec["leaseTransitions"] == 0);
  CHECK(spec["renewTime"].get<std::string>().size() == std::string("2026-01-01T00:00:00.000000Z").size());

  a.elector->Stop();
  CHECK(a.started == 1);
  CHECK(a.stopped == 1);
  CHECK_FALSE(a.elector->IsLeader());
  REQUIRE(Eventually([&] { return b.elector->IsLeader(); }));
  CHECK(b.started == 1);
  spec = Lease(c.get());
  CHECK(spec["holderIdentity"] == "b");
  CHECK(spec["leaseTransitions"] == 1);
  b.elector->Stop();
  CHECK(Lease(c.get())["holderIdentity"] == "");
}

TEST_CASE("client leader election: a lease its holder stopped renewing is taken over, one held is not") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  // A holder that died without giving the lease up.
  Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "test-lock"}, {"namespace", "kube-system"}}},
                {"spec",
                 {{"holderIdentity", "ghost"},
                  {"leaseDurationSeconds", 1},
                  {"renewTime", "2026-01-01T00:00:00.000000Z"},
                  {"leaseTransitions", 4}}}};
  REQUIRE(c->Create(kLeases, "kube-system", lease).ok());
  Candidate b(c.get(), "b");
  b.elector->Start();
  // Not at once: b first has to see the lease unchanged for its duration.
  CHECK_FALSE(b.elector->IsLeader());
  REQUIRE(Eventually([&] { return b.elector->IsLeader(); }));
  Json spec = Lease(c.get());
  CHECK(spec["holderIdentity"] == "b");
  CHECK(spec["leaseTransitions"] == 5);
  CHECK(spec["acquireTime"] == spec["renewTime"]);
}

TEST_CASE("client leader election: the same identity takes its own lease back at once") {
  test::TestCluster cluster;
  auto c = cluster.InProcess();
  Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "test-lock"}, {"namespace", "kube-system"}}},
                {"spec",
                 {{"holderIdentity", "a"},
                  {"leaseDurationSeconds", 3600},
                  {"renewTime", "2026-01-01T00:00:00.000000Z"},
                  {"leaseTransitions", 2}}}};
  REQUIRE(c->Create(kLeases, "kube-system", lease).ok());
  Candidate a(c.get(), "a");
  a.elector->Start();
  REQUIRE(Eventually([&] { return a.elector->IsLeader(); }));
  CHECK(Lease(c.get())["leaseTransitions"] == 2);
}

}  // namespace
}  // namespace kubit::client

// Unit tests of net/ipam.h and net/ipam_ipv4.h: pod addresses recorded on
// disk, released, reconciled against the sandboxes that exist, and safe
// against what a crash leaves.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "net/ipam.h"
#include "test/unit/temp_dir.h"

using namespace kubit::net;
using kubit::test::TempDir;

namespace {

Ipv4Prefix Prefix(const std::string& s) {
  Ipv4Prefix p;
  std::string error;
  REQUIRE_MESSAGE(ParseIpv4Prefix(s, &p, &error), error);
  return p;
}

std::unique_ptr<Ipam> OpenIpam(const std::string& dir, const std::string& cidr) {
  std::unique_ptr<Ipam> ipam;
  std::string error;
  REQUIRE_MESSAGE(Ipam::Open(dir, Prefix(cidr), &ipam, &error), error);
  return ipam;
}

}  // namespace

TEST_CASE("podnet ipv4: prefixes parse, print and contain") {
  Ipv4Prefix p = Prefix("10.42.3.0/24");
  CHECK(p.String() == "10.42.3.0/24");
  CHECK(p.size() == 256);
  uint32_t ip;
  REQUIRE(ParseIpv4("10.42.3.77", &ip));
  CHECK(p.Contains(ip));
  CHECK(FormatIpv4(ip) == "10.42.3.77");
  CHECK(Prefix("10.42.0.0/16").Covers(p));
  CHECK_FALSE(p.Covers(Prefix("10.42.0.0/16")));
  CHECK(Prefix("0.0.0.0/0").Contains(ip));
  std::string error;
  CHECK_FALSE(ParseIpv4Prefix("10.42.3.1/24", &p, &error));
  CHECK(error.find("host bits") != std::string::npos);
  CHECK_FALSE(ParseIpv4Prefix("10.42.3.0/33", &p, &error));
  CHECK_FALSE(ParseIpv4Prefix("10.42.3.0", &p, &error));
  CHECK_FALSE(ParseIpv4Prefix("10.42.300.0/24", &p, &error));
}

TEST_CASE("podnet ipam: allocates the free addresses, one per owner, then refuses") {
  TempDir dir;
  auto ipam = OpenIpam(dir.File("a"), "10.42.0.0/29");  // .2 to .6: .0 network, .1 bridge, .7 broadcast
  CHECK(FormatIpv4(ipam->gateway()) == "10.42.0.1");
  std::set<std::string> got;
  std::string error;
  for (int i = 0; i < 5; ++i) {
    uint32_t ip;
    REQUIRE_MESSAGE(ipam->Allocate("sb" + std::to_string(i), &ip, &error), error);
    got.insert(FormatIpv4(ip));
  }
  CHECK(got == std::set<std::string>{"10.42.0.2", "10.42.0.3", "10.42.0.4", "10.42.0.5", "10.42.0.6"});
  // The same owner again: the same address.
  uint32_t again;
  REQUIRE(ipam->Allocate("sb3", &again, &error));
  CHECK(FormatIpv4(again) == "10.42.0.5");
  uint32_t ip;
  CHECK_FALSE(ipam->Allocate("sb5", &ip, &error));
  CHECK(error.find("no free address in pod CIDR 10.42.0.0/29") != std::string::npos);
  // One record file per address, naming its owner.
  std::ifstream in(dir.File("a/10.42.0.4"));
  std::string owner;
  std::getline(in, owner);
  CHECK(owner == "sb2");
  CHECK_FALSE(Ipam::Open(dir.File("b"), Prefix("10.42.0.0/31"), &ipam, &error));
}

TEST_CASE("podnet ipam: release frees, the next allocation moves on, records survive a reopen") {
  TempDir dir;
  std::string error;
  uint32_t a, b, c;
  {
    auto ipam = OpenIpam(dir.path(), "10.42.1.0/24");
    REQUIRE(ipam->Allocate("a", &a, &error));
    REQUIRE(ipam->Allocate("b", &b, &error));
    REQUIRE(ipam->Release("a", &error));
    CHECK(ipam->Release("never-had-one", &error));
    CHECK(access(dir.File(FormatIpv4(a)).c_str(), F_OK) != 0);
    REQUIRE(ipam->Allocate("c", &c, &error));
    CHECK(c != a);  // not reused at once
    CHECK(c != b);
  }
  auto reopened = OpenIpam(dir.path(), "10.42.1.0/24");
  CHECK(reopened->allocations().size() == 2);
  uint32_t ip;
  REQUIRE(reopened->Lookup("b", &ip));
  CHECK(ip == b);
  CHECK_FALSE(reopened->Lookup("a", &ip));
}

TEST_CASE("podnet ipam: reconcile releases gone owners and other ranges; crash leftovers cleared") {
  TempDir dir;
  std::string error;
  uint32_t ip;
  {
    auto ipam = OpenIpam(dir.path(), "10.42.2.0/24");
    for (const char* o : {"alive", "dead1", "dead2"}) REQUIRE(ipam->Allocate(o, &ip, &error));
  }
  // A claim interrupted before link(2), and a record of an old podCIDR.
  std::ofstream(dir.File(".tmp-10.42.2.9-1")) << "half\n";
  std::ofstream(dir.File("10.99.0.5")) << "moved\n";
  auto ipam = OpenIpam(dir.path(), "10.42.2.0/24");
  CHECK(access(dir.File(".tmp-10.42.2.9-1").c_str(), F_OK) != 0);
  std::vector<std::string> released;
  REQUIRE(ipam->Reconcile([](const std::string& o) { return o == "alive" || o == "moved"; }, &released, &error));
  std::sort(released.begin(), released.end());
  CHECK(released == std::vector<std::string>{"dead1", "dead2", "moved"});
  CHECK(ipam->allocations().size() == 1);
  CHECK(ipam->Lookup("alive", &ip));
  CHECK(access(dir.File("10.99.0.5").c_str(), F_OK) != 0);
  // A record that appears behind this process's back is never given twice.
  std::ofstream(dir.File("10.42.2.5")) << "other\n";
  std::ofstream(dir.File("10.42.2.6")) << "other2\n";
  std::set<uint32_t> mine;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(ipam->Allocate("n" + std::to_string(i), &ip, &error));
    mine.insert(ip);
  }
  uint32_t five, six;
  ParseIpv4("10.42.2.5", &five);
  ParseIpv4("10.42.2.6", &six);
  CHECK(mine.count(five) == 0);
  CHECK(mine.count(six) == 0);
}

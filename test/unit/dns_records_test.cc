// The DNS record table: answers, NXDOMAIN against NODATA with the zone's
// SOA, empty non-terminals, CNAME chains inside and out of the table,
// SRV targets' addresses, synthesized address names, names outside the
// zones.
#include <doctest/doctest.h>

#include "net/dns_records.h"

namespace kubit::net {
namespace {

DnsRecordTable Table() {
  DnsRecordTable t({"cluster.local"}, 5, 42);
  t.Add("web.default.svc.cluster.local", dns::kTypeA, RdataA(0x0a2b0001));
  t.Add("web.default.svc.cluster.local", dns::kTypeA, RdataA(0x0a2b0001));  // kept once
  t.Add("_http._tcp.web.default.svc.cluster.local", dns::kTypeSRV,
        RdataSrv(0, 100, 80, "web.default.svc.cluster.local"));
  t.Add("ext.default.svc.cluster.local", dns::kTypeCNAME, RdataName("www.example.org"));
  t.Add("alias.default.svc.cluster.local", dns::kTypeCNAME, RdataName("web.default.svc.cluster.local"));
  t.Add("gone.default.svc.cluster.local", dns::kTypeCNAME, RdataName("nothing.default.svc.cluster.local"));
  t.Add("1.0.43.10.in-addr.arpa", dns::kTypePTR, RdataName("web.default.svc.cluster.local"));
  t.AddName("empty.svc.cluster.local");
  t.AddName("default.pod.cluster.local");
  t.AddAddressNames("pod.cluster.local");
  return t;
}

std::string Ipv4Of(const DnsRecord& rr) {
  REQUIRE(rr.rdata.size() == 4);
  const auto* b = reinterpret_cast<const uint8_t*>(rr.rdata.data());
  return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." + std::to_string(b[3]);
}

TEST_CASE("dns records: a name's records of the type asked, owner as asked") {
  DnsRecordTable t = Table();
  CHECK(t.size() == 6);
  DnsLookupResult r = t.Lookup("WEB.default.svc.cluster.local.", dns::kTypeA);
  CHECK(r.kind == DnsLookupResult::kAnswer);
  CHECK(r.rcode == dns::kRcodeNoError);
  REQUIRE(r.answers.size() == 1);
  CHECK(r.answers[0].name == "WEB.default.svc.cluster.local");
  CHECK(r.answers[0].ttl == 5);
  CHECK(Ipv4Of(r.answers[0]) == "10.43.0.1");
}

TEST_CASE("dns records: NODATA for a name without the type, NXDOMAIN for none, both with the SOA") {
  DnsRecordTable t = Table();
  DnsLookupResult nodata = t.Lookup("web.default.svc.cluster.local", dns::kTypeAAAA);
  CHECK(nodata.kind == DnsLookupResult::kNoData);
  CHECK(nodata.rcode == dns::kRcodeNoError);
  CHECK(nodata.answers.empty());
  REQUIRE(nodata.authority.size() == 1);
  CHECK(nodata.authority[0].type == dns::kTypeSOA);
  CHECK(nodata.authority[0].name == "cluster.local");
  uint32_t minimum = 0;
  REQUIRE(ReadRdataSoaMinimum(nodata.authority[0].rdata, &minimum));
  CHECK(minimum == 5);

  DnsLookupResult nx = t.Lookup("nope.default.svc.cluster.local", dns::kTypeA);
  CHECK(nx.kind == DnsLookupResult::kNxDomain);
  CHECK(nx.rcode == dns::kRcodeNxDomain);
  CHECK(nx.authority.size() == 1);
}

TEST_CASE("dns records: names between a record and its zone exist without records") {
  DnsRecordTable t = Table();
  for (const char* ent : {"default.svc.cluster.local", "svc.cluster.local", "_tcp.web.default.svc.cluster.local",
                          "empty.svc.cluster.local", "cluster.local"})
    CHECK_MESSAGE(t.Lookup(ent, dns::kTypeA).kind == DnsLookupResult::kNoData, ent);
  CHECK(t.Lookup("other.svc.cluster.local", dns::kTypeA).kind == DnsLookupResult::kNxDomain);
  // The zone's apex answers its SOA.
  DnsLookupResult soa = t.Lookup("cluster.local", dns::kTypeSOA);
  CHECK(soa.kind == DnsLookupResult::kAnswer);
  REQUIRE(soa.answers.size() == 1);
  CHECK(soa.answers[0].type == dns::kTypeSOA);
}

TEST_CASE("dns records: SRV answers carry their targets' addresses") {
  DnsLookupResult r = Table().Lookup("_http._tcp.web.default.svc.cluster.local", dns::kTypeSRV);
  REQUIRE(r.answers.size() == 1);
  REQUIRE(r.additional.size() == 1);
  CHECK(r.additional[0].name == "web.default.svc.cluster.local");
  CHECK(Ipv4Of(r.additional[0]) == "10.43.0.1");
}

TEST_CASE("dns records: CNAME chains are followed inside the table and handed out at its edge") {
  DnsRecordTable t = Table();
  DnsLookupResult inside = t.Lookup("alias.default.svc.cluster.local", dns::kTypeA);
  CHECK(inside.kind == DnsLookupResult::kAnswer);
  REQUIRE(inside.answers.size() == 2);
  CHECK(inside.answers[0].type == dns::kTypeCNAME);
  CHECK(inside.answers[1].name == "web.default.svc.cluster.local");
  CHECK(inside.resolve_elsewhere.empty());

  DnsLookupResult out = t.Lookup("ext.default.svc.cluster.local", dns::kTypeA);
  CHECK(out.kind == DnsLookupResult::kAnswer);
  REQUIRE(out.answers.size() == 1);
  CHECK(out.answers[0].type == dns::kTypeCNAME);
  CHECK(out.resolve_elsewhere == "www.example.org");

  // Asking for the CNAME itself gets it, and nothing is followed.
  DnsLookupResult cname = t.Lookup("ext.default.svc.cluster.local", dns::kTypeCNAME);
  CHECK(cname.answers.size() == 1);
  CHECK(cname.resolve_elsewhere.empty());

  // A chain ending at a missing name of the zone: NXDOMAIN after the CNAME (RFC 6604).
  DnsLookupResult gone = t.Lookup("gone.default.svc.cluster.local", dns::kTypeA);
  CHECK(gone.kind == DnsLookupResult::kAnswer);
  CHECK(gone.rcode == dns::kRcodeNxDomain);
  CHECK(gone.answers.size() == 1);

  // Loops end.
  DnsRecordTable loop({"test"}, 5, 1);
  loop.Add("a.test", dns::kTypeCNAME, RdataName("b.test"));
  loop.Add("b.test", dns::kTypeCNAME, RdataName("a.test"));
  DnsLookupResult l = loop.Lookup("a.test", dns::kTypeA);
  CHECK(l.answers.size() <= 10);
}

TEST_CASE("dns records: address names answer under an existing parent only") {
  DnsRecordTable t = Table();
  DnsLookupResult pod = t.Lookup("10-42-0-7.default.pod.cluster.local", dns::kTypeA);
  REQUIRE(pod.answers.size() == 1);
  CHECK(Ipv4Of(pod.answers[0]) == "10.42.0.7");
  CHECK(t.Lookup("10-42-0-7.default.pod.cluster.local", dns::kTypeAAAA).kind == DnsLookupResult::kNoData);
  DnsLookupResult v6 = t.Lookup("fd00--7.default.pod.cluster.local", dns::kTypeAAAA);
  REQUIRE(v6.answers.size() == 1);
  CHECK(v6.answers[0].rdata.size() == 16);
  CHECK(t.Lookup("10-42-0-7.nosuchns.pod.cluster.local", dns::kTypeA).kind == DnsLookupResult::kNxDomain);
  CHECK(t.Lookup("10-42-0.default.pod.cluster.local", dns::kTypeA).kind == DnsLookupResult::kNxDomain);
  CHECK(t.Lookup("10-42-0-300.default.pod.cluster.local", dns::kTypeA).kind == DnsLookupResult::kNxDomain);
  CHECK(t.Lookup("x.10-42-0-7.default.pod.cluster.local", dns::kTypeA).kind == DnsLookupResult::kNxDomain);
}

TEST_CASE("dns records: names outside the zones are answered when held, else left to forward") {
  DnsRecordTable t = Table();
  DnsLookupResult ptr = t.Lookup("1.0.43.10.in-addr.arpa", dns::kTypePTR);
  CHECK(ptr.kind == DnsLookupResult::kAnswer);
  REQUIRE(ptr.answers.size() == 1);
  std::string target;
  REQUIRE(ReadRdataName(ptr.answers[0].rdata, &target));
  CHECK(target == "web.default.svc.cluster.local");
  CHECK(t.Lookup("2.0.43.10.in-addr.arpa", dns::kTypePTR).kind == DnsLookupResult::kNotFound);
  CHECK(t.Lookup("1.0.43.10.in-addr.arpa", dns::kTypeA).kind == DnsLookupResult::kNotFound);
  CHECK(t.Lookup("www.example.org", dns::kTypeA).kind == DnsLookupResult::kNotFound);
  CHECK(t.Lookup("local", dns::kTypeA).kind == DnsLookupResult::kNotFound);
}

}  // namespace
}  // namespace kubit::net

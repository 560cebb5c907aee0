// Unit tests of pod containers turned into runtime specs
// (runtime/kubelet/container_spec.h) and of the per-pod files (pod_files.h).
#include "runtime/kubelet/container_spec.h"

#include <doctest/doctest.h>

#include "runtime/kubelet/pod_files.h"

namespace {

using Json = nlohmann::json;
using namespace kubit::kubelet;

kubit::runtime::image::Image BusyBox() {
  kubit::runtime::image::Image i;
  i.name = "docker.io/library/busybox:1";
  i.layer_dirs = {"/snap/1"};
  i.config.entrypoint = {"/entry"};
  i.config.cmd = {"sh"};
  i.config.env = {"PATH=/bin", "HOME=/root"};
  i.config.working_dir = "/work";
  i.config.user = "nobody";
  return i;
}

Json Pod(const std::string& containers, const std::string& spec_extra = "") {
  return Json::parse(R"j({"metadata":{"name":"p","namespace":"ns","uid":"u1"},"spec":{)j" + spec_extra +
                     R"j("containers":)j" + containers + "}}");
}

TEST_CASE("kubelet container spec: command and args over entrypoint and cmd, with $(VAR)") {
  auto cfg = BusyBox().config;
  EnvList env = {{"WHO", "world"}};
  CHECK(ContainerArgs(Json::parse(R"j({})j"), cfg, env) == std::vector<std::string>{"/entry", "sh"});
  CHECK(ContainerArgs(Json::parse(R"j({"args":["-c","echo $(WHO)"]})j"), cfg, env) ==
        std::vector<std::string>{"/entry", "-c", "echo world"});
  CHECK(ContainerArgs(Json::parse(R"j({"command":["echo"]})j"), cfg, env) ==
        std::vector<std::string>{"echo"});
  CHECK(ContainerArgs(Json::parse(R"j({"command":["echo"],"args":["$(WHO)","$$(WHO)"]})j"), cfg, env) ==
        std::vector<std::string>{"echo", "world", "$(WHO)"});
}

TEST_CASE("kubelet container spec: env, working dir, resources, QoS cgroup, namespaces") {
  Json pod = Pod(R"j([{"name":"c","image":"busybox:1","workingDir":"/srv",
     "resources":{"requests":{"cpu":"250m","memory":"32Mi"},"limits":{"cpu":"500m","memory":"64Mi"}}}])j");
  ContainerContext ctx;
  ctx.id = "k8s_u1_c_0";
  ctx.sandbox = {"/sb/net", "/sb/ipc", "/sb/uts"};
  ctx.env = {{"HOME", "/home/x"}, {"A", "1"}};
  kubit::runtime::container::ContainerSpec s;
  std::string error;
  REQUIRE(BuildContainerSpec(pod, pod["spec"]["containers"][0], BusyBox(), ctx, &s, &error));
  CHECK(s.env == std::vector<std::string>{"PATH=/bin", "HOME=/home/x", "A=1"});
  CHECK(s.working_dir == "/srv");
  CHECK(s.user == "nobody");
  CHECK(s.resources.cpu_shares == 256);
  CHECK(s.resources.cpu_quota_us == 50000);
  CHECK(s.resources.cpu_period_us == 100000);
  CHECK(s.resources.memory_limit == 64 << 20);
  CHECK(s.cgroup_parent == "kubepods/burstable/podu1");
  CHECK(s.namespaces.network == "/sb/net");
  CHECK(s.namespaces.pid.empty());
  CHECK(s.security.seccomp == kubit::runtime::container::SeccompMode::kUnconfined);

  Json guaranteed = Pod(R"j([{"name":"c","resources":{"requests":{"cpu":"1","memory":"1Gi"},"limits":{"cpu":"1","memory":"1Gi"}}}])j");
  CHECK(PodCgroupParent(guaranteed) == "kubepods/podu1");
  CHECK(PodCgroupParent(Pod(R"j([{"name":"c"}])j")) == "kubepods/besteffort/podu1");
  CHECK(ContainerResources(Json::parse(R"j({"name":"c"})j")).cpu_shares == 2);
}

TEST_CASE("kubelet container spec: securityContext, pod level overridden per container") {
  Json pod = Pod(R"j([{"name":"c","securityContext":{"runAsUser":1000,"allowPrivilegeEscalation":false,
      "readOnlyRootFilesystem":true,"capabilities":{"add":["NET_ADMIN"],"drop":["ALL"]}}}])j",
                 R"j("hostNetwork":true,"securityContext":{"runAsUser":5,"runAsGroup":3000,"fsGroup":2000,
      "supplementalGroups":[4000],"seccompProfile":{"type":"RuntimeDefault"}},)j");
  ContainerContext ctx;
  ctx.id = "k8s_u1_c_0";
  kubit::runtime::container::ContainerSpec s;
  std::string error;
  REQUIRE(BuildContainerSpec(pod, pod["spec"]["containers"][0], BusyBox(), ctx, &s, &error));
  CHECK(s.user == "1000:3000");
  CHECK(s.additional_gids == std::vector<uint32_t>{4000, 2000});
  CHECK(s.security.no_new_privs);
  CHECK(s.security.read_only_rootfs);
  CHECK(s.security.cap_add == std::vector<std::string>{"NET_ADMIN"});
  CHECK(s.security.cap_drop == std::vector<std::string>{"ALL"});
  CHECK(s.security.seccomp == kubit::runtime::container::SeccompMode::kRuntimeDefault);
  CHECK(s.namespaces.network == "host");
}

TEST_CASE("kubelet container spec: runAsNonRoot refuses root and unverifiable users") {
  auto image = BusyBox();
  ContainerContext ctx;
  ctx.id = "k8s_u1_c_0";
  kubit::runtime::container::ContainerSpec s;
  std::string error;
  Json pod = Pod(R"j([{"name":"c","securityContext":{"runAsNonRoot":true}}])j");
  CHECK_FALSE(BuildContainerSpec(pod, pod["spec"]["containers"][0], image, ctx, &s, &error));
  CHECK(error == "container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: \"p_ns(u1)\", container: c)");
  image.config.user = "";
  CHECK_FALSE(BuildContainerSpec(pod, pod["spec"]["containers"][0], image, ctx, &s, &error));
  CHECK(error == "container has runAsNonRoot and image will run as root (pod: \"p_ns(u1)\", container: c)");
  Json zero = Pod(R"j([{"name":"c","securityContext":{"runAsNonRoot":true,"runAsUser":0}}])j");
  CHECK_FALSE(BuildContainerSpec(zero, zero["spec"]["containers"][0], image, ctx, &s, &error));
  CHECK(error == "container's runAsUser breaks non-root policy (pod: \"p_ns(u1)\", container: c)");
  Json ok = Pod(R"j([{"name":"c","securityContext":{"runAsNonRoot":true,"runAsUser":1000}}])j");
  CHECK(BuildContainerSpec(ok, ok["spec"]["containers"][0], image, ctx, &s, &error));
}

TEST_CASE("kubelet pod files: /etc/hosts with the pod's name and hostAliases") {
  Json pod = Pod(R"j([{"name":"c"}])j", R"j("hostname":"db-0","subdomain":"db",
      "hostAliases":[{"ip":"10.1.2.3","hostnames":["foo.local","bar.local"]}],)j");
  std::string hosts = HostsFile(pod, "10.42.0.9", {}, "");
  CHECK(hosts.find("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n") == 0);
  CHECK(hosts.find("10.42.0.9\tdb-0.db.ns.svc.cluster.local\tdb-0\n") != std::string::npos);
  CHECK(hosts.find("# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n") != std::string::npos);
  Json host_net = Pod(R"j([{"name":"c"}])j", R"j("hostNetwork":true,)j");
  CHECK(HostsFile(host_net, "", {}, "127.0.0.1 board\n") == "127.0.0.1 board\n");
}

TEST_CASE("kubelet pod files: resolv.conf by dnsPolicy") {
  std::string node = "nameserver 192.168.1.1\nsearch lan\noptions edns0\n";
  DnsSettings dns;
  Json cluster = Pod(R"j([{"name":"c"}])j");
  CHECK(ResolvConf(cluster, dns, node) ==
        "search ns.svc.cluster.local svc.cluster.local cluster.local lan\nnameserver 10.43.0.10\noptions ndots:5\n");
  Json def = Pod(R"j([{"name":"c"}])j", R"j("dnsPolicy":"Default",)j");
  CHECK(ResolvConf(def, dns, node) == "search lan\nnameserver 192.168.1.1\noptions edns0\n");
  Json none = Pod(R"j([{"name":"c"}])j", R"j("dnsPolicy":"None","dnsConfig":{"nameservers":["1.1.1.1"],
      "searches":["a.b"],"options":[{"name":"ndots","value":"2"},{"name":"rotate"}]},)j");
  CHECK(ResolvConf(none, dns, node) == "search a.b\nnameserver 1.1.1.1\noptions ndots:2 rotate\n");
  Json merged = Pod(R"j([{"name":"c"}])j", R"j("dnsConfig":{"options":[{"name":"ndots","value":"1"}]},)j");
  CHECK(ResolvConf(merged, dns, node).find("options ndots:1\n") != std::string::npos);
  CHECK(PodHostname(cluster) == "p");
}

}  // namespace

// The cluster DNS against dnsmasq (issue 7's benchmark, half of `make
// bench-net`): dnsperf asks a kubit server's node for a Service's name
// (at --cluster-dns, from the node itself, as hostNetwork pods do), then
// dnsmasq on a loopback address answering the same name with the same
// address, in turns, on the same machine. Prints queries/s of each
// (medians) and the ratio (target >= 1.0).
//
//   dns_bench KUBIT [--seconds S] [--rounds N]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

bool WaitFor(const std::string& cmd, int seconds) {
  auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    if (system(("(" + cmd + ") >/dev/null 2>&1").c_str()) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  fflush(stdout);  // or the child prints what is buffered again
  pid_t pid = fork();
  if (pid == 0) {
    if (!freopen(log.c_str(), "w", stderr) || !freopen(log.c_str(), "a", stdout)) _exit(127);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// dnsperf's "Queries per second:" against server:53; 0 if it failed.
double Dnsperf(const std::string& server, const std::string& queries, int seconds) {
  std::string out = Run("dnsperf -s " + server + " -d " + queries + " -l " + std::to_string(seconds) +
                        " -c 4 -q 200 2>&1");
  size_t at = out.find("Queries per second:");
  if (at == std::string::npos) {
    fprintf(stderr, "dns_bench: dnsperf against %s printed:\n%s\n", server.c_str(), out.c_str());
    return 0;
  }
  double lost = 0;
  size_t l = out.find("Queries lost:");
  if (l != std::string::npos) lost = atof(out.c_str() + l + 13);
  if (lost > 0) printf("  (%s: %.0f queries lost)\n", server.c_str(), lost);
  return atof(out.c_str() + at + 19);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: dns_bench KUBIT [--seconds S] [--rounds N]\n");
    return 2;
  }
  std::string kubit = argv[1];
  int seconds = 5, rounds = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--seconds") seconds = std::atoi(argv[i + 1]);
    if (f == "--rounds") rounds = std::atoi(argv[i + 1]);
  }
  for (const char* tool : {"dnsperf", "dnsmasq"})
    if (system(("command -v " + std::string(tool) + " >/dev/null || test -x /usr/sbin/" + tool).c_str()) != 0) {
      fprintf(stderr, "dns_bench: %s is not installed (make deps)\n", tool);
      return 1;
    }
  std::string dnsmasq = Run("command -v dnsmasq || echo /usr/sbin/dnsmasq");
  while (!dnsmasq.empty() && dnsmasq.back() == '\n') dnsmasq.pop_back();

  char tmpl[] = "/var/tmp/kubit-dnsbench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string data = dir + "/data", kubeconfig = dir + "/kubeconfig";
  int pid_salt = getpid();
  int port = 20000 + pid_salt % 40000;
  std::string svc_net = "10." + std::to_string(200 + pid_salt % 50);
  std::string dns_ip = svc_net + ".0.10";
  std::string upstream = "127.0.54." + std::to_string(2 + pid_salt % 250);
  printf("dns_bench: %d rounds of %d s each, cluster DNS %s, dnsmasq %s\n", rounds, seconds, dns_ip.c_str(),
         upstream.c_str());
  fflush(stdout);
  std::ofstream(dir + "/resolv.conf") << "";  // nothing to forward to: every name asked is the cluster's

  // A pod, so that the node's pod network (and the address on its bridge) is up.
  std::string make_image = "bash -c 'fail() { echo \"$*\" >&2; exit 1; }; . test/e2e/lib_images.sh && "
                           "make_busybox_oci_tar " + dir + "/busybox.tar busybox:dnsbench' && " + kubit +
                           " ctr --data-dir " + data + " images import " + dir + "/busybox.tar >/dev/null";
  if (system(make_image.c_str()) != 0) {
    fprintf(stderr, "dns_bench: cannot make the busybox image\n");
    return 1;
  }
  pid_t server = Spawn({kubit, "server", "--data-dir", data, "--bind-address", "127.0.0.1", "--https-listen-port",
                        std::to_string(port), "--write-kubeconfig", kubeconfig, "--cluster-cidr",
                        "10." + std::to_string(100 + pid_salt % 100) + ".0.0/16", "--service-cidr",
                        svc_net + ".0.0/16", "--cluster-dns", dns_ip, "--resolv-conf", dir + "/resolv.conf",
                        "--ingress-http-port", std::to_string(port + 1), "--ingress-https-port",
                        std::to_string(port + 2)},
                       dir + "/server.log");
  auto stop = [&](int rc) {
    kill(server, SIGTERM);
    waitpid(server, nullptr, 0);
    Run(kubit + " killall --data-dir " + data + " >/dev/null 2>&1");
    Run("rm -rf " + dir);
    return rc;
  };
  std::string k = "KUBECONFIG=" + kubeconfig + " kubectl ";
  if (!WaitFor("grep -q 'server: ready' " + dir + "/server.log", 20)) {
    fprintf(stderr, "dns_bench: the server did not start:\n%s\n", Run("cat " + dir + "/server.log").c_str());
    return stop(1);
  }
  Run(k + "run dnsbench --image=busybox:dnsbench --image-pull-policy=Never -- sleep 100000 2>&1");
  Run(k + "create service clusterip bench --tcp=80 2>&1");
  std::string ip = Run(k + "get service bench -o jsonpath='{.spec.clusterIP}'");
  const std::string name = "bench.default.svc.cluster.local";
  if (ip.empty() || !WaitFor("grep -q 'dns: serving " + dns_ip + " to the pods' " + dir + "/server.log", 60) ||
      !WaitFor("busybox nslookup " + name + " " + dns_ip + " | grep -q 'Address: " + ip + "'", 20)) {
    fprintf(stderr, "dns_bench: the cluster DNS does not answer %s:\n%s\n", name.c_str(),
            Run("tail -20 " + dir + "/server.log").c_str());
    return stop(1);
  }

  pid_t baseline = Spawn({dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
                          "--listen-address=" + upstream, "--port=53", "--user=root",
                          "--pid-file=" + dir + "/dnsmasq.pid", "--host-record=" + name + "," + ip},
                         dir + "/dnsmasq.log");
  if (!WaitFor("busybox nslookup " + name + " " + upstream + " | grep -q 'Address: " + ip + "'", 10)) {
    fprintf(stderr, "dns_bench: dnsmasq does not answer:\n%s\n", Run("cat " + dir + "/dnsmasq.log").c_str());
    kill(baseline, SIGTERM);
    waitpid(baseline, nullptr, 0);
    return stop(1);
  }

  std::ofstream(dir + "/queries") << name << " A\n";
  std::vector<double> ours, theirs;
  for (int r = 0; r < rounds; r++) {
    ours.push_back(Dnsperf(dns_ip, dir + "/queries", seconds));
    theirs.push_back(Dnsperf(upstream, dir + "/queries", seconds));
    printf("  round %d: kubit %.0f q/s, dnsmasq %.0f q/s\n", r + 1, ours.back(), theirs.back());
    fflush(stdout);
  }
  kill(baseline, SIGTERM);
  waitpid(baseline, nullptr, 0);

  double a = kubit::bench::Median(ours), b = kubit::bench::Median(theirs);
  printf("cluster DNS (kubit)   %9.0f queries/s (median)\n", a);
  printf("baseline (dnsmasq)    %9.0f queries/s (median, same name and address)\n", b);
  if (b > 0) printf("ratio kubit/dnsmasq: %.2f   (target >= 1.0)\n", a / b);
  return stop(a > 0 && b > 0 ? 0 : 1);
}

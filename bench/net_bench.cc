// Services' data path (issue 7's target: ClusterIP >= 0.9x direct): HTTP
// throughput of one large file from a busybox httpd pod, fetched through
// its Service's ClusterIP (the node's nftables DNAT, conntrack and
// masquerade) and, in the same run, straight from the pod's address.
// Runs alternate between the two so that a busy machine slows both alike;
// the medians are compared.
//
//   build/bench/net_bench KUBIT [--size-mb N] [--runs N]
//
// The client is the node itself (a socket of this program), as a host
// process or a hostNetwork pod reaching a Service would be.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
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

// GET http://ip:port/path; the body's size, or -1. *seconds: connect to
// the last byte.
int64_t Fetch(const std::string& ip, int port, const std::string& path, double* seconds) {
  auto start = Clock::now();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: bench\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return -1;
  }
  static std::vector<char> buf(1 << 20);
  int64_t total = 0, header_end = -1;
  std::string head;  // the bytes up to the end of the header
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) {
      close(fd);
      return -1;
    }
    if (n == 0) break;
    if (header_end < 0) {
      head.append(buf.data(), n);
      size_t e = head.find("\r\n\r\n");
      if (e != std::string::npos) {
        header_end = static_cast<int64_t>(e) + 4;
        head.resize(e);
      }
    }
    total += n;
  }
  close(fd);
  *seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (header_end < 0 || head.rfind("HTTP/1.", 0) != 0 || head.find(" 200 ") == std::string::npos) return -1;
  return total - header_end;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: net_bench KUBIT [--size-mb N] [--runs N]\n");
    return 2;
  }
  std::string kubit = argv[1];
  int size_mb = 256, runs = 7;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (f == "--size-mb") size_mb = v;
    else if (f == "--runs") runs = v;
  }
  char tmpl[] = "/var/tmp/kubit-net-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string data = dir + "/data", kubeconfig = dir + "/kubeconfig";
  int port = 20000 + getpid() % 40000;
  printf("net_bench: a %d MiB file over HTTP, %d runs each, ClusterIP against the pod's address\n", size_mb, runs);

  std::string make_image = "bash -c 'fail() { echo \"$*\" >&2; exit 1; }; . test/e2e/lib_images.sh && "
                           "make_busybox_oci_tar " + dir + "/busybox.tar busybox:net' && " + kubit +
                           " ctr --data-dir " + data + " images import " + dir + "/busybox.tar >/dev/null";
  if (system(make_image.c_str()) != 0) {
    fprintf(stderr, "net_bench: cannot make the busybox image\n");
    return 1;
  }
  pid_t server = fork();
  if (server == 0) {
    std::string log = dir + "/server.log";
    if (!freopen(log.c_str(), "w", stderr)) _exit(127);
    // Ranges of its own, so that kubits beside it keep theirs.
    execl(kubit.c_str(), kubit.c_str(), "server", "--data-dir", data.c_str(), "--bind-address", "127.0.0.1",
          "--https-listen-port", std::to_string(port).c_str(), "--write-kubeconfig", kubeconfig.c_str(),
          "--cluster-cidr", "10.236.0.0/16", "--service-cidr", "10.237.0.0/16", "--cluster-dns", "10.237.0.10",
          "--ingress-http-port", std::to_string(port + 1).c_str(), "--ingress-https-port",
          std::to_string(port + 2).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto stop = [&](int rc) {
    kill(server, SIGTERM);
    waitpid(server, nullptr, 0);
    Run(kubit + " killall --data-dir " + data + " 2>&1");
    if (rc == 0) Run("rm -rf " + dir);
    else fprintf(stderr, "net_bench: logs in %s\n", dir.c_str());
    return rc;
  };
  for (int i = 0; i < 100 && Run("grep -c 'server: ready' " + dir + "/server.log 2>/dev/null").find('1') != 0; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string k = "KUBECONFIG=" + kubeconfig + " kubectl ";
  std::string manifest =
      "apiVersion: v1\n"
      "kind: Pod\n"
      "metadata: {name: big, labels: {app: big}}\n"
      "spec:\n"
      "  containers:\n"
      "  - name: httpd\n"
      "    image: busybox:net\n"
      "    command: [sh, -c, 'mkdir -p /www && head -c " + std::to_string(size_mb) + "m /dev/zero > /www/big && "
      "touch /www/ready && exec httpd -f -p 8080 -h /www']\n"
      "    readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}\n"
      "---\n"
      "apiVersion: v1\n"
      "kind: Service\n"
      "metadata: {name: big}\n"
      "spec: {selector: {app: big}, ports: [{port: 80, targetPort: 8080}]}\n";
  FILE* m = popen((k + "apply -f - >/dev/null").c_str(), "w");
  if (!m) return stop(1);
  fwrite(manifest.data(), 1, manifest.size(), m);
  if (pclose(m) != 0) {
    fprintf(stderr, "net_bench: kubectl apply failed\n");
    return stop(1);
  }
  if (Run(k + "wait --for=condition=Ready pod/big --timeout=120s 2>&1").find("condition met") == std::string::npos) {
    fprintf(stderr, "net_bench: the httpd pod is not Ready\n");
    return stop(1);
  }
  std::string pod_ip = Run(k + "get pod big -o jsonpath='{.status.podIP}'");
  std::string vip = Run(k + "get service big -o jsonpath='{.spec.clusterIP}'");
  // The proxy programs the Service once its endpoint is ready.
  double secs = 0;
  int64_t want = int64_t(size_mb) << 20;
  for (int i = 0; i < 100 && Fetch(vip, 80, "/ready", &secs) < 0; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));

  std::vector<double> via_vip, direct;
  for (int r = 0; r < runs + 1; r++) {
    int64_t a = Fetch(vip, 80, "/big", &secs);
    double s_vip = secs;
    int64_t b = Fetch(pod_ip, 8080, "/big", &secs);
    if (a != want || b != want) {
      fprintf(stderr, "net_bench: short transfer (%lld and %lld bytes of %lld)\n", static_cast<long long>(a),
              static_cast<long long>(b), static_cast<long long>(want));
      return stop(1);
    }
    if (r == 0) continue;  // warm-up: the file into the page cache
    via_vip.push_back(size_mb / s_vip);
    direct.push_back(size_mb / secs);
  }
  double v = kubit::bench::Median(via_vip), d = kubit::bench::Median(direct);
  printf("  through ClusterIP %s:80     %8.0f MiB/s (median)\n", vip.c_str(), v);
  printf("  direct to pod %s:8080     %8.0f MiB/s (median)\n", pod_ip.c_str(), d);
  printf("  ratio ClusterIP / direct  %8.2f   (target >= 0.90)\n", v / d);
  return stop(0);
}

// kubit server: the control plane of a cluster. Today it holds the state
// (the revisioned store); the API server, scheduler and controllers are
// wired in here as they land.
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <memory>

#include "cmd/kubit/commands.h"
#include "cmd/kubit/flags.h"
#include "cmd/kubit/log.h"
#include "store/store.h"

namespace kubit::cmd {

std::string DatabasePath(const std::string& data_dir) { return data_dir + "/server/db/state.db"; }

bool MakeDirs(const std::string& path, unsigned mode, std::string* error) {
  for (size_t i = 1; i <= path.size(); i++) {
    if (i != path.size() && path[i] != '/') continue;
    std::string part = path.substr(0, i);
    if (mkdir(part.c_str(), mode) != 0 && errno != EEXIST) {
      *error = "mkdir " + part + ": " + strerror(errno);
      return false;
    }
  }
  return true;
}

namespace {

store::Options StoreOptions(const std::string& data_dir) {
  store::Options o;
  o.path = DatabasePath(data_dir);
  o.key_namespace = "/registry/";
  // Heartbeats: written in batches to spare SD cards and eMMC.
  o.volatile_prefixes = {"/registry/leases/", "/registry/events/"};
  o.default_ttls = {{"/registry/events/", 3600}};
  o.log = [](store::LogLevel level, const std::string& msg) {
    Log(static_cast<Level>(static_cast<int>(level)), "store", msg);
  };
  return o;
}

}  // namespace

int ServerCommand(const Args& args) {
  std::string data_dir = "/var/lib/kubit", log_level = "info";
  FlagSet flags("kubit server [flags]",
                "Run a kubit server: the cluster's state and control plane.");
  flags.String("data-dir", &data_dir, "Folder to hold state");
  flags.String("log-level", &log_level, "Least level to log: debug, info, warn or error");
  std::vector<std::string> pos;
  if (int rc = flags.ParseCommand(args, &pos, 0, 0); rc >= 0) return rc;
  Level level;
  if (!ParseLevel(log_level, &level)) {
    fprintf(stderr, "Error: invalid --log-level \"%s\": want debug, info, warn or error\n",
            log_level.c_str());
    return 2;
  }
  SetLogLevel(level);
  Log(Level::kInfo, "server", "starting " + VersionString());

  // Signals are taken synchronously by this thread; every other thread
  // inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::string error;
  if (!MakeDirs(data_dir + "/server/db", 0700, &error)) {
    Log(Level::kError, "server", error);
    return 1;
  }
  std::unique_ptr<store::Store> state;
  store::Status s = store::Store::Open(StoreOptions(data_dir), &state);
  if (!s.ok()) {
    Log(Level::kError, "server", "cannot open the cluster state: " + s.message());
    return 1;
  }
  Log(Level::kInfo, "server", "ready");

  int sig = 0;
  sigwait(&stop_signals, &sig);
  Log(Level::kInfo, "server", std::string("received ") + strsignal(sig) + ", shutting down");
  state->Close();
  return 0;
}

}  // namespace kubit::cmd

// The subcommands of kubit. Each takes the arguments after its name and
// returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace kubit::cmd {

using Args = std::vector<std::string>;

int ServerCommand(const Args& args);
int BackupCommand(const Args& args);
int RestoreCommand(const Args& args);
int VersionCommand(const Args& args);
// `kubit ctr`: the runtime's debugging CLI (cmd/kubit/ctr.cc); its `images`
// subcommands are in cmd/kubit/ctr_images.cc.
int CtrCommand(const Args& args);
int CtrImagesCommand(const Args& args);
// `kubit shim`: the per-container process (never run by hand).
int ShimCommand(const Args& args);
// `kubit killall`: stops every container and shim of a data dir.
int KillallCommand(const Args& args);
// `kubit agent`: joins a board to a cluster (cmd/kubit/agent.cc).
int AgentCommand(const Args& args);

std::string VersionString();
std::string ShortVersion();  // "v0.1.0"
// Where the server keeps its database under a data directory.
std::string DatabasePath(const std::string& data_dir);
// Creates a directory and its parents with the given mode; false on error.
bool MakeDirs(const std::string& path, unsigned mode, std::string* error);
// The address other nodes and pods reach this one at: that of the default
// route's interface, else any non-loopback IPv4, else loopback.
std::string PrimaryIPv4();

}  // namespace kubit::cmd

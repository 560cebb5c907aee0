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

std::string VersionString();
std::string ShortVersion();  // "v0.1.0"
// Where the server keeps its database under a data directory.
std::string DatabasePath(const std::string& data_dir);
// Creates a directory and its parents with the given mode; false on error.
bool MakeDirs(const std::string& path, unsigned mode, std::string* error);

}  // namespace kubit::cmd

// kubit backup / kubit restore: the cluster state to and from one file.
#include <cstdio>

#include "cmd/kubit/commands.h"
#include "cmd/kubit/flags.h"
#include "cmd/kubit/log.h"
#include "store/store.h"

namespace kubit::cmd {

int BackupCommand(const Args& args) {
  std::string data_dir = "/var/lib/kubit";
  FlagSet flags("kubit backup [flags] FILE",
                "Copy the cluster state into FILE, a new file. Safe while kubit runs: it uses\n"
                "SQLite's online backup, so writers are not stopped.");
  flags.String("data-dir", &data_dir, "Folder that holds kubit's state");
  std::vector<std::string> pos;
  if (int rc = flags.ParseCommand(args, &pos, 1, 1); rc >= 0) return rc;
  std::string db = DatabasePath(data_dir);
  Log(Level::kInfo, "backup", "copying " + db + " to " + pos[0]);
  store::Status s = store::Backup(db, pos[0]);
  if (!s.ok()) {
    Log(Level::kError, "backup", s.message());
    return 1;
  }
  Log(Level::kInfo, "backup", "wrote " + pos[0]);
  return 0;
}

int RestoreCommand(const Args& args) {
  std::string data_dir = "/var/lib/kubit";
  FlagSet flags("kubit restore [flags] FILE",
                "Replace the cluster state with the backup FILE. kubit must be stopped: this\n"
                "refuses while a kubit server holds the state.");
  flags.String("data-dir", &data_dir, "Folder that holds kubit's state");
  std::vector<std::string> pos;
  if (int rc = flags.ParseCommand(args, &pos, 1, 1); rc >= 0) return rc;
  std::string db = DatabasePath(data_dir);
  std::string error;
  if (!MakeDirs(db.substr(0, db.rfind('/')), 0700, &error)) {
    Log(Level::kError, "restore", error);
    return 1;
  }
  store::Status s = store::Restore(db, pos[0]);
  if (!s.ok()) {
    Log(Level::kError, "restore", s.message());
    return 1;
  }
  Log(Level::kInfo, "restore", "restored " + db + " from " + pos[0]);
  return 0;
}

}  // namespace kubit::cmd

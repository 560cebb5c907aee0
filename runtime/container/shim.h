// The shim: the process that stays beside one container for its whole life
// (`kubit shim <id> ...`, exec'd by the launcher, launcher.h). It
//   - is the container's parent (and a child subreaper) and reaps it;
//   - holds the container's stdout/stderr pipes or its pty master, and
//     writes what comes out in the CRI format (cri_log.h), copying it to the
//     caller's terminal for a foreground run;
//   - answers on agent/containers/<id>/shim.sock, one line per request:
//       "kill <signal>"        -> "ok" (signals the container's first process)
//       "resize <rows> <cols>" -> "ok" (the pty's window size)
//       "wait"                 -> no answer; the connection closes when the
//                                 shim has recorded the exit and leaves
//       "attach"               -> "ok"; the connection then carries
//                                 the container's output as it comes, each
//                                 chunk as [stream 1|2][32-bit length][bytes],
//                                 and what the client writes goes to the
//                                 container's stdin (pty or --stdin pipe);
//                                 the client's half-close ends its input
//                                 ("attach stdinonce": and closes the
//                                 container's stdin pipe). A
//                                 client that cannot keep up is dropped,
//                                 never waited for;
//     going through the shim, kill can never hit a reused pid: the shim has
//     not reaped the process while it answers;
//   - records the exit (code, signal, OOM kill from the cgroup, times) in
//     the state file, then exits.
// It must stay small (RSS well under 1.5 MiB): no allocation in its loop,
// and it gives back the pages of the binary that start-up touched.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kubit::runtime::container {

struct ShimConfig {
  std::string id, dir, log_path, oom_file;
  pid_t pid = 0;
  int out_fd = -1, err_fd = -1, pty_fd = -1;  // from the container
  int in_fd = -1;                             // the caller's stdin, copied to the pty
  int stdin_fd = -1;                          // write end of the container's stdin pipe
  int tee_out = -1, tee_err = -1;             // the caller's stdout/stderr
  int done_fd = -1;                           // held until exit
  int64_t log_max_bytes = 10 << 20;
  int log_max_files = 5;
};

// The arguments after `kubit shim`: "<id> --dir D --pid N [--out FD] ...".
bool ParseShimArgs(const std::vector<std::string>& args, ShimConfig* out, std::string* error);

// Runs the shim to the end; returns the process exit code (0 once the
// container's exit is recorded).
int RunShim(const ShimConfig& config);

}  // namespace kubit::runtime::container

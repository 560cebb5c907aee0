// Talking to a container's shim over agent/containers/<id>/shim.sock (the
// protocol is in shim.h). The socket is reached as
// /proc/self/fd/<dir fd>/shim.sock, so the path length limit of unix
// sockets (108 bytes) never bites, however deep the data dir.
#pragma once

#include <string>

namespace kubit::runtime::container {

// Sends one request line and reads the one-line answer; false with *error
// when the shim is not there or answers "error ...".
bool ShimRequest(const std::string& container_dir, const std::string& request,
                 std::string* error);

// Connects and sends "attach": the returned socket then carries the
// container's output framed as shim.h says, and takes its stdin; with
// stdin_once, the end of that input closes the container's stdin. -1 with
// *error when the shim is not there.
int ShimAttach(const std::string& container_dir, bool stdin_once, std::string* error);

// Waits until the shim has recorded the container's exit and gone, at most
// timeout_ms (negative: no limit). *exited false on timeout. A shim that is
// not there counts as exited.
bool ShimWait(const std::string& container_dir, int timeout_ms, bool* exited, std::string* error);

}  // namespace kubit::runtime::container

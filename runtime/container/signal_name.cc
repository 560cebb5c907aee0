#include "runtime/container/signal_name.h"

#include <signal.h>
#include <strings.h>

#include <cstdlib>

namespace kubit::runtime::container {
namespace {

struct Named {
  const char* name;
  int number;
};
constexpr Named kSignals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
    {"FPE", SIGFPE},     {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},
    {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH}, {"IO", SIGIO},         {"POLL", SIGPOLL},   {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

}  // namespace

int ParseSignal(const std::string& text) {
  if (text.empty()) return -1;
  if (text[0] >= '0' && text[0] <= '9') {
    char* end;
    long n = strtol(text.c_str(), &end, 10);
    return *end == 0 && n >= 1 && n < NSIG ? static_cast<int>(n) : -1;
  }
  std::string name = text;
  if (name.size() > 3 && strncasecmp(name.c_str(), "SIG", 3) == 0) name = name.substr(3);
  for (const auto& s : kSignals)
    if (strcasecmp(name.c_str(), s.name) == 0) return s.number;
  return -1;
}

}  // namespace kubit::runtime::container

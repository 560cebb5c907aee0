// FlagSet: the flags of one subcommand, each with its help text. Accepts
// --name value, --name=value, and for booleans --name / --name=false.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kubit::cmd {

class FlagSet {
 public:
  FlagSet(std::string usage, std::string summary) : usage_(std::move(usage)), summary_(std::move(summary)) {}

  void String(const char* name, std::string* target, const char* help);
  void Int(const char* name, int64_t* target, const char* help);
  void Bool(const char* name, bool* target, const char* help);
  void StringList(const char* name, std::vector<std::string>* target, const char* help);

  // Parses args (after the subcommand). False with *error set on a bad flag.
  // Sets help_requested() for -h / --help.
  bool Parse(const std::vector<std::string>& args, std::vector<std::string>* positional,
             std::string* error);
  bool help_requested() const { return help_; }
  // Parse for a subcommand: prints the help or the error itself. Returns -1
  // to go on, else the exit code. Checks the number of positional arguments.
  int ParseCommand(const std::vector<std::string>& args, std::vector<std::string>* positional,
                   size_t min_positional, size_t max_positional);
  std::string Help() const;

 private:
  enum class Type { kString, kInt, kBool, kList };
  struct Flag {
    std::string name;
    Type type;
    void* target;
    std::string help;
    std::string default_text;
  };
  Flag* Find(const std::string& name);
  void Add(const char* name, Type type, void* target, const char* help, std::string def);
  std::string usage_, summary_;
  std::vector<Flag> flags_;
  bool help_ = false;
};

}  // namespace kubit::cmd

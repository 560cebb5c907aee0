#include "cmd/kubit/flags.h"

#include <cstdio>
#include <cstdlib>

namespace kubit::cmd {

void FlagSet::Add(const char* name, Type type, void* target, const char* help, std::string def) {
  flags_.push_back({name, type, target, help, std::move(def)});
}

void FlagSet::String(const char* name, std::string* t, const char* help) {
  Add(name, Type::kString, t, help, t->empty() ? "" : "\"" + *t + "\"");
}
void FlagSet::Int(const char* name, int64_t* t, const char* help) {
  Add(name, Type::kInt, t, help, std::to_string(*t));
}
void FlagSet::Bool(const char* name, bool* t, const char* help) {
  Add(name, Type::kBool, t, help, *t ? "true" : "");
}
void FlagSet::StringList(const char* name, std::vector<std::string>* t, const char* help) {
  Add(name, Type::kList, t, help, "");
}

FlagSet::Flag* FlagSet::Find(const std::string& name) {
  for (auto& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

bool FlagSet::Parse(const std::vector<std::string>& args, std::vector<std::string>* positional,
                    std::string* error) {
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      help_ = true;
      return true;
    }
    if (a == "--") {
      positional->insert(positional->end(), args.begin() + i + 1, args.end());
      return true;
    }
    if (a.size() < 2 || a[0] != '-') {
      positional->push_back(a);
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1), value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    Flag* f = Find(name);
    if (!f) {
      *error = "unknown flag: --" + name;
      return false;
    }
    if (f->type == Type::kBool) {
      if (has_value && value != "true" && value != "false") {
        *error = "invalid value \"" + value + "\" for --" + name + ": want true or false";
        return false;
      }
      *static_cast<bool*>(f->target) = !has_value || value == "true";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        *error = "flag needs a value: --" + name;
        return false;
      }
      value = args[++i];
    }
    switch (f->type) {
      case Type::kString:
        *static_cast<std::string*>(f->target) = value;
        break;
      case Type::kList:
        static_cast<std::vector<std::string>*>(f->target)->push_back(value);
        break;
      case Type::kInt: {
        char* end = nullptr;
        long long v = std::strtoll(value.c_str(), &end, 0);
        if (value.empty() || *end) {
          *error = "invalid value \"" + value + "\" for --" + name + ": want an integer";
          return false;
        }
        *static_cast<int64_t*>(f->target) = v;
        break;
      }
      case Type::kBool:
        break;
    }
  }
  return true;
}

int FlagSet::ParseCommand(const std::vector<std::string>& args,
                          std::vector<std::string>* positional, size_t min_positional,
                          size_t max_positional) {
  std::string error;
  if (Parse(args, positional, &error) && !help_ &&
      (positional->size() < min_positional || positional->size() > max_positional))
    error = "wrong number of arguments";
  if (!error.empty()) {
    fprintf(stderr, "Error: %s\n\nUsage:\n  %s\n\nRun with --help for the flags.\n",
            error.c_str(), usage_.c_str());
    return 2;
  }
  if (help_) {
    fputs(Help().c_str(), stdout);
    return 0;
  }
  return -1;
}

std::string FlagSet::Help() const {
  std::string out = summary_ + "\n\nUsage:\n  " + usage_ + "\n\nFlags:\n";
  for (const auto& f : flags_) {
    std::string left = "  --" + f.name;
    if (f.type == Type::kString || f.type == Type::kList) left += " string";
    if (f.type == Type::kInt) left += " int";
    if (left.size() < 32) left.resize(32, ' ');
    else left += "\n" + std::string(32, ' ');
    out += left + f.help;
    if (!f.default_text.empty()) out += " (default " + f.default_text + ")";
    if (f.type == Type::kList) out += " (repeatable)";
    out += "\n";
  }
  out += "  -h, --help                    help for this command\n";
  return out;
}

}  // namespace kubit::cmd

#include "core/api/selectors.h"

#include <nlohmann/json.hpp>

namespace kubit::api {
namespace {

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(' '), b = s.find_last_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> SplitTerms(const std::string& text) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : text) {
    if (c == '(') depth++;
    if (c == ')') depth--;
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(Trim(cur));
  return out;
}

bool ValidKey(const std::string& k) {
  if (k.empty()) return false;
  for (char c : k)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/'))
      return false;
  return true;
}

}  // namespace

bool LabelSelector::FromJson(const nlohmann::json& sel, LabelSelector* out, std::string* error) {
  out->reqs_.clear();
  if (sel.is_null()) return true;
  if (!sel.is_object()) {
    *error = "a label selector must be an object";
    return false;
  }
  if (sel.contains("matchLabels") && sel["matchLabels"].is_object())
    for (const auto& [k, v] : sel["matchLabels"].items()) {
      if (!v.is_string()) {
        *error = "matchLabels values must be strings";
        return false;
      }
      out->reqs_.push_back({k, Requirement::Op::kEquals, {v.get<std::string>()}});
    }
  if (sel.contains("matchExpressions") && sel["matchExpressions"].is_array())
    for (const auto& e : sel["matchExpressions"]) {
      if (!e.is_object()) continue;
      Requirement r;
      r.key = e.value("key", "");
      std::string op = e.value("operator", "");
      if (op == "In") r.op = Requirement::Op::kIn;
      else if (op == "NotIn") r.op = Requirement::Op::kNotIn;
      else if (op == "Exists") r.op = Requirement::Op::kExists;
      else if (op == "DoesNotExist") r.op = Requirement::Op::kDoesNotExist;
      else {
        *error = "\"" + op + "\" is not a valid label selector operator";
        return false;
      }
      if (e.contains("values") && e["values"].is_array())
        for (const auto& v : e["values"])
          if (v.is_string()) r.values.push_back(v.get<std::string>());
      out->reqs_.push_back(std::move(r));
    }
  return true;
}

bool LabelSelector::Parse(const std::string& text, LabelSelector* out, std::string* error) {
  out->reqs_.clear();
  if (Trim(text).empty()) return true;
  for (const std::string& term : SplitTerms(text)) {
    Requirement r;
    if (term.empty()) {
      *error = "found '', expected: !, identifier, or 'end of string'";
      return false;
    }
    size_t sp = term.find(' ');
    std::string rest = sp == std::string::npos ? "" : Trim(term.substr(sp));
    if ((rest.rfind("in ", 0) == 0 || rest.rfind("in(", 0) == 0 || rest.rfind("notin", 0) == 0)) {
      r.key = term.substr(0, sp);
      bool notin = rest.rfind("notin", 0) == 0;
      r.op = notin ? Requirement::Op::kNotIn : Requirement::Op::kIn;
      std::string list = Trim(rest.substr(notin ? 5 : 2));
      if (list.size() < 2 || list.front() != '(' || list.back() != ')') {
        *error = "found '" + list + "', expected: '('";
        return false;
      }
      list = list.substr(1, list.size() - 2);
      size_t p = 0;
      while (p <= list.size()) {
        size_t c = list.find(',', p);
        std::string v = Trim(list.substr(p, c == std::string::npos ? std::string::npos : c - p));
        r.values.push_back(v);
        if (c == std::string::npos) break;
        p = c + 1;
      }
    } else if (term[0] == '!') {
      r.key = Trim(term.substr(1));
      r.op = Requirement::Op::kDoesNotExist;
    } else if (size_t ne = term.find("!="); ne != std::string::npos) {
      r.key = Trim(term.substr(0, ne));
      r.op = Requirement::Op::kNotEquals;
      r.values = {Trim(term.substr(ne + 2))};
    } else if (size_t eq = term.find('='); eq != std::string::npos) {
      r.key = Trim(term.substr(0, eq));
      r.op = Requirement::Op::kEquals;
      size_t skip = term.compare(eq, 2, "==") == 0 ? 2 : 1;
      r.values = {Trim(term.substr(eq + skip))};
    } else {
      r.key = term;
      r.op = Requirement::Op::kExists;
    }
    if (!ValidKey(r.key)) {
      *error = "unable to parse requirement: invalid label key \"" + r.key + "\"";
      return false;
    }
    out->reqs_.push_back(std::move(r));
  }
  return true;
}

bool LabelSelector::Matches(const nlohmann::json& labels) const {
  for (const auto& r : reqs_) {
    bool has = labels.is_object() && labels.contains(r.key) && labels[r.key].is_string();
    std::string v = has ? labels[r.key].get<std::string>() : "";
    bool in = false;
    for (const auto& x : r.values) in |= has && x == v;
    switch (r.op) {
      case Requirement::Op::kEquals:
      case Requirement::Op::kIn:
        if (!in) return false;
        break;
      case Requirement::Op::kNotEquals:
      case Requirement::Op::kNotIn:
        if (in) return false;
        break;
      case Requirement::Op::kExists:
        if (!has) return false;
        break;
      case Requirement::Op::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

bool FieldSelector::Parse(const std::string& text, FieldSelector* out, std::string* error) {
  out->reqs_.clear();
  if (Trim(text).empty()) return true;
  for (const std::string& term : SplitTerms(text)) {
    Requirement r;
    size_t ne = term.find("!="), eq = term.find('=');
    if (ne != std::string::npos) {
      r.key = Trim(term.substr(0, ne));
      r.op = Requirement::Op::kNotEquals;
      r.values = {Trim(term.substr(ne + 2))};
    } else if (eq != std::string::npos) {
      r.key = Trim(term.substr(0, eq));
      size_t skip = term.compare(eq, 2, "==") == 0 ? 2 : 1;
      r.values = {Trim(term.substr(eq + skip))};
    } else {
      *error = "invalid selector: '" + term + "'; can't understand '" + term + "'";
      return false;
    }
    if (r.key.empty()) {
      *error = "invalid selector: '" + term + "'";
      return false;
    }
    out->reqs_.push_back(std::move(r));
  }
  return true;
}

bool FieldSelector::Matches(const nlohmann::json& object) const {
  for (const auto& r : reqs_) {
    const nlohmann::json* cur = &object;
    size_t p = 0;
    while (cur && p <= r.key.size()) {
      size_t dot = r.key.find('.', p);
      std::string part = r.key.substr(p, dot == std::string::npos ? std::string::npos : dot - p);
      cur = cur->is_object() && cur->contains(part) ? &(*cur)[part] : nullptr;
      if (dot == std::string::npos) break;
      p = dot + 1;
    }
    std::string v;
    if (cur && cur->is_string()) v = cur->get<std::string>();
    else if (cur && (cur->is_number() || cur->is_boolean())) v = cur->dump();
    bool eq = v == r.values[0];
    if ((r.op == Requirement::Op::kEquals) != eq) return false;
  }
  return true;
}

bool FieldSelector::Exact(const std::string& field, std::string* value) const {
  for (const auto& r : reqs_)
    if (r.key == field && r.op == Requirement::Op::kEquals) {
      *value = r.values[0];
      return true;
    }
  return false;
}

}  // namespace kubit::api

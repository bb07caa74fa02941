#include "elastic/settings.h"

#include <fstream>
#include <sstream>

namespace elastic::sync {
namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool valid_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::string join(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

}  // namespace

Result<Settings> Settings::parse(const std::string& text, const std::string& origin) {
  Settings s;
  s.origin_ = origin;
  std::vector<std::string> path;
  std::istringstream in(text);
  std::string raw;
  for (int n = 1; std::getline(in, raw); ++n) {
    auto where = [&] { return origin + ":" + std::to_string(n) + ": "; };
    std::string line = trim(raw.substr(0, raw.find('#')));
    // "a { b = c }" on one line is split into its pieces
    while (!line.empty()) {
      if (line[0] == '}') {
        if (path.empty()) return make_error(where() + "'}' without an open section");
        path.pop_back();
        line = trim(line.substr(1));
        continue;
      }
      auto brace = line.find('{');
      auto eq = line.find('=');
      if (brace != std::string::npos && (eq == std::string::npos || brace < eq)) {
        std::string name = trim(line.substr(0, brace));
        if (!valid_name(name)) return make_error(where() + "bad section name '" + name + "'");
        s.sections_[join(path)].push_back(name);
        path.push_back(name);
        s.lines_.emplace(join(path), n);  // a section's first opening
        line = trim(line.substr(brace + 1));
        continue;
      }
      if (eq == std::string::npos) return make_error(where() + "expected 'key = value', 'name {' or '}'");
      std::string key = trim(line.substr(0, eq));
      std::string value = trim(line.substr(eq + 1));
      auto close = value.find('}');
      std::string after;
      if (close != std::string::npos) {
        after = value.substr(close);
        value = trim(value.substr(0, close));
      }
      if (!valid_name(key)) return make_error(where() + "bad key '" + key + "'");
      path.push_back(key);
      s.values_[join(path)] = value;
      s.lines_[join(path)] = n;
      path.pop_back();
      line = after;
    }
  }
  if (!path.empty()) return make_error(origin + ": section '" + join(path) + "' is not closed");
  return s;
}

Result<Settings> Settings::load(const std::string& path) {
  std::ifstream f(path);
  if (!f) return make_error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse(ss.str(), path);
}

std::string Settings::get(const std::string& key, const std::string& def) const {
  auto it = values_.find(key);
  return it == values_.end() ? def : it->second;
}

std::vector<std::string> Settings::sections(const std::string& prefix) const {
  auto it = sections_.find(prefix);
  return it == sections_.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> Settings::keys(const std::string& prefix) const {
  std::vector<std::string> out;
  const std::string p = prefix + ".";
  for (auto it = values_.lower_bound(p); it != values_.end() && it->first.compare(0, p.size(), p) == 0; ++it)
    if (it->first.find('.', p.size()) == std::string::npos) out.push_back(it->first.substr(p.size()));
  return out;
}

int Settings::line_of(const std::string& key) const {
  auto it = lines_.find(key);
  return it == lines_.end() ? 0 : it->second;
}

}  // namespace elastic::sync

#include "elastic/settings.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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
        if (!s.lines_.emplace(join(path), n).second) s.reopened_.emplace(join(path), n);  // first opening kept
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
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("cannot read " + path + ": " + std::strerror(errno), errno);
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return make_error("cannot read " + path + ": " + std::strerror(err), err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (1u << 24)) {
      ::close(fd);
      return make_error("cannot read " + path + ": larger than 16 MiB");
    }
  }
  ::close(fd);
  return parse(text, path);
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

int Settings::reopened_at(const std::string& section) const {
  auto it = reopened_.find(section);
  return it == reopened_.end() ? 0 : it->second;
}

Error Settings::error_at(int line, const std::string& key, const std::string& what) const {
  return make_error(origin_ + ":" + std::to_string(line) + ": " + key + ": " + what);
}

Error Settings::error(const std::string& key, const std::string& what) const {
  int line = 0;
  for (std::string k = key; !k.empty() && !line;) {
    line = line_of(k);
    auto dot = k.rfind('.');
    k = dot == std::string::npos ? "" : k.substr(0, dot);
  }
  return error_at(line, key, what);
}

Result<void> Settings::check_keys(const std::string& section, const std::set<std::string>& known_keys,
                                  const std::set<std::string>& known_sections) const {
  for (const auto& k : keys(section))
    if (!known_keys.count(k)) return error(section + "." + k, "unknown key");
  for (const auto& sub : sections(section))
    if (!known_sections.count(sub)) return error(section + "." + sub, "unknown section");
  return {};
}

}  // namespace elastic::sync

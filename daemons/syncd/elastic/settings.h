// A reader for strongswan.conf syntax (sections, key = value, comments), so that operators use
// one format for charon, the plugin and the daemons. Keys come out flattened: "a.b.c".
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "elastic/result.h"

namespace elastic::sync {

class Settings {
 public:
  static Result<Settings> parse(const std::string& text, const std::string& origin = "config");
  // An unreadable file is an error with the errno text ("cannot read F: Permission denied").
  static Result<Settings> load(const std::string& path);

  std::string get(const std::string& key, const std::string& def = "") const;
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  // Names of the subsections of a section (e.g. the members of "elastic.cluster.members"), in
  // the order they were opened; a section opened twice is listed twice.
  std::vector<std::string> sections(const std::string& prefix) const;
  // The keys (not subsections) directly inside a section, e.g. "port" for "elastic.heartbeat".
  std::vector<std::string> keys(const std::string& prefix) const;
  // The line where a key or section was (last) written, 0 if it is not set; and the file name.
  int line_of(const std::string& key) const;
  // The line where a section was opened a second time, 0 if it was opened once.
  int reopened_at(const std::string& section) const;
  const std::string& origin() const { return origin_; }

  // "FILE:LINE: key: what". A key that is not set is reported at its closest enclosing section.
  Error error(const std::string& key, const std::string& what) const;
  Error error_at(int line, const std::string& key, const std::string& what) const;
  // Every key directly inside `section` must be one of `known_keys` and every subsection one of
  // `known_sections` (empty set: none allowed); the first other one is an error naming it.
  Result<void> check_keys(const std::string& section, const std::set<std::string>& known_keys,
                          const std::set<std::string>& known_sections) const;

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> sections_;
  std::map<std::string, int> lines_, reopened_;
  std::string origin_;
};

}  // namespace elastic::sync

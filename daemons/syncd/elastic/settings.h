// A reader for strongswan.conf syntax (sections, key = value, comments), so that operators use
// one format for charon, the plugin and the daemons. Keys come out flattened: "a.b.c".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "elastic/result.h"

namespace elastic::sync {

class Settings {
 public:
  static Result<Settings> parse(const std::string& text, const std::string& origin = "config");
  static Result<Settings> load(const std::string& path);

  std::string get(const std::string& key, const std::string& def = "") const;
  // Names of the subsections of a section (e.g. the members of "elastic.cluster.members").
  std::vector<std::string> sections(const std::string& prefix) const;
  // The keys (not subsections) directly inside a section, e.g. "port" for "elastic.heartbeat".
  std::vector<std::string> keys(const std::string& prefix) const;
  // The line where a key or section was (last) written, 0 if it is not set; and the file name.
  int line_of(const std::string& key) const;
  const std::string& origin() const { return origin_; }

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> sections_;
  std::map<std::string, int> lines_;
  std::string origin_;
};

}  // namespace elastic::sync

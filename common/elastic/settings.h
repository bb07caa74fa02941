// A reader for strongswan.conf syntax, so that operators use one format for charon, the plugin
// and the daemons. It follows the grammar of strongSwan 5.9.8's own lexer and parser
// (libstrongswan/settings/settings_lexer.l, settings_parser.y; see docs/syncd.md):
//   - `# comment` to the end of the line;
//   - sections `name { ... }`, several statements and braces on one line;
//   - `key = value`: the value runs to the end of the line, a `#` or a `}`; its words are joined by
//     one space; "quoted" parts keep their spaces, may span lines and know \n \r \t \<newline>
//     and \X (= X); `key =` with nothing after it clears the key (strongSwan: back to the default);
//   - `include PATTERN`: a glob, relative to the directory of the file that contains it, its
//     matches read in sorted order in place of the statement (textually, inside the current
//     section); a pattern that matches nothing includes nothing, as in strongSwan.
// Refused with an error naming the feature: section references (`name : other { }`, a
// swanctl.conf feature), `:=` (not strongSwan syntax), include cycles, includes nested deeper than
// max_include_depth, files larger than max_file_bytes. Keys come out flattened: "a.b.c", each
// with the file and line it was written at.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "elastic/result.h"

namespace elastic::sync {

class Settings {
 public:
  struct Limits {
    size_t max_file_bytes = 1u << 20;    // per file (1 MiB)
    size_t max_total_bytes = 16u << 20;  // over the top file and all its includes
    size_t max_files = 256;              // files read, the top one included
    int max_include_depth = 10;          // files open at once through nested includes
    int max_section_depth = 32;          // nested sections
    bool includes = true;                // false: an include statement is an error (fuzzing)
  };
  // Where a key or section was written.
  struct Where {
    std::string file;
    int line = 0;
  };

  // `origin` names the text in messages; relative includes are resolved against its directory.
  static Result<Settings> parse(const std::string& text, const std::string& origin = "config");
  static Result<Settings> parse(const std::string& text, const std::string& origin, const Limits& limits);
  // An unreadable file is an error with the errno text ("cannot read F: Permission denied").
  static Result<Settings> load(const std::string& path);
  static Result<Settings> load(const std::string& path, const Limits& limits);

  std::string get(const std::string& key, const std::string& def = "") const;
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  // Names of the subsections of a section (e.g. the members of "elastic.cluster.members"), in
  // the order they were opened; a section opened twice is listed twice.
  std::vector<std::string> sections(const std::string& prefix) const;
  // The keys (not subsections) directly inside a section, e.g. "port" for "elastic.heartbeat",
  // including keys cleared with `key =` (they were written, so they are checked).
  std::vector<std::string> keys(const std::string& prefix) const;
  // Where a key was (last) written or a section first opened; {"", 0} if neither.
  Where where(const std::string& key) const;
  int line_of(const std::string& key) const { return where(key).line; }
  // Where a section was opened a second time; line 0 if it was opened once.
  Where reopened(const std::string& section) const;
  int reopened_at(const std::string& section) const { return reopened(section).line; }
  // The top file (or the origin given to parse), and every file read, in the order read.
  const std::string& origin() const { return origin_; }
  const std::vector<std::string>& files() const { return files_; }
  // Notes worth logging that are not errors (an include pattern that matched no file).
  const std::vector<std::string>& warnings() const { return warnings_; }

  // "FILE:LINE: key: what", FILE being the file the key was written in (an included file for a
  // key that came from one). A key that is not set is reported at its closest enclosing section.
  Error error(const std::string& key, const std::string& what) const;
  Error error_at(const Where& where, const std::string& key, const std::string& what) const;
  // Every key directly inside `section` must be one of `known_keys` and every subsection one of
  // `known_sections` (empty set: none allowed); the first other one is an error naming it.
  Result<void> check_keys(const std::string& section, const std::set<std::string>& known_keys,
                          const std::set<std::string>& known_sections) const;

 private:
  friend class SettingsParser;
  struct Pos {
    int file = -1;
    int line = 0;
  };
  Where expand(const Pos& p) const;

  std::map<std::string, std::string> values_;
  std::set<std::string> cleared_;  // written as `key =`: not set, but listed by keys()
  std::map<std::string, std::vector<std::string>> sections_;
  std::map<std::string, Pos> key_pos_, section_pos_, reopened_;
  std::vector<std::string> files_, warnings_;
  std::string origin_;
};

}  // namespace elastic::sync

// strongswan.conf grammar as strongSwan 5.9.8's flex lexer (settings_lexer.l) and bison grammar
// (settings_parser.y) define it, re-implemented here so the daemons need no libstrongswan (see
// docs/syncd.md). The lexer below follows the flex one state by state (INITIAL, val, inc, str),
// including its include semantics: an include is resolved by the lexer, so the included text is
// parsed in the section that contains the include statement, and the parser sees one token stream.
#include "elastic/settings.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace elastic::sync {
namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

std::string dirname_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string mib(size_t bytes) {
  return bytes % (1u << 20) == 0 ? std::to_string(bytes >> 20) + " MiB" : std::to_string(bytes) + " bytes";
}

// Characters of a section or key name: the lexer's NAME class [^#{}:.,="\r\n\t ].
bool name_char(char c) {
  return !std::strchr("#{}:.,=\"\r\n\t ", c) || c == '\0';
}

// A value word in the val state: [^#}"\r\n\t ].
bool value_char(char c) {
  return !std::strchr("#}\"\r\n\t ", c) || c == '\0';
}

struct Token {
  enum Kind { Eof, Name, String, LBrace, RBrace, Dot, Comma, Colon, Eq, Newline, Quote, Unterminated, Failed };
  Kind kind = Eof;
  std::string text;
  int file = -1;
  int line = 0;
};

std::string describe(const Token& t) {
  switch (t.kind) {
    case Token::Eof:
      return "the end of the input";
    case Token::Name:
      return "'" + t.text + "'";
    case Token::LBrace:
      return "'{'";
    case Token::RBrace:
      return "'}'";
    case Token::Dot:
      return "'.'";
    case Token::Comma:
      return "','";
    case Token::Colon:
      return "':'";
    case Token::Eq:
      return "'='";
    case Token::Quote:
      return "'\"'";
    default:
      return "'" + t.text + "'";
  }
}

}  // namespace

class SettingsParser {
 public:
  SettingsParser(Settings& s, const Settings::Limits& limits) : s_(s), limits_(limits) {}

  Result<void> open_text(const std::string& text, const std::string& origin) {
    if (text.size() > limits_.max_file_bytes)
      return make_error("cannot read " + origin + ": larger than " + mib(limits_.max_file_bytes));
    total_ = text.size();
    Source src;
    src.file = add_file(origin);
    src.text = text;
    stack_.push_back(std::move(src));
    return {};
  }

  Result<void> open_top(const std::string& path) {
    auto pushed = open_file(path, nullptr, {});
    if (!pushed) return pushed.error();
    if (!*pushed) return make_error("cannot read " + path + ": not a regular file");
    return {};
  }

  Result<void> run();

 private:
  struct Source {
    int file = -1;
    std::string text;
    size_t pos = 0;
    int line = 1;
    bool identified = false;
    dev_t dev = 0;
    ino_t ino = 0;
    // The include statement that opened this file and the rest of its matches, read after it.
    std::vector<std::string> queue;
    std::string pattern;
    int site_file = -1, site_line = 0;
  };
  struct Site {
    int file, line;
    std::string pattern;
  };

  int add_file(const std::string& name) {
    s_.files_.push_back(name);
    return static_cast<int>(s_.files_.size()) - 1;
  }
  std::string file_name(int file) const { return file < 0 ? s_.origin_ : s_.files_[static_cast<size_t>(file)]; }
  std::string at(int file, int line) const { return file_name(file) + ":" + std::to_string(line) + ": "; }
  Error site_error(const Site& site, const std::string& what) const {
    return make_error(at(site.file, site.line) + "include " + site.pattern + ": " + what);
  }

  // Opens and reads a file and pushes it on the stack. False (and a warning) for a file that is
  // not a regular file: strongSwan skips those among an include's matches.
  Result<bool> open_file(const std::string& name, const Site* site, std::vector<std::string> queue);
  Result<void> include(const std::string& pattern, int file, int line);
  // At the end of the top file: pop it and open the next match of its include, if any.
  Result<void> pop();

  Token make(Token::Kind kind, const Source& src, std::string text = {}) const {
    return Token{kind, std::move(text), src.file, src.line};
  }
  Token failed(Error e) {
    error_ = std::move(e);
    return Token{Token::Failed, {}, -1, 0};
  }
  // The INITIAL state (with ref reduced to what is needed to name the refused features).
  Token next();
  // The val state: value words and strings up to a NEWLINE token.
  Token next_value();
  // The str state, after the opening quote: appends to `out`; false if unterminated.
  bool lex_string(Source& src, std::string& out);
  // The inc state at src.pos: the pattern up to a blank, '#', '}', a newline or a closing quote.
  Token lex_include(Source& src, int line);

  Settings& s_;
  const Settings::Limits& limits_;
  std::vector<Source> stack_;
  size_t total_ = 0;
  Error error_;
  int last_file_ = 0, last_line_ = 1;
};

Result<bool> SettingsParser::open_file(const std::string& name, const Site* site, std::vector<std::string> queue) {
  auto fail = [&](const std::string& what) { return site ? site_error(*site, what) : make_error(what); };
  if (site && static_cast<int>(stack_.size()) >= limits_.max_include_depth)
    return fail("includes nested deeper than " + std::to_string(limits_.max_include_depth) + " files");
  if (s_.files_.size() >= limits_.max_files)
    return fail("more than " + std::to_string(limits_.max_files) + " files read (" + name + ")");
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    return Error{fail("cannot read " + name + ": " + std::strerror(err)).message, err};
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    if (site)
      s_.warnings_.push_back(at(site->file, site->line) + "include " + site->pattern + ": " + name +
                             " is not a regular file: skipped (as strongSwan does)");
    return false;
  }
  for (const auto& open : stack_)
    if (open.identified && open.dev == st.st_dev && open.ino == st.st_ino) {
      ::close(fd);
      std::string chain;
      for (const auto& o : stack_) chain += file_name(o.file) + " -> ";
      return fail("include cycle: " + chain + name);
    }
  if (static_cast<size_t>(st.st_size) > limits_.max_file_bytes) {
    ::close(fd);
    return fail("cannot read " + name + ": larger than " + mib(limits_.max_file_bytes));
  }
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Error{fail("cannot read " + name + ": " + std::strerror(err)).message, err};
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > limits_.max_file_bytes) {  // grew while read
      ::close(fd);
      return fail("cannot read " + name + ": larger than " + mib(limits_.max_file_bytes));
    }
  }
  ::close(fd);
  total_ += text.size();
  if (total_ > limits_.max_total_bytes)
    return fail("the configuration and its includes exceed " + mib(limits_.max_total_bytes));
  Source src;
  src.file = add_file(name);
  src.text = std::move(text);
  src.identified = true;
  src.dev = st.st_dev;
  src.ino = st.st_ino;
  src.queue = std::move(queue);
  if (site) {
    src.pattern = site->pattern;
    src.site_file = site->file;
    src.site_line = site->line;
  }
  stack_.push_back(std::move(src));
  return true;
}

Result<void> SettingsParser::include(const std::string& pattern, int file, int line) {
  const Site site{file, line, pattern};
  if (!limits_.includes) return site_error(site, "includes are not allowed here");
  if (pattern.empty()) {  // strongSwan: "no include pattern specified, ignored"
    s_.warnings_.push_back(at(file, line) + "include without a pattern: ignored (as strongSwan does)");
    return {};
  }
  const std::string full = pattern[0] == '/' ? pattern : dirname_of(file_name(file)) + "/" + pattern;
  glob_t g{};
  const int rc = ::glob(full.c_str(), GLOB_ERR, nullptr, &g);  // sorted, as strongSwan's
  if (rc == GLOB_NOMATCH) {
    ::globfree(&g);
    s_.warnings_.push_back(at(file, line) + "include " + pattern + ": no file matches " + full +
                           " (nothing included, as strongSwan does)");
    return {};
  }
  if (rc != 0) {
    const int err = errno;
    ::globfree(&g);
    return site_error(site, "cannot expand " + full + ": " +
                                (rc == GLOB_NOSPACE ? std::string("out of memory") : std::strerror(err)));
  }
  std::vector<std::string> matches(g.gl_pathv, g.gl_pathv + g.gl_pathc);
  ::globfree(&g);
  while (!matches.empty()) {
    std::string name = std::move(matches.front());
    matches.erase(matches.begin());
    auto pushed = open_file(name, &site, matches);
    if (!pushed) return pushed.error();
    if (*pushed) break;
  }
  return {};
}

Result<void> SettingsParser::pop() {
  Source done = std::move(stack_.back());
  stack_.pop_back();
  last_file_ = done.file;
  last_line_ = done.line;
  const Site site{done.site_file, done.site_line, done.pattern};
  while (!done.queue.empty()) {
    std::string name = std::move(done.queue.front());
    done.queue.erase(done.queue.begin());
    auto pushed = open_file(name, &site, done.queue);
    if (!pushed) return pushed.error();
    if (*pushed) break;
  }
  return {};
}

bool SettingsParser::lex_string(Source& src, std::string& out) {
  const std::string& t = src.text;
  while (src.pos < t.size()) {
    const char c = t[src.pos];
    if (c == '\r') {  // "just ignore these"
      ++src.pos;
    } else if (c == '"') {
      ++src.pos;
      return true;
    } else if (c == '\\') {
      if (src.pos + 1 >= t.size()) return false;  // a lone backslash at the end: unterminated
      const char n = t[src.pos + 1];
      src.pos += 2;
      if (n == 'n') {
        out += '\n';
      } else if (n == 'r') {
        out += '\r';
      } else if (n == 't') {
        out += '\t';
      } else if (n == '\n') {  // \<newline>: lines merged
        ++src.line;
      } else if (n == '\r' && src.pos < t.size() && t[src.pos] == '\n') {
        ++src.pos;
        ++src.line;
      } else {
        out += n;
      }
    } else {
      if (c == '\n') ++src.line;
      out += c;
      ++src.pos;
    }
  }
  return false;
}

Token SettingsParser::lex_include(Source& src, int line) {
  const std::string& t = src.text;
  std::string pattern;
  while (src.pos < t.size()) {
    const char c = t[src.pos];
    if (c == '\r') {
      ++src.pos;
    } else if (c == '#' || c == '}' || c == '\n') {
      break;  // left for INITIAL
    } else if (c == ' ' || c == '\t') {
      ++src.pos;
      break;
    } else if (c == '"') {  // a quoted pattern ends the include
      ++src.pos;
      if (!lex_string(src, pattern)) return make(Token::Unterminated, src);
      break;
    } else if (c == '\\') {
      if (src.pos + 1 < t.size() && std::strchr("\"#} ", t[src.pos + 1])) {
        pattern += t[src.pos + 1];
        src.pos += 2;
      } else {
        pattern += '\\';
        ++src.pos;
      }
    } else {
      pattern += c;
      ++src.pos;
    }
  }
  const int file = src.file;  // `src` may move when the include pushes a file
  if (auto ok = include(pattern, file, line); !ok) return failed(ok.error());
  return Token{Token::Newline, {}, file, line};  // nothing for the parser: next() goes on
}

Token SettingsParser::next() {
  for (;;) {
    if (stack_.empty()) return Token{Token::Eof, {}, last_file_, last_line_};
    Source& src = stack_.back();
    const std::string& t = src.text;
    if (src.pos >= t.size()) {
      if (auto ok = pop(); !ok) return failed(ok.error());
      continue;
    }
    const char c = t[src.pos];
    switch (c) {
      case ' ':
      case '\t': {
        // `[\t ]*#[^\r\n]*` (blanks, then a comment that a CR ends) is longer than the blanks
        // alone when a '#' follows them; otherwise `[\t\r ]+`.
        size_t b = src.pos;
        while (b < t.size() && (t[b] == ' ' || t[b] == '\t')) ++b;
        if (b < t.size() && t[b] == '#') {
          src.pos = b;
          while (src.pos < t.size() && t[src.pos] != '\r' && t[src.pos] != '\n') ++src.pos;
        } else {
          while (src.pos < t.size() && (t[src.pos] == ' ' || t[src.pos] == '\t' || t[src.pos] == '\r')) ++src.pos;
        }
        continue;
      }
      case '\r':
        while (src.pos < t.size() && (t[src.pos] == ' ' || t[src.pos] == '\t' || t[src.pos] == '\r')) ++src.pos;
        continue;
      case '\n':
        ++src.pos;
        ++src.line;
        continue;
      case '#': {
        // A '#' where a token starts: `#.*\n` (to the newline, across CRs) is the longest match
        // when a newline follows; at the end of the input `#[^\r\n]*`, which a CR ends.
        const size_t nl = t.find('\n', src.pos);
        if (nl != std::string::npos) {
          src.pos = nl;
        } else {
          while (src.pos < t.size() && t[src.pos] != '\r') ++src.pos;
        }
        continue;
      }
      case '{':
        ++src.pos;
        return make(Token::LBrace, src);
      case '}':
        ++src.pos;
        return make(Token::RBrace, src);
      case '.':
        ++src.pos;
        return make(Token::Dot, src);
      case ',':
        ++src.pos;
        return make(Token::Comma, src);
      case ':':
        ++src.pos;
        return make(Token::Colon, src);
      case '=':
        ++src.pos;
        return make(Token::Eq, src);
      case '"':
        ++src.pos;
        return make(Token::Quote, src);
      default:
        break;
    }
    // "include"[\t ]+/[^=]: the longest match wins over NAME, so the blanks after "include" are
    // followed by something else than '=' (or, with two blanks or more, the last blank itself
    // is the trailing context and the pattern is empty).
    if (t.compare(src.pos, 7, "include") == 0 && src.pos + 7 < t.size() &&
        (t[src.pos + 7] == ' ' || t[src.pos + 7] == '\t')) {
      size_t q = src.pos + 7;
      while (q < t.size() && (t[q] == ' ' || t[q] == '\t')) ++q;
      const size_t blanks = q - (src.pos + 7);
      size_t start = std::string::npos;
      if (q < t.size() && t[q] != '=')
        start = q;
      else if (blanks >= 2)
        start = q - 1;
      if (start != std::string::npos) {
        const int line = src.line;
        src.pos = start;
        Token r = lex_include(src, line);
        if (r.kind != Token::Newline) return r;
        continue;
      }
    }
    size_t end = src.pos;
    while (end < t.size() && name_char(t[end])) ++end;
    Token tok = make(Token::Name, src, t.substr(src.pos, end - src.pos));
    src.pos = end;
    return tok;
  }
}

Token SettingsParser::next_value() {
  Source& src = stack_.back();  // the '=' came from it: it is still open
  const std::string& t = src.text;
  for (;;) {
    if (src.pos >= t.size()) return make(Token::Newline, src);
    const char c = t[src.pos];
    if (c == '\r' || c == ' ' || c == '\t') {
      ++src.pos;
    } else if (c == '#' || c == '}' || c == '\n') {
      return make(Token::Newline, src);  // left for INITIAL
    } else if (c == '"') {
      Token tok = make(Token::String, src);
      ++src.pos;
      if (!lex_string(src, tok.text)) return Token{Token::Unterminated, {}, tok.file, tok.line};
      return tok;
    } else {
      size_t end = src.pos;
      while (end < t.size() && value_char(t[end])) ++end;
      Token tok = make(Token::Name, src, t.substr(src.pos, end - src.pos));
      src.pos = end;
      return tok;
    }
  }
}

Result<void> SettingsParser::run() {
  struct Open {
    std::string path;
    int file, line;
  };
  std::vector<Open> open;
  auto here = [&] { return open.empty() ? std::string("(top level)") : open.back().path; };
  auto err = [&](const Token& t, const std::string& subject, const std::string& what) {
    return make_error(at(t.file, t.line) + (subject.empty() ? "" : subject + ": ") + what);
  };
  for (;;) {
    Token t = next();
    switch (t.kind) {
      case Token::Failed:
        return error_;
      case Token::Eof:
        if (!open.empty())
          return make_error(at(open.back().file, open.back().line) + open.back().path +
                            ": section is not closed (missing '}' at the end of the input)");
        return {};
      case Token::RBrace:
        if (open.empty()) return err(t, "", "'}' without an open section");
        open.pop_back();
        continue;
      case Token::Quote:
        return err(t, here(), "unexpected '\"': quoted strings are only allowed in values and include patterns");
      case Token::Name:
        break;
      default:
        return err(t, here(), "unexpected " + describe(t) + ": expected a key, a section or '}'");
    }
    const std::string parent = open.empty() ? "" : open.back().path;
    const std::string full = join(parent, t.text);
    const Settings::Pos pos{t.file, t.line};
    Token t2 = next();
    switch (t2.kind) {
      case Token::Failed:
        return error_;
      case Token::LBrace:
        if (static_cast<int>(open.size()) >= limits_.max_section_depth)
          return err(t, full, "sections nested deeper than " + std::to_string(limits_.max_section_depth));
        s_.sections_[parent].push_back(t.text);
        if (!s_.section_pos_.emplace(full, pos).second) s_.reopened_.emplace(full, pos);  // first kept
        open.push_back({full, t.file, t.line});
        continue;
      case Token::Eq: {
        std::string value;
        bool any = false;
        for (;;) {
          Token v = next_value();
          if (v.kind == Token::Newline) break;
          if (v.kind == Token::Unterminated) return err(v, full, "unterminated quoted string (opened here)");
          value += (any ? " " : "") + v.text;  // words joined by one space, as strongSwan does
          any = true;
        }
        s_.key_pos_[full] = pos;
        if (any) {
          s_.values_[full] = std::move(value);
          s_.cleared_.erase(full);
        } else {  // `key =`: strongSwan's NULL value, the key reads as unset
          s_.values_.erase(full);
          s_.cleared_.insert(full);
        }
        continue;
      }
      case Token::Colon: {
        Token t3 = next();
        if (t3.kind == Token::Failed) return error_;
        if (t3.kind == Token::Eq)
          return err(t, full,
                     "':=' is not strongswan.conf syntax (strongSwan 5.9.8 has no such operator): write '" + t.text +
                         " = value'");
        return err(t, full,
                   "section references ('" + t.text +
                       " : other { }') are not supported by the elastic daemons: write the section out");
      }
      case Token::Dot:
        return err(t, full, "'.' is not allowed in a name: nest sections instead ('a { b = c }' for a.b)");
      default:
        return err(t, full, "expected '=' or '{' after '" + t.text + "', found " + describe(t2));
    }
  }
}

Result<Settings> Settings::parse(const std::string& text, const std::string& origin) {
  return parse(text, origin, Limits{});
}

Result<Settings> Settings::parse(const std::string& text, const std::string& origin, const Limits& limits) {
  Settings s;
  s.origin_ = origin;
  SettingsParser p(s, limits);
  if (auto ok = p.open_text(text, origin); !ok) return ok.error();
  if (auto ok = p.run(); !ok) return ok.error();
  return s;
}

Result<Settings> Settings::load(const std::string& path) {
  return load(path, Limits{});
}

Result<Settings> Settings::load(const std::string& path, const Limits& limits) {
  Settings s;
  s.origin_ = path;
  SettingsParser p(s, limits);
  if (auto ok = p.open_top(path); !ok) return ok.error();
  if (auto ok = p.run(); !ok) return ok.error();
  return s;
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
  const std::string p = prefix.empty() ? "" : prefix + ".";
  for (auto it = key_pos_.lower_bound(p); it != key_pos_.end() && it->first.compare(0, p.size(), p) == 0; ++it)
    if (it->first.find('.', p.size()) == std::string::npos) out.push_back(it->first.substr(p.size()));
  return out;
}

Settings::Where Settings::expand(const Pos& p) const {
  if (p.file < 0 || static_cast<size_t>(p.file) >= files_.size()) return {origin_, p.line};
  return {files_[static_cast<size_t>(p.file)], p.line};
}

Settings::Where Settings::where(const std::string& key) const {
  if (auto it = key_pos_.find(key); it != key_pos_.end()) return expand(it->second);
  if (auto it = section_pos_.find(key); it != section_pos_.end()) return expand(it->second);
  return {"", 0};
}

Settings::Where Settings::reopened(const std::string& section) const {
  auto it = reopened_.find(section);
  return it == reopened_.end() ? Where{"", 0} : expand(it->second);
}

Error Settings::error_at(const Where& where, const std::string& key, const std::string& what) const {
  const std::string& file = where.file.empty() ? origin_ : where.file;
  return make_error(file + ":" + std::to_string(where.line) + ": " + key + ": " + what);
}

Error Settings::error(const std::string& key, const std::string& what) const {
  Where w;
  for (std::string k = key; !k.empty() && !w.line;) {
    w = where(k);
    auto dot = k.rfind('.');
    k = dot == std::string::npos ? "" : k.substr(0, dot);
  }
  return error_at(w, key, what);
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

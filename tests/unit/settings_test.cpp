// The strongswan.conf reader shared by elastic-syncd, elastic-heartbeatd and elastic-sync-client:
// each feature of strongSwan 5.9.8's grammar (settings_lexer.l / settings_parser.y), each error
// with its FILE:LINE: key, and includes (relative globs, sorted, nested, cycles, origins per key).
#include "elastic/settings.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "elastic/syncd_config.h"

using elastic::sync::Settings;
using Strings = std::vector<std::string>;

namespace {

Settings ok(const std::string& text) {
  auto s = Settings::parse(text, "t.conf");
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? *s : Settings{};
}

std::string fails(const std::string& text) {
  auto s = Settings::parse(text, "t.conf");
  return s.ok() ? "(parsed)" : s.error().message;
}

// A scratch directory with files, removed at the end of the test.
class Dir {
 public:
  Dir() {
    char tmpl[] = "/tmp/settings-test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~Dir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST(SettingsGrammar, CommentsSectionsAndSeveralStatementsOnALine) {
  auto s =
      ok("# top comment\n"
         "a { b = 1 } c { d = 2 }   # two sections on one line\n"
         "e{f{g=3}}\n"
         "h {\n"
         "  # comment inside\n"
         "  i = 4# comment right after the value\n"
         "}\n"
         "j\n{\n k = 5\n}\n");  // a newline between a name and its brace is allowed
  EXPECT_EQ(s.get("a.b"), "1");
  EXPECT_EQ(s.get("c.d"), "2");
  EXPECT_EQ(s.get("e.f.g"), "3");
  EXPECT_EQ(s.get("h.i"), "4");
  EXPECT_EQ(s.get("j.k"), "5");
  EXPECT_EQ(s.sections(""), (Strings{"a", "c", "e", "h", "j"}));
  EXPECT_EQ(s.line_of("c.d"), 2);
  EXPECT_EQ(s.line_of("h.i"), 6);
  EXPECT_EQ(s.line_of("j.k"), 10);
  EXPECT_EQ(s.line_of("j"), 8);
}

TEST(SettingsGrammar, ValuesRunToTheEndOfTheLineWithWordsJoinedByOneSpace) {
  auto s =
      ok("a {\n"
         "  spaced =    x    y\t z   \n"
         "  addr = [2001:db8::1]:7400\n"
         "  odd = a{b=c:d,e.f\n"  // '{', '=', ':', ',', '.' are value characters
         "  cut = v}\n"           // '}' ends the value and closes the section
         "b { c = 1 }\r\n"
         "d = x\ry\n");  // a lone CR is skipped like a blank
  EXPECT_EQ(s.get("a.spaced"), "x y z");
  EXPECT_EQ(s.get("a.addr"), "[2001:db8::1]:7400");
  EXPECT_EQ(s.get("a.odd"), "a{b=c:d,e.f");
  EXPECT_EQ(s.get("a.cut"), "v");
  EXPECT_EQ(s.get("b.c"), "1");
  EXPECT_EQ(s.get("d"), "x y");
  EXPECT_EQ(s.keys("a"), (Strings{"addr", "cut", "odd", "spaced"}));
}

TEST(SettingsGrammar, QuotedValuesEscapesAndMultiLineStrings) {
  auto s =
      ok("k1 = \"  two  spaces  \"\n"
         "k2 = \"a\\\"b\\\\c\\nd\\te\\x\\#\"\n"
         "k3 = \"first\n"
         "second\"\n"
         "k4 = \"joined \\\n"
         "line\"\n"
         "k5 = x \"y  z\" w\n"
         "k6 = \"\"\n"
         "k7 = \"# not a comment } not a brace\"\n"
         "k8 = \"cr\r\nlf\"\n"
         "k9 = 1\n");
  EXPECT_EQ(s.get("k1"), "  two  spaces  ");
  EXPECT_EQ(s.get("k2"), "a\"b\\c\nd\tex#");
  EXPECT_EQ(s.get("k3"), "first\nsecond");
  EXPECT_EQ(s.get("k4"), "joined line");
  EXPECT_EQ(s.get("k5"), "x y  z w");
  EXPECT_TRUE(s.has("k6"));
  EXPECT_EQ(s.get("k6", "default"), "");
  EXPECT_EQ(s.get("k7"), "# not a comment } not a brace");
  EXPECT_EQ(s.get("k8"), "cr\nlf");  // CRs inside strings are dropped, as the lexer does
  EXPECT_EQ(s.line_of("k5"), 7);     // lines inside strings are counted
  EXPECT_EQ(s.line_of("k9"), 12);
}

TEST(SettingsGrammar, EmptyAssignmentClearsTheKeyButItIsStillChecked) {
  auto s = ok("a {\n  k = 1\n  k =\n  other = # only a comment\n}\n");
  EXPECT_FALSE(s.has("a.k"));
  EXPECT_EQ(s.get("a.k", "def"), "def");
  EXPECT_FALSE(s.has("a.other"));
  EXPECT_EQ(s.keys("a"), (Strings{"k", "other"}));
  EXPECT_EQ(s.line_of("a.k"), 3);
  auto unknown = s.check_keys("a", {"k"}, {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "t.conf:4: a.other: unknown key");
  auto again = ok("k = 1\nk =\nk = 2\n");
  EXPECT_EQ(again.get("k"), "2");
}

TEST(SettingsGrammar, LastValueWinsAndReopenedSectionsMerge) {
  auto s = ok("a {\n  k = 1\n  x = 1\n}\na {\n  k = 2\n}\n");
  EXPECT_EQ(s.get("a.k"), "2");
  EXPECT_EQ(s.get("a.x"), "1");
  EXPECT_EQ(s.line_of("a.k"), 6);
  EXPECT_EQ(s.line_of("a"), 1);
  EXPECT_EQ(s.reopened_at("a"), 5);
  EXPECT_EQ(s.reopened("a").file, "t.conf");
  EXPECT_EQ(s.sections(""), (Strings{"a", "a"}));
}

TEST(SettingsGrammar, IncludeIsOnlyAKeywordBeforeAPattern) {
  auto s = ok("include = foo\nsection { include = bar }\n");
  EXPECT_EQ(s.get("include"), "foo");
  EXPECT_EQ(s.get("section.include"), "bar");
  // "include" followed by blanks and something else than '=' is an include statement
  auto off = Settings::parse("include x.conf\n", "t.conf", Settings::Limits{.includes = false});
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(off.error().message, "t.conf:1: include x.conf: includes are not allowed here");
}

TEST(SettingsErrors, EachNamesFileLineAndKey) {
  EXPECT_EQ(fails("a {\n  b sg1\n}\n"), "t.conf:2: a.b: expected '=' or '{' after 'b', found 'sg1'");
  EXPECT_EQ(fails("a { }\n}\n"), "t.conf:2: '}' without an open section");
  EXPECT_EQ(fails("a {\n b {\n  c = 1\n"),
            "t.conf:2: a.b: section is not closed (missing '}' at the end of the input)");
  EXPECT_EQ(fails("x {\n a.b = c\n}\n"),
            "t.conf:2: x.a: '.' is not allowed in a name: nest sections instead ('a { b = c }' for a.b)");
  EXPECT_EQ(
      fails("a {\n  k := v\n}\n"),
      "t.conf:2: a.k: ':=' is not strongswan.conf syntax (strongSwan 5.9.8 has no such operator): write 'k = value'");
  EXPECT_EQ(fails("base { k = 1 }\nconn : base {\n}\n"),
            "t.conf:2: conn: section references ('conn : other { }') are not supported by the elastic daemons: write "
            "the section out");
  EXPECT_EQ(fails("a {\n k = \"abc\n}\n"), "t.conf:2: a.k: unterminated quoted string (opened here)");
  EXPECT_EQ(fails("k = \"abc\\"), "t.conf:1: k: unterminated quoted string (opened here)");
  EXPECT_EQ(fails("a {\n \"k\" = v\n}"),
            "t.conf:2: a: unexpected '\"': quoted strings are only allowed in values and include patterns");
  EXPECT_EQ(fails("a {\n = v\n}"), "t.conf:2: a: unexpected '=': expected a key, a section or '}'");
  EXPECT_EQ(fails("a, b { }"), "t.conf:1: a: expected '=' or '{' after 'a', found ','");
  EXPECT_EQ(fails(", a = 1"), "t.conf:1: (top level): unexpected ',': expected a key, a section or '}'");
  EXPECT_EQ(fails("a { k }"), "t.conf:1: a.k: expected '=' or '{' after 'k', found '}'");
  EXPECT_EQ(fails("a { k"), "t.conf:1: a.k: expected '=' or '{' after 'k', found the end of the input");
  // "include" then two blanks and '=': the lexer takes an empty include, then '=' is an error
  EXPECT_EQ(fails("include  = x"), "t.conf:1: (top level): unexpected '=': expected a key, a section or '}'");
}

TEST(SettingsErrors, Bounds) {
  std::string deep;
  for (int i = 0; i < 33; ++i) deep += "s" + std::to_string(i) + " {\n";
  EXPECT_EQ(fails(deep),
            "t.conf:33: s0.s1.s2.s3.s4.s5.s6.s7.s8.s9.s10.s11.s12.s13.s14.s15.s16.s17.s18.s19.s20."
            "s21.s22.s23.s24.s25.s26.s27.s28.s29.s30.s31.s32: sections nested deeper than 32");
  std::string fine;
  for (int i = 0; i < 32; ++i) fine += "s {\n";
  EXPECT_TRUE(Settings::parse(fine + std::string(32, '}'), "t.conf").ok());
  Dir d;
  const std::string big = d.write("big.conf", "k = " + std::string(1u << 20, 'x') + "\n");
  auto s = Settings::load(big);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "cannot read " + big + ": larger than 1 MiB");
  EXPECT_EQ(Settings::load(d.path()).error().message, "cannot read " + d.path() + ": not a regular file");
  EXPECT_EQ(Settings::load(d.path() + "/none.conf").error().message,
            "cannot read " + d.path() + "/none.conf: No such file or directory");
}

TEST(SettingsInclude, RelativeGlobSortedAndInsideTheCurrentSection) {
  Dir d;
  // the top file's directory is the base, not the working directory
  const std::string top = d.write("etc/elastic.conf",
                                  "elastic {\n"
                                  "  node = top\n"
                                  "  include conf.d/*.conf\n"
                                  "  last = top # after the include\n"
                                  "}\n");
  d.write("etc/conf.d/b.conf", "node = b\nsb { }\n");
  d.write("etc/conf.d/10.conf", "s10 { k = 10 }\n");
  d.write("etc/conf.d/2.conf", "s2 { }\nlast = 2\n");
  d.write("etc/conf.d/a.conf", "sa { }\n\n\nnode = a\n");
  d.write("etc/conf.d/skip.txt", "broken {\n");
  std::filesystem::create_directories(d.path() + "/etc/conf.d/dir.conf");  // not a file: skipped
  auto s = Settings::load(top);
  ASSERT_TRUE(s.ok()) << s.error().message;
  // glob(3) order, as strongSwan: byte order of the names
  EXPECT_EQ(s->sections("elastic"), (Strings{"s10", "s2", "sa", "sb"}));
  EXPECT_EQ(s->get("elastic.s10.k"), "10");
  EXPECT_EQ(s->get("elastic.node"), "b");  // b.conf is read last
  EXPECT_EQ(s->where("elastic.node").file, d.path() + "/etc/conf.d/b.conf");
  EXPECT_EQ(s->where("elastic.node").line, 1);
  EXPECT_EQ(s->get("elastic.last"), "top");
  EXPECT_EQ(s->where("elastic.last").file, top);
  EXPECT_EQ(s->where("elastic.last").line, 4);
  EXPECT_EQ(s->files().size(), 5u);
  ASSERT_EQ(s->warnings().size(), 1u);
  EXPECT_EQ(s->warnings()[0], top + ":3: include conf.d/*.conf: " + d.path() +
                                  "/etc/conf.d/dir.conf is not a regular file: skipped (as strongSwan does)");
}

TEST(SettingsInclude, AbsoluteQuotedEscapedAndMissingPatterns) {
  Dir d;
  d.write("my file.conf", "k = spaced\n");
  d.write("abs.conf", "abs = yes\n");
  const std::string top = d.write("top.conf",
                                  "include \"my file.conf\"\n"
                                  "s { include my\\ file.conf }\n"
                                  "include " +
                                      d.path() +
                                      "/abs.conf\n"
                                      "include nothing-*.conf\n"
                                      "include missing.conf # comment\n"
                                      "end = 1\n");
  auto s = Settings::load(top);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->get("k"), "spaced");
  EXPECT_EQ(s->get("s.k"), "spaced");
  EXPECT_EQ(s->get("abs"), "yes");
  EXPECT_EQ(s->get("end"), "1");
  EXPECT_EQ(s->line_of("end"), 6);
  // strongSwan includes nothing for a pattern without matches; it is reported, not an error
  EXPECT_EQ(s->warnings(), (Strings{top + ":4: include nothing-*.conf: no file matches " + d.path() +
                                        "/nothing-*.conf (nothing included, as strongSwan does)",
                                    top + ":5: include missing.conf: no file matches " + d.path() +
                                        "/missing.conf (nothing included, as strongSwan does)"}));
}

TEST(SettingsInclude, NestedRelativeToTheIncludingFile) {
  Dir d;
  const std::string top = d.write("top.conf", "a { include sub/one.conf }\n");
  d.write("sub/one.conf", "b { include deeper/two.conf }\n");
  d.write("sub/deeper/two.conf", "c = 2\n");
  auto s = Settings::load(top);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->get("a.b.c"), "2");
  EXPECT_EQ(s->where("a.b.c").file, d.path() + "/sub/deeper/two.conf");
}

TEST(SettingsInclude, CycleAndDepthAreErrors) {
  Dir d;
  const std::string a = d.write("a.conf", "x = 1\ninclude b.conf\n");
  d.write("b.conf", "\ninclude a.conf\n");
  auto cycle = Settings::load(a);
  ASSERT_FALSE(cycle.ok());
  EXPECT_EQ(cycle.error().message, d.path() + "/b.conf:2: include a.conf: include cycle: " + a + " -> " + d.path() +
                                       "/b.conf -> " + d.path() + "/a.conf");
  const std::string self = d.write("self.conf", "include *.conf\n");  // matches itself (and a.conf first)
  EXPECT_NE(Settings::load(self).error().message.find("include cycle"), std::string::npos);
  // the same file twice in a row is not a cycle
  d.write("twice/inc.conf", "k = v\n");
  auto twice = Settings::load(d.write("twice/top.conf", "include inc.conf\ninclude inc.conf\n"));
  EXPECT_TRUE(twice.ok()) << twice.error().message;
  // a chain of 11 files: the 10th may not open an 11th
  for (int i = 0; i < 11; ++i)
    d.write("chain/f" + std::to_string(i) + ".conf",
            "k" + std::to_string(i) + " = 1\ninclude f" + std::to_string(i + 1) + ".conf\n");
  auto deep = Settings::load(d.path() + "/chain/f0.conf");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.error().message,
            d.path() + "/chain/f9.conf:2: include f10.conf: includes nested deeper than 10 files");
  std::filesystem::remove(d.path() + "/chain/f10.conf");
  EXPECT_TRUE(Settings::load(d.path() + "/chain/f0.conf").ok());
}

TEST(SettingsInclude, KeysFromAnIncludedFileAreReportedThere) {
  Dir d;
  const std::string top = d.write("elastic.conf",
                                  "elastic {\n"
                                  "  node = sg1\n"
                                  "  cluster {\n"
                                  "    members {\n"
                                  "      sg1 { address = 127.0.0.1:7001 }\n"
                                  "      include members.d/*.conf\n"
                                  "    }\n"
                                  "  }\n"
                                  "}\n");
  d.write("members.d/sg2.conf", "# the second gateway\nsg2 {\n  address = nowhere\n}\n");
  auto s = Settings::load(top);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const std::string inc = d.path() + "/members.d/sg2.conf";
  auto cfg = elastic::sync::load_syncd_config(*s);
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message, inc + ":3: elastic.cluster.members.sg2.address: 'nowhere': expected IP:PORT");
  // a key that is not set is reported at its closest section: here, the included file's
  EXPECT_EQ(s->error("elastic.cluster.members.sg2.weight", "x").message,
            inc + ":2: elastic.cluster.members.sg2.weight: x");
  EXPECT_EQ(s->error("elastic.node", "x").message, top + ":2: elastic.node: x");
  // a member listed again in an included file: the second listing's file and line
  d.write("members.d/sg2.conf", "sg2 { address = 127.0.0.1:7002 }\n");
  d.write("members.d/sg3.conf", "sg3 { address = 127.0.0.1:7003 }\n\nsg1 { address = 127.0.0.1:7009 }\n");
  auto twice = Settings::load(top);
  ASSERT_TRUE(twice.ok()) << twice.error().message;
  auto dup = elastic::sync::load_syncd_config(*twice);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().message, d.path() + "/members.d/sg3.conf:3: elastic.cluster.members.sg1: member listed twice");
  // a syntax error in an included file names that file
  d.write("members.d/sg3.conf", "sg3 {\n  address 127.0.0.1:7003\n}\n");
  EXPECT_EQ(Settings::load(top).error().message, d.path() +
                                                     "/members.d/sg3.conf:2: elastic.cluster.members.sg3.address: "
                                                     "expected '=' or '{' after 'address', found '127'");
}

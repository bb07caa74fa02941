#!/usr/bin/env python3
"""check_exposition.py [--prefix P] [FILE]: a strict check of Prometheus text format 0.0.4 (a
scrape of elastic-syncd's endpoint, HTTP head included, or elastic-heartbeatd --metrics).
Stricter than Prometheus where our conventions (docs/syncd.md, docs/heartbeatd.md) say so:
  - every family has one # HELP and one # TYPE, both before its first sample;
  - a family's samples are contiguous (a family seen again later is an error: interleaved);
  - every sample belongs to a family with a TYPE (histograms: NAME_bucket/_sum/_count);
  - counters end in _total, other types do not; no non-base units (_ms, _milliseconds, ...);
  - label names valid and not repeated, label values escaped (only \\\\, \\" and \\n);
  - no series twice; counters not negative;
  - histograms per label set: le bounds ascending, buckets cumulative, +Inf present and equal
    to _count, _sum present;
  - --prefix P: every family starts with P, and P + "build_info" is a gauge 1 with a version label.
Exit 0 and "ok: ..." on success, 1 with one line per problem (line numbers of the body).
--self-test: runs it on known good and bad samples (the checker's own test)."""
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
NUMBER = re.compile(r"[+-]?(Inf|NaN|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
NON_BASE_UNIT = re.compile(r"_(ms|us|ns|millis|milliseconds|microseconds|nanoseconds|minutes|hours|days|"
                           r"kb|kilobytes|mb|megabytes|percent)(_|$)")
SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


def parse_value(text):
    if not NUMBER.fullmatch(text):
        raise ValueError("bad value '%s'" % text)
    return float(text.replace("Inf", "inf").replace("NaN", "nan"))


def parse_labels(text, pos):
    """Parses '{a="x",b="y"}' from text[pos] == '{'; returns (list of (name, value), next pos)."""
    labels, pos = [], pos + 1
    while True:
        if text.startswith("}", pos):
            return labels, pos + 1
        m = LABEL.match(text, pos)
        if not m:
            raise ValueError("bad label name at column %d" % (pos + 1))
        name, pos = m.group(0), m.end()
        if not text.startswith('="', pos):
            raise ValueError("label %s: expected =\"" % name)
        pos += 2
        value = ""
        while True:
            if pos >= len(text):
                raise ValueError("label %s: unterminated value" % name)
            c = text[pos]
            if c == '"':
                pos += 1
                break
            if c == "\\":
                esc = text[pos + 1:pos + 2]
                if esc not in ("\\", '"', "n"):
                    raise ValueError("label %s: bad escape \\%s" % (name, esc))
                value += "\n" if esc == "n" else esc
                pos += 2
                continue
            value += c
            pos += 1
        labels.append((name, value))
        if text.startswith(",", pos):
            pos += 1
        elif not text.startswith("}", pos):
            raise ValueError("label %s: expected , or }" % name)


def parse_sample(line):
    m = NAME.match(line)
    if not m:
        raise ValueError("bad metric name")
    name, pos = m.group(0), m.end()
    labels = []
    if line.startswith("{", pos):
        labels, pos = parse_labels(line, pos)
    rest = line[pos:]
    if not rest.startswith(" "):
        raise ValueError("expected a space before the value")
    fields = rest.split()
    if len(fields) not in (1, 2):
        raise ValueError("expected VALUE [TIMESTAMP]")
    return name, labels, parse_value(fields[0])


def strip_http(text, problems):
    """A raw HTTP response: checks status and content type, returns the body."""
    head, sep, body = text.replace("\r\n", "\n").partition("\n\n")
    lines = head.split("\n")
    if not sep or not lines[0].startswith("HTTP/1.") or " 200 " not in lines[0] + " ":
        problems.append("HTTP: not a 200 response: %r" % lines[0])
    ctype = [l.split(":", 1)[1].strip() for l in lines[1:] if l.lower().startswith("content-type:")]
    if ctype != ["text/plain; version=0.0.4"]:
        problems.append("HTTP: Content-Type %r, expected 'text/plain; version=0.0.4'" % ctype)
    return body


class Checker:
    def __init__(self, prefix=None):
        self.prefix = prefix
        self.problems = []
        self.help, self.type = {}, {}
        self.closed = set()  # families whose block has ended
        self.current = None
        self.series = set()
        self.hist = {}  # (family, labels without le) -> {"buckets": [(le, v)], "sum":, "count":}
        self.samples = {}  # name -> [(labels, value)]
        self.sampled = set()  # families (or, without a TYPE, names) that had samples

    def problem(self, n, msg):
        self.problems.append("line %d: %s" % (n, msg))

    def enter(self, n, family):
        """The block of `family` continues or starts; one that ended before may not come back."""
        if family == self.current:
            return
        if family in self.closed:
            self.problem(n, "family %s appears again after other families (interleaved)" % family)
        if self.current is not None:
            self.closed.add(self.current)
        self.current = family

    def family_of(self, name):
        if name in self.type and self.type[name] not in SUFFIXES:
            return name
        for fam, t in self.type.items():
            for s in SUFFIXES.get(t, ()):
                if name == fam + s:
                    return fam
        return None

    def meta(self, n, line):
        parts = line.split(" ", 3)
        if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
            return  # an ordinary comment
        kind, name = parts[1], parts[2]
        if not NAME.fullmatch(name):
            return self.problem(n, "bad metric name in # %s: %r" % (kind, name))
        self.enter(n, name)
        if any(name + s in self.sampled for s in ("", "_bucket", "_sum", "_count")):
            self.problem(n, "# %s %s after its samples" % (kind, name))
        table = self.help if kind == "HELP" else self.type
        if name in table:
            self.problem(n, "second # %s for %s" % (kind, name))
        text = parts[3] if len(parts) > 3 else ""
        if kind == "TYPE":
            if text not in TYPES:
                self.problem(n, "unknown type %r for %s" % (text, name))
            self.check_name(n, name, text)
        table[name] = text

    def check_name(self, n, name, typ):
        if typ == "counter" and not name.endswith("_total"):
            self.problem(n, "counter %s does not end in _total" % name)
        if typ != "counter" and name.endswith("_total"):
            self.problem(n, "%s %s ends in _total (reserved for counters)" % (typ, name))
        if NON_BASE_UNIT.search(name):
            self.problem(n, "%s: not a base unit (seconds, bytes)" % name)
        if self.prefix and not name.startswith(self.prefix):
            self.problem(n, "%s does not start with %s" % (name, self.prefix))

    def sample(self, n, line):
        try:
            name, labels, value = parse_sample(line)
        except ValueError as e:
            return self.problem(n, "%s: %r" % (e, line))
        family = self.family_of(name)
        self.sampled.add(family or name)
        if family is None:
            self.enter(n, name)
            return self.problem(n, "%s has no # TYPE before it" % name)
        self.enter(n, family)
        if family not in self.help:
            self.problem(n, "%s has no # HELP before it" % family)
        names = [k for k, _ in labels]
        if len(set(names)) != len(names):
            self.problem(n, "%s: a label appears twice" % name)
        if any(k.startswith("__") for k in names):
            self.problem(n, "%s: label names starting with __ are reserved" % name)
        key = (name, tuple(sorted(labels)))
        if key in self.series:
            self.problem(n, "series %s%s appears twice" % (name, dict(labels)))
        self.series.add(key)
        self.samples.setdefault(name, []).append((labels, value))
        typ = self.type[family]
        if typ == "counter" and not value >= 0:
            self.problem(n, "counter %s is %s" % (name, value))
        if typ == "histogram":
            self.histogram_sample(n, family, name, labels, value)

    def histogram_sample(self, n, family, name, labels, value):
        rest = tuple((k, v) for k, v in labels if k != "le")
        h = self.hist.setdefault((family, rest), {"buckets": [], "sum": None, "count": None, "line": n})
        if name == family + "_bucket":
            le = dict(labels).get("le")
            if le is None:
                return self.problem(n, "%s without le" % name)
            try:
                bound = parse_value(le)
            except ValueError:
                return self.problem(n, "%s: le=%r is not a number" % (name, le))
            h["buckets"].append((bound, value, n))
        elif "le" in dict(labels):
            self.problem(n, "%s has an le label" % name)
        else:
            h["sum" if name.endswith("_sum") else "count"] = value

    def finish_histograms(self):
        for (family, labels), h in self.hist.items():
            where = "%s%s" % (family, dict(labels))
            b = h["buckets"]
            for (b0, v0, _), (b1, v1, n) in zip(b, b[1:]):
                if not b1 > b0:
                    self.problem(n, "%s: le %s after %s (not ascending)" % (where, b1, b0))
                if v1 < v0:
                    self.problem(n, "%s: bucket le=%s holds %s, fewer than le=%s (%s): not cumulative" %
                                 (where, b1, v1, b0, v0))
            if not b or b[-1][0] != math.inf:
                self.problem(h["line"], "%s: no +Inf bucket (last)" % where)
            if h["count"] is None or h["sum"] is None:
                self.problem(h["line"], "%s: _sum or _count missing" % where)
            elif b and b[-1][1] != h["count"]:
                self.problem(h["line"], "%s: +Inf bucket %s != _count %s" % (where, b[-1][1], h["count"]))

    def check_build_info(self):
        name = self.prefix + "build_info"
        got = self.samples.get(name, [])
        if self.type.get(name) != "gauge" or len(got) != 1:
            return self.problems.append("%s: expected one gauge sample" % name)
        labels, value = got[0]
        if value != 1 or not dict(labels).get("version"):
            self.problems.append("%s: expected {version=\"...\"} 1, got %s %s" % (name, labels, value))

    def run(self, text):
        if text.startswith("HTTP/"):
            text = strip_http(text, self.problems)
        if text and not text.endswith("\n"):
            self.problems.append("the text does not end with a newline")
        lines = text.split("\n")
        for n, line in enumerate(lines[:-1] if text.endswith("\n") else lines, 1):
            if not line.strip():
                continue
            if line.startswith("#"):
                self.meta(n, line)
            else:
                self.sample(n, line)
        self.finish_histograms()
        if self.prefix:
            self.check_build_info()
        if not self.samples:
            self.problems.append("no samples")
        return self.problems


GOOD = """# HELP p_up 1 if "up"\\\\, or not\\nat all
# TYPE p_up gauge
p_up{peer="a\\"b\\\\c\\nd"} 1
p_up{peer="x"} 0
# HELP p_sent_total frames sent
# TYPE p_sent_total counter
p_sent_total{peer="x"} 3
# HELP p_rtt_seconds round trip
# TYPE p_rtt_seconds histogram
p_rtt_seconds_bucket{peer="x",le="0.1"} 1
p_rtt_seconds_bucket{peer="x",le="1"} 2
p_rtt_seconds_bucket{peer="x",le="+Inf"} 3
p_rtt_seconds_sum{peer="x"} 4.5
p_rtt_seconds_count{peer="x"} 3
# HELP p_build_info version
# TYPE p_build_info gauge
p_build_info{version="1.0"} 1
"""

# (what, a change to GOOD, the problem expected)
BAD = [
    ("interleaved", lambda t: t + 'p_up{peer="y"} 1\n', "interleaved"),
    ("no TYPE", lambda t: t.replace("# TYPE p_up gauge\n", ""), "no # TYPE"),
    ("no HELP", lambda t: t.replace("# HELP p_sent_total frames sent\n", ""), "no # HELP"),
    ("counter without _total", lambda t: t.replace("p_sent_total", "p_sent"), "does not end in _total"),
    ("gauge with _total", lambda t: t.replace("p_up", "p_up_total"), "reserved for counters"),
    ("all gauge", lambda t: t.replace("counter", "gauge").replace("histogram", "gauge"), "no # TYPE"),
    ("TYPE after samples", lambda t: t.replace("# TYPE p_sent_total counter\np_sent_total{peer=\"x\"} 3\n",
                                               "p_sent_total{peer=\"x\"} 3\n# TYPE p_sent_total counter\n"),
     "after its samples"),
    ("unescaped quote", lambda t: t.replace('peer="x"} 0', 'peer="x"y"} 0'), "expected , or }"),
    ("bad escape", lambda t: t.replace('peer="x"} 0', 'peer="x\\t"} 0'), "bad escape"),
    ("not cumulative", lambda t: t.replace('le="1"} 2', 'le="1"} 0'), "not cumulative"),
    ("+Inf != count", lambda t: t.replace('_count{peer="x"} 3', '_count{peer="x"} 4'), "!= _count"),
    ("no +Inf", lambda t: t.replace('p_rtt_seconds_bucket{peer="x",le="+Inf"} 3\n', ""), "no +Inf"),
    ("unsorted le", lambda t: t.replace('le="0.1"} 1', 'le="5"} 1'), "not ascending"),
    ("twice", lambda t: t.replace('p_up{peer="x"} 0\n', 'p_up{peer="x"} 0\np_up{peer="x"} 0\n'), "twice"),
    ("milliseconds", lambda t: t.replace("p_rtt_seconds", "p_rtt_ms"), "not a base unit"),
    ("no build_info", lambda t: t.replace("p_build_info", "p_version"), "build_info"),
    ("other prefix", lambda t: t + "# HELP q_x x\n# TYPE q_x gauge\nq_x 1\n", "does not start with p_"),
    ("no newline at end", lambda t: t.rstrip("\n"), "newline"),
    ("bad value", lambda t: t.replace('p_sent_total{peer="x"} 3', 'p_sent_total{peer="x"} 3x'), "bad value"),
]


def self_test():
    ok = True
    if Checker("p_").run(GOOD):
        print("self-test: the good sample is refused: %s" % Checker("p_").run(GOOD))
        ok = False
    http = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\r\n" + GOOD
    if Checker("p_").run(http):
        print("self-test: the good sample over HTTP is refused: %s" % Checker("p_").run(http))
        ok = False
    for what, change, expected in BAD:
        text = change(GOOD)
        assert text != GOOD, what
        problems = Checker("p_").run(text)
        if not any(expected in p for p in problems):
            print("self-test: %s: expected a problem with %r, got %s" % (what, expected, problems))
            ok = False
    print("self-test: %s (%d bad samples)" % ("ok" if ok else "FAILED", len(BAD)))
    return ok


def main(argv):
    args, prefix = argv[1:], None
    if args[:1] == ["--self-test"]:
        return 0 if self_test() else 1
    if args[:1] == ["--prefix"] and len(args) >= 2:
        prefix, args = args[1], args[2:]
    if len(args) > 1:
        sys.exit(__doc__)
    text = open(args[0], encoding="utf-8").read() if args else sys.stdin.read()
    checker = Checker(prefix)
    problems = checker.run(text)
    for p in problems:
        print("check_exposition: %s" % p)
    if problems:
        return 1
    print("ok: %d families, %d samples" % (len(checker.type), sum(len(v) for v in checker.samples.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

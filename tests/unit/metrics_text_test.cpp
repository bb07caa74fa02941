// The Prometheus text writer: families grouped whatever the order samples are added in, one HELP
// and TYPE each, counters named _total, label values escaped, histograms cumulative up to +Inf.
#include "elastic/metrics_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using elastic::metrics::escape_label_value;
using elastic::metrics::Exposition;
using elastic::metrics::format_value;
using elastic::metrics::Histogram;

TEST(MetricsText, FamiliesOfSeveralPeersAreNotInterleaved) {
  Exposition e;
  for (const char* peer : {"sg2", "sg3"}) {
    e.gauge("x_peer_connected", "1 if the link is up", 1, {{"peer", peer}});
    e.counter("x_frames_sent_total", "frames sent", 7, {{"peer", peer}});
  }
  EXPECT_EQ(e.text(),
            "# HELP x_peer_connected 1 if the link is up\n"
            "# TYPE x_peer_connected gauge\n"
            "x_peer_connected{peer=\"sg2\"} 1\n"
            "x_peer_connected{peer=\"sg3\"} 1\n"
            "# HELP x_frames_sent_total frames sent\n"
            "# TYPE x_frames_sent_total counter\n"
            "x_frames_sent_total{peer=\"sg2\"} 7\n"
            "x_frames_sent_total{peer=\"sg3\"} 7\n");
}

TEST(MetricsText, CountersEndInTotal) {
  Exposition e;
  e.counter("x_errors", "errors", 3);
  e.counter("x_errors", "errors", 4, {{"kind", "b"}});  // the same family as the first
  EXPECT_EQ(e.text(),
            "# HELP x_errors_total errors\n# TYPE x_errors_total counter\nx_errors_total 3\n"
            "x_errors_total{kind=\"b\"} 4\n");
}

TEST(MetricsText, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_label_value("plain sg-1/2"), "plain sg-1/2");
  Exposition e;
  e.gauge("x_up", "back\\slash, \"quoted\"\nsecond line", 0, {{"member", "a\"b"}, {"state", "c\\d"}});
  EXPECT_EQ(e.text(),
            "# HELP x_up back\\\\slash, \"quoted\"\\nsecond line\n"
            "# TYPE x_up gauge\n"
            "x_up{member=\"a\\\"b\",state=\"c\\\\d\"} 0\n");
}

TEST(MetricsText, ValuesAreExactAndSpecialValuesSpelledAsPrometheusReadsThem) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(3), "3");
  EXPECT_EQ(format_value(0.078107), "0.078107");
  EXPECT_EQ(format_value(0.0025), "0.0025");
  EXPECT_EQ(format_value(0.0005), "0.0005");  // plain to_chars: "5e-04"
  EXPECT_EQ(format_value(100000), "100000");  // %g: "1e+05"
  EXPECT_EQ(format_value(-2), "-2");
  EXPECT_EQ(format_value(1e-7), "1e-07");
  EXPECT_EQ(std::stod(format_value(0.1 + 0.2)), 0.1 + 0.2);  // round trip, not 6 digits
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  Exposition e;
  e.counter("x_big", "", UINT64_MAX);  // exact, not through a double
  EXPECT_NE(e.text().find("x_big_total 18446744073709551615\n"), std::string::npos);
}

TEST(MetricsText, HistogramBucketsAreCumulativeUpToInf) {
  Histogram h({0.1, 0.5, 1});
  for (double v : {0.05, 0.1, 0.3, 0.7, 2.0}) h.observe(v);
  h.observe(std::nan(""));  // ignored
  EXPECT_EQ(h.count(), 5u);
  EXPECT_DOUBLE_EQ(h.sum(), 3.15);
  EXPECT_EQ(h.cumulative(), (std::vector<uint64_t>{2, 3, 4, 5}));  // 0.1 is in le="0.1"
  Exposition e;
  e.histogram("x_takeover_seconds", "takeover duration", h, {{"peer", "sg2"}});
  e.histogram("x_takeover_seconds", "takeover duration", Histogram({0.1, 0.5, 1}), {{"peer", "sg3"}});
  const std::string sum = format_value(h.sum());
  EXPECT_EQ(e.text(),
            "# HELP x_takeover_seconds takeover duration\n"
            "# TYPE x_takeover_seconds histogram\n"
            "x_takeover_seconds_bucket{peer=\"sg2\",le=\"0.1\"} 2\n"
            "x_takeover_seconds_bucket{peer=\"sg2\",le=\"0.5\"} 3\n"
            "x_takeover_seconds_bucket{peer=\"sg2\",le=\"1\"} 4\n"
            "x_takeover_seconds_bucket{peer=\"sg2\",le=\"+Inf\"} 5\n"
            "x_takeover_seconds_sum{peer=\"sg2\"} " +
                sum +
                "\n"
                "x_takeover_seconds_count{peer=\"sg2\"} 5\n"
                "x_takeover_seconds_bucket{peer=\"sg3\",le=\"0.1\"} 0\n"
                "x_takeover_seconds_bucket{peer=\"sg3\",le=\"0.5\"} 0\n"
                "x_takeover_seconds_bucket{peer=\"sg3\",le=\"1\"} 0\n"
                "x_takeover_seconds_bucket{peer=\"sg3\",le=\"+Inf\"} 0\n"
                "x_takeover_seconds_sum{peer=\"sg3\"} 0\n"
                "x_takeover_seconds_count{peer=\"sg3\"} 0\n");
}

TEST(MetricsText, HistogramWithoutLabelsAndUnsortedBounds) {
  Histogram h({1, 0.5});
  h.observe(0.5);
  Exposition e;
  e.histogram("x_d_seconds", "d", h);
  const std::string t = e.text();
  EXPECT_NE(t.find("x_d_seconds_bucket{le=\"0.5\"} 1\nx_d_seconds_bucket{le=\"1\"} 1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("x_d_seconds_sum 0.5\nx_d_seconds_count 1\n"), std::string::npos) << t;
}

TEST(MetricsText, DurationBucketsAreAscendingSeconds) {
  const auto b = elastic::metrics::duration_buckets();
  ASSERT_FALSE(b.empty());
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
  EXPECT_LE(b.front(), 0.0005);  // a round trip on a LAN is under a millisecond
  EXPECT_GE(b.back(), 10);       // a takeover of many VPNs takes seconds
}

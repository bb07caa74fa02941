// The Prometheus text exposition format (version 0.0.4) for the daemons' metrics: samples are
// grouped by family whatever order they are added in, so that each family has one # HELP, one
// # TYPE and its samples in one block (a scraper refuses a family that reappears later).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace elastic::metrics {

// Label name and value pairs, in the order they are printed. Values are escaped on output.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Observations counted into fixed buckets, as Prometheus histograms are: per bucket, the values
// not above its upper bound (a value on a bound is in that bucket), plus +Inf, sum and count.
class Histogram {
 public:
  // Upper bounds in base units (seconds), ascending; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Observations at most bounds()[i], cumulative; the last entry (+Inf) equals count().
  std::vector<uint64_t> cumulative() const;
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; one more than bounds_ (+Inf)
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Buckets for durations from a quarter millisecond (a round trip on a LAN) to half a minute (a
// takeover of many VPNs).
std::vector<double> duration_buckets();

class Exposition {
 public:
  // A counter: `name` gets the suffix _total if it lacks it (the convention for counters).
  void counter(std::string_view name, std::string_view help, uint64_t value, const Labels& labels = {});
  void gauge(std::string_view name, std::string_view help, double value, const Labels& labels = {});
  // name_bucket{...,le="..."} (cumulative, up to +Inf), name_sum and name_count.
  void histogram(std::string_view name, std::string_view help, const Histogram& h, const Labels& labels = {});
  // The families in the order each was first added; the help and type of a family are those of
  // its first sample.
  std::string text() const;

 private:
  struct Family {
    std::string name, help, type;
    std::string samples;  // its sample lines
  };
  Family& family(std::string_view name, std::string_view help, std::string_view type);
  std::vector<Family> families_;
};

// A label value as the text format wants it: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view v);
// A sample value or bucket bound: shortest exact decimal, +Inf, -Inf or NaN.
std::string format_value(double v);

}  // namespace elastic::metrics

#include "elastic/metrics_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace elastic::metrics {

namespace {

// HELP text escapes backslash and newline only (a double quote is literal there).
std::string escape_help(std::string_view h) {
  std::string out;
  for (char c : h) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string label_set(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (const auto& [k, v] : labels) out += (out.size() > 1 ? "," : "") + k + "=\"" + escape_label_value(v) + "\"";
  return out + "}";
}

std::string sample(std::string_view name, const Labels& labels, const std::string& value) {
  return std::string(name) + label_set(labels) + " " + value + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::observe(double v) {
  if (std::isnan(v)) return;  // would land in the first bucket and make the sum NaN for good
  // The first bound not below v: its bucket holds v (le is "less or equal"); none: +Inf.
  const auto i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  ++counts_[static_cast<size_t>(i)];
  sum_ += v;
  ++count_;
}

std::vector<uint64_t> Histogram::cumulative() const {
  std::vector<uint64_t> out(counts_.size());
  uint64_t acc = 0;
  for (size_t i = 0; i < counts_.size(); ++i) out[i] = acc += counts_[i];
  return out;
}

std::vector<double> duration_buckets() {
  return {0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += {'\\', c};
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Whole numbers (counts held as gauges) as integers: "100000", not "1e+05".
  if (v == std::trunc(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  // Else the shortest text that reads back as v, fixed unless tiny or huge ("0.0005", not the
  // "5e-04" of plain to_chars: a bucket bound is a label value, le="0.0005" as other exporters write it).
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
  return std::string(buf, end);
}

Exposition::Family& Exposition::family(std::string_view name, std::string_view help, std::string_view type) {
  for (auto& f : families_)
    if (f.name == name) return f;
  return families_.emplace_back(Family{std::string(name), std::string(help), std::string(type), {}});
}

void Exposition::counter(std::string_view name, std::string_view help, uint64_t value, const Labels& labels) {
  std::string full(name);
  if (!full.ends_with("_total")) full += "_total";
  family(full, help, "counter").samples += sample(full, labels, std::to_string(value));
}

void Exposition::gauge(std::string_view name, std::string_view help, double value, const Labels& labels) {
  family(name, help, "gauge").samples += sample(name, labels, format_value(value));
}

void Exposition::histogram(std::string_view name, std::string_view help, const Histogram& h, const Labels& labels) {
  auto& f = family(name, help, "histogram");
  const std::string n(name);
  const auto cum = h.cumulative();
  Labels with_le = labels;
  with_le.emplace_back("le", "");
  for (size_t i = 0; i < cum.size(); ++i) {
    with_le.back().second = i < h.bounds().size() ? format_value(h.bounds()[i]) : "+Inf";
    f.samples += sample(n + "_bucket", with_le, std::to_string(cum[i]));
  }
  f.samples += sample(n + "_sum", labels, format_value(h.sum()));
  f.samples += sample(n + "_count", labels, std::to_string(h.count()));
}

std::string Exposition::text() const {
  std::string out;
  for (const auto& f : families_)
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n# TYPE " + f.name + " " + f.type + "\n" + f.samples;
  return out;
}

}  // namespace elastic::metrics

#include "elastic_core.h"

#include <google/protobuf/stubs/logging.h>

#include <atomic>
#include <cstring>
#include <string>

#include "elastic.pb.h"
#include "elastic/parse_number.h"
#include "elastic/settings.h"

extern "C" const char* elastic_core_version(void) {
  return ELASTIC_VERSION;
}

extern "C" int elastic_core_schema_version(void) {
  return elastic::v1::SCHEMA_VERSION_1;
}

namespace {

// protobuf's log handler is a plain function pointer without user data, so the sink it forwards
// to is kept here (set at the plugin's start, cleared at its stop; read from any of charon's
// threads), with the handler that was installed before, to put it back.
std::atomic<elastic_log_fn> protobuf_sink{nullptr};
std::atomic<google::protobuf::LogHandler*> protobuf_previous{nullptr};

void forward_protobuf_log(google::protobuf::LogLevel level, const char* file, int line, const std::string& msg) {
  const elastic_log_fn sink = protobuf_sink.load();
  if (!sink) return;
  const std::string text = "elastic: protobuf (" + std::string(file) + ":" + std::to_string(line) + "): " + msg;
  sink(level >= google::protobuf::LOGLEVEL_WARNING ? 1 : 2, text.c_str());
}

}  // namespace

extern "C" void elastic_core_set_log(elastic_log_fn log) {
  protobuf_sink = log;
  if (log) {
    google::protobuf::LogHandler* before = google::protobuf::SetLogHandler(forward_protobuf_log);
    if (before != forward_protobuf_log) protobuf_previous = before;
  } else {
    // protobuf's SetLogHandler(nullptr) would discard every message: restore what was there
    google::protobuf::SetLogHandler(protobuf_previous.exchange(nullptr));
  }
}

extern "C" char* elastic_parse_u64(const char* s, const char* what, uint64_t min, uint64_t max, uint64_t* out) {
  auto v = elastic::parse_u64(s ? s : "", what, min, max);
  if (!v) return strdup(v.error().message.c_str());
  *out = *v;
  return nullptr;
}

extern "C" char* elastic_settings_where(const char* conf, const char* key) {
  if (!conf || !key) return nullptr;
  auto settings = elastic::sync::Settings::load(conf);
  if (!settings) return nullptr;
  const auto where = settings->where(key);
  if (!where.line) return nullptr;
  return strdup((where.file + ":" + std::to_string(where.line)).c_str());
}

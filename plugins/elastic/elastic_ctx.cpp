#include "elastic_ctx.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include "elastic/context_codec.h"
#include "elastic_ctx.hpp"

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// One step of a path: a field name with an optional [index].
struct Step {
  std::string_view name;
  int index = -1;
};

bool next_step(std::string_view& path, Step& step) {
  if (path.empty()) return false;
  auto dot = path.find('.');
  std::string_view part = path.substr(0, dot);
  path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  step = {part, -1};
  if (auto br = part.find('['); br != std::string_view::npos && part.back() == ']') {
    step.name = part.substr(0, br);
    int idx = 0;
    auto num = part.substr(br + 1, part.size() - br - 2);
    if (std::from_chars(num.data(), num.data() + num.size(), idx).ec != std::errc()) return false;
    step.index = idx;
  }
  return true;
}

void complain(const char* path, const char* what) {
  std::fprintf(stderr, "elastic: context path '%s': %s\n", path, what);
}

// Walks to the message holding the last step; `create` makes missing submessages.
// Returns the holder and leaves the last step in `last`.
const Message* walk(const Message& root, std::string_view path, Step& last, bool create, Message* mroot) {
  const Message* cur = &root;
  Message* mcur = mroot;
  Step step;
  while (next_step(path, step)) {
    if (path.empty()) {
      last = step;
      return cur;
    }
    const FieldDescriptor* f = cur->GetDescriptor()->FindFieldByName(std::string(step.name));
    if (!f || f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return nullptr;
    const auto* refl = cur->GetReflection();
    if (f->is_repeated()) {
      if (step.index < 0 || step.index >= refl->FieldSize(*cur, f)) return nullptr;
      if (mcur) mcur = refl->MutableRepeatedMessage(mcur, f, step.index);
      cur = mcur ? mcur : &refl->GetRepeatedMessage(*cur, f, step.index);
    } else {
      if (!create && !refl->HasField(*cur, f)) return nullptr;
      if (mcur) mcur = refl->MutableMessage(mcur, f);
      cur = mcur ? mcur : &refl->GetMessage(*cur, f);
    }
  }
  return nullptr;
}

Message* walk_mut(elastic_ctx_t* ctx, const char* path, Step& last, const FieldDescriptor*& f) {
  auto* holder = const_cast<Message*>(walk(ctx->msg, path, last, true, &ctx->msg));
  f = holder ? holder->GetDescriptor()->FindFieldByName(std::string(last.name)) : nullptr;
  if (!f) {
    complain(path, "no such field");
    return nullptr;
  }
  return holder;
}

// Whether every step of `path` names a field of the schema (whatever the message holds): a read of
// a misspelled path is a bug to report, not a 0 to use (for a counter, a reused nonce).
bool in_schema(std::string_view path) {
  const google::protobuf::Descriptor* d = elastic::v1::VpnContext::descriptor();
  Step step;
  while (next_step(path, step)) {
    const FieldDescriptor* f = d ? d->FindFieldByName(std::string(step.name)) : nullptr;
    if (!f) return false;
    d = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE ? f->message_type() : nullptr;
  }
  return true;
}

const Message* walk_const(const elastic_ctx_t* ctx, const char* path, Step& last, const FieldDescriptor*& f) {
  const Message* holder = walk(ctx->msg, path, last, false, nullptr);
  f = holder ? holder->GetDescriptor()->FindFieldByName(std::string(last.name)) : nullptr;
  if (!f && !in_schema(path)) complain(path, "no such field");
  return f ? holder : nullptr;
}

bool is_bytes(const FieldDescriptor* f) {
  return f->cpp_type() == FieldDescriptor::CPPTYPE_STRING;
}

}  // namespace

extern "C" {

elastic_ctx_t* elastic_ctx_create(void) {
  return new elastic_ctx_t;
}

elastic_ctx_t* elastic_ctx_clone(const elastic_ctx_t* ctx) {
  return new elastic_ctx_t(*ctx);
}

void elastic_ctx_destroy(elastic_ctx_t* ctx) {
  if (!ctx) return;
  elastic::wipe_keys(ctx->msg);
  delete ctx;
}

bool elastic_ctx_set_u64(elastic_ctx_t* ctx, const char* path, uint64_t v) {
  Step last;
  const FieldDescriptor* f;
  Message* m = walk_mut(ctx, path, last, f);
  if (!m || f->is_repeated()) return false;
  const auto* r = m->GetReflection();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_UINT64:
      r->SetUInt64(m, f, v);
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
      r->SetUInt32(m, f, static_cast<uint32_t>(v));
      return true;
    case FieldDescriptor::CPPTYPE_INT32:
      r->SetInt32(m, f, static_cast<int32_t>(v));
      return true;
    case FieldDescriptor::CPPTYPE_INT64:
      r->SetInt64(m, f, static_cast<int64_t>(v));
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      r->SetBool(m, f, v != 0);
      return true;
    case FieldDescriptor::CPPTYPE_ENUM:
      r->SetEnumValue(m, f, static_cast<int>(v));
      return true;
    default:
      complain(path, "not a scalar field");
      return false;
  }
}

bool elastic_ctx_set_bytes(elastic_ctx_t* ctx, const char* path, const void* data, size_t len) {
  Step last;
  const FieldDescriptor* f;
  Message* m = walk_mut(ctx, path, last, f);
  if (!m || f->is_repeated() || !is_bytes(f)) return false;
  m->GetReflection()->SetString(m, f, std::string(static_cast<const char*>(data), len));
  return true;
}

bool elastic_ctx_add_bytes(elastic_ctx_t* ctx, const char* path, const void* data, size_t len) {
  Step last;
  const FieldDescriptor* f;
  Message* m = walk_mut(ctx, path, last, f);
  if (!m || !f->is_repeated() || !is_bytes(f)) return false;
  m->GetReflection()->AddString(m, f, std::string(static_cast<const char*>(data), len));
  return true;
}

int elastic_ctx_add(elastic_ctx_t* ctx, const char* path) {
  Step last;
  const FieldDescriptor* f;
  Message* m = walk_mut(ctx, path, last, f);
  if (!m || !f->is_repeated() || f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return -1;
  m->GetReflection()->AddMessage(m, f);
  return m->GetReflection()->FieldSize(*m, f) - 1;
}

uint64_t elastic_ctx_get_u64(const elastic_ctx_t* ctx, const char* path) {
  Step last;
  const FieldDescriptor* f;
  const Message* m = walk_const(ctx, path, last, f);
  if (!m || f->is_repeated()) return 0;
  const auto* r = m->GetReflection();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_UINT64:
      return r->GetUInt64(*m, f);
    case FieldDescriptor::CPPTYPE_UINT32:
      return r->GetUInt32(*m, f);
    case FieldDescriptor::CPPTYPE_INT32:
      return static_cast<uint64_t>(r->GetInt32(*m, f));
    case FieldDescriptor::CPPTYPE_INT64:
      return static_cast<uint64_t>(r->GetInt64(*m, f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return r->GetBool(*m, f);
    case FieldDescriptor::CPPTYPE_ENUM:
      return static_cast<uint64_t>(r->GetEnumValue(*m, f));
    default:
      return 0;
  }
}

bool elastic_ctx_get_bytes(const elastic_ctx_t* ctx, const char* path, const void** data, size_t* len) {
  Step last;
  const FieldDescriptor* f;
  const Message* m = walk_const(ctx, path, last, f);
  if (!m || !is_bytes(f)) return false;
  const auto* r = m->GetReflection();
  // Generated messages return their own storage; the scratch is only a formality of the API.
  static thread_local std::string scratch;
  const std::string* s;
  if (f->is_repeated()) {
    if (last.index < 0 || last.index >= r->FieldSize(*m, f)) return false;
    s = &r->GetRepeatedStringReference(*m, f, last.index, &scratch);
  } else {
    s = &r->GetStringReference(*m, f, &scratch);
  }
  if (s->empty()) return false;
  *data = s->data();
  *len = s->size();
  return true;
}

int elastic_ctx_count(const elastic_ctx_t* ctx, const char* path) {
  Step last;
  const FieldDescriptor* f;
  const Message* m = walk_const(ctx, path, last, f);
  if (!m || !f->is_repeated()) return 0;
  return m->GetReflection()->FieldSize(*m, f);
}

}  // extern "C"

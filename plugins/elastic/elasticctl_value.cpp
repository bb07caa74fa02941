#include "elasticctl_value.h"

#include <cstdio>
#include <string_view>

namespace elastic::ctl {
namespace {

// Length of the valid UTF-8 sequence at s[i] (shortest form, no surrogates), 0 if invalid.
size_t utf8_length(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  const size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
  if (n <= 1) return n;
  if (i + n > s.size()) return 0;
  uint32_t cp = b & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3f);
  }
  const uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

std::string hex_escape(const char* fmt, unsigned char c) {
  char b[8];
  std::snprintf(b, sizeof b, fmt, c);
  return b;
}

std::string printable(const std::string& s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += u < 0x20 || u == 0x7f ? hex_escape("\\x%02x", u) : std::string(1, c);
  }
  return out;
}

bool scalar(const Value& v) {
  return v.kind != Value::Kind::Object && v.kind != Value::Kind::Array;
}

std::string scalar_text(const Value& v) {
  switch (v.kind) {
    case Value::Kind::String:
      return printable(v.text);
    case Value::Kind::Number:
      return std::to_string(v.number);
    case Value::Kind::Bool:
      return v.flag ? "yes" : "no";
    default:
      return "";
  }
}

void json(const Value& v, std::string& out) {
  switch (v.kind) {
    case Value::Kind::String:
      out += "\"" + json_escape(v.text) + "\"";
      return;
    case Value::Kind::Number:
      out += std::to_string(v.number);
      return;
    case Value::Kind::Bool:
      out += v.flag ? "true" : "false";
      return;
    case Value::Kind::Array:
      out += "[";
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ", ";
        json(v.items[i], out);
      }
      out += "]";
      return;
    case Value::Kind::Object:
      out += "{";
      for (size_t i = 0; i < v.items.size(); ++i) {
        out += (i ? ", \"" : "\"") + json_escape(v.keys[i]) + "\": ";
        json(v.items[i], out);
      }
      out += "}";
      return;
  }
}

void text(const Value& obj, const std::string& pad, std::string& out);

// An array of objects: each one's lines indented, its first line marked "- ".
void text_items(const Value& arr, const std::string& pad, std::string& out) {
  for (const auto& item : arr.items) {
    if (scalar(item) || item.kind == Value::Kind::Array) continue;  // not produced by elasticctl
    std::string lines;
    text(item, pad + "    ", lines);
    if (lines.size() >= pad.size() + 4) lines.replace(0, pad.size() + 4, pad + "  - ");
    out += lines;
  }
}

void text(const Value& obj, const std::string& pad, std::string& out) {
  for (size_t i = 0; i < obj.items.size(); ++i) {
    const Value& v = obj.items[i];
    out += pad + printable(obj.keys[i]) + ":";
    if (scalar(v)) {
      out += " " + scalar_text(v) + "\n";
    } else if (v.kind == Value::Kind::Object) {
      out += "\n";
      text(v, pad + "  ", out);
    } else if (v.items.empty()) {
      out += " none\n";
    } else if (scalar(v.items[0])) {
      for (size_t k = 0; k < v.items.size(); ++k) out += (k ? ", " : " ") + scalar_text(v.items[k]);
      out += "\n";
    } else {
      out += "\n";
      text_items(v, pad, out);
    }
  }
}

}  // namespace

Value Value::str(std::string s) {
  Value v;
  v.kind = Kind::String;
  v.text = std::move(s);
  return v;
}

Value Value::num(uint64_t n) {
  Value v;
  v.kind = Kind::Number;
  v.number = n;
  return v;
}

Value Value::boolean(bool b) {
  Value v;
  v.kind = Kind::Bool;
  v.flag = b;
  return v;
}

Value Value::array() {
  Value v;
  v.kind = Kind::Array;
  return v;
}

Value& Value::add(std::string key, Value v) {
  keys.push_back(std::move(key));
  items.push_back(std::move(v));
  return *this;
}

Value& Value::push(Value v) {
  items.push_back(std::move(v));
  return *this;
}

const Value* Value::find(const std::string& key) const {
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return &items[i];
  return nullptr;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    if (c == '"' || c == '\\')
      out += std::string("\\") + s[i];
    else if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f)
      out += hex_escape("\\u%04x", c);
    else
      out.append(s, i, n);
    i += n;
  }
  return out;
}

std::string to_json(const Value& v) {
  std::string out;
  json(v, out);
  return out + "\n";
}

std::string to_text(const Value& v) {
  std::string out;
  text(v, "", out);
  return out;
}

}  // namespace elastic::ctl

// elasticctl's output model: a JSON-shaped value printed either as JSON (for scripts) or as
// indented "key: value" text (for people). inspect builds one value and prints it in the form
// asked for, so both forms always carry the same fields.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace elastic::ctl {

struct Value {
  enum class Kind { String, Number, Bool, Object, Array };

  Kind kind = Kind::Object;
  std::string text;               // String
  uint64_t number = 0;            // Number
  bool flag = false;              // Bool
  std::vector<std::string> keys;  // Object: keys[i] names items[i]
  std::vector<Value> items;       // Object members, Array elements

  static Value str(std::string s);
  static Value num(uint64_t n);
  static Value boolean(bool b);
  static Value object() { return {}; }
  static Value array();

  // Appends an object member / an array element; returns *this for chaining.
  Value& add(std::string key, Value v);
  Value& push(Value v);
  // The object member named `key`, or nullptr.
  const Value* find(const std::string& key) const;
};

// JSON string contents: quotes, backslashes and control characters escaped, invalid UTF-8 (which
// would make the whole document unparsable) replaced by U+FFFD.
std::string json_escape(const std::string& s);

// One line of JSON with a newline.
std::string to_json(const Value& v);

// An object as "key: value" lines, nested objects indented by two, arrays of scalars on one line
// ("a, b"), arrays of objects as "- " items; booleans as yes/no. Control characters in strings
// are shown as \xNN (a context's names must not drive the terminal).
std::string to_text(const Value& v);

}  // namespace elastic::ctl

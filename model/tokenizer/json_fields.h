// Reading tokenizer.json / tokenizer_config.json fields with errors that name the file and
// the field path ("pre_tokenizer.pretokenizers[1].pattern") and say what was expected.
// Only the accessors the tokenizer loaders need; not a schema validator.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/error.h"

namespace grpo::tok {

using Json = nlohmann::json;

class Fields {
 public:
  explicit Fields(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error(SourceLocation{file_, 0, 0}, "field '" + field + "': " + problem);
  }

  // obj[key], which must exist and not be null.
  const Json& required(const Json& obj, const char* key, const std::string& path) const {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) fail(join(path, key), "missing");
    return *it;
  }
  std::string string(const Json& obj, const char* key, const std::string& path) const {
    const Json& v = required(obj, key, path);
    if (!v.is_string()) fail(join(path, key), "expected a string, got " + std::string(v.type_name()));
    return v.get<std::string>();
  }
  std::string string_or(const Json& obj, const char* key, const std::string& path,
                        const std::string& fallback) const {
    const auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? fallback : string(obj, key, path);
  }
  bool boolean_or(const Json& obj, const char* key, const std::string& path, bool fallback) const {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(join(path, key), "expected true or false, got " + std::string(it->type_name()));
    return it->get<bool>();
  }
  long long integer(const Json& obj, const char* key, const std::string& path) const {
    const Json& v = required(obj, key, path);
    if (!v.is_number_integer()) fail(join(path, key), "expected an integer, got " + std::string(v.type_name()));
    return v.get<long long>();
  }
  const Json& array(const Json& obj, const char* key, const std::string& path) const {
    const Json& v = required(obj, key, path);
    if (!v.is_array()) fail(join(path, key), "expected a list, got " + std::string(v.type_name()));
    return v;
  }
  const Json& object(const Json& obj, const char* key, const std::string& path) const {
    const Json& v = required(obj, key, path);
    if (!v.is_object()) fail(join(path, key), "expected an object, got " + std::string(v.type_name()));
    return v;
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

}  // namespace grpo::tok

// Small string helpers shared by every module: trimming, splitting, joining, and the
// "did you mean" suggestion used by config keys and registries. Not a Unicode library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace grpo {

std::string trim(const std::string& s);
std::vector<std::string> split(const std::string& s, char sep);
std::string join(const std::vector<std::string>& parts, const std::string& sep);
bool starts_with(const std::string& s, const std::string& prefix);
bool ends_with(const std::string& s, const std::string& suffix);
// The value of a string of decimal digits, or nullopt when it is empty, has any other byte, or
// does not fit 64 bits: untrusted text (a config key, a directory name, a file field) never throws.
std::optional<uint64_t> parse_decimal(const std::string& digits);
// printf-style formatting into a std::string.
std::string strformat(const char* format, ...) __attribute__((format(printf, 1, 2)));
// Levenshtein distance (bytes).
size_t edit_distance(const std::string& a, const std::string& b);
// The candidate closest to `word`, or "" when nothing is reasonably close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "" — ready to append to an error message.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace grpo

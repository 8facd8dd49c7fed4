// Noisy-teacher SFT responses for generated tasks; see responses.h.
#include "datasets/responses.h"

#include "core/error.h"
#include "datasets/deterministic_random.h"

namespace grpo::datasets {
namespace {

std::string field_text(const Record& r, const std::string& name, const std::string& answer) {
  if (name == "answer") return answer;
  if (r.extra.contains(name)) {
    const auto& v = r.extra[name];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return v.dump();
  }
  throw Error(SourceLocation{r.source.file, r.source.line, 0},
              "response pattern names {" + name + "}, which record '" + r.id + "' does not have");
}

std::string render(const std::string& pattern, const Record& r, const std::string& answer) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out += pattern[i];
      continue;
    }
    const size_t close = pattern.find('}', i);
    if (close == std::string::npos) throw Error("response pattern has an unclosed '{': " + pattern);
    out += field_text(r, pattern.substr(i + 1, close - i - 1), answer);
    i = close;
  }
  return out;
}

}  // namespace

void add_responses(std::vector<Record>& records, const ResponseOptions& options) {
  require(!options.styles.empty(), "add_responses needs at least one response style");
  for (const auto& style : options.styles) {
    require(style.wrong_fraction >= 0 && style.wrong_fraction <= 1,
            "wrong_fraction of response '" + style.pattern + "' must be in [0, 1]");
  }
  require(options.max_offset >= 1, "max_offset must be >= 1");
  DeterministicRandom rng(options.seed ^ 0x5EED5EEDull);
  for (auto& r : records) {
    const ResponseStyle& style =
        options.styles.size() == 1 ? options.styles[0] : options.styles[rng.below(options.styles.size())];
    std::string answer = r.answer;
    if (static_cast<double>(rng.below(1u << 30)) < style.wrong_fraction * (1u << 30)) {
      int64_t value;
      try {
        size_t used = 0;
        value = std::stoll(r.answer, &used);
        if (used != r.answer.size()) throw std::invalid_argument("trailing text");
      } catch (const std::exception&) {
        throw Error(SourceLocation{r.source.file, r.source.line, 0},
                    "record '" + r.id + "': a wrong response needs an integer answer, got '" + r.answer + "'");
      }
      const int64_t offset = 1 + static_cast<int64_t>(rng.below(static_cast<uint64_t>(options.max_offset)));
      value += rng.below(2) == 0 ? -offset : offset;
      answer = std::to_string(value);
    }
    r.extra["response"] = render(style.pattern, r, answer);
  }
}

}  // namespace grpo::datasets

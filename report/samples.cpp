// The sample browser; see samples.h.
#include "report/samples.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <sstream>

#include "core/text/reflection_phrases.h"
#include "report/html.h"

namespace grpo::report {
namespace {

std::string sample_extra_number(const SampleRecord& s, const char* key) {
  const auto it = s.extra.find(key);
  return it != s.extra.end() && it->is_number() ? format_number(it->get<double>()) : "";
}

bool is_truncated(const SampleRecord& s) {
  const auto it = s.extra.find("truncated");
  return it != s.extra.end() && it->is_boolean() && it->get<bool>();
}

std::string reward_details(const SampleRecord& s) {
  std::string out;
  if (!s.rewards.is_object()) return out;
  for (const auto& [name, value] : s.rewards.items())
    out += "<span class='kv'>" + escape_html(name) + " " +
           (value.is_number() ? format_number(value.get<double>()) : escape_html(value.dump())) + "</span>";
  return out;
}

std::string render_completion(const SampleRecord& s, const std::vector<std::string>& phrases) {
  const bool truncated = is_truncated(s);
  const std::string length = sample_extra_number(s, "length");
  std::ostringstream html;
  html << "<div class='completion' data-reward='" << format_number(s.reward) << "' data-truncated='"
       << (truncated ? 1 : 0) << "'><div class='meta'><b>reward " << format_number(s.reward) << "</b>"
       << "<span class='kv'>advantage " << format_number(s.advantage) << "</span>" << reward_details(s);
  if (!length.empty()) html << "<span class='kv'>" << length << " tokens</span>";
  if (truncated) html << "<span class='kv truncated'>truncated</span>";
  html << "</div><pre>" << highlight_phrases(s.completion, phrases) << "</pre></div>";
  return html.str();
}

}  // namespace

std::vector<std::string> reflection_phrases_of(const std::string& config_yaml) {
  try {
    const YAML::Node phrases = YAML::Load(config_yaml)["metrics"]["reflection_phrases"];
    if (phrases && phrases.IsSequence()) return phrases.as<std::vector<std::string>>();
  } catch (const YAML::Exception&) {
    // A config that is not YAML is reported by the config section; highlighting falls back.
  }
  return default_reflection_phrases();
}

std::string highlight_phrases(const std::string& text, const std::vector<std::string>& phrases) {
  std::string out, plain;
  size_t at = 0;
  while (at < text.size()) {
    size_t longest = 0;
    for (const auto& p : phrases)
      if (!p.empty() && p.size() > longest && phrase_occurs_at(text, at, p)) longest = p.size();
    if (longest == 0) {
      plain += text[at++];
      continue;
    }
    out += escape_html(plain) + "<mark>" + escape_html(text.substr(at, longest)) + "</mark>";
    plain.clear();
    at += longest;
  }
  return out + escape_html(plain);
}

std::string render_sample_browser(const std::vector<SampleRecord>& samples, const std::vector<std::string>& phrases) {
  if (samples.empty()) return "<p class='missing'>no samples logged in this run (train.log_samples)</p>";
  std::map<int64_t, std::map<int64_t, std::vector<const SampleRecord*>>> by_step;
  for (const auto& s : samples) by_step[s.step][s.prompt_index].push_back(&s);
  std::ostringstream html;
  html << "<div id='sample-browser'><div class='controls'><label>step <select id='sample-step'>";
  for (const auto& entry : by_step) html << "<option value='" << entry.first << "'>" << entry.first << "</option>";
  html << "</select></label><label>reward from <input id='reward-min' type='number' step='any'></label>"
       << "<label>to <input id='reward-max' type='number' step='any'></label>"
       << "<label><input id='truncated-only' type='checkbox'> truncated only</label>"
       << "<label>text <input id='sample-search' type='search' placeholder='search completions'></label>"
       << "<span id='sample-count'></span></div>"
       << "<p class='note'>highlighted: ";
  for (size_t i = 0; i < phrases.size(); ++i) html << (i ? ", " : "") << "<mark>" << escape_html(phrases[i]) << "</mark>";
  html << "</p>";
  for (const auto& [step, prompts] : by_step) {
    html << "<section class='sample-step' data-step='" << step << "'><h3>step " << step << "</h3>";
    for (const auto& [prompt_index, group] : prompts) {
      html << "<div class='prompt-group'><div class='prompt'><span class='kv'>prompt " << prompt_index
           << "</span><pre>" << escape_html(group.front()->prompt) << "</pre></div>";
      for (const auto* s : group) html << render_completion(*s, phrases);
      html << "</div>";
    }
    html << "</section>";
  }
  html << "</div>";
  return html.str();
}

}  // namespace grpo::report

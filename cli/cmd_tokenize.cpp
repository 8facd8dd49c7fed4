// `grpo tokenize`: a debugging aid for tokenizers. Encodes --text or the contents of --input
// and prints one "id<TAB>token" line per token (or only the ids with --ids), or decodes
// --decode 1,2,3 back to text. It does not render chat templates or train tokenizers.
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "core/error.h"
#include "core/strings.h"
#include "model/tokenizer/tokenizer.h"

namespace {

struct TokenizeArgs {
  std::string tokenizer;
  std::string text;
  std::string input;
  std::string decode;
  bool ids_only = false;
  bool no_special = false;
};

std::vector<int> parse_ids(const std::string& list) {
  std::vector<int> ids;
  for (const auto& part : grpo::split(list, ',')) {
    const std::string t = grpo::trim(part);
    if (t.empty()) continue;
    try {
      size_t used = 0;
      ids.push_back(std::stoi(t, &used));
      if (used != t.size()) throw std::invalid_argument(t);
    } catch (const std::exception&) {
      throw grpo::Error("--decode: '" + t + "' is not a token id (expected a comma-separated list such as 1,2,3)");
    }
  }
  return ids;
}

std::string read_input(const TokenizeArgs& a) {
  if (a.input.empty()) return a.text;
  std::ifstream in(a.input, std::ios::binary);
  if (!in) throw grpo::Error(grpo::SourceLocation{a.input, 0, 0}, "cannot open input file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void run_tokenize(const TokenizeArgs& a) {
  const grpo::Tokenizer tok = grpo::Tokenizer::from_file(a.tokenizer);
  if (!a.decode.empty()) {
    std::cout << tok.decode(parse_ids(a.decode), a.no_special) << "\n";
    return;
  }
  const auto ids = tok.encode(read_input(a), !a.no_special);
  if (a.ids_only) {
    std::vector<std::string> parts;
    for (int id : ids) parts.push_back(std::to_string(id));
    std::cout << grpo::join(parts, " ") << "\n";
    return;
  }
  for (int id : ids) std::cout << id << "\t" << tok.id_to_token(id).value_or("?") << "\n";
  std::cout << ids.size() << " tokens\n";
}

void setup_tokenize(CLI::App& root) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* cmd = root.add_subcommand("tokenize", "Encode text or decode ids with a tokenizer.json (debugging aid)");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer.json, or a directory holding it")->required();
  auto* text = cmd->add_option("--text", args->text, "Text to encode");
  auto* input = cmd->add_option("--input", args->input, "File whose contents to encode");
  auto* decode = cmd->add_option("--decode", args->decode, "Comma-separated ids to decode, e.g. 1,2,3");
  text->excludes(input)->excludes(decode);
  input->excludes(decode);
  cmd->add_flag("--ids", args->ids_only, "Print only the ids, space-separated");
  cmd->add_flag("--no-special", args->no_special,
                "Encode without BOS/EOS; decode without special tokens");
  cmd->callback([args] { run_tokenize(*args); });
}

}  // namespace

GRPO_REGISTER_COMMAND(tokenize, setup_tokenize);

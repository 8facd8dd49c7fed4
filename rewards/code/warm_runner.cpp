// The warm runner's source and its message; see warm_runner.h.
#include "rewards/code/warm_runner.h"

#include <cstdio>

namespace grpo::rewards::detail {
namespace {

// Reads the message with os.read so nothing past it is buffered away from the program's
// sys.stdin; EOF before a whole message (the pool is shutting down) exits quietly.
constexpr const char* kRunner = R"PY(import os, sys, types, builtins
def _grpo_serve():
    def read_exactly(size):
        data = b""
        while len(data) < size:
            chunk = os.read(0, size - len(data))
            if not chunk:
                os._exit(0)
            data += chunk
        return data
    fields = read_exactly(int(read_exactly(10))).split(b"\0")
    argc = int(fields[0])
    args = [os.fsdecode(field) for field in fields[1:1 + argc]]
    for pair in fields[1 + argc:]:
        key, _, value = os.fsdecode(pair).partition("=")
        os.environ[key] = value
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    if args[0] == "-c":
        sys.argv = ["-c"] + args[2:]
        filename, source = "<string>", args[1]
    else:
        sys.argv = args
        filename = main.__file__ = os.path.abspath(args[0])
        with open(filename, "rb") as file:
            source = file.read()
    del fields, args
    sys.modules["__main__"] = main
    try:
        exec(compile(source, filename, "exec"), main.__dict__)
    except SystemExit:
        raise
    except BaseException as error:
        error.__traceback__ = error.__traceback__.tb_next
        sys.excepthook(type(error), error, error.__traceback__)
        sys.exit(1)
_grpo_serve()
)PY";

constexpr size_t kLengthDigits = 10;

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

}  // namespace

std::vector<std::string> warm_runner_argv(const std::string& python, const std::string& tag) {
  return {python, "-I", "-c", kRunner, tag};
}

bool warm_runner_serves(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                        const std::string& python) {
  if (argv.size() < 3 || argv[0] != python || argv[1] != "-I") return false;
  if (argv[2] == "-c" ? argv.size() < 4 : argv[2].empty() || argv[2][0] == '-') return false;
  for (const auto& arg : argv) {
    if (has_nul(arg)) return false;
  }
  for (const auto& [key, value] : env) {
    if (key.empty() || has_nul(key) || key.find('=') != std::string::npos || has_nul(value)) return false;
  }
  return true;
}

std::string warm_runner_message(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  std::string body = std::to_string(argv.size() - 2);
  for (size_t i = 2; i < argv.size(); ++i) body += std::string(1, '\0') + argv[i];
  for (const auto& [key, value] : env) body += std::string(1, '\0') + key + "=" + value;
  char length[kLengthDigits + 1];
  std::snprintf(length, sizeof length, "%010zu", body.size());
  return length + body;
}

}  // namespace grpo::rewards::detail

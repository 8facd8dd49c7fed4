// The trusted Python runner inside a warm sandbox (see Sandbox in sandbox.h). A warm child is
// started exactly as a cold one, with the same namespaces, rlimits, seccomp filter, uid and
// private working directory, but runs `python3 -I -c <runner>` instead of the program: the
// interpreter and its site imports start before any program is known. The runner blocks on
// stdin for ONE message (the program's argv after `python3 -I`, and its extra environment),
// then runs the program in a fresh `__main__` module as `python3 -I <argv>` would (sys.argv,
// __file__, cwd, stdin/stdout, exit codes, tracebacks without the runner's frame), and the
// process exits with it. Whatever follows the message on stdin is the program's stdin.
// A runner serves one program and dies; it never runs two. Internal to rewards/code.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace grpo::rewards::detail {

// argv of a warm child: {python, "-I", "-c", <runner source>, tag}; `tag` marks its command line.
std::vector<std::string> warm_runner_argv(const std::string& python, const std::string& tag);

// Whether a warm child of `python` runs this program exactly as exec would: argv must be
// {python, "-I", script-or-"-c" code, args...} with no NUL bytes in argv or env.
bool warm_runner_serves(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                        const std::string& python);

// The message the runner reads before the program's stdin: a 10-digit length, then
// argc, argv[2:], and KEY=VALUE pairs, joined by NUL bytes.
std::string warm_runner_message(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env);

}  // namespace grpo::rewards::detail

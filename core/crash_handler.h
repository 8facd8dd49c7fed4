// Crash reports: on SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT, print the signal, the faulting
// address, the instruction pointer with the library and nearest symbol that hold it, and a stack
// trace on stderr, then let the default action run (core dump, exit status 128+n). The
// instruction pointer matters on its own: code without unwind tables (JIT-generated BLAS or
// oneDNN kernels, hand-written assembly) stops the stack trace at the signal frame.
#pragma once

namespace grpo {

void install_crash_handler();

}  // namespace grpo

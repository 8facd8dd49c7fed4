// See crash_handler.h. Only async-signal-safe output (write) is used, except dladdr, which is
// safe enough in practice for a process that is about to die anyway.
#include "core/crash_handler.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>

namespace grpo {
namespace {

void put(const char* s) { (void)!write(STDERR_FILENO, s, std::strlen(s)); }

void put_hex(uintptr_t v) {
  char buf[2 + 16 + 1];
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < 16; ++i) buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
  buf[18] = '\0';
  put(buf);
}

const char* signal_name(int signal) {
  switch (signal) {
    case SIGSEGV: return "segmentation fault";
    case SIGBUS: return "bus error";
    case SIGFPE: return "floating-point exception";
    case SIGILL: return "illegal instruction";
    default: return "abort";
  }
}

// "  0x... lib (offset 0x...) near symbol\n" for a code address; false if no library holds it.
bool put_code_address(uintptr_t pc) {
  Dl_info where{};
  if (pc == 0 || dladdr(reinterpret_cast<void*>(pc), &where) == 0 || where.dli_fname == nullptr) return false;
  put("  ");
  put_hex(pc);
  put(" ");
  put(where.dli_fname);
  put(" (offset ");
  put_hex(pc - reinterpret_cast<uintptr_t>(where.dli_fbase));
  put(") near ");
  put(where.dli_sname ? where.dli_sname : "?");
  put("\n");
  return true;
}

void on_crash(int signal, siginfo_t* info, void* context) {
  put("grpo crashed: ");
  put(signal_name(signal));
  put(" at address ");
  put_hex(reinterpret_cast<uintptr_t>(info->si_addr));
  put("\n");
#if defined(__x86_64__)
  const auto& regs = static_cast<ucontext_t*>(context)->uc_mcontext.gregs;
  const auto pc = static_cast<uintptr_t>(regs[REG_RIP]);
  put("instruction pointer:\n");
  if (!put_code_address(pc)) {
    put("  ");
    put_hex(pc);
    put(" (in no library: a call through a bad function pointer?)\n");
  }
  // Return addresses among the top stack words: a trace that needs no unwind tables (a call to
  // a null pointer, or a fault in JIT code, leaves the unwinder nothing to start from).
  put("code addresses on the stack, innermost first:\n");
  const auto* sp = reinterpret_cast<const uintptr_t*>(regs[REG_RSP]);
  for (int i = 0, shown = 0; i < 256 && shown < 24; ++i) shown += put_code_address(sp[i]) ? 1 : 0;
#else
  (void)context;
#endif
  put("stack (unwound):\n");
  void* frames[64];
  backtrace_symbols_fd(frames, backtrace(frames, 64), STDERR_FILENO);
  raise(signal);  // SA_RESETHAND restored the default action
}

}  // namespace

void install_crash_handler() {
  void* warm[1];
  backtrace(warm, 1);  // loads libgcc's unwinder now, not inside the handler
  struct sigaction action {};
  action.sa_sigaction = on_crash;
  action.sa_flags = SA_SIGINFO | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(s, &action, nullptr);
}

}  // namespace grpo

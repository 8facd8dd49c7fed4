// Builds the sandbox's seccomp program; see seccomp_filter.h.
#include "rewards/code/seccomp_filter.h"

#ifdef GRPO_HAVE_SECCOMP
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sched.h>
#endif

#include "core/error.h"

namespace grpo::rewards::detail {
namespace {

#ifdef GRPO_HAVE_SECCOMP
std::vector<sock_filter> build() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) throw Error("sandbox: seccomp_init failed");
  int rc = 0;
  auto deny = [&](int syscall_nr, int err) { rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), syscall_nr, 0); };
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_INET));
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_INET6));
  for (int nr : {SCMP_SYS(setsid), SCMP_SYS(setpgid), SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(mount),
                 SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot), SCMP_SYS(ptrace),
                 SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev), SCMP_SYS(bpf), SCMP_SYS(perf_event_open),
                 SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(init_module),
                 SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(kexec_load), SCMP_SYS(reboot),
                 SCMP_SYS(userfaultfd), SCMP_SYS(mount_setattr), SCMP_SYS(open_tree), SCMP_SYS(move_mount),
                 SCMP_SYS(fsopen), SCMP_SYS(fsmount)}) {
    deny(nr, EPERM);
  }
  deny(SCMP_SYS(clone3), ENOSYS);
  // Namespace flags on clone, each on its own (a masked compare matches one mask at a time).
  for (scmp_datum_t flag : {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWIPC, CLONE_NEWUTS,
                            CLONE_NEWCGROUP}) {
    rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
  }
  if (rc != 0) {
    seccomp_release(ctx);
    throw Error("sandbox: building the seccomp filter failed");
  }
  const int fd = memfd_create("grpo-seccomp", MFD_CLOEXEC);
  std::vector<sock_filter> program;
  if (fd >= 0 && seccomp_export_bpf(ctx, fd) == 0) {
    const off_t size = lseek(fd, 0, SEEK_END);
    program.resize(static_cast<size_t>(size) / sizeof(sock_filter));
    if (pread(fd, program.data(), program.size() * sizeof(sock_filter), 0) != size) program.clear();
  }
  if (fd >= 0) close(fd);
  seccomp_release(ctx);
  if (program.empty()) throw Error("sandbox: exporting the seccomp filter failed");
  return program;
}
#endif

}  // namespace

const std::vector<sock_filter>& seccomp_program() {
#ifdef GRPO_HAVE_SECCOMP
  static const std::vector<sock_filter> program = build();
#else
  static const std::vector<sock_filter> program;
#endif
  return program;
}

}  // namespace grpo::rewards::detail

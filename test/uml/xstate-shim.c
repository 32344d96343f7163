/*
 * LD_PRELOAD shim for Debian's user-mode-linux kernel on hosts with a large XSAVE area
 * (AVX-512, AMX). UML saves and restores a guest task's FPU state with
 * PTRACE_GETREGSET/SETREGSET(NT_X86_XSTATE) into a fixed 832-byte buffer (legacy + header + AVX);
 * recent host kernels refuse a SETREGSET whose size is not the full XSAVE size (EFAULT), and UML
 * panics at the first guest process ("ptrace set fp regs failed, errno = 14").
 *
 * The shim keeps the full XSAVE image per UML buffer address (one per guest task): GETREGSET
 * fetches the full image and hands UML its first bytes; SETREGSET overlays UML's bytes (which it
 * may have changed, e.g. for a signal frame) on the kept image and writes the full size. So the
 * upper registers (ZMM, AMX) survive guest context switches too. Test-tier tool only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

#define FULL_MAX (64 * 1024)
#define SLOTS 4096

struct slot { void *key; unsigned char *image; size_t size; };
static struct slot slots[SLOTS];

static long (*real_ptrace)(int, pid_t, void *, void *);

static struct slot *slot_for(void *key, int create) {
  size_t h = ((uintptr_t)key >> 4) % SLOTS;
  for (size_t i = 0; i < SLOTS; i++) {
    struct slot *s = &slots[(h + i) % SLOTS];
    if (s->key == key) return s;
    if (s->key == NULL) {
      if (!create) return NULL;
      s->key = key;
      s->image = malloc(FULL_MAX);
      s->size = 0;
      return s->image ? s : NULL;
    }
  }
  return NULL;
}

/* glibc's ptrace is variadic: ptrace(request, pid, addr, data) */
long ptrace(enum __ptrace_request request, ...) {
  va_list ap;
  va_start(ap, request);
  pid_t pid = va_arg(ap, pid_t);
  void *addr = va_arg(ap, void *);
  void *data = va_arg(ap, void *);
  va_end(ap);
  if (!real_ptrace) real_ptrace = (long (*)(int, pid_t, void *, void *))dlsym(RTLD_NEXT, "ptrace");
  if ((request != PTRACE_GETREGSET && request != PTRACE_SETREGSET) || (uintptr_t)addr != NT_X86_XSTATE)
    return real_ptrace(request, pid, addr, data);
  struct iovec *iov = data;
  struct slot *s = slot_for(iov->iov_base, 1);
  if (!s) return real_ptrace(request, pid, addr, data);
  struct iovec full = { s->image, FULL_MAX };
  if (request == PTRACE_GETREGSET) {
    long r = real_ptrace(PTRACE_GETREGSET, pid, addr, &full);
    if (r < 0) return r;
    s->size = full.iov_len;
    size_t n = iov->iov_len < s->size ? iov->iov_len : s->size;
    memcpy(iov->iov_base, s->image, n);
    iov->iov_len = n;
    return r;
  }
  if (s->size == 0 || iov->iov_len > s->size) {
    /* never fetched for this buffer (a new task): start from the tracee's current image */
    long r = real_ptrace(PTRACE_GETREGSET, pid, addr, &full);
    if (r < 0) return r;
    s->size = full.iov_len;
    if (iov->iov_len > s->size) return real_ptrace(request, pid, addr, data);
  }
  memcpy(s->image, iov->iov_base, iov->iov_len);
  full.iov_len = s->size;
  return real_ptrace(PTRACE_SETREGSET, pid, addr, &full);
}

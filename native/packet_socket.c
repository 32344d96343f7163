/*
 * kts_packet: the smallest N-API addon that lets keepalived-ts send link-layer frames.
 * Node's raw-socket libraries cannot open AF_PACKET, and gratuitous ARP must be written at the
 * Ethernet level (custom source MAC for use_vmac, broadcast destination). We expose three calls:
 *   open() -> fd                      socket(AF_PACKET, SOCK_RAW, 0): send-only (protocol 0
 *                                     means the kernel delivers us nothing to read)
 *   send(fd, ifindex, frame) -> bytes sendto() with a sockaddr_ll for that interface
 *   close(fd)
 *   ifindex(name) -> number           if_nametoindex(), 0 if absent
 *   sockFprog(program) -> Buffer      a struct sock_fprog pointing at `program` (classic BPF
 *                                     instructions, 8 bytes each), for setsockopt(SO_ATTACH_FILTER)
 *                                     on a socket whose fd we do not hold (raw-socket's): the
 *                                     caller keeps `program` alive until that call returns (the
 *                                     kernel copies it)
 * Errors are thrown as Error objects whose `code` is the errno name (EPERM, ENXIO...).
 * The fd is a plain integer owned by the JS wrapper (no GC finaliser closes it behind our back).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <linux/filter.h>

static const char *errno_code(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
    case ENXIO: return "ENXIO";
    case ENODEV: return "ENODEV";
    case ENETDOWN: return "ENETDOWN";
    case EINVAL: return "EINVAL";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOBUFS: return "ENOBUFS";
    case EAGAIN: return "EAGAIN";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EMFILE: return "EMFILE";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *what, int e) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
  napi_throw_error(env, errno_code(e), msg);
  return NULL;
}

static int get_int32_arg(napi_env env, napi_value v, int32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET, SOCK_RAW)", errno);
  napi_value r;
  napi_create_int32(env, fd, &r);
  return r;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd, ifindex;
  if (argc < 3 || !get_int32_arg(env, argv[0], &fd) || !get_int32_arg(env, argv[1], &ifindex)) {
    napi_throw_type_error(env, "EINVAL", "send(fd: number, ifindex: number, frame: Buffer)");
    return NULL;
  }
  bool is_buf = false;
  napi_is_buffer(env, argv[2], &is_buf);
  if (!is_buf) {
    napi_throw_type_error(env, "EINVAL", "frame must be a Buffer");
    return NULL;
  }
  void *data;
  size_t len;
  napi_get_buffer_info(env, argv[2], &data, &len);
  if (len < ETH_HLEN) {
    napi_throw_range_error(env, "EINVAL", "frame shorter than an Ethernet header");
    return NULL;
  }
  const unsigned char *f = data;
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  sll.sll_halen = ETH_ALEN;
  memcpy(sll.sll_addr, f, ETH_ALEN);                     /* destination MAC */
  memcpy(&sll.sll_protocol, f + 2 * ETH_ALEN, 2);        /* EtherType, already big-endian */
  ssize_t n = sendto(fd, data, len, 0, (struct sockaddr *)&sll, sizeof sll);
  if (n < 0) return throw_errno(env, "sendto(AF_PACKET)", errno);
  napi_value r;
  napi_create_int32(env, (int32_t)n, &r);
  return r;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || !get_int32_arg(env, argv[0], &fd)) {
    napi_throw_type_error(env, "EINVAL", "close(fd: number)");
    return NULL;
  }
  if (close(fd) < 0) return throw_errno(env, "close", errno);
  return NULL;
}

static napi_value js_ifindex(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char name[IF_NAMESIZE + 1];
  size_t got = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &got) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "ifindex(name: string)");
    return NULL;
  }
  napi_value r;
  napi_create_uint32(env, if_nametoindex(name), &r);
  return r;
}

static napi_value js_sock_fprog(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  size_t len = 0;
  bool is_buf = false;
  if (argc < 1 || napi_is_buffer(env, argv[0], &is_buf) != napi_ok || !is_buf ||
      napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok ||
      len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    napi_throw_type_error(env, "EINVAL", "sockFprog(program: Buffer of 8-byte BPF instructions, 1-4096 of them)");
    return NULL;
  }
  struct sock_fprog *prog = NULL;
  napi_value out;
  if (napi_create_buffer(env, sizeof *prog, (void **)&prog, &out) != napi_ok) return NULL;
  memset(prog, 0, sizeof *prog);
  prog->len = (unsigned short)(len / sizeof(struct sock_filter));
  prog->filter = (struct sock_filter *)data;
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"ifindex", NULL, js_ifindex, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sockFprog", NULL, js_sock_fprog, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

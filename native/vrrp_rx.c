/*
 * kts_vrrp_rx: the receive side of a VRRP raw socket (IP protocol 112), read in batches.
 * Why: raw-socket (npm) reads one packet per N-API call, builds a source string for each, and
 * says "queue empty" by throwing (an Error with its stack, at every wake-up). A Backup of 200
 * instances receives 200 adverts a second in bunches; here one readable event reads every
 * queued packet with recvmmsg(2) into one buffer and calls JavaScript once per batch with the
 * count: lengths and sources are in shared buffers, nothing is allocated per packet, and an
 * empty queue is just the end of the loop (EAGAIN), not an exception.
 *
 *   open(family, ifindex, ifname, group | null, onBatch) -> handle
 *       socket(AF_INET[6], SOCK_RAW | SOCK_NONBLOCK, 112), SO_BINDTODEVICE ifname, the group joined
 *       on ifindex; IPv6: IPV6_CHECKSUM 6 (the kernel checks the VRRPv3 checksum, as on the
 *       sending socket). Polled readable on the Node event loop; onBatch(count) is called with
 *       packet i at handle.data[i * SLOT ...] of handle.lens.readUInt32LE(i * 4) bytes from
 *       handle.srcs[i * 16 ...] (4 bytes IPv4, 16 bytes IPv6); the buffers are reused by the
 *       next batch. A receive error other than EAGAIN is reported as onBatch(-errno).
 *       handle: { fd, data, lens, srcs, slot, slots } plus an internal pointer.
 *   setFilter(handle, program)   SO_ATTACH_FILTER with classic BPF instructions (8 bytes each)
 *   close(handle)                stops polling and closes the fd; idempotent
 * Errors are thrown as Error objects whose `code` is the errno name, as kts_packet does.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <linux/filter.h>

#define IPPROTO_VRRP_ 112
/* The largest valid advert: VRRPv3 over IPv6 with 255 addresses is 8 + 255 x 16 = 4088 bytes;
 * over IPv4 a 60-byte header + 8 + 255 x 4 + 8 (v2 auth). A longer packet is cut to SLOT and
 * fails the decoder's length check, as it would have anyway. */
#define SLOT 4096
#define SLOTS 32
/* at most this many packets per readable event: the rest waits for the next turn of the loop */
#define MAX_PER_WAKE 256

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref self;     /* the handle object (keeps the buffers and callback alive while open) */
  napi_ref callback; /* onBatch */
  napi_async_context async;
  int fd;
  int family;
  int open;
  unsigned char *data;
  uint32_t *lens;
  unsigned char *srcs;
  struct mmsghdr msgs[SLOTS];
  struct iovec iov[SLOTS];
  struct sockaddr_in6 addrs[SLOTS]; /* large enough for either family */
} rx_t;

static const char *errno_code(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EBADF: return "EBADF";
    case ENXIO: return "ENXIO";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
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

static void on_closed(uv_handle_t *h) {
  free(h->data);
}

/* Stop polling, close the fd, drop the references; the struct is freed once libuv is done with it. */
static void rx_close(rx_t *rx) {
  if (!rx->open) return;
  rx->open = 0;
  uv_poll_stop(&rx->poll);
  close(rx->fd);
  rx->fd = -1;
  napi_env env = rx->env;
  napi_delete_reference(env, rx->callback);
  napi_delete_reference(env, rx->self);
  napi_async_destroy(env, rx->async);
  uv_close((uv_handle_t *)&rx->poll, on_closed);
}

static void call_js(rx_t *rx, int32_t count) {
  napi_env env = rx->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, self, arg, result;
  napi_get_reference_value(env, rx->callback, &cb);
  napi_get_reference_value(env, rx->self, &self);
  napi_create_int32(env, count, &arg);
  /* make_callback: microtasks and process.nextTick run after it, as after any I/O callback */
  napi_status st = napi_make_callback(env, rx->async, self, cb, 1, &arg, &result);
  if (st == napi_pending_exception) {
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  rx_t *rx = h->data;
  if (status < 0) {
    call_js(rx, status); /* libuv's negative errno */
    return;
  }
  int total = 0;
  while (rx->open && total < MAX_PER_WAKE) {
    for (int i = 0; i < SLOTS; i++) {
      rx->msgs[i].msg_hdr.msg_namelen = sizeof rx->addrs[i];
      rx->msgs[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(rx->fd, rx->msgs, SLOTS, MSG_DONTWAIT, NULL);
    if (n < 0) {
      int e = errno;
      if (e == EINTR) continue;
      if (e != EAGAIN && e != EWOULDBLOCK) call_js(rx, -e);
      return;
    }
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
      uint32_t len = rx->msgs[i].msg_len;
      rx->lens[i] = len > SLOT ? SLOT : len;
      if (rx->family == 4) {
        memcpy(rx->srcs + i * 16, &((struct sockaddr_in *)&rx->addrs[i])->sin_addr, 4);
      } else {
        memcpy(rx->srcs + i * 16, &rx->addrs[i].sin6_addr, 16);
      }
    }
    total += n;
    call_js(rx, n);
    if (n < SLOTS) return; /* the queue is empty: no recvmmsg just to hear EAGAIN */
  }
}

static int arg_int32(napi_env env, napi_value v, int32_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return 0;
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t family, ifindex;
  char ifname[IF_NAMESIZE + 1];
  size_t got = 0;
  napi_valuetype cbt = napi_undefined;
  if (argc >= 5) napi_typeof(env, argv[4], &cbt);
  if (argc < 5 || !arg_int32(env, argv[0], &family) || (family != 4 && family != 6) || !arg_int32(env, argv[1], &ifindex) ||
      napi_get_value_string_utf8(env, argv[2], ifname, sizeof ifname, &got) != napi_ok || got == 0 || cbt != napi_function) {
    napi_throw_type_error(env, "EINVAL", "open(family: 4 | 6, ifindex: number, ifname: string, group: Buffer | null, onBatch: function)");
    return NULL;
  }
  void *group = NULL;
  size_t group_len = 0;
  bool is_buf = false;
  napi_is_buffer(env, argv[3], &is_buf);
  if (is_buf) napi_get_buffer_info(env, argv[3], &group, &group_len);
  if (is_buf && group_len != (family == 4 ? 4u : 16u)) {
    napi_throw_type_error(env, "EINVAL", "group must be 4 (IPv4) or 16 (IPv6) bytes");
    return NULL;
  }

  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_VRRP_);
  if (fd < 0) return throw_errno(env, "socket(SOCK_RAW, 112)", errno);
  const char *what = "SO_BINDTODEVICE";
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0) goto fail;
  if (family == 4) {
    if (group) {
      struct ip_mreqn m;
      memset(&m, 0, sizeof m);
      memcpy(&m.imr_multiaddr, group, 4);
      m.imr_ifindex = ifindex;
      what = "IP_ADD_MEMBERSHIP";
      if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0) goto fail;
    }
  } else {
    int off = 6;
    what = "IPV6_CHECKSUM";
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof off) < 0) goto fail;
    if (group) {
      struct ipv6_mreq m;
      memset(&m, 0, sizeof m);
      memcpy(&m.ipv6mr_multiaddr, group, 16);
      m.ipv6mr_interface = (unsigned)ifindex;
      what = "IPV6_ADD_MEMBERSHIP";
      if (setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m, sizeof m) < 0) goto fail;
    }
  }

  rx_t *rx = calloc(1, sizeof *rx);
  if (!rx) {
    close(fd);
    return throw_errno(env, "open VRRP receive socket", ENOMEM);
  }
  rx->env = env;
  rx->fd = fd;
  rx->family = family;
  napi_value obj, data, lens, srcs, v;
  napi_create_object(env, &obj);
  napi_create_buffer(env, (size_t)SLOT * SLOTS, (void **)&rx->data, &data);
  napi_create_buffer(env, sizeof(uint32_t) * SLOTS, (void **)&rx->lens, &lens);
  napi_create_buffer(env, 16 * SLOTS, (void **)&rx->srcs, &srcs);
  for (int i = 0; i < SLOTS; i++) {
    rx->iov[i].iov_base = rx->data + (size_t)i * SLOT;
    rx->iov[i].iov_len = SLOT;
    rx->msgs[i].msg_hdr.msg_iov = &rx->iov[i];
    rx->msgs[i].msg_hdr.msg_iovlen = 1;
    rx->msgs[i].msg_hdr.msg_name = &rx->addrs[i];
  }
  napi_set_named_property(env, obj, "data", data);
  napi_set_named_property(env, obj, "lens", lens);
  napi_set_named_property(env, obj, "srcs", srcs);
  napi_create_int32(env, fd, &v);
  napi_set_named_property(env, obj, "fd", v);
  napi_create_int32(env, SLOT, &v);
  napi_set_named_property(env, obj, "slot", v);
  napi_create_int32(env, SLOTS, &v);
  napi_set_named_property(env, obj, "slots", v);
  /* the struct's address, for setFilter and close */
  napi_wrap(env, obj, rx, NULL, NULL, NULL);
  napi_create_reference(env, obj, 1, &rx->self);
  napi_create_reference(env, argv[4], 1, &rx->callback);
  napi_value name;
  napi_create_string_utf8(env, "kts_vrrp_rx", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, obj, name, &rx->async);

  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init(loop, &rx->poll, fd);
  if (rc == 0) {
    rx->poll.data = rx;
    rx->open = 1;
    rc = uv_poll_start(&rx->poll, UV_READABLE, on_readable);
    if (rc != 0) {
      rx_close(rx);
      napi_remove_wrap(env, obj, NULL);
      return throw_errno(env, "uv_poll_start", -rc);
    }
  } else {
    napi_delete_reference(env, rx->callback);
    napi_delete_reference(env, rx->self);
    napi_async_destroy(env, rx->async);
    napi_remove_wrap(env, obj, NULL);
    close(fd);
    free(rx);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  return obj;

fail: {
  int e = errno;
  close(fd);
  return throw_errno(env, what, e);
}
}

static rx_t *unwrap_open(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_unwrap(env, v, &p) != napi_ok || !p) return NULL;
  return p;
}

static napi_value js_set_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  rx_t *rx = argc >= 1 ? unwrap_open(env, argv[0]) : NULL;
  void *data = NULL;
  size_t len = 0;
  bool is_buf = false;
  if (!rx || argc < 2 || napi_is_buffer(env, argv[1], &is_buf) != napi_ok || !is_buf ||
      napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || len == 0 || len % sizeof(struct sock_filter) != 0 ||
      len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
    napi_throw_type_error(env, "EINVAL", "setFilter(handle, program: Buffer of 8-byte BPF instructions)");
    return NULL;
  }
  if (!rx->open) return throw_errno(env, "SO_ATTACH_FILTER", EBADF);
  struct sock_fprog prog = {(unsigned short)(len / sizeof(struct sock_filter)), (struct sock_filter *)data};
  if (setsockopt(rx->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) return throw_errno(env, "SO_ATTACH_FILTER", errno);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *p = NULL;
  if (argc < 1 || napi_remove_wrap(env, argv[0], &p) != napi_ok || !p) return NULL; /* closed already */
  rx_close(p);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setFilter", NULL, js_set_filter, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

/*
 * kts_connect: a TCP connect with the socket options that Node's net.connect cannot set, for the
 * health checkers (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK). net.connect creates the socket and
 * connects in one call, so keepalived's `fwmark` (SO_MARK) and `bind_if` (SO_BINDTODEVICE) have no
 * place to go; and a TCP_CHECK attempt needs no stream object at all (keepalived's attempt is a
 * non-blocking connect and a close). One call:
 *   connect(family, address, port, scopeIf, localAddress, localPort, mark, device, keep, cb)
 *       -> handle
 *     socket(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC); SO_MARK when mark >= 0; SO_BINDTODEVICE
 *     when device is not ""; bind() when localAddress or localPort is given; connect() (started:
 *     EINPROGRESS). Completion is watched by a uv_poll_t on Node's loop (writable), and
 *     getsockopt(SO_ERROR) gives the result: cb(errno, fd) is called once, errno 0 when connected.
 *     With keep the connected fd is the caller's (wrap it in a net.Socket, or close it); without,
 *     it is closed here and fd is -1. On an error the fd is always closed here.
 *     A failure before the connect is under way is thrown: an Error whose `code` is the errno name
 *     and `syscall` the step ("socket", "setsockopt(SO_MARK)", "setsockopt(SO_BINDTODEVICE)",
 *     "bind", "connect").
 *   setSocketOptions(fd, mark, device)
 *     UDP_CHECK and DNS_CHECK: dgram's socket exists before its connect and send, so the options are
 *     set on its fd (bound, before the connect: the route is looked up there). SO_MARK when mark >= 0,
 *     SO_BINDTODEVICE when device is not ""; throws as connect does (code, syscall the step).
 *   cancel(handle)
 *     connect_timeout or the attempt's cancel: stops watching and closes the fd; cb is never
 *     called. A no-op once cb was called (or after an earlier cancel).
 * A target of its own rather than more calls in kts_packet: the checkers run without it (net.connect,
 * unmarked) while GARP does not, so one failing to load must not take the other with it.
 * The handle's memory is freed once libuv has closed the poll handle and JS has dropped the handle
 * (its finaliser), whichever comes last, so a late cancel never touches freed memory.
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
#include <arpa/inet.h>

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  int fd;
  int keep;
  int pending;   /* connect under way: neither reported nor cancelled */
  int uv_closed; /* libuv is done with `poll` */
  int js_alive;  /* the JS handle (external) has not been collected */
} conn_t;

typedef struct {
  napi_async_context async;
} instance_t;

static napi_value throw_step(napi_env env, const char *step, int e) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", step, strerror(e));
  const char *name = strerrorname_np(e);
  napi_value code, text, err, sys, num;
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &err);
  napi_create_string_utf8(env, step, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, err, "syscall", sys);
  napi_create_int32(env, e, &num);
  napi_set_named_property(env, err, "errno", num);
  napi_throw(env, err);
  return NULL;
}

static void maybe_free(conn_t *c) {
  if (c->uv_closed && !c->js_alive) free(c);
}

static void on_closed(uv_handle_t *h) {
  conn_t *c = (conn_t *)h->data;
  c->uv_closed = 1;
  maybe_free(c);
}

static void on_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  conn_t *c = data;
  c->js_alive = 0;
  maybe_free(c);
}

/* Stops watching: uv_close removes the fd from epoll at once, so the fd can be closed or handed on
 * (a net.Socket registers it again) right after. */
static void stop(conn_t *c) {
  c->pending = 0;
  uv_close((uv_handle_t *)&c->poll, on_closed);
  if (c->cb) {
    napi_delete_reference(c->env, c->cb);
    c->cb = NULL;
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  conn_t *c = (conn_t *)h->data;
  if (!c->pending) return;
  /* a refused connect wakes us with POLLERR alone, which libuv reports as UV_EBADF: the socket's
   * own error is the answer in every case */
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err == 0 && status < 0) err = -status;
  /* still connecting (a spurious wake-up): keep watching */
  if (err == EINPROGRESS || err == EALREADY) return;
  napi_env env = c->env;
  napi_ref ref = c->cb;
  c->cb = NULL;
  int fd = c->fd;
  c->fd = -1;
  stop(c);
  if (err != 0 || !c->keep) {
    close(fd);
    fd = -1;
  }
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value fn, recv, argv[2], result;
  napi_get_reference_value(env, ref, &fn);
  napi_delete_reference(env, ref);
  napi_get_global(env, &recv); /* napi_make_callback wants an object */
  napi_create_int32(env, err, &argv[0]);
  napi_create_int32(env, fd, &argv[1]);
  instance_t *inst = NULL;
  napi_get_instance_data(env, (void **)&inst);
  /* napi_make_callback, not napi_call_function: the promises the callback resolves run their
   * continuations before we return to libuv, as after any other I/O callback */
  if (napi_make_callback(env, inst->async, recv, fn, 2, argv, &result) == napi_pending_exception) {
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    napi_fatal_exception(env, ex);
  }
  napi_close_handle_scope(env, scope);
}

static int get_str(napi_env env, napi_value v, char *buf, size_t size) {
  size_t got = 0;
  if (napi_get_value_string_utf8(env, v, buf, size, &got) != napi_ok) return 0;
  return got < size - 1;
}

/* the two options of a socket made by us or by Node (its fd): "" or the failing step, errno set */
static const char *set_options(int fd, int32_t mark, const char *dev) {
  if (mark >= 0) {
    uint32_t m = (uint32_t)mark;
    if (setsockopt(fd, SOL_SOCKET, SO_MARK, &m, sizeof m) < 0) return "setsockopt(SO_MARK)";
  }
  if (dev[0] != '\0' && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)) < 0)
    return "setsockopt(SO_BINDTODEVICE)";
  return NULL;
}

/* an IP literal into a sockaddr; scope names the interface of a link-local IPv6 address */
static int fill_addr(int family, const char *text, int port, const char *scope, struct sockaddr_storage *ss,
                     socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (text[0] != '\0' && inet_pton(AF_INET, text, &a->sin_addr) != 1) return 0;
    *len = sizeof *a;
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (text[0] != '\0' && inet_pton(AF_INET6, text, &a->sin6_addr) != 1) return 0;
    if (scope && scope[0] != '\0') a->sin6_scope_id = if_nametoindex(scope);
    *len = sizeof *a;
  }
  return 1;
}

static napi_value js_connect(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t family = 0, port = 0, lport = 0, mark = -1;
  bool keep = false;
  char addr[INET6_ADDRSTRLEN + 1], scope[IF_NAMESIZE + 1], laddr[INET6_ADDRSTRLEN + 1], dev[IF_NAMESIZE + 1];
  napi_valuetype cbt = napi_undefined;
  if (argc < 10 || napi_get_value_int32(env, argv[0], &family) != napi_ok || (family != 4 && family != 6) ||
      !get_str(env, argv[1], addr, sizeof addr) || napi_get_value_int32(env, argv[2], &port) != napi_ok ||
      !get_str(env, argv[3], scope, sizeof scope) || !get_str(env, argv[4], laddr, sizeof laddr) ||
      napi_get_value_int32(env, argv[5], &lport) != napi_ok || napi_get_value_int32(env, argv[6], &mark) != napi_ok ||
      !get_str(env, argv[7], dev, sizeof dev) || napi_get_value_bool(env, argv[8], &keep) != napi_ok ||
      napi_typeof(env, argv[9], &cbt) != napi_ok || cbt != napi_function || port < 0 || port > 65535 || lport < 0 ||
      lport > 65535) {
    napi_throw_type_error(env, "EINVAL",
                          "connect(family: 4|6, address, port, scopeIf, localAddress, localPort, mark, device, "
                          "keep: boolean, cb)");
    return NULL;
  }
  struct sockaddr_storage to, from;
  socklen_t tolen = 0, fromlen = 0;
  if (addr[0] == '\0' || !fill_addr(family, addr, port, scope, &to, &tolen) ||
      !fill_addr(family, laddr, lport, scope, &from, &fromlen))
    return throw_step(env, "inet_pton", EINVAL);
  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_step(env, "socket", errno);
  const char *step = set_options(fd, mark, dev);
  if (!step && (laddr[0] != '\0' || lport != 0)) {
    /* as libuv's bind does (net.connect's localAddress): a fixed bind_port is reusable at once
     * after the previous attempt's close (TIME_WAIT) */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&from, fromlen) < 0) step = "bind";
  }
  if (!step && connect(fd, (struct sockaddr *)&to, tolen) < 0 && errno != EINPROGRESS) step = "connect";
  if (step) {
    int e = errno;
    close(fd);
    return throw_step(env, step, e);
  }
  uv_loop_t *loop = NULL;
  conn_t *c = calloc(1, sizeof *c);
  if (!c || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &c->poll, fd) != 0) {
    free(c);
    close(fd);
    return throw_step(env, "uv_poll_init", ENOMEM);
  }
  c->poll.data = c;
  c->env = env;
  c->fd = fd;
  c->keep = keep;
  c->pending = 1;
  c->js_alive = 1;
  napi_create_reference(env, argv[9], 1, &c->cb);
  int r = uv_poll_start(&c->poll, UV_WRITABLE, on_poll);
  napi_value handle;
  if (r != 0 || napi_create_external(env, c, on_finalize, NULL, &handle) != napi_ok) {
    c->js_alive = 0;
    stop(c);
    close(fd);
    return throw_step(env, "uv_poll_start", r != 0 ? -r : ENOMEM);
  }
  return handle;
}

static napi_value js_set_socket_options(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1, mark = -1;
  char dev[IF_NAMESIZE + 1];
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_get_value_int32(env, argv[1], &mark) != napi_ok || !get_str(env, argv[2], dev, sizeof dev)) {
    napi_throw_type_error(env, "EINVAL", "setSocketOptions(fd, mark, device)");
    return NULL;
  }
  const char *step = set_options(fd, mark, dev);
  if (step) return throw_step(env, step, errno);
  return NULL;
}

static napi_value js_cancel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data = NULL;
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, argv[0], &data) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "cancel(handle)");
    return NULL;
  }
  conn_t *c = data;
  if (c->pending) {
    int fd = c->fd;
    c->fd = -1;
    stop(c);
    close(fd);
  }
  return NULL;
}

static void free_instance(napi_env env, void *data, void *hint) {
  (void)hint;
  instance_t *inst = data;
  napi_async_destroy(env, inst->async);
  free(inst);
}

static napi_value init(napi_env env, napi_value exports) {
  instance_t *inst = calloc(1, sizeof *inst);
  napi_value name;
  napi_create_string_utf8(env, "kts_connect", NAPI_AUTO_LENGTH, &name);
  if (!inst || napi_async_init(env, NULL, name, &inst->async) != napi_ok) {
    free(inst);
    napi_throw_error(env, "ENOMEM", "kts_connect: cannot set up");
    return NULL;
  }
  napi_set_instance_data(env, inst, free_instance, NULL);
  napi_property_descriptor props[] = {
    {"connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, NULL},
    {"cancel", NULL, js_cancel, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setSocketOptions", NULL, js_set_socket_options, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

/*
 * kts_reaper: what keepalived-ts needs from the kernel to reap the orphans of its scripts.
 * A notify script that starts a service in the background and exits leaves the service orphaned;
 * as a child subreaper the daemon adopts it, and must then wait for it, or it stays a zombie
 * (kill -0 on its pid keeps succeeding) until the daemon exits. Node has no call for either.
 *   setChildSubreaper()        prctl(PR_SET_CHILD_SUBREAPER, 1)
 *   isChildSubreaper() -> bool prctl(PR_GET_CHILD_SUBREAPER)
 *   reap(pid) -> null | { pid, code, signal }
 *       waitid(P_PID, pid, WEXITED | WNOHANG): reaps that one child if it has exited; null if it
 *       is still running or is not our child (ECHILD). Never waits for "any" child: the children
 *       Node spawned are waited for by libuv, by pid, and must keep their exit status.
 * Errors are thrown as Error objects whose `code` is the errno name.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static napi_value throw_errno(napi_env env, const char *what, int e) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
  napi_throw_error(env, e == EPERM ? "EPERM" : e == EINVAL ? "EINVAL" : "EUNKNOWN", msg);
  return NULL;
}

static napi_value js_set_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    return throw_errno(env, "prctl(PR_SET_CHILD_SUBREAPER)", errno);
  return NULL;
}

static napi_value js_is_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  int on = 0;
  if (prctl(PR_GET_CHILD_SUBREAPER, (unsigned long)&on, 0, 0, 0) < 0)
    return throw_errno(env, "prctl(PR_GET_CHILD_SUBREAPER)", errno);
  napi_value r;
  napi_get_boolean(env, on != 0, &r);
  return r;
}

static napi_value js_reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t pid;
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_number ||
      napi_get_value_int32(env, argv[0], &pid) != napi_ok || pid <= 0) {
    /* pid <= 0 would mean "any child" or a process group: exactly what we must never wait for */
    napi_throw_type_error(env, "EINVAL", "reap(pid: positive integer)");
    return NULL;
  }
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  do rc = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG);
  while (rc < 0 && errno == EINTR);
  napi_value result;
  if (rc < 0) {
    if (errno == ECHILD) { napi_get_null(env, &result); return result; }
    return throw_errno(env, "waitid", errno);
  }
  if (si.si_pid == 0) { napi_get_null(env, &result); return result; } /* still running */
  napi_value v_pid, v_code, v_signal;
  napi_create_object(env, &result);
  napi_create_int32(env, si.si_pid, &v_pid);
  if (si.si_code == CLD_EXITED) {
    napi_create_int32(env, si.si_status, &v_code);
    napi_get_null(env, &v_signal);
  } else {
    napi_get_null(env, &v_code);
    napi_create_int32(env, si.si_status, &v_signal); /* the signal number that ended it */
  }
  napi_set_named_property(env, result, "pid", v_pid);
  napi_set_named_property(env, result, "code", v_code);
  napi_set_named_property(env, result, "signal", v_signal);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"setChildSubreaper", NULL, js_set_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
    {"isChildSubreaper", NULL, js_is_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
    {"reap", NULL, js_reap, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)

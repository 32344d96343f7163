// One netlink request at a time. The kernel runs a single dump per netlink socket: a second
// RTM_GETLINK/RTM_GETADDR dump sent while one is in flight is rejected with EBUSY and corrupts
// the first reply ("Multipart message not terminated properly"), and Rtnl (src/net/netlink.ts)
// does not queue them. Several instances starting together (or a link and an address event
// retrying a waiting instance) issue such dumps concurrently, so the daemon serialises every
// call it makes on its shared Rtnl. Calls Rtnl makes on itself (ensureAddress -> getLink) go to
// the real object and are not queued again (no self-deadlock).
import type { Rtnl } from '../net/netlink.js';

export function serializeRtnl(rtnl: Rtnl): Rtnl {
  let tail: Promise<unknown> = Promise.resolve();
  return new Proxy(rtnl, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || prop === 'close' || prop === 'constructor') {
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      const fn = v as (...a: unknown[]) => unknown;
      return (...args: unknown[]): unknown => {
        const run = tail.then(() => fn.apply(target, args));
        tail = run.catch(() => undefined);
        return run;
      };
    },
  });
}

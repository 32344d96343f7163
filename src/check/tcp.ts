// TCP_CHECK: success = the connection is established (then closed at once). With the kts_connect
// addon an attempt is a non-blocking connect and a close, as keepalived's, with no net.Socket
// (and fwmark / bind_if set on the socket); without it, net.connect.
import { addonFor, connectFd, connectTcp, success, type Target } from './common.js';
import type { Probe } from './scheduler.js';

export function tcpProbe(t: Target): Probe {
  return async (signal) => {
    const a = addonFor(t, true);
    if (a) {
      const r = await connectFd(a, t, signal, false);
      return typeof r === 'number' ? success('connected') : r;
    }
    const s = await connectTcp(t, signal);
    if (!('destroy' in s)) return s;
    s.destroy();
    return success('connected');
  };
}

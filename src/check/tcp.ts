// TCP_CHECK: success = the connection is established (then closed at once).
import { connectTcp, success, type Target } from './common.js';
import type { Probe } from './scheduler.js';

export function tcpProbe(t: Target): Probe {
  return async (signal) => {
    const s = await connectTcp(t, signal);
    if (!('destroy' in s)) return s;
    s.destroy();
    return success('connected');
  };
}

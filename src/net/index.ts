// The network edges of keepalived-ts, in one import for the daemon:
//   import { VrrpSocket, Rtnl, NetMonitor, GarpSender, NdiscSender, createVmac, NetError } from '../net/index.js';
// Each module documents its API at its top. Every error thrown or emitted is a NetError with a
// stable `code` (an errno name, or ENOCAP / ENOIF / ENOADDON / EBADARG / EUNKNOWN).
export * from './errors.js';
export * from './capabilities.js';
export * from './ipaddr.js';
export * from './netlink.js';
export * from './monitor.js';
export * from './vrrp-socket.js';
export * from './garp.js';
export * from './ndisc.js';
export * from './vmac.js';

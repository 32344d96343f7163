// The receive side of a VRRP socket through the kts_vrrp_rx addon (native/vrrp_rx.c): a raw
// socket of its own, polled on the event loop, every queued packet read by recvmmsg(2) and
// handed to JavaScript once per batch (see the addon's header for why). raw-socket's socket of
// the same VrrpSocket then only sends (its receive is paused and filtered to nothing). Without
// the addon (a build before it), VrrpSocket receives through raw-socket as before.
import { loadNativeAddon } from '../util/native-addon.js';

export interface RxHandle {
  readonly fd: number;
  /** packet i at data[i * slot, i * slot + lens[i]) */
  readonly data: Buffer;
  /** uint32 little-endian lengths, one per slot */
  readonly lens: Buffer;
  /** 16 bytes per slot: the source address (IPv4: the first 4) */
  readonly srcs: Buffer;
  readonly slot: number;
  readonly slots: number;
}

export interface VrrpRxAddon {
  /** onBatch(count): count packets are in the handle's buffers (until onBatch returns); a
   *  negative count is a receive error (-errno) */
  open(family: 4 | 6, ifindex: number, ifname: string, group: Buffer | null, onBatch: (count: number) => void): RxHandle;
  setFilter(h: RxHandle, program: Buffer): void;
  close(h: RxHandle): void;
}

let addon: VrrpRxAddon | null | undefined;

/** The addon, or null when it is not built or does not load (receive through raw-socket);
 *  KTS_VRRP_RX_ADDON overrides the location ("none": the native receive disabled). */
export function loadVrrpRxAddon(): VrrpRxAddon | null {
  if (addon === undefined) {
    const r = loadNativeAddon<VrrpRxAddon>('kts_vrrp_rx', 'KTS_VRRP_RX_ADDON');
    addon = 'addon' in r ? r.addon : null;
  }
  return addon ?? null;
}

/** errno names of the few receive errors worth a name (the addon passes -errno) */
export function rxErrorCode(negErrno: number): string {
  switch (-negErrno) {
    case 19:
      return 'ENODEV';
    case 100:
      return 'ENETDOWN';
    case 105:
      return 'ENOBUFS';
    case 12:
      return 'ENOMEM';
    default:
      return `errno ${-negErrno}`;
  }
}

// Types shared by the VRRP packet codec, the sans-I/O state machine and the daemon edges.
// Names follow RFC 3768 (VRRPv2) and RFC 5798 (VRRPv3).

import type { IpFamily } from '../util/ip.js';

export type { IpFamily } from '../util/ip.js';
export type VrrpVersion = 2 | 3;

/** VRRPv2 Auth Type field (RFC 3768 section 5.3.6; keepalived still speaks PASS and AH). */
export const enum AuthType {
  None = 0,
  SimpleText = 1, // keepalived's auth_type PASS
  IpAh = 2, // keepalived's auth_type AH
}

/** A decoded VRRP advertisement (the VRRP message only, not the IP header). */
export interface VrrpAdvert {
  readonly version: VrrpVersion;
  /** always 1 (ADVERTISEMENT) after validation */
  readonly type: number;
  /** Virtual Router Identifier, 1-255 */
  readonly vrid: number;
  /** 0-255; 0 means the Master is resigning */
  readonly priority: number;
  /**
   * Advertisement interval in centiseconds. v2 carries whole seconds (Adver Int) and is converted
   * (x100); v3 carries Max Adver Int in centiseconds (12 bits).
   */
  readonly advertIntervalCs: number;
  /** IPvX Address(es), in textual form ("192.0.2.1", "2001:db8::1") */
  readonly addresses: readonly string[];
  /** v2 only */
  readonly authType?: number;
  /** v2 only: the 8 authentication bytes */
  readonly authData?: Uint8Array;
  /** the checksum as carried on the wire */
  readonly checksum: number;
}

/** An advertisement as the daemon hands it to the core: decoded, checked, with its IP context. */
export interface ReceivedAdvert {
  readonly advert: VrrpAdvert;
  readonly family: IpFamily;
  /** source address of the IP packet (the sender's primary address / IPv6 link-local) */
  readonly srcAddress: string;
  /** destination address of the IP packet (multicast group or our unicast address) */
  readonly dstAddress?: string;
  /** TTL / hop limit when known (IPv6 raw sockets cannot read it: undefined) */
  readonly ttl?: number;
  /** receiving interface name */
  readonly ifname?: string;
  /** which VRRP checksum computation the packet matched (see src/vrrp/packet.ts) */
  readonly checksumForm?: ChecksumForm;
  /** conditions to log and count without dropping (see src/vrrp/packet.ts) */
  readonly warnings?: readonly AdvertWarning[];
}

/**
 * Which checksum computation a VRRP packet was (or is to be) sent with.
 * - 'v2': VRRPv2, over the VRRP message only.
 * - 'v3-pseudo-header': VRRPv3 with the pseudo-header (RFC 5798 section 5.2.8; keepalived's
 *   default over IPv4, the only form over IPv6).
 * - 'v3-no-pseudo-header': VRRPv3 over IPv4 computed like v2 (RFC 9568, Cisco, Juniper; tshark's
 *   preference vrrp.v3_checksum_as_in_v2). keepalived 2.2.7 does not accept it (measured).
 * - 'v3-old-unicast': VRRPv3 over IPv4 unicast with the multicast group as pseudo-header
 *   destination (keepalived <= 1.3.6; keepalived's keyword old_unicast_checksum).
 */
export type ChecksumForm = 'v2' | 'v3-pseudo-header' | 'v3-no-pseudo-header' | 'v3-old-unicast';

/** Conditions reported by the receive validation without dropping the advert. */
export type AdvertWarning =
  | 'addr-count-mismatch' // (addressMismatch: 'warn') a different number of addresses than configured
  | 'addr-list-mismatch' // (addressMismatch: 'warn') same count, but some configured address is missing
  | 'interval-differs' // v3: Max Adver Int differs from ours (a v3 Backup learns it)
  | 'old-unicast-checksum' // v3 checksum matched only with the multicast group as destination
  | 'no-pseudo-header-checksum'; // v3 over IPv4 checksum matched only without the pseudo-header

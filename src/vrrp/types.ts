// Types shared by the VRRP packet codec, the sans-I/O state machine and the daemon edges.
// Names follow RFC 3768 (VRRPv2) and RFC 5798 (VRRPv3).

export type VrrpVersion = 2 | 3;
export type IpFamily = 4 | 6;

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
}

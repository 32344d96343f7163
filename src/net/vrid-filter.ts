// A classic BPF socket filter (SO_ATTACH_FILTER) that makes the kernel drop, on a VRRP raw
// socket, the adverts of VRIDs this daemon does not run: a LAN shared with other clusters no
// longer wakes us for their adverts (keepalived reads and discards them in user space).
//
// Where the filter looks: an IPv4 raw socket's filter sees the IP header first, so the VRID is
// at IHL x 4 + 1 (BPF's "ldx 4*([0]&0xf)" then an indexed load); an IPv6 raw socket's filter sees
// the VRRP message itself (the kernel has pulled the IPv6 header), so the VRID is at offset 1.
// A packet too short to hold a VRID fails the load and is dropped, which the decoder would do
// anyway. The socket is bound to IP protocol 112, so nothing else (an AH packet, 51) reaches the
// filter to be misread. raw-socket keeps its fd to itself, so the addon only builds the struct sock_fprog that
// points at our instructions and raw-socket's setOption passes it to setsockopt.
import { loadPacketAddon } from './garp.js';

export const SO_ATTACH_FILTER = 26;
const SOL_SOCKET = 1;

// classic BPF opcodes (linux/filter.h)
const BPF_LD_B_IND = 0x00 | 0x10 | 0x40; // BPF_LD | BPF_B | BPF_IND
const BPF_LD_B_ABS = 0x00 | 0x10 | 0x20; // BPF_LD | BPF_B | BPF_ABS
const BPF_LDX_B_MSH = 0x01 | 0x10 | 0xa0; // BPF_LDX | BPF_B | BPF_MSH
const BPF_JEQ_K = 0x05 | 0x10 | 0x00; // BPF_JMP | BPF_JEQ | BPF_K
const BPF_RET_K = 0x06 | 0x00; // BPF_RET | BPF_K
const ACCEPT_LEN = 0xffff; // the whole packet (an IP datagram is at most 64 KiB)

function insn(b: Buffer, i: number, code: number, jt: number, jf: number, k: number): void {
  b.writeUInt16LE(code, i * 8);
  b[i * 8 + 2] = jt;
  b[i * 8 + 3] = jf;
  b.writeUInt32LE(k >>> 0, i * 8 + 4);
}

/** The filter program (8-byte instructions) accepting only these VRIDs (1-255) on a socket of `family`. */
export function vridFilterProgram(family: 4 | 6, vrids: Iterable<number>): Buffer {
  const list = [...new Set(vrids)].filter((v) => Number.isInteger(v) && v >= 1 && v <= 255).sort((a, b) => a - b);
  const head = family === 4 ? 2 : 1;
  const n = list.length;
  const b = Buffer.alloc((head + n + 2) * 8);
  if (family === 4) {
    insn(b, 0, BPF_LDX_B_MSH, 0, 0, 0); // X = 4 * (ip[0] & 0xf)
    insn(b, 1, BPF_LD_B_IND, 0, 0, 1); // A = packet[X + 1]: the VRID
  } else {
    insn(b, 0, BPF_LD_B_ABS, 0, 0, 1);
  }
  // one comparison per VRID, each jumping to the accept at the end (at most 255 ahead: fits jt)
  for (let j = 0; j < n; j++) insn(b, head + j, BPF_JEQ_K, n - j, 0, list[j]!);
  insn(b, head + n, BPF_RET_K, 0, 0, 0); // none matched: drop
  insn(b, head + n + 1, BPF_RET_K, 0, 0, ACCEPT_LEN);
  return b;
}

interface SetOption {
  setOption(level: number, option: number, value: Buffer, length: number): void;
}

/**
 * Attach (or replace) the VRID filter of a raw-socket socket. Returns false when the addon is
 * missing or too old to build it (the socket then receives every VRID, as before); throws the
 * setsockopt error otherwise.
 */
export function attachVridFilter(sock: unknown, family: 4 | 6, vrids: Iterable<number>): boolean {
  let addon: ReturnType<typeof loadPacketAddon>;
  try {
    addon = loadPacketAddon();
  } catch {
    return false;
  }
  if (typeof addon.sockFprog !== 'function') return false;
  const program = vridFilterProgram(family, vrids);
  const fprog = addon.sockFprog(program);
  (sock as SetOption).setOption(SOL_SOCKET, SO_ATTACH_FILTER, fprog, fprog.length);
  // fprog points into `program`, which must stay reachable until setsockopt has copied it
  return program.length > 0;
}

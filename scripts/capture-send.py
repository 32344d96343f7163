#!/usr/bin/env python3
# Send pre-built raw IP packets (hex) in rounds, for the codec interop test
# (test/interop/capture-keepalived.test.ts). Runs inside a kts-* network namespace.
# stdin: {"duration": s, "interval": s, "streams": [{"family": 4|6, "dst": addr, "ifname": name,
#         "packets": [hex, ...]}]}; round r sends packets[min(r, len-1)] of every stream.
# Bounded: stops after `duration` seconds.
import json, socket, sys, time

cfg = json.load(sys.stdin)
socks = {}
def sock(family, ifname):
    key = (family, ifname)
    if key not in socks:
        s = socket.socket(socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
        socks[key] = s
    return socks[key]

end = time.monotonic() + float(cfg["duration"])
r = 0
sent = 0
while time.monotonic() < end:
    for st in cfg["streams"]:
        pkts = st["packets"]
        pkt = bytes.fromhex(pkts[min(r, len(pkts) - 1)])
        s = sock(st["family"], st["ifname"])
        if st["family"] == 4:
            s.sendto(pkt, (st["dst"], 0))
        else:
            s.sendto(pkt, (st["dst"], 0, 0, socket.if_nametoindex(st["ifname"])))
        sent += 1
    r += 1
    time.sleep(float(cfg["interval"]))
print(json.dumps({"rounds": r, "sent": sent}))

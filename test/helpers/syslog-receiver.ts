// A stand-in for /dev/log in tests. Node has no AF_UNIX datagram socket: a small python3 receiver
// bound to the path given as its argument prints 'ready', then one datagram per line.
export const SYSLOG_RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('ready', flush=True)
while True:
    print(s.recv(65536).decode().replace('\\n', '\\\\n'), flush=True)
`;

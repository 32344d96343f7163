// The demo's web server on each node: answers "this is <name>" on port 80 of every address
// (the VIP included, once the node holds it).
import http from 'node:http';

const name = process.argv[2] ?? 'node';
const seconds = Number(process.argv[3] ?? 300);
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end(`this is ${name}\n`);
});
server.listen(80, '0.0.0.0');
// Bounded life: the demo's clean-up kills us, but never outlive it by much.
setTimeout(() => process.exit(0), seconds * 1000).unref();

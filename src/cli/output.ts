// stdout/stderr of the command, safe on a closed pipe.
//
// `keepalived-ts -d | head -1`: head exits, our next write fails with EPIPE, and Node raises it as
// an unhandled 'error' event (a stack trace, exit 1). A command-line tool ends quietly there.
// We do not die of it either: the exit code stays the command's own (the -t verdict must survive
// `keepalived-ts -t 2>&1 | head -1`, and the 141 of a SIGPIPE death would hide it; with `set -o
// pipefail` a closed reader is not the command's failure). Writes to a closed stream are dropped.
// Other write errors (EIO on a vanished terminal, ENOSPC on a redirected file) are said once on the
// other stream, in one line, and the command's exit code is kept for the same reason.

interface Guarded {
  stream: NodeJS.WriteStream;
  name: 'stdout' | 'stderr';
  closed: boolean;
}

const guarded = new Map<NodeJS.WriteStream, Guarded>();

/** Install the error handlers on process.stdout and process.stderr (idempotent). */
export function guardStdio(): void {
  for (const [stream, name] of [
    [process.stdout, 'stdout'],
    [process.stderr, 'stderr'],
  ] as const) {
    if (guarded.has(stream)) continue;
    const g: Guarded = { stream, name, closed: false };
    guarded.set(stream, g);
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (g.closed) return;
      g.closed = true;
      if (err.code === 'EPIPE') return;
      const other = name === 'stdout' ? process.stderr : process.stdout;
      const o = guarded.get(other);
      if (!o?.closed) other.write(`keepalived-ts: cannot write to ${name}: ${err.message}\n`);
    });
  }
}

/** Write to a guarded stream; nothing once it is closed (or broken). */
export function safeWrite(stream: NodeJS.WriteStream, s: string): void {
  const g = guarded.get(stream);
  if (g?.closed || stream.destroyed) return;
  stream.write(s);
}

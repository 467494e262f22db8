// The naive Node relay the benchmark compares against: plain node:dgram, 'message' event, a
// Map keyed "ip:port", sock.send() per packet with the default DNS lookup — the same code as
// the relay-bench harness's relay_node.mjs. A first packet must be a STUN Binding Request whose
// server ufrag is "r<port>x…" → 127.0.0.1:<port>; no tokens, no integrity, no header.
// `--workers N --mode thread|process` runs N copies on one SO_REUSEPORT port as worker threads
// or child processes: the measurement behind docs/relay.md, "Workers".
//   node bench/relay/naive-forwarder.ts --listen 127.0.0.1:5000 [--workers 1] [--mode thread]
import { fork } from 'node:child_process';
import dgram from 'node:dgram';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, workerData } from 'node:worker_threads';

const { values: opt } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:5000' },
    workers: { type: 'string', default: '1' },
    mode: { type: 'string', default: 'thread' },
    'max-seconds': { type: 'string', default: '120' },
    child: { type: 'boolean', default: false },
  },
});
const workers = Number(opt.workers);
const [host, portText] = opt.listen.split(':');

function ufragPort(b: Buffer): number {
  if (b.length < 20 || b[0] > 1 || b.readUInt32BE(4) !== 0x2112a442) return 0;
  const end = Math.min(20 + b.readUInt16BE(2), b.length);
  for (let off = 20; off + 4 <= end;) {
    const type = b.readUInt16BE(off);
    const len = b.readUInt16BE(off + 2);
    if (off + 4 + len > end) return 0;
    if (type === 0x0006) {
      const m = /^r(\d{1,5})x/.exec(b.toString('latin1', off + 4, off + 4 + len));
      const port = m ? Number(m[1]) : 0;
      return port > 0 && port < 65536 ? port : 0;
    }
    off += 4 + ((len + 3) & ~3);
  }
  return 0;
}

function serve(reusePort: boolean): void {
  const sock = dgram.createSocket({ type: 'udp4', reusePort, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  const flows = new Map<string, number>();
  sock.on('message', (msg, rinfo) => {
    const key = rinfo.address + ':' + rinfo.port;
    let dst = flows.get(key);
    if (dst === undefined) {
      dst = ufragPort(msg);
      if (!dst) return;
      flows.set(key, dst);
    }
    sock.send(msg, dst, '127.0.0.1');
  });
  sock.bind({ port: Number(portText), address: host, exclusive: true });
}

const inWorker = !isMainThread && (workerData as { naive?: boolean } | undefined)?.naive === true;
if (inWorker || opt.child || workers === 1) {
  serve(workers > 1 || inWorker || opt.child);
  if (!inWorker) {
    const stop = (): void => process.exit(0);
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    setTimeout(stop, Number(opt['max-seconds']) * 1000).unref();
  }
} else {
  const self = new URL(import.meta.url).pathname;
  const kids: { kill(): void }[] = [];
  for (let i = 0; i < workers; i++) {
    if (opt.mode === 'process') {
      const k = fork(self, ['--listen', opt.listen, '--child', '--max-seconds', opt['max-seconds']]);
      kids.push({ kill: () => k.kill('SIGTERM') });
    } else {
      const w = new Worker(self, { workerData: { naive: true }, argv: ['--listen', opt.listen] });
      kids.push({ kill: () => void w.terminate() });
    }
  }
  const stop = (): void => {
    kids.forEach((k) => k.kill());
    setTimeout(() => process.exit(0), 200);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  setTimeout(stop, Number(opt['max-seconds']) * 1000).unref();
}

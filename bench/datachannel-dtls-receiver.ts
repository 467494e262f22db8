// The receiving peer of `npm run bench:datachannel`'s DTLS mode in a process of its own (the
// 'two-processes' layout of bench/datachannel-dtls.ts), as a transceiver is a process apart from
// its client. Spawned with an IPC channel and the sender's certificate fingerprint: tells the
// parent its UDP port and its own fingerprint, then on `start` resets
// its counts and its CPU clock, and on `stop` reports what arrived and the CPU (process.cpuUsage,
// user + system) it used in between. Exits when the parent disconnects or kills it.
import { startReceiver } from './datachannel-dtls.ts';
import type { BenchVariant, ReceiverReply, ReceiverRequest } from './datachannel-dtls.ts';

if (!process.send) throw new Error('bench/datachannel-dtls-receiver.ts runs as a child of bench/datachannel.ts (IPC channel)');
const reply = (r: ReceiverReply): void => void process.send!(r);
const senderFingerprint = process.argv[2];
if (!senderFingerprint) throw new Error('usage: datachannel-dtls-receiver.ts SENDER_FINGERPRINT [VARIANT_JSON]');
const variant = process.argv[3] === undefined ? undefined : (JSON.parse(process.argv[3]) as BenchVariant);
const receiver = await startReceiver(senderFingerprint, variant);
let cpu0 = process.cpuUsage();
process.on('message', (m: ReceiverRequest) => {
  if (m.type === 'start') {
    receiver.reset();
    cpu0 = process.cpuUsage();
    reply({ type: 'started' });
  } else if (m.type === 'stop') {
    const cpu = process.cpuUsage(cpu0);
    const f = receiver.failure;
    reply({
      type: 'stopped',
      messages: receiver.messages,
      bytes: receiver.bytes,
      cpuMs: (cpu.user + cpu.system) / 1000,
      datagramsPerWakeUp: receiver.datagramsPerWakeUp,
      ...(f ? { failure: f } : {}),
    });
  }
});
process.once('disconnect', () => receiver.close());
reply({ type: 'listening', port: receiver.port, io: receiver.io, fingerprint: receiver.fingerprint });

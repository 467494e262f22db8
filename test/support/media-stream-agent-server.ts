// A Twilio-Media-Streams test agent as a process, for `HANDLER=media-stream npm run bench:calls`
// and for trying the media-stream handler by hand:
//   node test/support/media-stream-agent-server.ts [--port N]
// prints `media-stream agent ready ws://127.0.0.1:PORT/stream`; give that URL to the transceiver
// as --media-stream-url. It sends every `media` payload straight back (an echo agent), so both
// directions of the bridge do their work; `?answer_s=N` on the URL echoes only the first N
// seconds of each connection (so every echo has played before the caller hangs up), `&silent_s=N`
// none of the first N seconds. Each time a
// connection closes it prints `agent counts {JSON}` (media messages heard and sent so far,
// connections open) for the benchmark's frames-lost count. SIGTERM/SIGINT stop it. A test tool,
// not the product.
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

/** Twilio sends one `media` per 20 ms; the echo counts what it heard in those frames. */
const FRAMES_PER_SECOND = 50;
/** How Parley's media messages start (media-stream-handler.ts: `event` first), and where their audio is. */
const MEDIA_PREFIX = Buffer.from('{"event":"media"');
const PAYLOAD_KEY = Buffer.from('"payload":"');
const QUOTE = 0x22;
const REPLY_END = Buffer.from('"}}');

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const wss = new WebSocketServer({ host: '127.0.0.1', port: values.port === undefined ? 0 : Number(values.port), perMessageDeflate: false });
await new Promise((r) => wss.once('listening', r));
let framesHeard = 0;
let framesSent = 0;
wss.on('connection', (ws, req) => {
  const params = new URL(req.url ?? '/', 'http://agent').searchParams;
  const answerS = Number(params.get('answer_s') ?? Infinity);
  // `?silent_s=N`: no echo for the first N seconds (as the realtime test model, which answers a second of audio after it).
  const silentFrames = Number(params.get('silent_s') ?? 0) * FRAMES_PER_SECOND;
  let heard = 0;
  let streamSid = '';
  /** The reply's bytes before its payload, once the stream's id is known. */
  let replyStart = Buffer.alloc(0);
  ws.on('message', (data: Buffer) => {
    // The echo works on the message's bytes: it finds the payload of a `media` message (what
    // Parley sends most, 50/s per call) and writes its reply around those bytes, sent as a text
    // frame — no JSON.parse, no string decode or encode. This process shares the load
    // generator's CPU, and JSON.parse + stringify of every frame made it the bottleneck at 200 calls.
    if (data.subarray(0, MEDIA_PREFIX.length).equals(MEDIA_PREFIX)) {
      framesHeard++;
      if (++heard > answerS * FRAMES_PER_SECOND || heard <= silentFrames) return;
      const at = data.indexOf(PAYLOAD_KEY);
      if (at < 0) return;
      const start = at + PAYLOAD_KEY.length;
      const end = data.indexOf(QUOTE, start);
      if (end < 0) return;
      framesSent++;
      ws.send(Buffer.concat([replyStart, data.subarray(start, end), REPLY_END]), { binary: false });
      return;
    }
    const m = JSON.parse(String(data)) as { event: string; streamSid?: string };
    if (m.event === 'start') {
      streamSid = m.streamSid ?? '';
      replyStart = Buffer.from(`{"event":"media","streamSid":${JSON.stringify(streamSid)},"media":{"payload":"`);
    } else if (m.event === 'stop') ws.close(1000, 'stop');
  });
  ws.on('error', () => {});
  ws.on('close', () => process.stdout.write(`agent counts ${JSON.stringify({ framesHeard, framesSent, open: wss.clients.size })}\n`));
});
process.stdout.write(`media-stream agent ready ws://127.0.0.1:${(wss.address() as { port: number }).port}/stream\n`);
const stop = (): void => {
  for (const c of wss.clients) c.terminate();
  wss.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

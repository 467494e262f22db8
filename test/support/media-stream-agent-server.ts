// A Twilio-Media-Streams test agent as a process, for `HANDLER=media-stream npm run bench:calls`
// and for trying the media-stream handler by hand:
//   node test/support/media-stream-agent-server.ts [--port N]
// prints `media-stream agent ready ws://127.0.0.1:PORT/stream`; give that URL to the transceiver
// as --media-stream-url. It sends every `media` payload straight back (an echo agent), so both
// directions of the bridge do their work; `?answer_s=N` on the URL echoes only the first N
// seconds of each connection (so every echo has played before the caller hangs up). Each time a
// connection closes it prints `agent counts {JSON}` (media messages heard and sent so far,
// connections open) for the benchmark's frames-lost count. SIGTERM/SIGINT stop it. A test tool,
// not the product.
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

/** Twilio sends one `media` per 20 ms; the echo counts what it heard in those frames. */
const FRAMES_PER_SECOND = 50;

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const wss = new WebSocketServer({ host: '127.0.0.1', port: values.port === undefined ? 0 : Number(values.port), perMessageDeflate: false });
await new Promise((r) => wss.once('listening', r));
let framesHeard = 0;
let framesSent = 0;
wss.on('connection', (ws, req) => {
  const answerS = Number(new URL(req.url ?? '/', 'http://agent').searchParams.get('answer_s') ?? Infinity);
  let heard = 0;
  let streamSid = '';
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { event: string; streamSid?: string; media?: { payload: string } };
    if (m.event === 'start') streamSid = m.streamSid ?? '';
    else if (m.event === 'media' && m.media) {
      framesHeard++;
      if (++heard > answerS * FRAMES_PER_SECOND) return;
      framesSent++;
      ws.send(JSON.stringify({ event: 'media', streamSid, media: { payload: m.media.payload } }));
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

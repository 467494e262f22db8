// A Twilio-Media-Streams test agent as a process, for `HANDLER=media-stream npm run bench:calls`
// and for trying the media-stream handler by hand:
//   node test/support/media-stream-agent-server.ts [--port N]
// prints `media-stream agent ready ws://127.0.0.1:PORT/stream`; give that URL to the transceiver
// as --media-stream-url. It sends every `media` payload straight back (an echo agent), so both
// directions of the bridge do their work. SIGTERM/SIGINT stop it. A test tool, not the product.
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const wss = new WebSocketServer({ host: '127.0.0.1', port: values.port === undefined ? 0 : Number(values.port), perMessageDeflate: false });
await new Promise((r) => wss.once('listening', r));
wss.on('connection', (ws) => {
  let streamSid = '';
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { event: string; streamSid?: string; media?: { payload: string } };
    if (m.event === 'start') streamSid = m.streamSid ?? '';
    else if (m.event === 'media' && m.media) ws.send(JSON.stringify({ event: 'media', streamSid, media: { payload: m.media.payload } }));
    else if (m.event === 'stop') ws.close(1000, 'stop');
  });
  ws.on('error', () => {});
});
process.stdout.write(`media-stream agent ready ws://127.0.0.1:${(wss.address() as { port: number }).port}/stream\n`);
const stop = (): void => {
  for (const c of wss.clients) c.terminate();
  wss.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

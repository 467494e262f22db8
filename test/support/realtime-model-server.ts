// Runs the Realtime-protocol test model (./realtime-model.ts) as a process, for `parley load
// --handler realtime` by hand and for `HANDLER=realtime npm run bench:calls`:
//   npm run -s realtime-model [-- --port N --reply-hz HZ --reply-ms MS --back-to-back]
// prints `realtime model ready ws://127.0.0.1:PORT/v1/realtime` on stdout; give that URL to the
// transceiver as --realtime-url. Each time a connection closes it prints `model counts {JSON}`
// (frames sent and heard so far, connections open) for the benchmark's frames-lost count.
// SIGTERM/SIGINT stop it. A test tool, not part of the product.
import { parseArgs } from 'node:util';
import { startRealtimeModel } from './realtime-model.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'reply-hz': { type: 'string' },
    'reply-ms': { type: 'string' },
    'back-to-back': { type: 'boolean' },
  },
});
const model = await startRealtimeModel({
  port: values.port === undefined ? 0 : Number(values.port),
  replyHz: values['reply-hz'] === undefined ? undefined : Number(values['reply-hz']),
  replyMs: values['reply-ms'] === undefined ? undefined : Number(values['reply-ms']),
  backToBack: values['back-to-back'],
  keepEvents: false,
  onConnectionClose: () => process.stdout.write(`model counts ${JSON.stringify(model.counts())}\n`),
});
process.stdout.write(`realtime model ready ${model.url}\n`);
const stop = (): void => {
  void model.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

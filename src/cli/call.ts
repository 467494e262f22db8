// `parley call URL`: a command-line WebRTC client on Parley's own core. It POSTs an audio offer,
// connects through the relay (ICE controlling, DTLS-SRTP), sends a tone or a 48 kHz WAV as
// 20 ms Opus packets at real time, records what comes back, prints the call's numbers and hangs
// up with DELETE. Exit 0 on success, 1 when the call failed (the reason is printed), 2 usage.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from './command.ts';
import { UsageError } from './command.ts';
import { splitUrlArgs } from './url-args.ts';
import { loadConfig, onOffSwitch, parsers, renderSettingsHelp, setting } from '../common/cli-config.ts';
import { systemRng } from '../common/system-rng.ts';
import { encodePcm, encodeTone } from '../client/audio.ts';
import { createCoreAgents } from '../client/core-agents.ts';
import { runCall } from '../client/run-call.ts';
import type { CallSummary } from '../client/run-call.ts';
import { readWavFile, writeWavFile } from '../media/wav.ts';

const seconds = (text: string): number => {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || n <= 0 || n > 3600) throw new Error(`'${text}' is not a number of seconds in (0, 3600]`);
  return n;
};
const optional = (text: string): string | undefined => text;

/** --record is written after the call: a path that cannot be written fails before the call is made. */
function writablePath(text: string): string {
  const dir = dirname(resolve(text));
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new Error(`the directory ${dir} does not exist`);
  }
  if (!isDir) throw new Error(`${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new Error(`the directory ${dir} is not writable`);
  }
  let target: ReturnType<typeof statSync> | undefined;
  try {
    target = statSync(text);
  } catch {
    // Not there yet: written after the call.
  }
  if (target?.isDirectory()) throw new Error(`${text} is a directory`);
  return text;
}

const spec = {
  wav: setting({
    flag: 'wav',
    env: 'PARLEY_CALL_WAV',
    metavar: 'FILE',
    help: 'send this 16-bit 48 kHz WAV (instead of a tone)',
    default: undefined as string | undefined,
    parse: optional,
  }),
  tone: setting({
    flag: 'tone',
    env: 'PARLEY_CALL_TONE',
    metavar: 'HZ',
    help: 'send a sine at this frequency',
    default: 440,
    parse: parsers.int(20, 20000),
  }),
  seconds: setting({
    flag: 'seconds',
    env: 'PARLEY_CALL_SECONDS',
    metavar: 'S',
    help: 'how long to send (a WAV is repeated to fill it)',
    default: 5,
    parse: seconds,
  }),
  record: setting({
    flag: 'record',
    env: 'PARLEY_CALL_RECORD',
    metavar: 'FILE',
    help: 'write the audio that comes back to this WAV (mono, 48 kHz); its directory must exist',
    default: undefined as string | undefined,
    parse: writablePath,
  }),
  bearer: setting({
    flag: 'bearer',
    env: 'PARLEY_CALL_BEARER',
    metavar: 'KEY',
    help: 'send Authorization: Bearer KEY',
    default: undefined as string | undefined,
    parse: optional,
  }),
  bind: setting({
    flag: 'bind',
    env: 'PARLEY_CALL_BIND',
    metavar: 'HOST',
    help: 'local address of the UDP socket (of the TCP connections with --tcp)',
    default: '0.0.0.0',
    parse: parsers.string,
  }),
  tcp: onOffSwitch({
    flag: 'tcp',
    env: 'PARLEY_CALL_TCP',
    help: "connect over ICE-TCP (RFC 6544) to the answer's passive TCP candidate instead of UDP, as a client on a network that blocks UDP does; fails if the answer has none",
  }),
  connectTimeout: setting({
    flag: 'connect-timeout-ms',
    env: 'PARLEY_CALL_CONNECT_TIMEOUT_MS',
    metavar: 'MS',
    help: 'give up if not connected this long after the answer',
    default: 10000,
    parse: parsers.int(100, 120000),
  }),
  datachannel: setting({
    flag: 'datachannel',
    env: 'PARLEY_CALL_DATACHANNEL',
    metavar: 'LABEL',
    help: 'open a data channel with this label (e.g. chat; oai-events carries Parley session events), send --dc-message or --dc-bytes on it, print what comes back and its round trip',
    default: undefined as string | undefined,
    parse: optional,
  }),
  dcMessage: setting({
    flag: 'dc-message',
    env: 'PARLEY_CALL_DC_MESSAGE',
    metavar: 'TEXT',
    help: 'with --datachannel: the text message to send (default "ping")',
    default: undefined as string | undefined,
    parse: optional,
  }),
  dcBytes: setting({
    flag: 'dc-bytes',
    env: 'PARLEY_CALL_DC_BYTES',
    metavar: 'N',
    help: 'with --datachannel: send a binary message of N bytes instead of text',
    default: undefined as number | undefined,
    parse: parsers.int(1, 256 * 1024),
  }),
  dcEvery: setting({
    flag: 'dc-every',
    env: 'PARLEY_CALL_DC_EVERY',
    metavar: 'MS',
    help: 'with --datachannel: send the message every MS during the call (default once)',
    default: undefined as number | undefined,
    parse: parsers.int(1, 3_600_000),
  }),
  rebindAfter: setting({
    flag: 'rebind-after-ms',
    env: 'PARLEY_CALL_REBIND_AFTER_MS',
    metavar: 'MS',
    help: 'testing: move to a new local UDP port this long after connecting (NAT rebinding)',
    default: undefined as number | undefined,
    parse: parsers.int(0, 3600000),
  }),
  dtmf: setting({
    flag: 'dtmf',
    env: 'PARLEY_CALL_DTMF',
    metavar: 'DIGITS',
    help: 'key presses to send as RFC 4733 telephone-events (0-9 * # A-D), e.g. 123#',
    default: undefined as string | undefined,
    parse: (text: string): string => {
      if (!/^[0-9*#A-Da-d]{1,64}$/.test(text)) throw new Error('must be 1..64 of 0-9 * # A-D');
      return text.toUpperCase();
    },
  }),
  dtmfAt: setting({
    flag: 'dtmf-at',
    env: 'PARLEY_CALL_DTMF_AT',
    metavar: 'MS',
    help: 'send --dtmf this long after connecting',
    default: 500,
    parse: parsers.int(0, 3600000),
  }),
};

const help = `Usage: parley call URL [options]

A command-line WebRTC voice client. POSTs an SDP offer to URL (e.g.
http://127.0.0.1:8080/v1/realtime/calls), connects to the candidates of the answer (the relay),
sends a tone or a WAV as 20 ms Opus packets at real time, records what comes back, prints the
connect time (POST → DTLS connected), packets sent/received, loss and RTT, and hangs up with
DELETE. Exit status: 0 the call worked, 1 it failed (the reason is printed), 2 usage error.

Options:
${renderSettingsHelp(spec)}

Switches:
  --json      print one JSON summary on stdout instead of text
  -h, --help  this help`;

const f1 = (n: number | undefined): string => (n === undefined ? 'n/a' : n.toFixed(1));

function printText(s: CallSummary, recorded: string | undefined): void {
  const st = s.stats;
  if (s.connectMs !== undefined && st) {
    console.log(
      `connected in ${f1(s.connectMs)} ms (POST → DTLS connected; answer ${f1(s.signalingMs)} ms, ICE ${f1(st.iceMs)} ms, DTLS ${f1(st.dtlsMs)} ms)`,
    );
    console.log(`  via ${st.remoteAddress} from ${s.localAddress}, DTLS ${st.dtlsRole}, ${st.srtpProfile}`);
    console.log(
      `packets: sent ${st.packetsSent}, received ${st.packetsReceived}, lost ${st.packetsLost} (${(st.lossFraction * 100).toFixed(1)}%), SRTP dropped ${st.srtpDropped}`,
    );
    if (st.framesSkipped > 0)
      console.log(
        `  ${st.framesSkipped} frames not sent: this process stalled for more than 500 ms (a busy machine), so it skipped rather than burst`,
      );
    console.log(`RTT: ${st.rttMs === undefined ? 'n/a' : `${st.rttMs.toFixed(2)} ms (${st.rttSource})`}`);
  }
  if (s.rebind)
    console.log(
      `rebound to ${s.rebind.localAddress} after ${s.rebind.atMs} ms; received ${s.rebind.packetsReceivedAfter} packets afterwards`,
    );
  if (recorded) console.log(recorded);
  if (s.dtmfReceived !== '') console.log(`DTMF received: ${s.dtmfReceived}`);
  const d = s.dataChannel;
  if (d) {
    console.log(
      `data channel ${JSON.stringify(d.label)}: sent ${d.sent}, came back ${d.received} (${d.mismatched} not byte-exact), outstanding ${d.outstanding}, refused ${d.refused}`,
    );
    if (d.rttMsAvg !== undefined) console.log(`  message RTT: avg ${d.rttMsAvg.toFixed(2)} ms, max ${d.rttMsMax!.toFixed(2)} ms`);
  }
  if (s.location) console.log(`hung up: DELETE ${s.location} → ${s.hangupStatus ?? 'failed'}`);
  if (!s.ok) console.error(`parley call: ${s.error?.message ?? 'failed'} [${s.error?.code ?? '?'}]`);
}

export const command: Command = {
  summary: 'make a WebRTC voice call from the command line (send a tone/WAV, record the reply)',
  help,
  async run(argv: string[]): Promise<number> {
    const { url, json, rest } = splitUrlArgs(argv, spec);
    const cfg = loadConfig(spec, rest, process.env);
    let frames: Buffer[];
    try {
      frames = cfg.wav !== undefined ? encodePcm(await readWavFile(cfg.wav)) : encodeTone(cfg.tone, Math.min(cfg.seconds, 10));
    } catch (err) {
      throw new UsageError(`cannot use --wav ${cfg.wav}: ${(err as Error).message}`);
    }
    const progress = json ? undefined : (line: string): void => void process.stderr.write(`${line}\n`);
    if (cfg.datachannel === undefined && (cfg.dcMessage !== undefined || cfg.dcBytes !== undefined || cfg.dcEvery !== undefined)) {
      throw new UsageError('--dc-message, --dc-bytes and --dc-every need --datachannel LABEL');
    }
    if (cfg.dcMessage !== undefined && cfg.dcBytes !== undefined) throw new UsageError('give --dc-message or --dc-bytes, not both');
    const message = cfg.dcBytes !== undefined ? Buffer.alloc(cfg.dcBytes, 0x5a) : (cfg.dcMessage ?? 'ping');
    const onReply = (data: string | Buffer, rttMs: number): void => {
      if (!json)
        console.log(
          `dc ← ${typeof data === 'string' ? JSON.stringify(data.length > 200 ? `${data.slice(0, 200)}…` : data) : `${data.length} bytes`} (RTT ${rttMs.toFixed(2)} ms)`,
        );
    };
    const dataChannel = cfg.datachannel === undefined ? undefined : { label: cfg.datachannel, message, everyMs: cfg.dcEvery, onReply };
    const { summary, recorder } = await runCall({
      url,
      bearer: cfg.bearer,
      rng: systemRng,
      agents: createCoreAgents(systemRng),
      frames,
      seconds: cfg.seconds,
      record: cfg.record !== undefined,
      rebindAfterMs: cfg.rebindAfter,
      dtmf: cfg.dtmf,
      dtmfAtMs: cfg.dtmfAt,
      connectTimeoutMs: cfg.connectTimeout,
      bindHost: cfg.bind,
      transport: cfg.tcp === 'on' ? 'tcp' : 'udp',
      progress,
      dataChannel,
    });
    let recorded: string | undefined;
    if (cfg.record !== undefined && recorder) {
      const pcm = recorder.toPcm();
      try {
        await writeWavFile(cfg.record, pcm);
        recorded = `recorded ${(pcm.samples.length / pcm.sampleRate).toFixed(2)} s (${recorder.packets} packets) to ${cfg.record}`;
      } catch (err) {
        // Checked before the call, but the disk can still fill up or the directory go away.
        console.error(`parley call: cannot write --record ${cfg.record}: ${(err as Error).message}`);
        return 1;
      }
    }
    if (json) console.log(JSON.stringify({ ...summary, record: cfg.record, recordedPackets: recorder?.packets }));
    else printText(summary, recorded);
    return summary.ok ? 0 : 1;
  },
};

// Parley demo page: a voice-agent page over the transceiver's signaling API, plain JS, no build
// step. Non-trickle: the offer is sent once ICE gathering completes (or after a short timeout),
// the answer carries the relay candidates. It opens `oai-events` before the offer (as OpenAI's
// clients do) and shows the model's transcripts and events, who is speaking, and an Interrupt
// button (output_audio_buffer.clear). A call that the server ends is noticed from the DTLS
// transport (Chromium closes it at once on close_notify, while connectionState may linger) and
// the data channel, and its reason is read with GET on the call's Location. Refusals show the
// server's message, not its JSON. State is mirrored in `window.parley` for automated tests.
// Past 400 lines because the page is one script with no build step (served as is by the
// transceiver): call, events panel, stats and pickers share its one state.
/* global window, document, navigator, RTCPeerConnection, URLSearchParams */

const GATHER_TIMEOUT_MS = 1500;
const STATS_INTERVAL_MS = 500;
const CALLS_PATH = '/v1/realtime/calls';
const MAX_EVENTS = 200;
/** audioLevel (linear 0..1) above which a side counts as speaking when no model says so. */
const SPEAKING_LEVEL = 0.02;

/** GET …/{id} closeReason → words (calls/call-types.ts CLOSE_REASONS). */
const REASONS = {
  hangup: 'the call was hung up (DELETE)',
  agent_hangup: 'the agent hung up',
  agent_closed: "the agent's connection closed",
  agent_error: 'the agent failed',
  consent_lost: 'the connection was lost (no ICE consent for 30 s)',
  setup_timeout: 'the connection could not be set up in time',
  dtls_failed: 'the secure connection (DTLS) failed',
  dtls_closed: 'this browser closed the connection',
  max_duration: 'the call reached its maximum duration',
  server_drain: 'the server is shutting down',
  internal_error: 'the server had an internal error',
};

const EMPTY_STATS = Object.freeze({
  rttMs: null, jitterMs: null, lossPercent: null, remoteLossPercent: null,
  packetsSent: 0, packetsReceived: 0, packetsLost: 0, bytesSent: 0, bytesReceived: 0, levelOut: 0, levelIn: 0,
});

const $ = (id) => document.getElementById(id);
const el = {
  call: $('call'), hangup: $('hangup'), mute: $('mute'), interrupt: $('interrupt'),
  state: $('state'), ice: $('ice'), callId: $('callid'), timer: $('timer'), speaking: $('speaking'),
  relay: $('relay'), rtt: $('rtt'), jitter: $('jitter'), loss: $('loss'), packets: $('packets'),
  levelIn: $('level-in'), levelOut: $('level-out'), error: $('error'), ended: $('ended'),
  handler: $('handler'), handlerPicker: $('handler-picker'), micPicker: $('mic-picker'), remote: $('remote'),
  transcript: $('transcript'), events: $('events'), eventCount: $('event-count'),
};

const query = new URLSearchParams(window.location.search).get('handler');
if (query) {
  if (![...el.handlerPicker.options].some((o) => o.value === query)) el.handlerPicker.add(new window.Option(query, query));
  el.handlerPicker.value = query;
}

/** Everything a test (or a curious human in the console) may want to read. */
const parley = {
  state: 'idle', // idle | calling | new | connecting | connected | disconnected | failed | closed | ended | error
  iceState: null,
  dtlsState: null,
  callId: null,
  location: null,
  remoteAddress: null,
  error: null,
  /** Why the call ended: a CLOSE_REASONS string from GET, or 'local' when this page hung up. */
  closeReason: null,
  /** What the agent said with it (GET closeDetail), or null. */
  closeDetail: null,
  /** The text shown for it. */
  endedText: null,
  /** When the page showed why the server ended the call (performance.now()). */
  endedAt: null,
  handler: query,
  muted: false,
  speaking: 'none', // none | you | agent
  events: [],
  transcript: [],
  connectedAt: null,
  stats: { ...EMPTY_STATS },
  call,
  hangup,
  interrupt,
};
window.parley = parley;

let pc = null;
let mic = null;
let events = null;
let statsTimer = null;
// Bumped by every call() and hangup(): a call() that finds it changed after an await was
// hung up meanwhile and must stop.
let attempt = 0;
let inCall = false;
/** Speaking as the model reports it (oai-events); undefined: guess from audio levels. */
let modelSpeaking = { you: undefined, agent: undefined };

function setState(state) {
  parley.state = state;
  el.state.textContent = state;
  el.state.dataset.state = state;
}

function showError(text) {
  parley.error = text;
  el.error.textContent = text;
  el.error.hidden = false;
}

function selectedHandler() {
  return el.handlerPicker.value || null;
}

function showHandler() {
  el.handler.textContent = selectedHandler() || 'default';
}
showHandler();
el.handlerPicker.addEventListener('change', showHandler);

/** Forgets everything about the previous call, on screen and in `window.parley`. */
function resetCall() {
  Object.assign(parley, {
    error: null, callId: null, location: null, remoteAddress: null, iceState: null, dtlsState: null,
    closeReason: null, closeDetail: null, endedText: null, endedAt: null, muted: false, speaking: 'none', events: [], transcript: [],
    connectedAt: null, stats: { ...EMPTY_STATS },
  });
  modelSpeaking = { you: undefined, agent: undefined };
  el.error.hidden = true;
  el.ended.hidden = true;
  for (const e of [el.callId, el.relay, el.rtt, el.jitter, el.loss, el.packets, el.timer]) e.textContent = '—';
  el.ice.textContent = '';
  el.transcript.replaceChildren();
  el.events.replaceChildren();
  el.eventCount.textContent = '0';
  el.mute.textContent = 'Mute';
  el.mute.setAttribute('aria-pressed', 'false');
  setSpeaking('none');
}

function waitForGathering(peer) {
  if (peer.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      peer.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    };
    const onChange = () => { if (peer.iceGatheringState === 'complete') done(); };
    const timer = setTimeout(done, GATHER_TIMEOUT_MS);
    peer.addEventListener('icegatheringstatechange', onChange);
  });
}

/**
 * A refusal as a person reads it: the message of an OpenAI-shaped error body
 * ({"error":{"message","type","code"}}), the status in words, and when to retry.
 */
async function refusalText(res) {
  const body = await res.text();
  let message = null;
  let code = null;
  try {
    const json = JSON.parse(body);
    if (json && json.error) {
      message = typeof json.error === 'string' ? json.error : json.error.message;
      code = typeof json.error === 'object' ? json.error.code : null;
    }
  } catch {
    message = body.trim().slice(0, 200) || null;
  }
  const what = {
    400: 'the server could not use this request',
    401: 'an API key is required',
    403: 'this API key may not call',
    404: 'no such endpoint',
    406: 'the server cannot answer this browser’s audio offer',
    413: 'the offer is too large',
    415: 'wrong content type',
    429: 'too many calls from here; wait a moment',
    502: 'the agent could not be reached',
    503: 'the server is full or restarting',
  }[res.status] || `HTTP ${res.status}`;
  const retry = res.headers.get('Retry-After');
  return `Call refused: ${what}${message ? ` — ${message}` : ''}${retry ? ` (retry in ${retry} s)` : ''}${code ? ` [${code}]` : ''}`;
}

async function openMic(deviceId) {
  const audio = deviceId ? { deviceId: { exact: deviceId } } : true;
  return navigator.mediaDevices.getUserMedia({ audio, video: false });
}

async function listMics() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
  const devices = await navigator.mediaDevices.enumerateDevices();
  const chosen = el.micPicker.value;
  const options = [new window.Option('default', '')];
  devices.filter((d) => d.kind === 'audioinput').forEach((d, i) => options.push(new window.Option(d.label || `microphone ${i + 1}`, d.deviceId)));
  el.micPicker.replaceChildren(...options);
  if ([...el.micPicker.options].some((o) => o.value === chosen)) el.micPicker.value = chosen;
}

async function call() {
  if (inCall) return;
  inCall = true;
  const mine = ++attempt;
  resetCall();
  el.call.disabled = true;
  el.hangup.disabled = false;
  el.handlerPicker.disabled = true;
  setState('calling');
  try {
    const stream = await openMic(el.micPicker.value);
    if (mine !== attempt) { for (const t of stream.getTracks()) t.stop(); return; }
    mic = stream;
    listMics().catch(() => {});
    pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    const peer = pc;
    peer.addEventListener('connectionstatechange', () => {
      if (pc !== peer) return;
      setState(peer.connectionState);
      if (peer.connectionState === 'connected' && parley.connectedAt === null) parley.connectedAt = window.performance.now();
      if (peer.connectionState === 'failed') serverEnded(peer, 'connection failed');
    });
    peer.addEventListener('iceconnectionstatechange', () => {
      if (pc !== peer) return;
      parley.iceState = peer.iceConnectionState;
      el.ice.textContent = `ICE ${peer.iceConnectionState}`;
    });
    peer.addEventListener('track', (e) => { el.remote.srcObject = e.streams[0] || new window.MediaStream([e.track]); });
    for (const track of mic.getAudioTracks()) peer.addTrack(track, mic);
    // Before the offer, so the offer carries the data section (OpenAI's clients do the same).
    events = peer.createDataChannel('oai-events');
    const channel = events;
    channel.addEventListener('open', () => { if (pc === peer) el.interrupt.disabled = false; });
    channel.addEventListener('message', (e) => { if (pc === peer) onEvent(e.data); });
    channel.addEventListener('close', () => { if (pc === peer) serverEnded(peer, 'data channel closed'); });

    await peer.setLocalDescription(await peer.createOffer());
    await waitForGathering(peer);
    if (mine !== attempt) return; // hung up while gathering

    const handler = selectedHandler();
    const url = CALLS_PATH + (handler ? `?handler=${encodeURIComponent(handler)}` : '');
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: peer.localDescription.sdp });
    if (res.status !== 201) throw new Refused(await refusalText(res));
    const body = await res.text();
    parley.location = res.headers.get('Location');
    parley.callId = parley.location ? parley.location.split('/').pop() : null;
    el.callId.textContent = parley.callId || '—';
    if (mine !== attempt) { await deleteCall(); return; }
    await peer.setRemoteDescription({ type: 'answer', sdp: body });
    watchDtls(peer);
    el.mute.disabled = false;
    statsTimer = setInterval(pollStats, STATS_INTERVAL_MS);
  } catch (err) {
    if (mine !== attempt) return;
    console.error('parley:', err);
    showError(err instanceof Refused ? err.message : `Call failed: ${err && err.message ? err.message : err}`);
    const peer = pc;
    pc = null;
    stopMedia(peer);
    setState('error');
    await deleteCall();
  }
}

class Refused extends Error {}

/**
 * The DTLS transport is where a server hang-up shows first: close_notify closes it while
 * connectionState may still say connected (issue #20).
 */
function watchDtls(peer) {
  const sender = peer.getSenders().find((s) => s.transport);
  const dtls = sender && sender.transport;
  if (!dtls) return;
  parley.dtlsState = dtls.state;
  dtls.addEventListener('statechange', () => {
    parley.dtlsState = dtls.state;
    if (pc === peer && (dtls.state === 'closed' || dtls.state === 'failed')) serverEnded(peer, `DTLS ${dtls.state}`);
  });
}

/** The call ended from the other side: ask the server why, show it, and release everything. */
async function serverEnded(peer, how) {
  if (pc !== peer) return;
  const location = parley.location;
  pc = null; // from here on, every other signal of the same end is ignored
  stopMedia(peer);
  let reason = null;
  let detail = null;
  if (location) {
    try {
      const res = await fetch(location, { cache: 'no-store' });
      if (res.ok) ({ closeReason: reason = null, closeDetail: detail = null } = await res.json());
    } catch {
      // the reason stays unknown; the page still shows that the call ended
    }
  }
  parley.location = null;
  parley.closeReason = reason || 'unknown';
  parley.closeDetail = detail;
  parley.endedAt = window.performance.now();
  // The agent's own words (GET closeDetail, made safe by the transceiver) follow the reason.
  const said = detail ? `: “${detail}”` : '';
  showEnded(reason ? `Call ended: ${REASONS[reason] || reason} (${reason})${said}.` : `Call ended (${how}).`);
  setState('ended');
}

function showEnded(text) {
  parley.endedText = text;
  el.ended.textContent = text;
  el.ended.hidden = false;
}

async function deleteCall() {
  const location = parley.location;
  parley.location = null;
  if (!location) return;
  try {
    await fetch(location, { method: 'DELETE', keepalive: true });
  } catch (err) {
    console.warn('parley: hang-up request failed', err);
  }
}

/** Stops the timers, the microphone and the peer; resets the buttons. */
function stopMedia(peer) {
  attempt++;
  inCall = false;
  clearInterval(statsTimer);
  statsTimer = null;
  if (peer) peer.close();
  if (mic) for (const t of mic.getTracks()) t.stop();
  mic = null;
  events = null;
  el.remote.srcObject = null;
  el.levelIn.value = 0;
  el.levelOut.value = 0;
  el.ice.textContent = '';
  el.call.disabled = false;
  el.hangup.disabled = true;
  el.mute.disabled = true;
  el.interrupt.disabled = true;
  el.handlerPicker.disabled = false;
  setSpeaking('none');
}

async function hangup() {
  const peer = pc;
  pc = null;
  stopMedia(peer);
  if (peer) {
    parley.closeReason = 'local';
    showEnded('Call ended: you hung up.');
  }
  if (parley.state !== 'error') setState(peer ? 'ended' : parley.state);
  await deleteCall();
}

function toggleMute() {
  if (!mic) return;
  parley.muted = !parley.muted;
  for (const t of mic.getAudioTracks()) t.enabled = !parley.muted;
  el.mute.textContent = parley.muted ? 'Unmute' : 'Mute';
  el.mute.setAttribute('aria-pressed', String(parley.muted));
}

/** A new microphone mid-call: the sender's track is replaced, no renegotiation. */
async function switchMic() {
  const peer = pc;
  if (!peer || !mic) return;
  const next = await openMic(el.micPicker.value);
  const track = next.getAudioTracks()[0];
  track.enabled = !parley.muted;
  const sender = peer.getSenders().find((s) => s.track && s.track.kind === 'audio');
  if (sender) await sender.replaceTrack(track);
  for (const t of mic.getTracks()) t.stop();
  mic = next;
}

/** The Agents SDK's interrupt(): stop the agent's audio now (Parley truncates what the model thinks was heard). */
function interrupt() {
  if (!events || events.readyState !== 'open') return false;
  events.send(JSON.stringify({ type: 'output_audio_buffer.clear' }));
  return true;
}

function setSpeaking(who) {
  parley.speaking = who;
  el.speaking.dataset.who = who;
  el.speaking.textContent = { none: '—', you: 'you', agent: 'agent' }[who];
}

/** One transcript line per item (user or agent), grown by deltas. */
function transcriptLine(id, who) {
  let line = parley.transcript.find((l) => l.id === id);
  if (!line) {
    const li = document.createElement('li');
    li.dataset.who = who;
    line = { id, who, text: '', li };
    parley.transcript.push(line);
    el.transcript.append(li);
  }
  return line;
}

function setLine(line, text) {
  line.text = text;
  line.li.textContent = `${line.who === 'you' ? 'You' : 'Agent'}: ${text}`;
}

function onEvent(data) {
  let e;
  try {
    e = JSON.parse(data);
  } catch {
    return;
  }
  if (!e || typeof e.type !== 'string') return;
  parley.events.push(e.type);
  if (parley.events.length > MAX_EVENTS) parley.events.shift();
  const li = document.createElement('li');
  li.textContent = e.type + (e.type === 'error' && e.error ? `: ${e.error.message}` : '');
  el.events.prepend(li);
  while (el.events.childElementCount > MAX_EVENTS) el.events.lastElementChild.remove();
  el.eventCount.textContent = String(parley.events.length);
  const key = e.item_id || e.response_id || 'current';
  switch (e.type) {
    case 'input_audio_buffer.speech_started': modelSpeaking.you = true; break;
    case 'input_audio_buffer.speech_stopped': modelSpeaking.you = false; break;
    case 'output_audio_buffer.started': modelSpeaking.agent = true; break;
    case 'output_audio_buffer.stopped':
    case 'output_audio_buffer.cleared': modelSpeaking.agent = false; break;
    // GA names first, then the beta ones older servers send.
    case 'response.output_audio_transcript.delta':
    case 'response.audio_transcript.delta':
    case 'response.output_text.delta':
    case 'response.text.delta': {
      const line = transcriptLine(key, 'agent');
      setLine(line, line.text + (e.delta || ''));
      break;
    }
    case 'response.output_audio_transcript.done':
    case 'response.audio_transcript.done':
      if (typeof e.transcript === 'string') setLine(transcriptLine(key, 'agent'), e.transcript);
      break;
    case 'conversation.item.input_audio_transcription.delta': {
      const line = transcriptLine(key, 'you');
      setLine(line, line.text + (e.delta || ''));
      break;
    }
    case 'conversation.item.input_audio_transcription.completed':
      if (typeof e.transcript === 'string') setLine(transcriptLine(key, 'you'), e.transcript);
      break;
    default:
      break;
  }
  updateSpeaking();
}

function updateSpeaking() {
  const s = parley.stats;
  const agent = modelSpeaking.agent ?? s.levelIn > SPEAKING_LEVEL;
  const you = modelSpeaking.you ?? (!parley.muted && s.levelOut > SPEAKING_LEVEL);
  setSpeaking(agent ? 'agent' : you ? 'you' : 'none');
}

function formatAddress(candidate) {
  const ip = candidate.address || candidate.ip;
  if (!ip) return null;
  return ip.includes(':') ? `[${ip}]:${candidate.port}` : `${ip}:${candidate.port}`;
}

function formatTimer(ms) {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

const percent = (lost, got) => (lost + got > 0 ? Math.max(0, (100 * lost) / (lost + got)) : null);

async function pollStats() {
  const peer = pc;
  if (!peer) return;
  let report;
  try {
    report = await peer.getStats();
  } catch {
    return; // closed meanwhile
  }
  if (pc !== peer) return;
  const s = { ...parley.stats };
  let pair = null;
  let remoteRtt = null;
  report.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pair = report.get(r.selectedCandidatePairId) || pair;
  });
  report.forEach((r) => {
    // Firefox marks the pair itself; Chromium names it from the transport (above).
    if (!pair && r.type === 'candidate-pair' && (r.selected || (r.nominated && r.state === 'succeeded'))) pair = r;
    if (r.type === 'outbound-rtp' && r.kind === 'audio') { s.packetsSent = r.packetsSent; s.bytesSent = r.bytesSent; }
    if (r.type === 'inbound-rtp' && r.kind === 'audio') {
      s.packetsReceived = r.packetsReceived || 0;
      s.bytesReceived = r.bytesReceived || 0;
      s.packetsLost = r.packetsLost || 0;
      s.levelIn = r.audioLevel || 0;
      s.lossPercent = percent(s.packetsLost, s.packetsReceived);
      if (typeof r.jitter === 'number') s.jitterMs = Math.round(r.jitter * 1000);
    }
    // What the server's receiver reports about our stream (RTCP RR).
    if (r.type === 'remote-inbound-rtp' && r.kind === 'audio') {
      if (typeof r.fractionLost === 'number') s.remoteLossPercent = 100 * r.fractionLost;
      if (typeof r.roundTripTime === 'number') remoteRtt = r.roundTripTime;
    }
    if (r.type === 'media-source' && r.kind === 'audio') s.levelOut = r.audioLevel || 0;
  });
  s.rttMs = null;
  if (pair) {
    if (typeof pair.currentRoundTripTime === 'number') s.rttMs = Math.round(pair.currentRoundTripTime * 1000);
    const remote = report.get(pair.remoteCandidateId);
    parley.remoteAddress = remote ? formatAddress(remote) : null;
  }
  if (s.rttMs === null && remoteRtt !== null) s.rttMs = Math.round(remoteRtt * 1000);
  parley.stats = s;
  el.rtt.textContent = s.rttMs === null ? '—' : `${s.rttMs} ms`;
  el.jitter.textContent = s.jitterMs === null ? '—' : `${s.jitterMs} ms`;
  const loss = (v) => (v === null ? '—' : `${v.toFixed(1)} %`);
  el.loss.textContent = `${loss(s.lossPercent)} heard · ${loss(s.remoteLossPercent)} sent`;
  el.packets.textContent = `${s.packetsSent} sent · ${s.packetsReceived} received`;
  el.relay.textContent = parley.remoteAddress || '—';
  if (parley.connectedAt !== null) el.timer.textContent = formatTimer(window.performance.now() - parley.connectedAt);
  // audioLevel is linear 0..1; a square root makes speech visible on the meter.
  el.levelOut.value = Math.sqrt(s.levelOut);
  el.levelIn.value = Math.sqrt(s.levelIn);
  updateSpeaking();
}

el.call.addEventListener('click', () => { call(); });
el.hangup.addEventListener('click', () => { hangup(); });
el.mute.addEventListener('click', toggleMute);
el.interrupt.addEventListener('click', () => { interrupt(); });
el.micPicker.addEventListener('change', () => { switchMic().catch((err) => showError(`Cannot switch microphone: ${err.message}`)); });
window.addEventListener('pagehide', () => { if (parley.location) deleteCall(); });
listMics().catch(() => {});

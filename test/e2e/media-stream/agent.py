#!/usr/bin/env python3
"""A voice agent written for Twilio Media Streams, using only the `websockets` package: it knows
nothing of Parley. Every call it: records the caller's audio (mulaw or L16, per start.mediaFormat)
to DIR/<callSid>.wav, logs every message to DIR/<callSid>.jsonl (with wall time in ms), and acts as
start.customParameters["scenario"] asks:
  reply   - answer with REPLY_HZ tone (2 s), then marks "m1","m2","m3" in order
  clear   - send 6 s of tone, then `clear` after 1 s of caller audio; logs the wall time it sent clear
  hangup  - after 1 s of caller audio, close the socket with reason "agent says goodbye"
  (other) - listen only
Usage: agent.py PORT DIR   (prints "listening PORT" when ready)"""
import asyncio, base64, json, math, struct, sys, time, wave
import websockets

REPLY_HZ = 660


def ulaw_to_lin(b):
    out = []
    for c in b:
        u = ~c & 0xFF
        t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
        out.append(0x84 - t if u & 0x80 else t - 0x84)
    return out


def lin_to_ulaw(s):
    s >>= 2
    mask = 0xFF
    if s < 0:
        s, mask = -s, 0x7F
    s = min(s, 8159) + 33
    seg = max(0, s.bit_length() - 6)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((s >> (seg + 1)) & 0x0F)) ^ mask


def tone(rate, ms, hz, amp=0.4):
    n = rate * ms // 1000
    return [int(amp * 32767 * math.sin(2 * math.pi * hz * i / rate)) for i in range(n)]


def encode(samples, fmt):
    if fmt['encoding'] == 'audio/x-mulaw':
        return base64.b64encode(bytes(lin_to_ulaw(s) for s in samples)).decode()
    return base64.b64encode(struct.pack('<%dh' % len(samples), *samples)).decode()


async def call(ws, out_dir):
    log = None
    sid = None
    fmt = None
    pcm = []
    chunks = 0
    scenario = ''
    acted = False

    def note(kind, **kw):
        if log:
            log.write(json.dumps({'at': time.time() * 1000, 'kind': kind, **kw}) + '\n')
            log.flush()

    async def send(msg):
        msg['streamSid'] = sid
        await ws.send(json.dumps(msg))

    try:
        async for raw in ws:
            m = json.loads(raw)
            ev = m.get('event')
            if ev == 'connected':
                first = m
                continue
            if ev == 'start':
                st = m['start']
                sid = m['streamSid']
                fmt = st['mediaFormat']
                scenario = st['customParameters'].get('scenario', '')
                log = open('%s/%s.jsonl' % (out_dir, st['callSid']), 'w')
                note('connected', message=first)
                note('start', message=m)
                if scenario == 'reply':
                    await send({'event': 'media', 'media': {'payload': encode(tone(fmt['sampleRate'], 2000, REPLY_HZ), fmt)}})
                    for name in ('m1', 'm2', 'm3'):
                        await send({'event': 'mark', 'mark': {'name': name}})
                if scenario == 'clear':
                    # 40 ms per message, as TTS engines stream.
                    t = tone(fmt['sampleRate'], 6000, REPLY_HZ)
                    step = fmt['sampleRate'] * 40 // 1000
                    for i in range(0, len(t), step):
                        await send({'event': 'media', 'media': {'payload': encode(t[i:i + step], fmt)}})
                    await send({'event': 'mark', 'mark': {'name': 'after-clear'}})
                continue
            if ev == 'media':
                chunks += 1
                data = base64.b64decode(m['media']['payload'])
                if fmt['encoding'] == 'audio/x-mulaw':
                    pcm.extend(ulaw_to_lin(data))
                else:
                    pcm.extend(struct.unpack('<%dh' % (len(data) // 2), data))
                if chunks == 1 or chunks % 50 == 0:
                    note('media', sequenceNumber=m['sequenceNumber'], chunk=m['media']['chunk'], timestamp=m['media']['timestamp'], bytes=len(data))
                if chunks == 50 and not acted:
                    acted = True
                    if scenario == 'clear':
                        await send({'event': 'clear'})
                        note('clear-sent')
                    if scenario == 'hangup':
                        note('hangup-sent')
                        await ws.close(1000, 'agent says goodbye')
                continue
            note(ev, message=m)
            if ev == 'stop':
                break
    finally:
        if sid and fmt:
            with wave.open(log.name[:-len('.jsonl')] + '.wav', 'wb') as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(fmt['sampleRate'])
                w.writeframes(struct.pack('<%dh' % len(pcm), *pcm))
            note('closed', chunks=chunks)
            log.close()


async def main():
    port, out_dir = int(sys.argv[1]), sys.argv[2]
    async with websockets.serve(lambda ws, *rest: call(ws, out_dir), '127.0.0.1', port):
        print('listening', port, flush=True)
        await asyncio.Future()


asyncio.run(main())

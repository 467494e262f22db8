#!/usr/bin/env python3
"""aiortc-echo: the full-ICE reference server of bench/setup.ts (issue #18). Debian's python3-aiortc
answers offers on the part of Parley's signaling API the setup bench uses, like bench/pion-echo:

    POST   /v1/realtime/calls       application/sdp offer -> 201, SDP answer, Location
    DELETE /v1/realtime/calls/{id}  hang up -> 200
    GET    /readyz                  200 once listening

Every call echoes the audio track it receives on a track of its own (aiortc decodes and encodes
again: a reference for call setup, not for media cost), and answers an offered data channel as
aiortc does by itself. aiortc is a full ICE agent (the answerer is controlled), gathers one host
candidate per non-loopback IPv4 address and has no trickle: the answer carries them all. Not
product code: a benchmark reference. Prints "aiortc-echo: http HOST:PORT" once listening.
"""

import argparse
import asyncio
import secrets
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

CALLS_PATH = "/v1/realtime/calls"
MAX_OFFER = 64 * 1024


class Calls:
    """The calls of the asyncio loop, driven from the HTTP threads through run_coroutine_threadsafe."""

    def __init__(self, loop):
        self.loop = loop
        self.pcs = {}
        self.relay = MediaRelay()

    async def answer(self, offer):
        pc = RTCPeerConnection()

        @pc.on("track")
        def on_track(track):
            if track.kind == "audio":
                pc.addTrack(self.relay.subscribe(track))

        @pc.on("connectionstatechange")
        async def on_state():
            if pc.connectionState in ("failed", "closed"):
                await self.hangup(call_id)

        call_id = secrets.token_hex(12)
        self.pcs[call_id] = pc
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())  # returns once gathering is complete
        except Exception:
            await self.hangup(call_id)
            raise
        return call_id, pc.localDescription.sdp

    async def hangup(self, call_id):
        pc = self.pcs.pop(call_id, None)
        if pc is None:
            return False
        await pc.close()
        return True

    async def close(self):
        for call_id in list(self.pcs):
            await self.hangup(call_id)


def make_handler(calls):
    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, calls.loop).result(timeout=15)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def reply(self, status, body=b"", headers=None):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/readyz":
                self.reply(200, b"ready\n")
            else:
                self.reply(404, b"not found\n")

        def do_POST(self):
            if self.path.split("?")[0] != CALLS_PATH:
                return self.reply(404, b"not found\n")
            if self.headers.get("Content-Type", "").split(";")[0].strip().lower() != "application/sdp":
                return self.reply(415, b"content-type must be application/sdp\n")
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_OFFER:
                return self.reply(413 if length > MAX_OFFER else 400, b"bad offer length\n")
            offer = self.rfile.read(length).decode("utf-8", "replace")
            try:
                call_id, answer = run(calls.answer(offer))
            except Exception as err:  # noqa: BLE001 - a bad offer is the client's error
                return self.reply(400, f"{type(err).__name__}: {err}\n".encode())
            self.reply(201, answer.encode(), {"Content-Type": "application/sdp", "Location": f"{CALLS_PATH}/{call_id}"})

        def do_DELETE(self):
            if not self.path.startswith(CALLS_PATH + "/"):
                return self.reply(404, b"not found\n")
            found = run(calls.hangup(self.path[len(CALLS_PATH) + 1 :]))
            self.reply(200 if found else 404)

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--http", default="127.0.0.1:0", help="signaling HTTP address (port 0: any)")
    p.add_argument("--max-seconds", type=float, default=3600, help="exit after this long even without SIGTERM")
    o = p.parse_args()
    host, port = o.http.rsplit(":", 1)

    loop = asyncio.new_event_loop()
    calls = Calls(loop)
    server = ThreadingHTTPServer((host, int(port)), make_handler(calls))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"aiortc-echo: http {server.server_address[0]}:{server.server_address[1]}", flush=True)

    # SIGTERM ends the loop (run_until_complete below), then every call is closed.
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    loop.call_later(o.max_seconds, lambda: stop.done() or stop.set_result(None))
    loop.run_until_complete(stop)
    server.shutdown()
    loop.run_until_complete(calls.close())
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

// pion-echo: the reference that `REFERENCE=pion npm run bench:calls` measures Parley's
// transceiver against (issue #8). A Pion webrtc v3 ICE-lite echo server on ONE UDP port that
// speaks the part of Parley's signaling API `parley load` uses:
//
//	POST   /v1/realtime/calls       application/sdp offer → 201, SDP answer, Location
//	DELETE /v1/realtime/calls/{id}  hang up → 200
//	GET    /readyz                  200 once listening (the bench waits for it)
//	GET    /metrics                 pion_echo_packets_total{direction="in"}: datagrams read from the UDP port;
//	                                pion_echo_stun_binding_total{class="request",direction="out"}: checks the
//	                                lite agent sent, {class="success",direction="in"}: answers it got back
//
// Every call echoes each inbound Opus RTP packet on its own outbound track, payload unchanged, at
// the rate it arrives (like Parley's echo handler). Set up as Pion at its best: one process-wide
// DTLS certificate (as Parley), no mDNS, udp4 host candidate only, 4 MB socket buffers (the
// kernel's default 208 KB drops audio at 200–400 calls), only the RTCP report interceptors (Parley
// sends SR/RR too; no NACK, TWCC or stats interceptors). Not product code: a benchmark reference.
// Built by test/e2e/go-build.ts (for bench/calls.ts and test/e2e/pion-server.test.ts) from
// Debian's golang-github-pion-webrtc.v3-dev in GOPATH mode.
//
// Pion's lite agent (ice v2.3.1, controlledSelector.HandleBindingRequest) answers the client's
// check and also sends a Binding request back, and selects the pair — so starts DTLS — only once
// the client answers it. A client that does not answer Binding requests (RFC 8445 §7.3 says
// every agent must) gets ICE success responses but never a DTLS handshake. The two STUN counters
// show it from this side: checks out, answers in.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v3"
)

const callsPath = "/v1/realtime/calls"

// countingConn counts datagrams read from the shared UDP socket, so the bench can report CPU
// per packet in the same way as for Parley's transceiver, and the lite agent's own connectivity
// checks and the answers to them (test/e2e/pion-server.test.ts: the client answers them).
type countingConn struct {
	net.PacketConn
	in            atomic.Uint64
	checksOut     atomic.Uint64
	checkAnswered atomic.Uint64
}

func (c *countingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if err == nil {
		c.in.Add(1)
		if stunType(b[:n]) == bindingSuccess {
			c.checkAnswered.Add(1)
		}
	}
	return n, addr, err
}

func (c *countingConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if stunType(b) == bindingRequest {
		c.checksOut.Add(1)
	}
	return c.PacketConn.WriteTo(b, addr)
}

// RFC 8489 §5: STUN message types of Binding requests and success responses.
const (
	bindingRequest = 0x0001
	bindingSuccess = 0x0101
)

// stunType is the message type of a STUN message (20-byte header, magic cookie), or -1.
func stunType(b []byte) int {
	if len(b) < 20 || b[0]&0xc0 != 0 || b[4] != 0x21 || b[5] != 0x12 || b[6] != 0xa4 || b[7] != 0x42 {
		return -1
	}
	return int(b[0])<<8 | int(b[1])
}

type server struct {
	api   *webrtc.API
	cert  webrtc.Certificate
	conn  *countingConn
	mu    sync.Mutex
	calls map[string]*webrtc.PeerConnection
}

func main() {
	httpAddr := flag.String("http", "127.0.0.1:8090", "signaling HTTP address")
	udpPort := flag.Int("udp", 7100, "the one UDP port for all calls (on -ip)")
	// Firefox, aiortc and libnice pair no 127.0.0.1 candidate with their host candidates
	// (bench/setup.ts gives a non-loopback address for them).
	udpIP := flag.String("ip", "127.0.0.1", "the IPv4 address of that port, and the answer's host candidate")
	buffer := flag.Int("udp-buffer", 4<<20, "SO_RCVBUF / SO_SNDBUF of the UDP socket (capped by net.core.rmem_max / wmem_max)")
	maxSeconds := flag.Int("max-seconds", 3600, "exit after this long even without SIGTERM (0: never)")
	flag.Parse()

	ip := net.ParseIP(*udpIP).To4()
	if ip == nil {
		log.Fatalf("-ip %q is not an IPv4 address", *udpIP)
	}
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip, Port: *udpPort})
	if err != nil {
		log.Fatal(err)
	}
	if err := udp.SetReadBuffer(*buffer); err != nil {
		log.Fatal(err)
	}
	if err := udp.SetWriteBuffer(*buffer); err != nil {
		log.Fatal(err)
	}
	conn := &countingConn{PacketConn: udp}

	s := webrtc.SettingEngine{}
	s.SetLite(true)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEUDPMux(webrtc.NewICEUDPMux(nil, conn))
	s.SetNAT1To1IPs([]string{ip.String()}, webrtc.ICECandidateTypeHost)
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)

	m := &webrtc.MediaEngine{}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		log.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		log.Fatal(err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		log.Fatal(err)
	}
	srv := &server{
		api:   webrtc.NewAPI(webrtc.WithSettingEngine(s), webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir)),
		cert:  *cert,
		conn:  conn,
		calls: map[string]*webrtc.PeerConnection{},
	}

	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		if err := http.Serve(ln, srv); err != nil && !errors.Is(err, net.ErrClosed) {
			log.Fatal(err)
		}
	}()
	log.Printf("pion-echo: http %s, udp %s:%d", ln.Addr(), ip, *udpPort)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	var limit <-chan time.Time
	if *maxSeconds > 0 {
		limit = time.After(time.Duration(*maxSeconds) * time.Second)
	}
	select {
	case <-stop:
	case <-limit:
		log.Printf("pion-echo: -max-seconds reached")
	}
	_ = ln.Close()
	srv.mu.Lock()
	for _, pc := range srv.calls {
		_ = pc.Close()
	}
	srv.mu.Unlock()
}

func (srv *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/readyz" && r.Method == http.MethodGet:
		_, _ = io.WriteString(w, "ready\n")
	case r.URL.Path == "/metrics" && r.Method == http.MethodGet:
		srv.mu.Lock()
		n := len(srv.calls)
		srv.mu.Unlock()
		fmt.Fprintf(w, "pion_echo_packets_total{direction=\"in\"} %d\npion_echo_calls %d\n", srv.conn.in.Load(), n)
		fmt.Fprintf(w, "pion_echo_stun_binding_total{class=\"request\",direction=\"out\"} %d\n", srv.conn.checksOut.Load())
		fmt.Fprintf(w, "pion_echo_stun_binding_total{class=\"success\",direction=\"in\"} %d\n", srv.conn.checkAnswered.Load())
	case r.URL.Path == callsPath && r.Method == http.MethodPost:
		srv.offer(w, r)
	case strings.HasPrefix(r.URL.Path, callsPath+"/") && r.Method == http.MethodDelete:
		id := strings.TrimPrefix(r.URL.Path, callsPath+"/")
		srv.mu.Lock()
		pc := srv.calls[id]
		delete(srv.calls, id)
		srv.mu.Unlock()
		if pc == nil {
			http.Error(w, "no such call", http.StatusNotFound)
			return
		}
		_ = pc.Close()
		w.WriteHeader(http.StatusOK)
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

// offer answers one SDP offer (non-trickle: the answer holds the one host candidate).
func (srv *server) offer(w http.ResponseWriter, r *http.Request) {
	if ct := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]); !strings.EqualFold(ct, "application/sdp") {
		http.Error(w, "content-type must be application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pc, err := srv.api.NewPeerConnection(webrtc.Configuration{Certificates: []webrtc.Certificate{srv.cert}})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	answer, err := srv.negotiate(pc, string(body))
	if err != nil {
		_ = pc.Close()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var idBytes [12]byte
	_, _ = rand.Read(idBytes[:])
	id := hex.EncodeToString(idBytes[:])
	srv.mu.Lock()
	srv.calls[id] = pc
	srv.mu.Unlock()
	// A client that vanishes without DELETE: ICE consent fails, the call is dropped.
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateFailed || st == webrtc.PeerConnectionStateClosed {
			srv.mu.Lock()
			delete(srv.calls, id)
			srv.mu.Unlock()
			_ = pc.Close()
		}
	})
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", callsPath+"/"+id)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, answer)
}

func (srv *server) negotiate(pc *webrtc.PeerConnection, offer string) (string, error) {
	out, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pion-echo")
	if err != nil {
		return "", err
	}
	sender, err := pc.AddTrack(out)
	if err != nil {
		return "", err
	}
	// Read (and so let the report interceptor see) the RTCP the client sends about our stream.
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	pc.OnTrack(func(in *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		buf := make([]byte, 1500)
		for {
			n, _, err := in.Read(buf)
			if err != nil {
				return
			}
			// The packet as it came (payload unchanged); the track rewrites SSRC and payload type.
			if _, err := out.Write(buf[:n]); err != nil && !errors.Is(err, io.ErrClosedPipe) {
				return
			}
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", err
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", err
	}
	<-gathered
	return pc.LocalDescription().SDP, nil
}

// A WebRTC client built on Pion webrtc v3 (Debian's golang-github-pion-webrtc.v3-dev), for
// test/e2e/pion-client.test.ts: an independent implementation calls Parley the way a browser
// does, so ICE, DTLS, SRTP, RTP and RTCP interop are checked against code we did not write.
//
// It offers one sendrecv Opus track (opus/48000/2, as browsers do), waits for ICE gathering to
// complete on 127.0.0.1 only, POSTs the offer like `parley call` (Content-Type application/sdp,
// optional Authorization: Bearer), applies the answer, and once connected sends one fixed Opus
// frame every 20 ms for -seconds, counting the packets that come back (Parley's default handler
// echoes them unchanged). Then it DELETEs the call and prints one JSON line on stdout. Every
// step is bounded in time; on failure the JSON line has "connected": false and "error", and the
// exit status is 1 (2 for bad flags).
//
// With -datachannel it also opens data channels before the offer and checks their echoes while
// the audio runs (datachannel.go). With -calls N it runs N such calls at once (load.go). It is not a general client: no audio encoding, no renegotiation.
package main

import (
	"bytes"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pion/dtls/v2"
	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v3"
	"github.com/pion/webrtc/v3/pkg/media"
)

// One 20 ms mono Opus frame of a 440 Hz tone at half scale (136 bytes), produced by Parley's own
// encoder: encodeTone(440, 0.2)[5] from src/client/audio.ts (libopus via @evan/opus, the frames
// `parley call --tone 440` sends). The echo handler returns payloads unchanged, so every echoed
// packet must carry exactly these bytes.
const opusFrameHex = "f8adb229a93fdf84c0575875b47525f7634b0280a50515c427dddcdbfe8d598584924211675d3b8b4a42b5927cc781813446a6f624daf8a79ac04a7bd3c45f8625dc9678387b093c71feb4a0ac3d921c6cde8ec608d7b45234259c5b4f72df53c60479be739c82f25603e83d665b99cfd20bef3dc205dbc206c8d3e485b6b621763d9010e7456fae"

// result is the JSON line on stdout.
type result struct {
	Connected bool    `json:"connected"`
	ConnectMs float64 `json:"connectMs"`
	// The offer POST alone (until the answer is read), part of connectMs.
	PostMs          float64 `json:"postMs"`
	SrtpProfile     string  `json:"srtpProfile,omitempty"`
	DtlsRole        string  `json:"dtlsRole,omitempty"`
	DtlsCipherSuite string  `json:"dtlsCipherSuite,omitempty"`
	RemoteCandidate string  `json:"remoteCandidate,omitempty"`
	PacketsSent     int64   `json:"packetsSent"`
	PacketsReceived int64   `json:"packetsReceived"`
	PayloadMismatch int64   `json:"payloadMismatch"`
	RtcpReceived    int64   `json:"rtcpReceived"`
	Location        string  `json:"location,omitempty"`
	HangupStatus    int     `json:"hangupStatus,omitempty"`
	// With -datachannel: what each channel saw (datachannel.go).
	DataChannels map[string]*channelResult `json:"dataChannels,omitempty"`
	Error        string                    `json:"error,omitempty"`
}

type options struct {
	url            string
	bearer         string
	srtp           string
	offerSetup     string
	seconds        float64
	connectTimeout time.Duration
	drain          time.Duration
	dataChannel    bool
	dcSizes        []int
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "", "signaling URL, e.g. http://127.0.0.1:8080/v1/realtime/calls (required)")
	flag.StringVar(&o.bearer, "bearer", "", "API key sent as Authorization: Bearer KEY")
	flag.StringVar(&o.srtp, "srtp", "default", "SRTP protection profiles offered in DTLS: gcm (SRTP_AEAD_AES_128_GCM only), aescm (SRTP_AES128_CM_HMAC_SHA1_80 only) or default (Pion's list)")
	flag.StringVar(&o.offerSetup, "offer-setup", "actpass", "a=setup in the offer POSTed: actpass (what Pion writes; Parley answers active and is the DTLS client) or active (rewritten, so Parley answers passive and Pion is the DTLS client)")
	flag.Float64Var(&o.seconds, "seconds", 3, "how long to send audio once connected")
	flag.DurationVar(&o.connectTimeout, "connect-timeout", 10*time.Second, "limit for POST → connected")
	flag.DurationVar(&o.drain, "drain", 1500*time.Millisecond, "after the last frame, wait at most this long for its echo")
	flag.BoolVar(&o.dataChannel, "datachannel", false, "open chat (ordered) and loose (unordered) before the offer and check echoes of -dc-sizes while audio flows")
	calls := flag.Int("calls", 0, "load mode (load.go): this many calls at once instead of one, started -rate per second; prints one JSON summary")
	rate := flag.Float64("rate", 50, "with -calls: calls started per second")
	dcSizes := flag.String("dc-sizes", "1,1024,16384,65536", "message sizes in bytes for -datachannel, comma-separated; each is sent as text and as binary")
	flag.Parse()
	sizes, sizeErr := parseSizes(*dcSizes)
	o.dcSizes = sizes
	profiles, ok := map[string][]dtls.SRTPProtectionProfile{
		"gcm":     {dtls.SRTP_AEAD_AES_128_GCM},
		"aescm":   {dtls.SRTP_AES128_CM_HMAC_SHA1_80},
		"default": nil,
	}[o.srtp]
	if o.url == "" || !ok || (o.offerSetup != "actpass" && o.offerSetup != "active") || o.seconds <= 0 || o.seconds > 60 || sizeErr != nil {
		fmt.Fprintln(os.Stderr, "usage: pion-client -url URL [-bearer KEY] [-srtp gcm|aescm|default] [-offer-setup actpass|active] [-seconds 0<N≤60] [-datachannel [-dc-sizes N,N…]]")
		os.Exit(2)
	}

	if *calls > 0 {
		if *calls > 2000 || *rate <= 0 || *rate > 1000 || o.dataChannel {
			fmt.Fprintln(os.Stderr, "pion-client: -calls 1…2000 with -rate 0<R≤1000, without -datachannel")
			os.Exit(2)
		}
		os.Exit(runLoad(o, profiles, *calls, *rate))
	}

	var r result
	err := run(o, profiles, &r)
	if err != nil {
		r.Error = err.Error()
	}
	line, _ := json.Marshal(r)
	fmt.Println(string(line))
	if err != nil {
		fmt.Fprintln(os.Stderr, "pion-client:", err)
		os.Exit(1)
	}
}

// newAPI restricts Pion to what the test network has: UDP over IPv4 on 127.0.0.1, no mDNS, so
// gathering finishes at once and no check leaves through another interface.
func newAPI(profiles []dtls.SRTPProtectionProfile, detach bool) (*webrtc.API, error) {
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if len(profiles) > 0 {
		se.SetSRTPProtectionProfiles(profiles...)
	}
	if detach {
		se.DetachDataChannels() // datachannel.go reads with its own buffer
	}

	var me webrtc.MediaEngine
	// What Chromium offers for Opus: opus/48000/2, payload type 111, minptime=10;useinbandfec=1.
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	// The default interceptors send RTCP sender and receiver reports, as browsers do.
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(&me, ir); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(&me), webrtc.WithInterceptorRegistry(ir)), nil
}

func run(o options, profiles []dtls.SRTPProtectionProfile, r *result) error {
	frame, err := hex.DecodeString(opusFrameHex)
	if err != nil {
		return err
	}
	api, err := newAPI(profiles, o.dataChannel)
	if err != nil {
		return fmt.Errorf("pion setup: %w", err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("new peer connection: %w", err)
	}
	defer pc.Close() //nolint:errcheck // best effort at exit; sends DTLS close_notify

	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "pion")
	if err != nil {
		return err
	}
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	if err != nil {
		return fmt.Errorf("add transceiver: %w", err)
	}

	// The sender's RTCP must be read for the interceptors to process it (receiver reports from
	// Parley land here); counting them shows Parley's RTCP decrypts and parses in Pion.
	var rtcpReceived atomic.Int64
	go func() {
		for {
			pkts, _, err := tr.Sender().ReadRTCP()
			if err != nil {
				return
			}
			rtcpReceived.Add(int64(len(pkts)))
		}
	}()

	var received, mismatched atomic.Int64
	pc.OnTrack(func(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			pkt, _, err := remote.ReadRTP()
			if err != nil {
				return
			}
			received.Add(1)
			if !bytes.Equal(pkt.Payload, frame) {
				mismatched.Add(1)
			}
		}
	})

	var once sync.Once
	connected := make(chan struct{})
	failed := make(chan webrtc.PeerConnectionState, 1)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			once.Do(func() { close(connected) })
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			select {
			case failed <- s:
			default:
			}
		}
	})

	var channels *dcSession
	if o.dataChannel {
		// Before the offer, as OpenAI Realtime clients do: the offer then has m=application.
		if channels, err = setupDataChannels(pc); err != nil {
			return err
		}
	}

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		return errors.New("ICE gathering did not complete in 5 s")
	}

	sdp := pc.LocalDescription().SDP
	if o.offerSetup == "active" {
		// Pion always offers actpass (RFC 8842 §5.2); an offer saying active asks the answerer to
		// be the DTLS server. Pion takes its own role from the answer (the inverse of it).
		sdp = strings.ReplaceAll(sdp, "a=setup:actpass", "a=setup:active")
	}
	start := time.Now()
	answer, location, err := postOffer(o, sdp)
	if err != nil {
		return err
	}
	r.PostMs = float64(time.Since(start).Microseconds()) / 1000
	r.Location = location
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return fmt.Errorf("set remote description: %w", err)
	}
	select {
	case <-connected:
	case s := <-failed:
		return fmt.Errorf("peer connection %s before connecting (ICE %s)", s, pc.ICEConnectionState())
	case <-time.After(o.connectTimeout - time.Since(start)):
		return fmt.Errorf("not connected %s after the POST (ICE %s, peer connection %s)", o.connectTimeout, pc.ICEConnectionState(), pc.ConnectionState())
	}
	r.Connected = true
	r.ConnectMs = float64(time.Since(start).Microseconds()) / 1000
	describeTransport(tr.Sender().Transport(), r)

	type dcOutcome struct {
		results map[string]*channelResult
		err     error
	}
	dcDone := make(chan dcOutcome, 1)
	if channels != nil {
		go func() {
			results, err := runDataChannels(channels, o.dcSizes, strings.Contains(o.url, "handler=parley-channel"))
			dcDone <- dcOutcome{results, err}
		}()
	}

	// 20 ms pacing from a ticker: a late tick sends late rather than in a burst (Ticker drops
	// ticks a slow receiver missed), like a real capture device.
	total := int(o.seconds * 50)
	ticker := time.NewTicker(20 * time.Millisecond)
	sent := int64(0)
	for i := 0; i < total; i++ {
		select {
		case <-ticker.C:
		case s := <-failed:
			ticker.Stop()
			return fmt.Errorf("peer connection %s while sending (%d sent)", s, sent)
		}
		if err := track.WriteSample(media.Sample{Data: frame, Duration: 20 * time.Millisecond}); err != nil {
			ticker.Stop()
			return fmt.Errorf("write sample: %w", err)
		}
		sent++
	}
	ticker.Stop()
	deadline := time.Now().Add(o.drain)
	for received.Load() < sent && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	r.PacketsSent = sent
	r.PacketsReceived = received.Load()
	r.PayloadMismatch = mismatched.Load()
	r.RtcpReceived = rtcpReceived.Load()
	if channels != nil {
		select {
		case out := <-dcDone:
			r.DataChannels = out.results
			if out.err != nil {
				return out.err
			}
		case <-time.After(30 * time.Second):
			return errors.New("the data channel exchange did not finish within 30 s of the audio")
		}
	}
	if location != "" {
		r.HangupStatus = deleteCall(o, location)
	}
	return nil
}

// describeTransport fills in what DTLS negotiated and which candidate pair carries the call.
//
// Pion 3.1.56 exposes neither the SRTP profile nor its DTLS role: TransportStats.SRTPCipher is
// declared but never filled in, and DTLSTransport keeps its *dtls.Conn in an unexported field.
// So the field is read by reflection, and then only pion/dtls's public API is used on it:
// SelectedSRTPProtectionProfile(), and ConnectionState().MarshalBinary(), whose gob encoding
// carries IsClient and CipherSuiteID.
func describeTransport(t *webrtc.DTLSTransport, r *result) {
	if t == nil {
		return
	}
	if pair, err := t.ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
		r.RemoteCandidate = net.JoinHostPort(pair.Remote.Address, fmt.Sprint(pair.Remote.Port))
	}
	field := reflect.ValueOf(t).Elem().FieldByName("conn")
	if !field.IsValid() || field.Type() != reflect.TypeOf((*dtls.Conn)(nil)) {
		return
	}
	conn := reflect.NewAt(field.Type(), unsafe.Pointer(field.UnsafeAddr())).Elem().Interface().(*dtls.Conn)
	if conn == nil {
		return
	}
	if p, ok := conn.SelectedSRTPProtectionProfile(); ok {
		r.SrtpProfile = profileName(p)
	}
	state := conn.ConnectionState()
	blob, err := state.MarshalBinary()
	if err != nil {
		return
	}
	var s struct {
		IsClient      bool
		CipherSuiteID uint16
	}
	if gob.NewDecoder(bytes.NewReader(blob)).Decode(&s) != nil {
		return
	}
	r.DtlsRole = "server"
	if s.IsClient {
		r.DtlsRole = "client"
	}
	r.DtlsCipherSuite = dtls.CipherSuiteName(dtls.CipherSuiteID(s.CipherSuiteID))
}

// profileName gives the IANA name (RFC 5764 §4.1.2, RFC 7714 §14.2).
func profileName(p dtls.SRTPProtectionProfile) string {
	switch p {
	case dtls.SRTP_AES128_CM_HMAC_SHA1_80:
		return "SRTP_AES128_CM_HMAC_SHA1_80"
	case dtls.SRTP_AES128_CM_HMAC_SHA1_32:
		return "SRTP_AES128_CM_HMAC_SHA1_32"
	case dtls.SRTP_AEAD_AES_128_GCM:
		return "SRTP_AEAD_AES_128_GCM"
	case dtls.SRTP_AEAD_AES_256_GCM:
		return "SRTP_AEAD_AES_256_GCM"
	}
	return fmt.Sprintf("0x%04x", uint16(p))
}

// pion-dtls: the Pion side of the DTLS handshake-rate rows of `npm run bench:core` (issue #18),
// built by test/e2e/go-build.ts from Debian's golang-github-pion-dtls.v2-dev in GOPATH mode.
//
//	pion-dtls -mode server -cert C -key K -peer-fingerprint HEX
//	    A pion/dtls server on 127.0.0.1 (port printed as "listening PORT"): it accepts
//	    handshakes one after another and closes each connection when the client does. The bench reads
//	    this process's CPU time from /proc: that is the server side of a handshake alone.
//	pion-dtls -mode client -addr 127.0.0.1:PORT -n N -cert C -key K -peer-fingerprint HEX
//	    Runs N handshakes one after another, each from a fresh UDP socket, and prints
//	    "done N failed F ms MS". The client that drives both Pion's server and Parley's.
//
// Both sides are configured as WebRTC uses DTLS (RFC 8827 §6.5) and as Parley's transceiver is:
// ECDHE-ECDSA-AES128-GCM-SHA256 with ECDSA P-256 certificates, extended master secret required,
// use_srtp, a client certificate required and checked against a SHA-256 fingerprint (no chain),
// and the server's HelloVerifyRequest cookie round trip (Pion's default; Parley's lite server
// sends one too). Not product code: a benchmark reference.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"github.com/pion/dtls/v2"
)

func main() {
	mode := flag.String("mode", "", "server or client")
	addr := flag.String("addr", "", "client: the server's host:port")
	n := flag.Int("n", 100, "client: handshakes to run")
	certFile := flag.String("cert", "", "our certificate (PEM)")
	keyFile := flag.String("key", "", "our private key (PKCS#8 PEM)")
	peerFingerprint := flag.String("peer-fingerprint", "", "the peer certificate's SHA-256, hex")
	flag.Parse()

	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatalf("pion-dtls: %v", err)
	}
	want, err := hex.DecodeString(*peerFingerprint)
	if err != nil || len(want) != sha256.Size {
		log.Fatalf("pion-dtls: -peer-fingerprint must be 64 hex digits")
	}
	config := &dtls.Config{
		Certificates:           []tls.Certificate{cert},
		CipherSuites:           []dtls.CipherSuiteID{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{dtls.SRTP_AES128_CM_HMAC_SHA1_80},
		ExtendedMasterSecret:   dtls.RequireExtendedMasterSecret,
		ClientAuth:             dtls.RequireAnyClientCert,
		InsecureSkipVerify:     true, // the fingerprint below is the check (RFC 8827 §6.5)
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no peer certificate")
			}
			// As pion/webrtc does: the certificate must parse, and its digest must match.
			if _, err := x509.ParseCertificate(raw[0]); err != nil {
				return err
			}
			sum := sha256.Sum256(raw[0])
			if !bytes.Equal(sum[:], want) {
				return errors.New("peer certificate does not match the fingerprint")
			}
			return nil
		},
	}

	switch *mode {
	case "server":
		serve(config)
	case "client":
		drive(config, *addr, *n)
	default:
		log.Fatalf("pion-dtls: -mode must be server or client")
	}
}

func serve(config *dtls.Config) {
	ln, err := dtls.Listen("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, config)
	if err != nil {
		log.Fatalf("pion-dtls: listen: %v", err)
	}
	fmt.Printf("listening %d\n", ln.Addr().(*net.UDPAddr).Port)
	for {
		// pion/dtls's listener runs the handshake inside Accept.
		conn, err := ln.Accept()
		if err != nil {
			fmt.Fprintf(os.Stderr, "pion-dtls: accept: %v\n", err)
			continue
		}
		// Closed once the client closes: closing at once races the client's handling of our
		// Finished (it may read our close_notify first and fail the handshake).
		go func(c net.Conn) {
			buf := make([]byte, 1500)
			for {
				if _, err := c.Read(buf); err != nil {
					_ = c.Close()
					return
				}
			}
		}(conn)
	}
}

func drive(config *dtls.Config, addr string, n int) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		log.Fatalf("pion-dtls: %v", err)
	}
	// A handshake that fails (a datagram lost on a loaded machine) is counted, not fatal.
	config.ConnectContextMaker = func() (context.Context, func()) { return context.WithTimeout(context.Background(), 5*time.Second) }
	start := time.Now()
	failed := 0
	for i := 0; i < n; i++ {
		conn, err := dtls.Dial("udp", raddr, config)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pion-dtls: handshake %d: %v\n", i, err)
			failed++
			continue
		}
		_ = conn.Close()
	}
	fmt.Printf("done %d failed %d ms %.1f\n", n, failed, float64(time.Since(start).Microseconds())/1000)
}

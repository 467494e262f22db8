// An SCTP + data-channel peer on Pion (pion/sctp and pion/datachannel from Debian's
// golang-github-pion-webrtc.v3-dev sources), for test/core/sctp/pion-interop.test.ts: an
// independent implementation speaks SCTP and DCEP with Parley's sans-IO core over plain UDP on
// 127.0.0.1 (no DTLS: the core under test is SCTP itself).
//
// Usage: pion-peer -role client|server -peer 127.0.0.1:PORT. It dials the peer's UDP address,
// prints "port N" (its own port) on stdout, then runs SCTP in the role given (client sends INIT).
// Every data channel the peer opens is echoed: each message goes back on the same channel with
// the same type (string or binary); when the peer closes a channel (stream reset, read EOF) it
// closes its side and prints "closed LABEL". It also opens one channel itself, "from-pion", and
// sends "hello from pion" on it. It exits when stdin closes or after -seconds.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/logging"
	"github.com/pion/sctp"
)

func main() {
	role := flag.String("role", "client", "client (sends INIT) or server")
	peer := flag.String("peer", "", "the peer's UDP address")
	seconds := flag.Int("seconds", 30, "exit after this long")
	flag.Parse()
	raddr, err := net.ResolveUDPAddr("udp", *peer)
	if err != nil {
		fail(err)
	}
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, raddr)
	if err != nil {
		fail(err)
	}
	fmt.Printf("port %d\n", conn.LocalAddr().(*net.UDPAddr).Port)
	go func() {
		buf := make([]byte, 1)
		_, _ = os.Stdin.Read(buf)
		os.Exit(0)
	}()
	go func() {
		time.Sleep(time.Duration(*seconds) * time.Second)
		os.Exit(0)
	}()
	cfg := sctp.Config{NetConn: conn, MaxReceiveBufferSize: 4 << 20, MaxMessageSize: 256 * 1024, LoggerFactory: logging.NewDefaultLoggerFactory()}
	var assoc *sctp.Association
	if *role == "client" {
		assoc, err = sctp.Client(cfg)
	} else {
		assoc, err = sctp.Server(cfg)
	}
	if err != nil {
		fail(err)
	}
	fmt.Println("connected")
	// RFC 8832 §6: the SCTP client (the DTLS client in WebRTC) opens even ids.
	id := uint16(1)
	if *role == "client" {
		id = 0
	}
	own, err := datachannel.Dial(assoc, id+100, &datachannel.Config{ChannelType: datachannel.ChannelTypeReliable, Label: "from-pion", LoggerFactory: cfg.LoggerFactory})
	if err != nil {
		fail(err)
	}
	if _, err := own.WriteDataChannel([]byte("hello from pion"), true); err != nil {
		fail(err)
	}
	for {
		dc, err := datachannel.Accept(assoc, &datachannel.Config{LoggerFactory: cfg.LoggerFactory}, own)
		if err != nil {
			fmt.Printf("accept ended: %v\n", err)
			select {}
		}
		if dc == own {
			continue
		}
		go echo(dc)
	}
}

func echo(dc *datachannel.DataChannel) {
	buf := make([]byte, 512*1024)
	for {
		n, isString, err := dc.ReadDataChannel(buf)
		if err != nil {
			_ = dc.Close()
			fmt.Printf("closed %s\n", dc.Config.Label)
			return
		}
		if _, err := dc.WriteDataChannel(append([]byte(nil), buf[:n]...), isString); err != nil {
			fmt.Printf("write failed on %s: %v\n", dc.Config.Label, err)
			return
		}
	}
}

func fail(err error) {
	fmt.Printf("error %v\n", err)
	os.Exit(1)
}

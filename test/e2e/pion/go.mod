// The Pion interop client (main.go). test/e2e/go-build.ts builds it offline in GOPATH mode
// (GO111MODULE=off) against Debian's golang-github-pion-webrtc.v3-dev in /usr/share/gocode;
// this file is what lets GOPATH mode resolve "github.com/pion/webrtc/v3" to Debian's
// github.com/pion/webrtc (Go's minimal module compatibility applies only to code in a tree with
// a go.mod). It lists no requirements: a module-mode build would download them.
module parley-pion-client

go 1.19

// The Pion SCTP/data-channel peer of test/core/sctp/pion-interop.test.ts, built offline in GOPATH
// mode by test/e2e/go-build.ts against Debian's Pion sources (which include pion/sctp and
// pion/datachannel); it lists no requirements, so a module-mode build cannot download any.
module parley-pion-sctp

go 1.19

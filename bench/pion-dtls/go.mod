module pion-dtls

go 1.19

package mtls

import (
	"fmt"
	"net"
)

// CheckListen refuses to expose a remote port off loopback without mTLS:
// with files not Enabled, listen must name a loopback host (127.0.0.0/8,
// ::1 or "localhost"). An empty host, 0.0.0.0, ::, any other address and
// any other name count as non-loopback. It does not check that the files
// are complete (Validate does).
func CheckListen(listen string, files Files) error {
	if files.Enabled() {
		return nil
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("mtls: --listen %q: %v", listen, err)
	}
	if IsLoopback(host) {
		return nil
	}
	return fmt.Errorf("%w: --listen %s is not a loopback address", ErrCertificatesRequired, listen)
}

// IsLoopback reports whether host (no port) is a loopback address or
// "localhost". Other names are not resolved: they count as non-loopback.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

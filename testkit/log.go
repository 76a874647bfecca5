package testkit

import (
	"log/slog"
	"os"
	"strings"
)

func testLogLevel() (slog.Level, bool) {
	v := os.Getenv("ARBOR_TEST_LOG")
	if v == "" {
		return 0, false
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(v))); err != nil {
		return 0, false
	}
	return lv, true
}

// logWriter sends log lines to stderr (go test shows them with -v or on failure).
type logWriter struct{}

func (logWriter) Write(p []byte) (int, error) { return os.Stderr.Write(p) }

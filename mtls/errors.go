package mtls

import "github.com/arbor-db/arbor/messages"

// Sentinel errors. Each names the flags an operator has to fix.
var (
	// ErrIncompleteFiles: some of --cacert, --cert, --key are set, not all.
	ErrIncompleteFiles = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT,
		"mtls: --cacert, --cert and --key go together")
	// ErrCertificatesRequired: a non-loopback listen address without
	// certificates.
	ErrCertificatesRequired = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT,
		"mtls: a remote listening off loopback requires --cacert, --cert and --key")
	// ErrBadMaterial: a file cannot be read or does not hold what its flag
	// says (a PEM certificate, a key matching the certificate).
	ErrBadMaterial = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_INVALID_ARGUMENT,
		"mtls: bad certificate material")
)

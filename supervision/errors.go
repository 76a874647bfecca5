package supervision

import "errors"

// Errors of this package. Test with errors.Is.
var (
	// ErrInvalidPolicy marks a Policy that Validate refuses; the wrapping
	// error names the field and the value.
	ErrInvalidPolicy = errors.New("supervision: invalid policy")
)

package querytracker

import "fmt"

// Outcome is the kind of a peek notification.
type Outcome uint8

const (
	// OutcomeUnknown is the zero value; a notification carrying it is invalid.
	OutcomeUnknown Outcome = iota
	// OutcomeSuccess: the peek returned rows.
	OutcomeSuccess
	// OutcomeError: the peek failed with an error.
	OutcomeError
	// OutcomeCanceled: compute canceled the peek.
	OutcomeCanceled
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case OutcomeSuccess:
		return "success"
	case OutcomeError:
		return "error"
	case OutcomeCanceled:
		return "canceled"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Notification is what compute reports at the end of a peek.
type Notification struct {
	Outcome Outcome
	// Rows and ResultSize (bytes) are set for OutcomeSuccess.
	Rows       uint64
	ResultSize uint64
	// Error is set for OutcomeError.
	Error string
}

// Success builds a success notification.
func Success(rows, resultSize uint64) Notification {
	return Notification{Outcome: OutcomeSuccess, Rows: rows, ResultSize: resultSize}
}

// Failure builds an error notification.
func Failure(msg string) Notification { return Notification{Outcome: OutcomeError, Error: msg} }

// Canceled builds a canceled notification.
func Canceled() Notification { return Notification{Outcome: OutcomeCanceled} }

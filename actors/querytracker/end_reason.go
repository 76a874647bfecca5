package querytracker

import "fmt"

// EndKind is the kind of an execution's end.
type EndKind uint8

const (
	// EndUnknown is the zero value; an EndExecution carrying it is invalid.
	EndUnknown EndKind = iota
	// EndSuccess: results were returned.
	EndSuccess
	// EndError: the execution failed; Message says why.
	EndError
	// EndCanceled: a connection cancel or compute canceled it.
	EndCanceled
	// EndAborted: the caller gave up on it (UntrackPeek).
	EndAborted
)

// String names the kind.
func (k EndKind) String() string {
	switch k {
	case EndSuccess:
		return "success"
	case EndError:
		return "error"
	case EndCanceled:
		return "canceled"
	case EndAborted:
		return "aborted"
	}
	return fmt.Sprintf("end(%d)", uint8(k))
}

// MarshalText makes Dump print the kind's name.
func (k EndKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// EndReason is why an execution ended, as the statement log records it and
// Effects.EndExecution reports it.
type EndReason struct {
	Kind EndKind `json:"kind"`
	// Strategy, Rows and ResultSize are set for EndSuccess.
	Strategy   Strategy `json:"strategy,omitempty"`
	Rows       uint64   `json:"rows,omitempty"`
	ResultSize uint64   `json:"result_size,omitempty"`
	// Message is set for EndError and may be set for EndCanceled.
	Message string `json:"message,omitempty"`
}

// Valid reports whether r is complete: a known kind, and a known strategy
// for a success.
func (r EndReason) Valid() bool {
	switch r.Kind {
	case EndSuccess:
		return r.Strategy.Valid()
	case EndError, EndCanceled, EndAborted:
		return true
	}
	return false
}

// String renders the reason for logs and scripted tests.
func (r EndReason) String() string {
	switch r.Kind {
	case EndSuccess:
		return fmt.Sprintf("success(%v, rows=%d, bytes=%d)", r.Strategy, r.Rows, r.ResultSize)
	case EndError:
		return fmt.Sprintf("error(%q)", r.Message)
	case EndCanceled:
		if r.Message != "" {
			return fmt.Sprintf("canceled(%q)", r.Message)
		}
		return "canceled"
	}
	return r.Kind.String()
}

// Messages the tracker puts into end reasons it makes up itself.
const (
	// msgCanceledByUser matches what a client sees after a cancel request.
	msgCanceledByUser = "canceling statement due to user request"
)

// droppedMessage is the error of a peek whose cluster or dependency was
// dropped; name is the display name the dropper supplied.
func droppedMessage(name string) string {
	return fmt.Sprintf("query could not complete because %s was dropped", name)
}

// EndReasonFor maps a peek notification and the strategy recorded when the
// peek was tracked to the reason its execution ended. A success carries the
// strategy; errors and cancellations do not need it. The second result is
// false for a notification with an unknown outcome.
func EndReasonFor(n Notification, strategy Strategy) (EndReason, bool) {
	switch n.Outcome {
	case OutcomeSuccess:
		return EndReason{Kind: EndSuccess, Strategy: strategy, Rows: n.Rows, ResultSize: n.ResultSize}, true
	case OutcomeError:
		return EndReason{Kind: EndError, Message: n.Error}, true
	case OutcomeCanceled:
		return EndReason{Kind: EndCanceled}, true
	}
	return EndReason{}, false
}

// UnmarshalText parses a kind's name, so a Dump can be read back.
func (k *EndKind) UnmarshalText(b []byte) error {
	for _, kk := range []EndKind{EndSuccess, EndError, EndCanceled, EndAborted} {
		if kk.String() == string(b) {
			*k = kk
			return nil
		}
	}
	return fmt.Errorf("querytracker: unknown end kind %q", b)
}

package dataflow

import "errors"

// Errors of the package. Every error returned wraps one of these with
// context that names the operator, column or time involved.
var (
	// ErrInvalidPlan: a plan or expression failed decoding, validation or
	// type checking (unknown column, type mismatch, wrong arity, ...).
	ErrInvalidPlan = errors.New("dataflow: invalid plan")
	// ErrInvalidRow: a row does not match its schema.
	ErrInvalidRow = errors.New("dataflow: invalid row")
	// ErrUnknownSource: an update or frontier names a source the dataflow
	// does not read.
	ErrUnknownSource = errors.New("dataflow: unknown source")
	// ErrNotAdmitted: an update's time is before its source's frontier, or a
	// frontier would go backwards.
	ErrNotAdmitted = errors.New("dataflow: time not admitted by frontier")
	// ErrCompacted: a read at a time before the since; that history has been
	// compacted away.
	ErrCompacted = errors.New("dataflow: time is before the since")
	// ErrNotReady: a read at a time the output frontier has not passed yet;
	// the caller should wait for the frontier to advance.
	ErrNotReady = errors.New("dataflow: time is not yet complete")
	// ErrEval: the collection read holds evaluation errors (division by
	// zero, overflow, ...) at the time read.
	ErrEval = errors.New("dataflow: evaluation error")
	// ErrTooLarge: a peek's result has more rows than the peek allows.
	ErrTooLarge = errors.New("dataflow: result too large")
)

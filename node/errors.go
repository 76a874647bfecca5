package node

import "errors"

var (
	// ErrBadConfig wraps every configuration error: a bad flag, config
	// file or value, found by ParseConfig or, for an address that does not
	// parse, by Start.
	ErrBadConfig = errors.New("bad configuration")

	// errStoresClosed refuses a replica launch that races the node's stop.
	errStoresClosed = errors.New("node: stopping, replica stores closed")
)

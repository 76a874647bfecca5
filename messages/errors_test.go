package messages_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/arbor-db/arbor/messages"
)

var errUnknownTable = messages.NewSentinel(messages.ErrorCode_ERROR_CODE_NOT_FOUND, "storage: unknown table")

func TestErrorRoundTrip(t *testing.T) {
	local := messages.WithObject(fmt.Errorf("read: %w: u7", errUnknownTable), "table u7")
	require.ErrorIs(t, local, errUnknownTable)
	require.ErrorIs(t, local, messages.ErrNotFound)
	require.NotErrorIs(t, local, messages.ErrDropped)

	w := messages.ErrorToWire(local)
	require.Equal(t, messages.ErrorCode_ERROR_CODE_NOT_FOUND, w.GetCode())
	require.Equal(t, "table u7", w.GetObject())
	require.Equal(t, "read: storage: unknown table: u7", w.GetMessage())

	// Through bytes, as over remote.
	b, err := proto.Marshal(w)
	require.NoError(t, err)
	var got messages.Error
	require.NoError(t, proto.Unmarshal(b, &got))
	remote := messages.ErrorFromWire(&got)
	require.EqualError(t, remote, "read: storage: unknown table: u7")
	require.ErrorIs(t, remote, errUnknownTable)
	require.ErrorIs(t, remote, messages.ErrNotFound)
	require.NotErrorIs(t, remote, messages.ErrTimeout)
	var re *messages.RemoteError
	require.ErrorAs(t, remote, &re)
	require.Equal(t, "table u7", re.Object)

	// Forwarded again, wrapped: the code and object survive.
	fw := messages.ErrorToWire(fmt.Errorf("peek: %w", remote))
	require.Equal(t, messages.ErrorCode_ERROR_CODE_NOT_FOUND, fw.GetCode())
	require.Equal(t, "table u7", fw.GetObject())
}

func TestErrorCodes(t *testing.T) {
	cases := []struct {
		err  error
		code messages.ErrorCode
	}{
		{nil, messages.ErrorCode_ERROR_CODE_UNSPECIFIED},
		{errors.New("plain"), messages.ErrorCode_ERROR_CODE_UNSPECIFIED},
		{fmt.Errorf("call: %w", context.DeadlineExceeded), messages.ErrorCode_ERROR_CODE_TIMEOUT},
		{context.Canceled, messages.ErrorCode_ERROR_CODE_CANCELED},
		{fmt.Errorf("%w: frontier", messages.ErrMalformed), messages.ErrorCode_ERROR_CODE_MALFORMED},
		{fmt.Errorf("x: %w", messages.ErrFenced), messages.ErrorCode_ERROR_CODE_FENCED},
	}
	for _, c := range cases {
		require.Equal(t, c.code, messages.CodeOf(c.err), "%v", c.err)
	}
	require.Nil(t, messages.ErrorToWire(nil))
	require.Nil(t, messages.ErrorFromWire(nil))
	// An uncoded error is sent as INTERNAL: it has no better name.
	require.Equal(t, messages.ErrorCode_ERROR_CODE_INTERNAL, messages.ErrorToWire(errors.New("oops")).GetCode())
	// A received MALFORMED matches ErrMalformed.
	require.ErrorIs(t, messages.ErrorFromWire(&messages.Error{Code: messages.ErrorCode_ERROR_CODE_MALFORMED}), messages.ErrMalformed)
	require.EqualError(t, messages.ErrorFromWire(&messages.Error{Code: messages.ErrorCode_ERROR_CODE_TIMEOUT}), "timeout")
}

func TestUnknownReply(t *testing.T) {
	r := messages.Unknown("arbor.messages.Row")
	require.Equal(t, "arbor.messages.Row", r.GetType())
	err := messages.ErrorFromWire(r.GetError())
	require.ErrorIs(t, err, messages.ErrUnknownMessage)
	require.Contains(t, err.Error(), "arbor.messages.Row")
}

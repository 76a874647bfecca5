package durable

import (
	"cmp"
	"fmt"

	"github.com/arbor-db/arbor/messages"
)

// FenceToken identifies one writer of the catalog. Tokens are ordered by
// deploy generation, then epoch; the writer with the largest token owns the
// catalog. The zero token is "no writer yet".
type FenceToken struct {
	// DeployGeneration increases with every deployment (upgrade).
	DeployGeneration uint64
	// Epoch increases with every writable open of the catalog.
	Epoch int64
}

// Compare returns -1, 0 or +1 as t is less than, equal to or greater than o.
func (t FenceToken) Compare(o FenceToken) int {
	if c := cmp.Compare(t.DeployGeneration, o.DeployGeneration); c != 0 {
		return c
	}
	return cmp.Compare(t.Epoch, o.Epoch)
}

// Less reports whether t orders before o.
func (t FenceToken) Less(o FenceToken) bool { return t.Compare(o) < 0 }

// String prints "(generation G, epoch E)".
func (t FenceToken) String() string {
	return fmt.Sprintf("(generation %d, epoch %d)", t.DeployGeneration, t.Epoch)
}

func (t FenceToken) proto() *messages.CatalogFenceToken {
	return &messages.CatalogFenceToken{DeployGeneration: t.DeployGeneration, Epoch: t.Epoch}
}

func fenceTokenFromProto(p *messages.CatalogFenceToken) FenceToken {
	return FenceToken{DeployGeneration: p.GetDeployGeneration(), Epoch: p.GetEpoch()}
}

// TokenState is the state of a FenceableToken.
type TokenState int

const (
	// TokenInitializing: the handle is opening; it knows the durable token
	// it last saw and the deploy generation it runs as, but holds no token
	// of its own yet.
	TokenInitializing TokenState = iota
	// TokenUnfenced: the handle's token is durable and no larger token has
	// been seen.
	TokenUnfenced
	// TokenFenced: a larger token has been seen. Final.
	TokenFenced
)

// String returns the state's name.
func (s TokenState) String() string {
	switch s {
	case TokenInitializing:
		return "initializing"
	case TokenUnfenced:
		return "unfenced"
	case TokenFenced:
		return "fenced"
	}
	return fmt.Sprintf("TokenState(%d)", int(s))
}

// TokenEvent is an input to FenceableToken.Transition. The concrete types
// are TokenObserved and TokenCommitted.
type TokenEvent interface{ tokenEvent() }

// TokenObserved reports the fence token found in the durable catalog after a
// sync (the zero token when the catalog holds none).
type TokenObserved struct{ Token FenceToken }

// TokenCommitted reports that the handle's own new token became durable.
type TokenCommitted struct{ Token FenceToken }

func (TokenObserved) tokenEvent()  {}
func (TokenCommitted) tokenEvent() {}

// FenceableToken tracks whether a handle still owns the catalog. It is a
// value type with no I/O; the handle feeds it what it reads and writes.
//
//	                   TokenCommitted(t)
//	Initializing ───────────────────────────► Unfenced{current: t}
//	{durable, generation}                          │
//	   │  ▲                                        │ TokenObserved(u), u > current
//	   │  └─ TokenObserved(u): durable = u         ▼
//	   │      (generation <= ours)             Fenced{current, fence: u}
//	   │                                           ▲
//	   └───────────────────────────────────────────┘
//	      TokenObserved(u), u.DeployGeneration > ours
//
// Observing the handle's own token while Unfenced keeps it Unfenced;
// observing a smaller one is a broken invariant. Fenced is final: every
// event leaves it Fenced. TokenCommitted is only legal while Initializing.
type FenceableToken struct {
	state TokenState
	// Initializing.
	durable    FenceToken
	generation uint64
	// Unfenced and Fenced.
	current FenceToken
	// Fenced.
	fence FenceToken
}

// NewFenceableToken returns an Initializing token for a handle running as
// deploy generation generation that has seen durable in the catalog.
func NewFenceableToken(durable FenceToken, generation uint64) FenceableToken {
	return FenceableToken{state: TokenInitializing, durable: durable, generation: generation}
}

// State returns the state.
func (f FenceableToken) State() TokenState { return f.state }

// Current returns the handle's own token: the committed one once Unfenced,
// while Initializing the token Generate would propose.
func (f FenceableToken) Current() FenceToken {
	if f.state == TokenInitializing {
		return FenceToken{DeployGeneration: f.generation, Epoch: f.durable.Epoch}
	}
	return f.current
}

// Fence returns the token that fenced the handle, if Fenced.
func (f FenceableToken) Fence() (FenceToken, bool) { return f.fence, f.state == TokenFenced }

// Generate proposes the token an Initializing handle writes to take over
// the catalog: its own deploy generation and the next epoch. It fails with
// the DeployGeneration FenceError if the catalog already belongs to a newer
// generation.
func (f FenceableToken) Generate() (FenceToken, error) {
	if f.state != TokenInitializing {
		return FenceToken{}, fmt.Errorf("%w: generate while %s", ErrIllegalTransition, f.state)
	}
	if f.durable.DeployGeneration > f.generation {
		return FenceToken{}, &FenceError{Kind: FenceDeployGeneration, Current: f.Current(), Fence: f.durable}
	}
	return FenceToken{DeployGeneration: f.generation, Epoch: f.durable.Epoch + 1}, nil
}

// Validate returns nil while the handle may still write, the FenceError once
// Fenced, and the DeployGeneration FenceError for an Initializing handle
// whose catalog belongs to a newer generation. The error is
// DeployGeneration when the fencing token's generation is higher, Epoch
// otherwise.
func (f FenceableToken) Validate() error {
	switch f.state {
	case TokenInitializing:
		if f.durable.DeployGeneration > f.generation {
			return &FenceError{Kind: FenceDeployGeneration, Current: f.Current(), Fence: f.durable}
		}
		return nil
	case TokenUnfenced:
		return nil
	default:
		kind := FenceEpoch
		if f.fence.DeployGeneration > f.current.DeployGeneration {
			kind = FenceDeployGeneration
		}
		return &FenceError{Kind: kind, Current: f.current, Fence: f.fence}
	}
}

// Transition is the state machine's one transition function (see the type's
// diagram). It returns the next state; an event the current state does not
// allow returns an error wrapping ErrIllegalTransition and the unchanged
// token.
func (f FenceableToken) Transition(ev TokenEvent) (FenceableToken, error) {
	switch f.state {
	case TokenInitializing:
		switch ev := ev.(type) {
		case TokenObserved:
			if ev.Token.DeployGeneration > f.generation {
				return FenceableToken{state: TokenFenced, current: f.Current(), fence: ev.Token}, nil
			}
			if f.durable.Less(ev.Token) {
				f.durable = ev.Token
			}
			return f, nil
		case TokenCommitted:
			if ev.Token.DeployGeneration != f.generation || !f.durable.Less(ev.Token) {
				return f, fmt.Errorf("%w: committed token %s does not follow durable %s at generation %d",
					ErrIllegalTransition, ev.Token, f.durable, f.generation)
			}
			return FenceableToken{state: TokenUnfenced, current: ev.Token}, nil
		}
	case TokenUnfenced:
		switch ev := ev.(type) {
		case TokenObserved:
			switch c := ev.Token.Compare(f.current); {
			case c > 0:
				return FenceableToken{state: TokenFenced, current: f.current, fence: ev.Token}, nil
			case c == 0:
				return f, nil
			default:
				return f, fmt.Errorf("%w: observed token %s older than own %s", ErrIllegalTransition, ev.Token, f.current)
			}
		case TokenCommitted:
			return f, fmt.Errorf("%w: commit of token %s while unfenced", ErrIllegalTransition, ev.Token)
		}
	case TokenFenced:
		switch ev.(type) {
		case TokenObserved:
			return f, nil
		case TokenCommitted:
			return f, fmt.Errorf("%w: commit of a token while fenced", ErrIllegalTransition)
		}
	}
	return f, fmt.Errorf("%w: unknown event %T in state %s", ErrIllegalTransition, ev, f.state)
}

package dataflow

import (
	"math"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/messages"
	"github.com/arbor-db/arbor/timely"
)

func castE(a *messages.Expr, t Type) *messages.Expr {
	return &messages.Expr{Kind: &messages.Expr_Cast{Cast: &messages.CastExpr{Arg: a, Type: TypeToWire(t)}}}
}

func TestCastAndTimestampArith(t *testing.T) {
	ts := func(v uint64) *messages.Expr { return litE(Timestamp(timely.Timestamp(v))) }
	in := func(v int64) *messages.Expr { return litE(Int64(v)) }
	str := func(v string) *messages.Expr { return litE(String(v)) }
	tests := []struct {
		name    string
		e       *messages.Expr
		want    Datum
		wantErr string
	}{
		{"int to float", castE(in(3), TypeFloat64), Float64(3), ""},
		{"float to int truncates", castE(litE(Float64(-2.7)), TypeInt64), Int64(-2), ""},
		{"float NaN to int", castE(litE(Float64(math.NaN())), TypeInt64), Datum{}, "int64 out of range"},
		{"float too large to int", castE(litE(Float64(1e19)), TypeInt64), Datum{}, "int64 out of range"},
		{"int to bool", castE(in(2), TypeBool), Bool(true), ""},
		{"bool to int", castE(litE(Bool(true)), TypeInt64), Int64(1), ""},
		{"int to timestamp", castE(in(1500), TypeTimestamp), Timestamp(1500), ""},
		{"negative int to timestamp", castE(in(-1), TypeTimestamp), Datum{}, "timestamp out of range"},
		{"timestamp to int", castE(ts(42), TypeInt64), Int64(42), ""},
		{"huge timestamp to int", castE(ts(math.MaxUint64), TypeInt64), Datum{}, "int64 out of range"},
		{"string to int", castE(str("-12"), TypeInt64), Int64(-12), ""},
		{"bad string to int", castE(str("12x"), TypeInt64), Datum{}, `invalid int64: "12x"`},
		{"string to float", castE(str("2.5"), TypeFloat64), Float64(2.5), ""},
		{"string to bool", castE(str("true"), TypeBool), Bool(true), ""},
		{"string to timestamp", castE(str("99"), TypeTimestamp), Timestamp(99), ""},
		{"string to bytes", castE(str("ab"), TypeBytes), Bytes([]byte("ab")), ""},
		{"bytes to string", castE(litE(Bytes([]byte("ab"))), TypeString), String("ab"), ""},
		{"int to string", castE(in(-5), TypeString), String("-5"), ""},
		{"float to string", castE(litE(Float64(0.25)), TypeString), String("0.25"), ""},
		{"timestamp to string", castE(ts(7), TypeString), String("7"), ""},
		{"null casts to null", castE(nullE(TypeInt64), TypeString), Null(), ""},
		{"same type", castE(in(4), TypeInt64), Int64(4), ""},
		{"timestamp plus ms", binE(opAdd, ts(1000), in(500)), Timestamp(1500), ""},
		{"ms plus timestamp", binE(opAdd, in(500), ts(1000)), Timestamp(1500), ""},
		{"timestamp minus ms", binE(opSub, ts(1000), in(1)), Timestamp(999), ""},
		{"timestamp minus negative ms", binE(opSub, ts(1000), in(-1)), Timestamp(1001), ""},
		{"timestamp before zero", binE(opSub, ts(10), in(11)), Datum{}, "timestamp out of range"},
		{"timestamp past the end", binE(opAdd, ts(math.MaxUint64), in(1)), Datum{}, "timestamp out of range"},
		{"timestamp minus min int", binE(opSub, ts(10), litE(Int64(math.MinInt64))), Datum{}, "timestamp out of range"},
		{"timestamp difference", binE(opSub, ts(1000), ts(1500)), Int64(-500), ""},
		{"timestamp difference, most negative", binE(opSub, ts(0), ts(1<<63)), Int64(math.MinInt64), ""},
		{"timestamp difference overflow", binE(opSub, ts(math.MaxUint64), ts(0)), Datum{}, "int64 overflow"},
		{"null timestamp arithmetic", binE(opAdd, nullE(TypeTimestamp), in(1)), Null(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := CompileExpr(tt.e, exprSchema)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Eval(exprRow)
			if tt.wantErr != "" {
				if err == nil || !IsEvalError(err) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) || got.Type() != tt.want.Type() {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
			if !got.IsNull() && got.Type() != e.Type() {
				t.Fatalf("result type %s, declared %s", got.Type(), e.Type())
			}
		})
	}
}

func TestCastAndTimestampArithTypeErrors(t *testing.T) {
	ts := litE(Timestamp(1))
	for _, tt := range []struct {
		name string
		e    *messages.Expr
		want string
	}{
		{"bool to timestamp", castE(litE(Bool(true)), TypeTimestamp), "cannot cast bool to timestamp"},
		{"bytes to int", castE(litE(Bytes([]byte{1})), TypeInt64), "cannot cast bytes to int64"},
		{"timestamp times int", binE(opMul, ts, litE(Int64(2))), "type mismatch"},
		{"timestamp plus timestamp", binE(opAdd, ts, ts), "type mismatch"},
		{"int minus timestamp", binE(opSub, litE(Int64(2)), ts), "type mismatch"},
		{"timestamp plus float", binE(opAdd, ts, litE(Float64(1))), "type mismatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileExpr(tt.e, exprSchema)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

package dataflow

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/arbor-db/arbor/messages"
)

// exprSchema is the schema the expression table tests evaluate against.
var exprSchema = Schema{
	{Name: "i", Type: TypeInt64},
	{Name: "n", Type: TypeInt64, Nullable: true},
	{Name: "f", Type: TypeFloat64},
	{Name: "s", Type: TypeString},
	{Name: "b", Type: TypeBool, Nullable: true},
	{Name: "y", Type: TypeBytes},
	{Name: "z", Type: TypeInt64},
}

// exprRow: i=7, n=NULL, f=2.5, s="Héllo", b=NULL, y=\x0102, z=0.
var exprRow = Row{Int64(7), Null(), Float64(2.5), String("Héllo"), Null(), Bytes([]byte{1, 2}), Int64(0)}

func TestExprEval(t *testing.T) {
	i, n, f, s, b, y, z := colE(0), colE(1), colE(2), colE(3), colE(4), colE(5), colE(6)
	tru, fls := litE(Bool(true)), litE(Bool(false))
	in := func(v int64) *messages.Expr { return litE(Int64(v)) }
	tests := []struct {
		name    string
		e       *messages.Expr
		want    Datum
		wantErr string
	}{
		{"column", i, Int64(7), ""},
		{"column by name", &messages.Expr{Kind: &messages.Expr_Column{Column: refName("s")}}, String("Héllo"), ""},
		{"literal", litE(String("x")), String("x"), ""},
		{"add", binE(opAdd, i, in(3)), Int64(10), ""},
		{"sub", binE(opSub, i, in(10)), Int64(-3), ""},
		{"mul", binE(opMul, i, in(-2)), Int64(-14), ""},
		{"div truncates", binE(opDiv, i, in(2)), Int64(3), ""},
		{"mod", binE(opMod, i, in(4)), Int64(3), ""},
		{"mod by -1", binE(opMod, litE(Int64(math.MinInt64)), in(-1)), Int64(0), ""},
		{"int plus float promotes", binE(opAdd, i, f), Float64(9.5), ""},
		{"float div", binE(opDiv, f, litE(Float64(0.5))), Float64(5), ""},
		{"null propagates in arithmetic", binE(opAdd, i, n), Null(), ""},
		{"div by zero", binE(opDiv, i, z), Datum{}, "division by zero"},
		{"mod by zero", binE(opMod, i, z), Datum{}, "division by zero"},
		{"float div by zero", binE(opDiv, f, litE(Float64(0))), Datum{}, "division by zero"},
		{"null div by zero is null", binE(opDiv, n, z), Null(), ""},
		{"add overflow", binE(opAdd, litE(Int64(math.MaxInt64)), in(1)), Datum{}, "int64 overflow"},
		{"sub overflow", binE(opSub, litE(Int64(math.MinInt64)), in(1)), Datum{}, "int64 overflow"},
		{"mul overflow", binE(opMul, litE(Int64(math.MaxInt64/2+1)), in(2)), Datum{}, "int64 overflow"},
		{"mul overflow min by -1", binE(opMul, litE(Int64(math.MinInt64)), in(-1)), Datum{}, "int64 overflow"},
		{"div overflow", binE(opDiv, litE(Int64(math.MinInt64)), in(-1)), Datum{}, "int64 overflow"},
		{"float overflow", binE(opMul, litE(Float64(1e308)), litE(Float64(10))), Datum{}, "float64 overflow"},
		{"eq", binE(opEq, i, in(7)), Bool(true), ""},
		{"ne", binE(opNe, i, in(7)), Bool(false), ""},
		{"lt", binE(opLt, i, in(8)), Bool(true), ""},
		{"le", binE(opLe, i, in(7)), Bool(true), ""},
		{"gt", binE(opGt, s, litE(String("H"))), Bool(true), ""},
		{"ge int float", binE(opGe, i, litE(Float64(7.5))), Bool(false), ""},
		{"compare null", binE(opEq, n, n), Null(), ""},
		{"and", binE(opAnd, tru, fls), Bool(false), ""},
		{"and null true", binE(opAnd, b, tru), Null(), ""},
		{"and null false", binE(opAnd, b, fls), Bool(false), ""},
		{"or null true", binE(opOr, b, tru), Bool(true), ""},
		{"or null false", binE(opOr, b, fls), Null(), ""},
		{"or short circuit skips error", binE(opOr, tru, binE(opEq, binE(opDiv, i, z), i)), Bool(true), ""},
		{"and error after true", binE(opAnd, tru, binE(opEq, binE(opDiv, i, z), i)), Datum{}, "division by zero"},
		{"not", unE(messages.UnaryOp_UNARY_OP_NOT, fls), Bool(true), ""},
		{"not null", unE(messages.UnaryOp_UNARY_OP_NOT, b), Null(), ""},
		{"is null", unE(messages.UnaryOp_UNARY_OP_IS_NULL, n), Bool(true), ""},
		{"is not null", unE(messages.UnaryOp_UNARY_OP_IS_NULL, i), Bool(false), ""},
		{"neg", unE(messages.UnaryOp_UNARY_OP_NEG, i), Int64(-7), ""},
		{"neg overflow", unE(messages.UnaryOp_UNARY_OP_NEG, litE(Int64(math.MinInt64))), Datum{}, "int64 overflow"},
		{"case first true", caseE(in(0), binE(opGt, i, in(5)), in(1), tru, in(2)), Int64(1), ""},
		{"case null cond falls through", caseE(in(0), b, in(1)), Int64(0), ""},
		{"case no else", caseE(nil, fls, in(1)), Null(), ""},
		{"case error only in taken branch", caseE(binE(opDiv, i, z), tru, in(1)), Int64(1), ""},
		{"coalesce", coalesceE(n, i), Int64(7), ""},
		{"coalesce all null", coalesceE(n, n), Null(), ""},
		{"abs int", callE(messages.Func_FUNC_ABS, in(-4)), Int64(4), ""},
		{"abs float", callE(messages.Func_FUNC_ABS, litE(Float64(-1.5))), Float64(1.5), ""},
		{"abs overflow", callE(messages.Func_FUNC_ABS, litE(Int64(math.MinInt64))), Datum{}, "int64 overflow"},
		{"abs null", callE(messages.Func_FUNC_ABS, n), Null(), ""},
		{"lower", callE(messages.Func_FUNC_LOWER, s), String("héllo"), ""},
		{"upper", callE(messages.Func_FUNC_UPPER, s), String("HÉLLO"), ""},
		{"length chars", callE(messages.Func_FUNC_LENGTH, s), Int64(5), ""},
		{"length bytes", callE(messages.Func_FUNC_LENGTH, y), Int64(2), ""},
		{"substring", callE(messages.Func_FUNC_SUBSTRING, s, in(2), in(3)), String("éll"), ""},
		{"substring to end", callE(messages.Func_FUNC_SUBSTRING, s, in(4)), String("lo"), ""},
		{"substring before start", callE(messages.Func_FUNC_SUBSTRING, s, in(-1), in(3)), String("H"), ""},
		{"substring past end", callE(messages.Func_FUNC_SUBSTRING, s, in(9), in(3)), String(""), ""},
		{"substring huge count", callE(messages.Func_FUNC_SUBSTRING, s, in(2), litE(Int64(math.MaxInt64))), String("éllo"), ""},
		{"substring negative count", callE(messages.Func_FUNC_SUBSTRING, s, in(1), in(-1)), Datum{}, "negative substring length"},
		{"substring null", callE(messages.Func_FUNC_SUBSTRING, s, n), Null(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := CompileExpr(tt.e, exprSchema)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			got, err := e.Eval(exprRow)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !IsEvalError(err) {
					t.Fatalf("got %v, %v; want evaluation error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("eval: %v", err)
			}
			if !got.Equal(tt.want) || got.Type() != tt.want.Type() {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			if got.IsNull() && !e.Nullable() {
				t.Fatalf("expression %s returned NULL but is typed not nullable", e)
			}
			if !got.IsNull() && got.Type() != e.Type() {
				t.Fatalf("expression %s returned %s but is typed %s", e, got.Type(), e.Type())
			}
		})
	}
}

func TestExprCompileErrors(t *testing.T) {
	i, s, b := colE(0), colE(3), colE(4)
	tests := []struct {
		name string
		e    *messages.Expr
		want string
	}{
		{"missing", nil, "expression is missing"},
		{"no kind", &messages.Expr{}, "no kind"},
		{"unknown column index", colE(42), "unknown column #42"},
		{"unknown column name", &messages.Expr{Kind: &messages.Expr_Column{Column: refName("nope")}}, `unknown column "nope"`},
		{"empty column ref", &messages.Expr{Kind: &messages.Expr_Column{Column: &messages.ColumnRef{}}}, "neither index nor name"},
		{"add string", binE(opAdd, i, s), "type mismatch: + needs numeric operands"},
		{"compare string int", binE(opEq, i, s), "type mismatch: cannot compare int64 = string"},
		{"and int", binE(opAnd, i, b), "type mismatch: AND needs bool operands"},
		{"unknown binary op", binE(messages.BinaryOp_BINARY_OP_UNSPECIFIED, i, i), "unknown binary operator"},
		{"not int", unE(messages.UnaryOp_UNARY_OP_NOT, i), "NOT needs a bool"},
		{"neg string", unE(messages.UnaryOp_UNARY_OP_NEG, s), "unary - needs a numeric"},
		{"unknown unary", unE(messages.UnaryOp(99), i), "unknown unary operator"},
		{"abs arity", callE(messages.Func_FUNC_ABS), "wrong number of arguments: abs takes 1, got 0"},
		{"abs string", callE(messages.Func_FUNC_ABS, s), "argument 1 of abs must be numeric"},
		{"lower int", callE(messages.Func_FUNC_LOWER, i), "argument 1 of lower must be string"},
		{"length bool", callE(messages.Func_FUNC_LENGTH, b), "must be string or bytes"},
		{"substring arity", callE(messages.Func_FUNC_SUBSTRING, s), "substring takes 2 to 3"},
		{"substring start type", callE(messages.Func_FUNC_SUBSTRING, s, s), "argument 2 of substring must be int64"},
		{"unknown func", callE(messages.Func_FUNC_UNSPECIFIED, i), "unknown function"},
		{"case no whens", caseE(i), "at least one WHEN"},
		{"case cond type", caseE(i, i, i), "condition of WHEN 1 must be bool"},
		{"case branch types", caseE(s, b, i), "CASE ELSE has type string"},
		{"coalesce empty", coalesceE(), "COALESCE needs at least one"},
		{"coalesce types", coalesceE(i, s), "argument 2 of COALESCE has type string"},
		{"untyped null", &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: DatumToWire(Null())}}}, "NULL literal needs a type"},
		{"literal type disagrees", &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{Value: DatumToWire(Int64(1)), Type: messages.ScalarType_SCALAR_TYPE_STRING}}}, "literal 1 has type int64 but says string"},
		{"literal without value", &messages.Expr{Kind: &messages.Expr_Literal{Literal: &messages.Literal{}}}, "literal has no value"},
		{"nested error names operand", binE(opAdd, i, colE(99)), "right operand of +"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileExpr(tt.e, exprSchema)
			if err == nil || !errors.Is(err, ErrInvalidPlan) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an ErrInvalidPlan containing %q", err, tt.want)
			}
		})
	}
}

func TestExprTypes(t *testing.T) {
	tests := []struct {
		name     string
		e        *messages.Expr
		typ      Type
		nullable bool
	}{
		{"int col", colE(0), TypeInt64, false},
		{"nullable col", colE(1), TypeInt64, true},
		{"int div", binE(opDiv, colE(0), colE(6)), TypeInt64, false},
		{"promotion", binE(opMul, colE(0), colE(2)), TypeFloat64, false},
		{"is null never null", unE(messages.UnaryOp_UNARY_OP_IS_NULL, colE(1)), TypeBool, false},
		{"coalesce with non-null", coalesceE(colE(1), colE(0)), TypeInt64, false},
		{"case without else", caseE(nil, litE(Bool(true)), colE(0)), TypeInt64, true},
		{"length", callE(messages.Func_FUNC_LENGTH, colE(3)), TypeInt64, false},
		{"compare nullable", binE(opLt, colE(1), colE(0)), TypeBool, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := CompileExpr(tt.e, exprSchema)
			if err != nil {
				t.Fatal(err)
			}
			if e.Type() != tt.typ || e.Nullable() != tt.nullable {
				t.Fatalf("got %s nullable=%v, want %s nullable=%v", e.Type(), e.Nullable(), tt.typ, tt.nullable)
			}
		})
	}
}

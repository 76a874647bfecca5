package dataflow

import (
	"fmt"

	"github.com/arbor-db/arbor/messages"
)

// CompileExpr type checks the wire expression w against schema and returns
// it ready to evaluate. Errors wrap ErrInvalidPlan and name the problem:
// an unknown column, a type mismatch, a wrong number of arguments.
func CompileExpr(w *messages.Expr, schema Schema) (*Expr, error) {
	e, err := compileExpr(w, schema)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidPlan}, args...)...)
}

// resolveColumn turns a column reference into a position of schema.
func resolveColumn(ref *messages.ColumnRef, schema Schema) (int, error) {
	if ref == nil {
		return 0, invalidf("column reference is missing")
	}
	switch r := ref.Ref.(type) {
	case *messages.ColumnRef_Index:
		if int64(r.Index) >= int64(len(schema)) {
			return 0, invalidf("unknown column #%d: the input has %d columns %s", r.Index, len(schema), schema.names())
		}
		return int(r.Index), nil
	case *messages.ColumnRef_Name:
		return schema.Index(r.Name)
	}
	return 0, invalidf("column reference has neither index nor name")
}

func resolveColumns(refs []*messages.ColumnRef, schema Schema, what string) ([]int, error) {
	out := make([]int, len(refs))
	for i, ref := range refs {
		c, err := resolveColumn(ref, schema)
		if err != nil {
			return nil, fmt.Errorf("%s %d: %w", what, i, err)
		}
		out[i] = c
	}
	return out, nil
}

func isNumeric(t Type) bool { return t == TypeInt64 || t == TypeFloat64 }

func compileExpr(w *messages.Expr, schema Schema) (*Expr, error) {
	if w == nil {
		return nil, invalidf("expression is missing")
	}
	switch k := w.Kind.(type) {
	case *messages.Expr_Column:
		idx, err := resolveColumn(k.Column, schema)
		if err != nil {
			return nil, err
		}
		c := schema[idx]
		return &Expr{node: &columnExpr{idx: idx, name: c.Name}, typ: c.Type, nullable: c.Nullable}, nil
	case *messages.Expr_Literal:
		return compileLiteral(k.Literal)
	case *messages.Expr_Binary:
		return compileBinary(k.Binary, schema)
	case *messages.Expr_Unary:
		return compileUnary(k.Unary, schema)
	case *messages.Expr_Call:
		return compileCall(k.Call, schema)
	case *messages.Expr_Case:
		return compileCase(k.Case, schema)
	case *messages.Expr_Coalesce:
		return compileCoalesce(k.Coalesce, schema)
	case *messages.Expr_Cast:
		return compileCast(k.Cast, schema)
	}
	return nil, invalidf("expression has no kind")
}

func compileLiteral(l *messages.Literal) (*Expr, error) {
	if l == nil || l.Value == nil {
		return nil, invalidf("literal has no value")
	}
	d, err := DatumFromWire(l.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: literal: %v", ErrInvalidPlan, err)
	}
	var typ Type
	if l.Type != messages.ScalarType_SCALAR_TYPE_UNSPECIFIED {
		if typ, err = TypeFromWire(l.Type); err != nil {
			return nil, fmt.Errorf("%w: literal: %v", ErrInvalidPlan, err)
		}
	}
	switch {
	case d.IsNull() && typ == 0:
		return nil, invalidf("NULL literal needs a type")
	case d.IsNull():
	case typ != 0 && typ != d.Type():
		return nil, invalidf("literal %s has type %s but says %s", d, d.Type(), typ)
	default:
		typ = d.Type()
	}
	return &Expr{node: &literalExpr{d: d}, typ: typ, nullable: d.IsNull()}, nil
}

func compileBinary(b *messages.BinaryExpr, schema Schema) (*Expr, error) {
	op := b.GetOp()
	name, ok := binaryOpNames[op]
	if !ok {
		return nil, invalidf("unknown binary operator %v", op)
	}
	l, err := compileExpr(b.GetLeft(), schema)
	if err != nil {
		return nil, fmt.Errorf("left operand of %s: %w", name, err)
	}
	r, err := compileExpr(b.GetRight(), schema)
	if err != nil {
		return nil, fmt.Errorf("right operand of %s: %w", name, err)
	}
	nullable := l.nullable || r.nullable
	switch op {
	case messages.BinaryOp_BINARY_OP_ADD, messages.BinaryOp_BINARY_OP_SUB, messages.BinaryOp_BINARY_OP_MUL,
		messages.BinaryOp_BINARY_OP_DIV, messages.BinaryOp_BINARY_OP_MOD:
		if l.typ == TypeTimestamp || r.typ == TypeTimestamp {
			return compileTimestampArith(op, name, l, r)
		}
		if !isNumeric(l.typ) || !isNumeric(r.typ) {
			return nil, invalidf("type mismatch: %s needs numeric operands, got %s %s %s", name, l.typ, name, r.typ)
		}
		typ := TypeInt64
		if l.typ == TypeFloat64 || r.typ == TypeFloat64 {
			typ = TypeFloat64
		}
		a := arithExpr{op: op, name: name, l: l.node, r: r.node, float: typ == TypeFloat64}
		if li, ri, ok := intOperands(l, r); ok && typ == TypeInt64 {
			return &Expr{node: &intArithExpr{arithExpr: a, li: li, ri: ri}, typ: typ, nullable: nullable}, nil
		}
		return &Expr{node: &a, typ: typ, nullable: nullable}, nil
	case messages.BinaryOp_BINARY_OP_AND, messages.BinaryOp_BINARY_OP_OR:
		if l.typ != TypeBool || r.typ != TypeBool {
			return nil, invalidf("type mismatch: %s needs bool operands, got %s %s %s", name, l.typ, name, r.typ)
		}
		return &Expr{node: &logicExpr{and: op == messages.BinaryOp_BINARY_OP_AND, l: l.node, r: r.node}, typ: TypeBool, nullable: nullable}, nil
	default: // comparisons
		if l.typ != r.typ && !(isNumeric(l.typ) && isNumeric(r.typ)) {
			return nil, invalidf("type mismatch: cannot compare %s %s %s", l.typ, name, r.typ)
		}
		c := compareExpr{op: op, name: name, l: l.node, r: r.node}
		if li, ri, ok := intOperands(l, r); ok {
			return &Expr{node: &intCompareExpr{compareExpr: c, li: li, ri: ri}, typ: TypeBool, nullable: nullable}, nil
		}
		return &Expr{node: &c, typ: TypeBool, nullable: nullable}, nil
	}
}

var binaryOpNames = map[messages.BinaryOp]string{
	messages.BinaryOp_BINARY_OP_ADD: "+",
	messages.BinaryOp_BINARY_OP_SUB: "-",
	messages.BinaryOp_BINARY_OP_MUL: "*",
	messages.BinaryOp_BINARY_OP_DIV: "/",
	messages.BinaryOp_BINARY_OP_MOD: "%",
	messages.BinaryOp_BINARY_OP_EQ:  "=",
	messages.BinaryOp_BINARY_OP_NE:  "<>",
	messages.BinaryOp_BINARY_OP_LT:  "<",
	messages.BinaryOp_BINARY_OP_LE:  "<=",
	messages.BinaryOp_BINARY_OP_GT:  ">",
	messages.BinaryOp_BINARY_OP_GE:  ">=",
	messages.BinaryOp_BINARY_OP_AND: "AND",
	messages.BinaryOp_BINARY_OP_OR:  "OR",
}

func compileUnary(u *messages.UnaryExpr, schema Schema) (*Expr, error) {
	a, err := compileExpr(u.GetArg(), schema)
	if err != nil {
		return nil, fmt.Errorf("operand of %v: %w", u.GetOp(), err)
	}
	switch u.GetOp() {
	case messages.UnaryOp_UNARY_OP_NOT:
		if a.typ != TypeBool {
			return nil, invalidf("type mismatch: NOT needs a bool operand, got %s", a.typ)
		}
		return &Expr{node: &notExpr{a: a.node}, typ: TypeBool, nullable: a.nullable}, nil
	case messages.UnaryOp_UNARY_OP_IS_NULL:
		return &Expr{node: &isNullExpr{a: a.node}, typ: TypeBool}, nil
	case messages.UnaryOp_UNARY_OP_NEG:
		if !isNumeric(a.typ) {
			return nil, invalidf("type mismatch: unary - needs a numeric operand, got %s", a.typ)
		}
		return &Expr{node: &negExpr{a: a.node}, typ: a.typ, nullable: a.nullable}, nil
	}
	return nil, invalidf("unknown unary operator %v", u.GetOp())
}

func compileCall(c *messages.CallExpr, schema Schema) (*Expr, error) {
	fn := c.GetFunc()
	name, ok := funcNames[fn]
	if !ok {
		return nil, invalidf("unknown function %v", fn)
	}
	args := make([]*Expr, len(c.GetArgs()))
	nullable := false
	for i, w := range c.GetArgs() {
		a, err := compileExpr(w, schema)
		if err != nil {
			return nil, fmt.Errorf("argument %d of %s: %w", i+1, name, err)
		}
		args[i] = a
		nullable = nullable || a.nullable
	}
	arity := func(min, max int) error {
		if len(args) < min || len(args) > max {
			if min == max {
				return invalidf("wrong number of arguments: %s takes %d, got %d", name, min, len(args))
			}
			return invalidf("wrong number of arguments: %s takes %d to %d, got %d", name, min, max, len(args))
		}
		return nil
	}
	want := func(i int, ok bool, what string) error {
		if !ok {
			return invalidf("type mismatch: argument %d of %s must be %s, got %s", i+1, name, what, args[i].typ)
		}
		return nil
	}
	nodes := make([]scalar, len(args))
	for i, a := range args {
		nodes[i] = a.node
	}
	var typ Type
	switch fn {
	case messages.Func_FUNC_ABS:
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		if err := want(0, isNumeric(args[0].typ), "numeric"); err != nil {
			return nil, err
		}
		typ = args[0].typ
	case messages.Func_FUNC_LOWER, messages.Func_FUNC_UPPER:
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		if err := want(0, args[0].typ == TypeString, "string"); err != nil {
			return nil, err
		}
		typ = TypeString
	case messages.Func_FUNC_LENGTH:
		if err := arity(1, 1); err != nil {
			return nil, err
		}
		if err := want(0, args[0].typ == TypeString || args[0].typ == TypeBytes, "string or bytes"); err != nil {
			return nil, err
		}
		typ = TypeInt64
	case messages.Func_FUNC_SUBSTRING:
		if err := arity(2, 3); err != nil {
			return nil, err
		}
		if err := want(0, args[0].typ == TypeString, "string"); err != nil {
			return nil, err
		}
		for i := 1; i < len(args); i++ {
			if err := want(i, args[i].typ == TypeInt64, "int64"); err != nil {
				return nil, err
			}
		}
		typ = TypeString
	}
	return &Expr{node: &callExpr{fn: fn, name: name, args: nodes}, typ: typ, nullable: nullable}, nil
}

var funcNames = map[messages.Func]string{
	messages.Func_FUNC_ABS:       "abs",
	messages.Func_FUNC_LOWER:     "lower",
	messages.Func_FUNC_UPPER:     "upper",
	messages.Func_FUNC_LENGTH:    "length",
	messages.Func_FUNC_SUBSTRING: "substring",
}

func compileCase(c *messages.CaseExpr, schema Schema) (*Expr, error) {
	if len(c.GetWhens()) == 0 {
		return nil, invalidf("CASE needs at least one WHEN")
	}
	out := &caseExpr{}
	var typ Type
	nullable := false
	unify := func(e *Expr, what string) error {
		if typ == 0 {
			typ = e.typ
		} else if e.typ != typ {
			return invalidf("type mismatch: CASE %s has type %s, earlier branches have %s", what, e.typ, typ)
		}
		nullable = nullable || e.nullable
		return nil
	}
	for i, w := range c.GetWhens() {
		cond, err := compileExpr(w.GetCond(), schema)
		if err != nil {
			return nil, fmt.Errorf("condition of WHEN %d: %w", i+1, err)
		}
		if cond.typ != TypeBool {
			return nil, invalidf("type mismatch: condition of WHEN %d must be bool, got %s", i+1, cond.typ)
		}
		then, err := compileExpr(w.GetThen(), schema)
		if err != nil {
			return nil, fmt.Errorf("THEN of WHEN %d: %w", i+1, err)
		}
		if err := unify(then, fmt.Sprintf("THEN %d", i+1)); err != nil {
			return nil, err
		}
		out.conds = append(out.conds, cond.node)
		out.thens = append(out.thens, then.node)
	}
	if c.GetElse() != nil {
		els, err := compileExpr(c.GetElse(), schema)
		if err != nil {
			return nil, fmt.Errorf("ELSE: %w", err)
		}
		if err := unify(els, "ELSE"); err != nil {
			return nil, err
		}
		out.els = els.node
	} else {
		nullable = true
	}
	return &Expr{node: out, typ: typ, nullable: nullable}, nil
}

func compileCoalesce(c *messages.CoalesceExpr, schema Schema) (*Expr, error) {
	if len(c.GetArgs()) == 0 {
		return nil, invalidf("wrong number of arguments: COALESCE needs at least one")
	}
	out := &coalesceExpr{}
	var typ Type
	nullable := true
	for i, w := range c.GetArgs() {
		a, err := compileExpr(w, schema)
		if err != nil {
			return nil, fmt.Errorf("argument %d of COALESCE: %w", i+1, err)
		}
		if i == 0 {
			typ = a.typ
		} else if a.typ != typ {
			return nil, invalidf("type mismatch: argument %d of COALESCE has type %s, the first has %s", i+1, a.typ, typ)
		}
		nullable = nullable && a.nullable
		out.args = append(out.args, a.node)
	}
	return &Expr{node: out, typ: typ, nullable: nullable}, nil
}

package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/arbor-db/arbor/client"
)

// parseRows reads one JSON array per line (blank lines skipped) and
// converts each value to its column's type. Errors name the line.
func parseRows(r io.Reader, cols []client.Column) ([]client.Row, error) {
	var rows []client.Row
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber()
		var vals []any
		if err := dec.Decode(&vals); err != nil {
			return nil, fmt.Errorf("line %d: not a JSON array: %v", line, err)
		}
		if len(vals) != len(cols) {
			return nil, fmt.Errorf("line %d: %d values, the table has %d columns", line, len(vals), len(cols))
		}
		row := make(client.Row, len(vals))
		for i, v := range vals {
			x, err := convert(v, cols[i])
			if err != nil {
				return nil, fmt.Errorf("line %d: column %q: %v", line, cols[i].Name, err)
			}
			row[i] = x
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// convert turns a decoded JSON value into a datum of the column's type.
func convert(v any, col client.Column) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch col.Type {
	case client.Int64, client.Timestamp:
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("%v is not a number", v)
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%v is not an integer", v)
		}
		if col.Type == client.Timestamp {
			return client.TimestampValue(i), nil
		}
		return i, nil
	case client.Float64:
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("%v is not a number", v)
		}
		return n.Float64()
	case client.Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("%v is not a bool", v)
		}
		return b, nil
	case client.String:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a string", v)
		}
		return s, nil
	case client.Bytes:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a base64 string", v)
		}
		return base64.StdEncoding.DecodeString(s)
	}
	return nil, fmt.Errorf("unknown type %q", col.Type)
}

// parseValue parses a --where value by the column's type; "null" is null.
func parseValue(col, val string, cols []client.Column) (any, error) {
	for _, c := range cols {
		if c.Name != col {
			continue
		}
		if val == "null" {
			return nil, nil
		}
		if c.Type == client.String {
			return strings.Trim(val, `"'`), nil
		}
		if c.Type == client.Bytes {
			return base64.StdEncoding.DecodeString(val)
		}
		var v any = json.Number(val)
		if c.Type == client.Bool {
			b, err := strconv.ParseBool(val)
			if err != nil {
				return nil, fmt.Errorf("%q is not a bool", val)
			}
			v = b
		}
		return convert(v, c)
	}
	return nil, fmt.Errorf("no column %q", col)
}

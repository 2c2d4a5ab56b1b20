package retrieval

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxLineBytes bounds one JSON Lines record.
const maxLineBytes = 16 << 20

// table reads a delimited file with a header row.
type table struct {
	r      *csv.Reader
	header []string
	col    map[string]int // lowercased header name -> index
}

func newTable(r io.Reader, comma rune) (*table, error) {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = comma == '\t'
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("the file is empty: expected a header row")
	}
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	t := &table{r: cr, header: header, col: map[string]int{}}
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		if _, dup := t.col[key]; !dup {
			t.col[key] = i
		}
	}
	return t, nil
}

// next returns the next record and the line it starts on. A malformed record
// comes back as a RowError; the reader then continues with the next one.
func (t *table) next() ([]string, int, error) {
	rec, err := t.r.Read()
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, pe.StartLine, RowError{Line: pe.StartLine, Reason: pe.Err.Error()}
	}
	if err != nil {
		return nil, 0, err
	}
	line, _ := t.r.FieldPos(0)
	return rec, line, nil
}

// get returns the value of the named column, or "" when the column or the
// field is missing.
func (t *table) get(rec []string, name string) string {
	i, ok := t.col[strings.ToLower(name)]
	if !ok || i >= len(rec) {
		return ""
	}
	return rec[i]
}

func (t *table) has(name string) bool {
	_, ok := t.col[strings.ToLower(name)]
	return ok
}

// columnFor returns the column holding field: the mapped one, the field's
// own name, or an alias.
func (t *table) columnFor(field string, mapping map[string]string) (string, bool) {
	if c, ok := mapping[field]; ok {
		return c, t.has(c)
	}
	if t.has(field) {
		return field, true
	}
	for _, a := range fieldAliases[field] {
		if t.has(a) {
			return a, true
		}
	}
	return "", false
}

func importDelimited(r io.Reader, comma rune, opts ImportOptions) (ImportResult, error) {
	t, err := newTable(r, comma)
	if err != nil {
		return ImportResult{}, err
	}
	columns := map[string]string{}
	for field := range knownFields {
		c, ok := t.columnFor(field, opts.Mapping)
		if !ok {
			if mapped, isMapped := opts.Mapping[field]; isMapped {
				return ImportResult{}, fmt.Errorf("mapping names column %q for %s, but the header has no such column (it has %s)",
					mapped, field, strings.Join(t.header, ", "))
			}
			continue
		}
		columns[field] = c
	}
	for _, need := range []string{"id", "title"} {
		if _, ok := columns[need]; !ok {
			return ImportResult{}, fmt.Errorf("%w: no column for %s in header %q; "+
				"name the column with a mapping such as %s=your_column", ErrFormat, need,
				strings.Join(t.header, ","), need)
		}
	}

	var res ImportResult
	seen := map[string]bool{}
	for {
		rec, line, err := t.next()
		if err == io.EOF {
			break
		}
		var re RowError
		if errors.As(err, &re) {
			res.Errors = append(res.Errors, re)
			continue
		}
		if err != nil {
			return res, err
		}
		v := rowValues{}
		for field, c := range columns {
			v[field] = t.get(rec, c)
		}
		addRow(&res, seen, v, line, opts.DefaultCurrency)
	}
	return res, nil
}

// addRow converts one row and appends it, or records why it was rejected.
// Later rows with an ID already imported are skipped without an error, since
// exports such as review dumps repeat a product once per row.
func addRow(res *ImportResult, seen map[string]bool, v rowValues, line int, currency string) {
	p, reason := productFromRow(v, currency)
	if reason != "" {
		res.Errors = append(res.Errors, RowError{Line: line, Reason: reason})
		return
	}
	if seen[p.ID] {
		return
	}
	seen[p.ID] = true
	res.Products = append(res.Products, p)
}

func importJSONL(r io.Reader, opts ImportOptions) (ImportResult, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLineBytes)
	var res ImportResult
	seen := map[string]bool{}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(text), &obj); err != nil {
			if line == 1 && !strings.HasPrefix(text, "{") {
				return res, fmt.Errorf("%w: line 1 is not a JSON object; "+
					"JSON Lines needs one product object per line", ErrFormat)
			}
			res.Errors = append(res.Errors, RowError{Line: line, Reason: "invalid JSON: " + err.Error()})
			continue
		}
		v := rowValues{}
		for field := range knownFields {
			key := field
			if c, ok := opts.Mapping[field]; ok {
				key = c
			}
			if raw, ok := obj[key]; ok {
				v[field] = jsonString(raw)
			}
		}
		before := len(res.Products)
		addRow(&res, seen, v, line, opts.DefaultCurrency)
		if len(res.Products) > before && len(opts.Mapping) == 0 {
			if raw, ok := obj["localized"]; ok {
				var loc map[string]LocalText
				if json.Unmarshal(raw, &loc) == nil {
					res.Products[len(res.Products)-1].Localized = loc
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("read line %d: %w", line+1, err)
	}
	return res, nil
}

// jsonString renders a JSON value as the text a CSV cell would hold: strings
// unquoted, arrays joined with commas, other values as written.
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var arr []any
	if json.Unmarshal(raw, &arr) == nil {
		parts := make([]string, 0, len(arr))
		for _, a := range arr {
			parts = append(parts, fmt.Sprint(a))
		}
		return strings.Join(parts, ",")
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return strconv.FormatBool(b)
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

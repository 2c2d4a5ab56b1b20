package scenario

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Example is one labelled message for training or evaluating a classifier.
type Example struct {
	Text  string `json:"text"`
	Label string `json:"label"`
}

// ErrUnknownFormat is returned by ReadExamples for a format other than
// "jsonl", "csv" or "tsv".
var ErrUnknownFormat = errors.New("scenario: unknown example format")

// maxLineBytes bounds one JSON Lines record.
const maxLineBytes = 1 << 20

// ReadExamples reads labelled examples. Format "jsonl" reads one JSON object
// a line and takes the text and label from the keys textCol and labelCol
// ("text" and "label" when empty); blank lines are skipped. Format "csv"
// reads a CSV file whose header names the columns textCol and labelCol, and
// "tsv" the same with tabs. Rows with an empty label are skipped, because
// shared data sets contain a few.
func ReadExamples(r io.Reader, format, textCol, labelCol string) ([]Example, error) {
	if textCol == "" {
		textCol = "text"
	}
	if labelCol == "" {
		labelCol = "label"
	}
	switch format {
	case "jsonl":
		return readJSONL(r, textCol, labelCol)
	case "csv":
		return readDelimited(r, ',', textCol, labelCol)
	case "tsv":
		return readDelimited(r, '\t', textCol, labelCol)
	default:
		return nil, fmt.Errorf("read examples: format %q (want jsonl, csv or tsv): %w", format, ErrUnknownFormat)
	}
}

func readJSONL(r io.Reader, textCol, labelCol string) ([]Example, error) {
	var examples []Example
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLineBytes)
	for line := 1; sc.Scan(); line++ {
		raw := strings.TrimSpace(sc.Text())
		if raw == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			return nil, fmt.Errorf("read examples: line %d: %w", line, err)
		}
		text, okText := rec[textCol].(string)
		label, okLabel := rec[labelCol].(string)
		if !okText || !okLabel {
			return nil, fmt.Errorf("read examples: line %d: missing string keys %q and %q", line, textCol, labelCol)
		}
		if label == "" {
			continue
		}
		examples = append(examples, Example{Text: text, Label: label})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read examples: %w", err)
	}
	return examples, nil
}

func readDelimited(r io.Reader, comma rune, textCol, labelCol string) ([]Example, error) {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.LazyQuotes = comma == '\t'
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read examples: header: %w", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	textIdx := slices.Index(header, textCol)
	labelIdx := slices.Index(header, labelCol)
	if textIdx < 0 {
		return nil, fmt.Errorf("read examples: text column %q not found in header %q; name it with -text-col", textCol, header)
	}
	if labelIdx < 0 {
		return nil, fmt.Errorf("read examples: label column %q not found in header %q; name it with -label-col", labelCol, header)
	}
	var examples []Example
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read examples: %w", err)
		}
		label := strings.TrimSpace(rec[labelIdx])
		if label == "" {
			continue
		}
		examples = append(examples, Example{Text: rec[textIdx], Label: label})
	}
	return examples, nil
}

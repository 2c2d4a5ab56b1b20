package offer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// readItems reads an Open Bandit item context file. Columns named
// item_feature_* hold either numbers or hashed category strings; a column
// is numeric when every value parses as a float.
func readItems(r io.Reader) ([]itemInfo, error) {
	records, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read items: %w", err)
	}
	if len(records) < 2 {
		return nil, fmt.Errorf("read items: %w: no item rows", ErrInvalidLog)
	}
	header := records[0]
	idCol := slices.Index(header, "item_id")
	if idCol < 0 {
		return nil, fmt.Errorf("read items: %w: missing item_id column", ErrInvalidLog)
	}
	var featureCols []int
	for i, name := range header {
		if strings.HasPrefix(name, "item_feature_") {
			featureCols = append(featureCols, i)
		}
	}
	numeric := make(map[int]bool)
	for _, c := range featureCols {
		numeric[c] = true
		for _, rec := range records[1:] {
			if _, err := strconv.ParseFloat(rec[c], 64); err != nil {
				numeric[c] = false
				break
			}
		}
	}

	items := make([]itemInfo, len(records)-1)
	seen := make([]bool, len(items))
	for line, rec := range records[1:] {
		id, err := strconv.Atoi(rec[idCol])
		if err != nil || id < 0 || id >= len(items) || seen[id] {
			return nil, fmt.Errorf("read items: %w: line %d: item_id %q is not a unique id in [0, %d)", ErrInvalidLog, line+2, rec[idCol], len(items))
		}
		seen[id] = true
		var info itemInfo
		for _, c := range featureCols {
			if numeric[c] {
				v, _ := strconv.ParseFloat(rec[c], 64)
				info.numbers = append(info.numbers, v)
			} else {
				info.tokens = append(info.tokens, header[c]+"="+rec[c])
			}
		}
		items[id] = info
	}
	return items, nil
}

// readLog reads Open Bandit log rows, keeping only rows at position when it
// is positive.
func readLog(r io.Reader, position, items int) ([]logRow, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read log header: %w", err)
	}
	header = append([]string(nil), header...)
	cols := map[string]int{}
	for _, name := range []string{"item_id", "position", "click", "propensity_score"} {
		if cols[name] = slices.Index(header, name); cols[name] < 0 {
			return nil, fmt.Errorf("read log: %w: missing %s column", ErrInvalidLog, name)
		}
	}
	var userCols, affinityCols []int
	for i, name := range header {
		switch {
		case strings.HasPrefix(name, "user_feature_"):
			userCols = append(userCols, i)
		case strings.HasPrefix(name, "user-item_affinity_"):
			affinityCols = append(affinityCols, i)
		}
	}

	var rows []logRow
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read log: %w", err)
		}
		row, pos, err := parseLogRow(rec, cols, userCols, affinityCols, items)
		if err != nil {
			return nil, fmt.Errorf("read log: line %d: %w", line, err)
		}
		if position > 0 && pos != position {
			continue
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func parseLogRow(rec []string, cols map[string]int, userCols, affinityCols []int, items int) (logRow, int, error) {
	var row logRow
	item, err := strconv.Atoi(rec[cols["item_id"]])
	if err != nil || item < 0 || item >= items {
		return row, 0, fmt.Errorf("%w: item_id %q not in the item file", ErrInvalidLog, rec[cols["item_id"]])
	}
	pos, err := strconv.Atoi(rec[cols["position"]])
	if err != nil {
		return row, 0, fmt.Errorf("%w: position %q is not an integer", ErrInvalidLog, rec[cols["position"]])
	}
	click, err := strconv.ParseFloat(rec[cols["click"]], 64)
	if err != nil || (click != 0 && click != 1) {
		return row, 0, fmt.Errorf("%w: click %q is not 0 or 1", ErrInvalidLog, rec[cols["click"]])
	}
	p, err := strconv.ParseFloat(rec[cols["propensity_score"]], 64)
	if err != nil || !(p > 0 && p <= 1) {
		return row, 0, fmt.Errorf("%w: propensity_score %q is not in (0, 1]", ErrInvalidLog, rec[cols["propensity_score"]])
	}
	row = logRow{item: item, click: click, propensity: p}
	for k, c := range userCols {
		row.tokens = append(row.tokens, "u"+strconv.Itoa(k)+"="+rec[c])
	}
	for _, c := range affinityCols {
		v, err := strconv.ParseFloat(rec[c], 64)
		if err != nil {
			return row, 0, fmt.Errorf("%w: affinity %q is not a number", ErrInvalidLog, rec[c])
		}
		row.affinity = append(row.affinity, v)
	}
	return row, pos, nil
}

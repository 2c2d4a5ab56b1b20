package llm

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{name: "seconds", value: "3", want: 3 * time.Second},
		{name: "seconds_with_space", value: " 2 ", want: 2 * time.Second},
		{name: "http_date", value: now.Add(90 * time.Second).Format(http.TimeFormat), want: 90 * time.Second},
		{name: "past_date", value: now.Add(-time.Minute).Format(http.TimeFormat), want: 0},
		{name: "negative", value: "-1", want: 0},
		{name: "garbage", value: "soon", want: 0},
		{name: "empty", value: "", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.value, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestWatchedBodyFindsMarkerAcrossReads(t *testing.T) {
	body := "data: {\"x\":1}\n\ndata: [DO"
	rest := "NE]\n\n"
	a := &attempt{isTerminal: isOpenAITerminal}
	w := &watchedBody{attempt: a}
	w.scan([]byte(body))
	if _, _, _, _, saw := a.snapshot(); saw {
		t.Fatal("marker reported before its line was complete")
	}
	w.scan([]byte(rest))
	if _, _, _, _, saw := a.snapshot(); !saw {
		t.Error("marker split across two reads was not found")
	}
}

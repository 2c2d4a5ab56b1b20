package memory_test

import (
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/memory/memtest"
)

func TestStateGetPut(t *testing.T) {
	s := memtest.Open(t)
	ctx := t.Context()

	if _, err := s.GetState(ctx, "offer/weights"); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("get absent key: %v, want ErrNotFound", err)
	}
	value := []byte{1, 2, 3}
	if err := s.PutState(ctx, "offer/weights", value); err != nil {
		t.Fatalf("put: %v", err)
	}
	value[0] = 9 // the store must have kept its own copy
	got, err := s.GetState(ctx, "offer/weights")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if string(got) != string([]byte{1, 2, 3}) {
		t.Errorf("get = %v, want [1 2 3]", got)
	}

	if err := s.PutState(ctx, "offer/weights", []byte("v2")); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	got, err = s.GetState(ctx, "offer/weights")
	if err != nil {
		t.Fatalf("get after overwrite: %v", err)
	}
	if string(got) != "v2" {
		t.Errorf("get after overwrite = %q, want v2", got)
	}
	if err := s.PutState(ctx, "", []byte("x")); err == nil {
		t.Error("put with empty key succeeded, want an error")
	}
}

func TestImpressionsAndTotals(t *testing.T) {
	s, _ := openClocked(t)
	ctx := t.Context()
	base := time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC)

	record := func(userID, offerID string, minute int) {
		t.Helper()
		imp := memory.Impression{
			OfferID: offerID, TurnID: fmt.Sprintf("%s-%d", userID, minute), Variant: "B",
			Time: base.Add(time.Duration(minute) * time.Minute), Features: []float64{1, 0.5},
		}
		if err := s.RecordImpression(ctx, userID, imp); err != nil {
			t.Fatalf("record %s for %s: %v", offerID, userID, err)
		}
	}
	record("u1", "spring10", 2)
	record("u1", "freeship", 1)
	record("u2", "spring10", 3)

	imps, err := s.Impressions(ctx, "u1")
	if err != nil {
		t.Fatalf("impressions: %v", err)
	}
	if len(imps) != 2 || imps[0].OfferID != "freeship" || imps[1].OfferID != "spring10" {
		t.Fatalf("impressions of u1 = %+v, want freeship then spring10 (time order)", imps)
	}
	if imps[1].Variant != "B" || len(imps[1].Features) != 2 || imps[1].Features[1] != 0.5 {
		t.Errorf("impression fields = %+v, want variant B and features [1 0.5]", imps[1])
	}

	totals, err := s.OfferTotals(ctx)
	if err != nil {
		t.Fatalf("totals: %v", err)
	}
	want := map[string]int{"spring10": 2, "freeship": 1}
	if !maps.Equal(totals, want) {
		t.Errorf("totals = %v, want %v", totals, want)
	}
	if err := s.RecordImpression(ctx, "u1", memory.Impression{}); err == nil {
		t.Error("impression without offer id was stored, want an error")
	}
}

func TestOfferTotalsConcurrent(t *testing.T) {
	s := memtest.Open(t)
	ctx := t.Context()
	const goroutines, each = 8, 20

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				err := s.RecordImpression(ctx, fmt.Sprintf("u%d", g), memory.Impression{OfferID: "bundle"})
				if err != nil {
					t.Errorf("record: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	totals, err := s.OfferTotals(ctx)
	if err != nil {
		t.Fatalf("totals: %v", err)
	}
	if totals["bundle"] != goroutines*each {
		t.Errorf("total of bundle = %d, want %d", totals["bundle"], goroutines*each)
	}
}

package offer

import (
	"fmt"
	"testing"
)

func benchOffers(n int) []Offer {
	offers := make([]Offer, n)
	for i := range offers {
		offers[i] = Offer{ID: fmt.Sprintf("o%d", i), Priority: i}
		if i%3 == 1 {
			offers[i].Eligibility.Scenarios = []string{"gift_shopping", "browsing"}
		}
		if i%4 == 2 {
			offers[i].Eligibility.Categories = []string{"Home"}
		}
	}
	return offers
}

func BenchmarkChoose(b *testing.B) {
	for _, n := range []int{8, 32} {
		b.Run(fmt.Sprintf("offers=%d", n), func(b *testing.B) {
			p, err := NewPicker(benchOffers(n), Options{Now: fixedClock, MinImpressions: -1})
			if err != nil {
				b.Fatalf("NewPicker: %v", err)
			}
			c := giftContext("u")
			c.Categories = []string{"Home > Kitchen"}
			b.ReportAllocs()
			for b.Loop() {
				p.Choose(b.Context(), c)
			}
		})
	}
}

func BenchmarkReward(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		p, err := NewPicker(benchOffers(8), Options{Now: fixedClock})
		if err != nil {
			b.Fatalf("NewPicker: %v", err)
		}
		x := Features(giftContext("u"))
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Reward(b.Context(), "o3", x, 1); err != nil {
				b.Fatalf("Reward: %v", err)
			}
		}
	})
	b.Run("bbolt", func(b *testing.B) {
		state := openBoltStateTB(b, b.TempDir()+"/state.db")
		p, err := NewPicker(benchOffers(8), Options{Now: fixedClock, State: state, IsNotFound: isStateNotFound})
		if err != nil {
			b.Fatalf("NewPicker: %v", err)
		}
		x := Features(giftContext("u"))
		b.ReportAllocs()
		for b.Loop() {
			if err := p.Reward(b.Context(), "o3", x, 1); err != nil {
				b.Fatalf("Reward: %v", err)
			}
		}
	})
}

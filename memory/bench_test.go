package memory_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/memory/memtest"
)

// appendTurn stores one durable turn: a user message and its assistant reply.
func appendTurn(b *testing.B, s *memory.Store, userID string, i int) {
	ctx := b.Context()
	msg, _, err := s.AppendUserMessage(ctx, userID, fmt.Sprint("c", i), "do you have running shoes under 300 yuan 有没有三百元以内的跑鞋")
	if err != nil {
		b.Fatalf("append user message: %v", err)
	}
	turn := &memory.TurnRecord{TurnID: fmt.Sprint("t", i), InReplyTo: msg.Seq, ScenarioLabel: "browsing", Intent: "product_search", OfferID: "spring10"}
	_, err = s.AppendReply(ctx, userID, memory.RoleAssistant, "Here are three running shoes under 300 yuan. 这里有三双三百元以内的跑鞋。", turn)
	if err != nil {
		b.Fatalf("append reply: %v", err)
	}
}

// BenchmarkAppendTurn measures durable turns (user message and reply, each
// committed and synced). turns/s is the figure to compare.
func BenchmarkAppendTurn(b *testing.B) {
	b.Run("sequential", func(b *testing.B) {
		s := memtest.Open(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			appendTurn(b, s, "u1", i)
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
	})
	for _, goroutines := range []int{16, 64} {
		b.Run(fmt.Sprintf("parallel/goroutines=%d", goroutines), func(b *testing.B) {
			s := memtest.Open(b)
			var users atomic.Int64
			b.ReportAllocs()
			// RunParallel starts parallelism*GOMAXPROCS goroutines.
			b.SetParallelism(max(1, goroutines/runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				userID := fmt.Sprint("user", users.Add(1))
				i := 0
				for pb.Next() {
					appendTurn(b, s, userID, i)
					i++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
		})
	}
}

package web

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/concierge-chat/concierge/bot"
)

// metrics holds the server's Prometheus collectors. Each Server has its own
// registry, so tests can run servers side by side.
type metrics struct {
	registry    *prometheus.Registry
	connections prometheus.Gauge
	connsTotal  prometheus.Counter
	turns       *prometheus.CounterVec
	turnSeconds prometheus.Histogram
	firstToken  prometheus.Histogram
	llmCalls    *prometheus.CounterVec
	fallbacks   *prometheus.CounterVec
	stage       *prometheus.HistogramVec
	offers      *prometheus.CounterVec
	events      *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
}

func newMetrics() *metrics {
	latency := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &metrics{
		registry: prometheus.NewRegistry(),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "concierge_connections", Help: "Open WebSocket connections."}),
		connsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "concierge_connections_total", Help: "WebSocket connections accepted."}),
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concierge_turns_total", Help: "Turns by outcome: answered, fallback, duplicate, handed_over, abandoned, failed."},
			[]string{"outcome"}),
		turnSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "concierge_turn_duration_seconds", Help: "Time from a message to its stored reply.", Buckets: latency}),
		firstToken: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "concierge_turn_first_token_seconds", Help: "Time from a message to the first reply chunk.", Buckets: latency}),
		llmCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concierge_llm_replies_total", Help: "Replies by the provider that wrote them (offline included)."},
			[]string{"provider"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concierge_llm_fallbacks_total", Help: "Turns the offline responder answered after a provider failure, by reason."},
			[]string{"reason"}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "concierge_stage_duration_seconds", Help: "Time spent in a turn stage: detect, retrieval, store.", Buckets: latency},
			[]string{"stage"}),
		offers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concierge_offer_impressions_total", Help: "Offers shown, by offer id."}, []string{"offer"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concierge_events_total", Help: "Client events stored, by name (offer_click counts offer clicks)."},
			[]string{"name"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concierge_frames_rejected_total", Help: "Client frames rejected, by error code."}, []string{"code"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "concierge_rate_limited_total", Help: "Requests rejected by a rate or connection limit, by scope."},
			[]string{"scope"}),
	}
	m.registry.MustRegister(m.connections, m.connsTotal, m.turns, m.turnSeconds, m.firstToken,
		m.llmCalls, m.fallbacks, m.stage, m.offers, m.events, m.rejected, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observeTurn(r bot.Reply) {
	st := r.Stats
	m.turns.WithLabelValues(st.Outcome).Inc()
	if st.Outcome != "answered" && st.Outcome != "fallback" {
		return
	}
	m.turnSeconds.Observe(st.Total.Seconds())
	m.firstToken.Observe(st.FirstToken.Seconds())
	m.llmCalls.WithLabelValues(st.Provider).Inc()
	if st.FallbackReason != "" {
		m.fallbacks.WithLabelValues(st.FallbackReason).Inc()
	}
	m.stage.WithLabelValues("detect").Observe(st.Detect.Seconds())
	m.stage.WithLabelValues("retrieval").Observe(st.Retrieval.Seconds())
	m.stage.WithLabelValues("store").Observe(st.Store.Seconds())
	if r.Offer != nil {
		m.offers.WithLabelValues(r.Offer.ID).Inc()
	}
}

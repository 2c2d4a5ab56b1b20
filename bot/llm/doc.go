// Package llm streams chat replies from a language model, or writes them
// without one.
//
// New builds a Provider for an OpenAI-compatible server or for Ollama, both
// through langchaingo (checked against v0.1.14). Provider.Stream forwards
// each chunk to a callback as it arrives and returns the whole reply with
// token counts: as the provider reported them, else estimated by
// EstimateTokens. langchaingo's own token counter is never called, because
// it downloads tiktoken files at run time.
//
// Every failure is mapped to one of the sentinels ErrUnavailable,
// ErrRateLimited, ErrTimeout, ErrStreamCut and ErrEmptyReply, and Classify
// turns an error into a short reason for records and metrics. A call is
// bounded by Config.Timeout, including the stream and any retries, and is
// retried only before the first chunk was delivered. Canceling the context
// stops the upstream HTTP request.
//
// Offline and Compose write a short rule-based reply in English or Chinese
// from the same facts a prompt carries (products, offer, festival, emotion,
// intent), for when no model is configured or the model fails.
//
// Providers and Offline are safe for concurrent use. Stream calls its
// callback on the calling goroutine, one chunk at a time; the callback may
// block, which holds back the stream.
package llm

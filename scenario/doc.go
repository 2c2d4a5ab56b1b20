// Package scenario computes the situation of a chat turn: the shopper's
// local time, season and upcoming shopping festival, their place, device
// and page, the intent and emotion of the message, and a scenario label
// with readable reasons. It also groups users into segments with K-Means.
//
// Intent and emotion come from multinomial logistic regression over hashed
// word and character n-grams (CJK-aware) weighted by sublinear tf-idf,
// trained at start from labelled examples in Chinese and English with
// class-balanced, tail-averaged SGD. Its softmax probability is the
// confidence. For intents, a probability threshold, tuned by
// cross-validation when out-of-scope examples exist, rejects messages the
// model does not cover. An emotion below emotionThreshold is reported as
// neutral.
//
// The package does no I/O apart from reading the io.Reader values given to
// ReadExamples and EvalSegment. Detector and a trained Classifier are safe
// for concurrent use. It imports no other Concierge package.
package scenario

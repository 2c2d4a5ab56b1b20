// Package scenario computes the situation of a chat turn: the shopper's
// local time, season and upcoming shopping festival, their place, device
// and page, the intent and emotion of the message, and a scenario label
// with readable reasons. It also groups users into segments with K-Means.
//
// Intent and emotion come from multinomial logistic regression over hashed
// word and character n-grams (CJK-aware), trained at start from labelled
// examples in Chinese and English. Its softmax probability is the
// confidence, and a probability threshold, tuned by cross-validation when
// out-of-scope examples exist, rejects messages the model does not cover.
//
// The package does no I/O apart from reading the io.Reader values given to
// ReadExamples and EvalSegment. Detector and a trained Classifier are safe
// for concurrent use. It imports no other Concierge package.
package scenario

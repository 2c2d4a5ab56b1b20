package scenario

import (
	"os"
	"sync"
	"testing"
)

// readTrainingFile reads a shipped training file from configs/training.
func readTrainingFile(t testing.TB, name string) []Example {
	t.Helper()
	f, err := os.Open("../configs/training/" + name)
	if err != nil {
		t.Fatalf("open training file: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	examples, err := ReadExamples(f, "jsonl", "", "")
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return examples
}

var (
	sharedDetectorOnce sync.Once
	sharedDetector     *Detector
	sharedDetectorErr  error
)

// newTestDetector returns a Detector trained on the shipped examples,
// trained once per test binary because every test reads it the same way.
func newTestDetector(t testing.TB) *Detector {
	t.Helper()
	sharedDetectorOnce.Do(func() {
		intent := readTrainingFile(t, "intent.jsonl")
		emotion := readTrainingFile(t, "emotion.jsonl")
		sharedDetector, sharedDetectorErr = NewDetector(Options{IntentExamples: intent, EmotionExamples: emotion})
	})
	if sharedDetectorErr != nil {
		t.Fatalf("NewDetector: %v", sharedDetectorErr)
	}
	return sharedDetector
}

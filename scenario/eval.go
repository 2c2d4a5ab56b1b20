package scenario

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// ClassifyReport contains the scores of a classifier on a test set.
type ClassifyReport struct {
	// Accuracy is the share of test examples predicted correctly. When the
	// test set has OOS examples it counts only examples whose true label is
	// in scope, as Larson et al. (2019) report for CLINC150.
	Accuracy float64
	// MacroF1 is the unweighted mean F1 over the true labels of the test
	// set, OOS included.
	MacroF1 float64
	// OOSRecall is the share of true OOS examples predicted OOS. It is
	// meaningful only when HasOOS is true.
	OOSRecall float64
	HasOOS    bool
	// N is the number of test examples.
	N int
	// Threshold is the OOS probability threshold the classifier used.
	Threshold float64
	// TrainTime is the wall time of TrainClassifier, threshold tuning
	// included.
	TrainTime time.Duration
	PerLabel  []LabelScore
}

// LabelScore contains one label's precision, recall and F1 on a test set.
type LabelScore struct {
	Label     string
	Precision float64
	Recall    float64
	F1        float64
	Support   int // true examples with this label
}

// EvalClassify trains a classifier on train, predicts test and writes one
// line per label followed by a summary line
// "accuracy=A macro_f1=F", with " oos_recall=R" appended when the test set
// contains the OOS label.
func EvalClassify(train, test []Example, opts ClassifierOptions, out io.Writer) (ClassifyReport, error) {
	opts = opts.withDefaults()
	if len(test) == 0 {
		return ClassifyReport{}, fmt.Errorf("eval classify: empty test set: %w", ErrNoExamples)
	}
	start := time.Now()
	c, err := TrainClassifier(train, opts)
	if err != nil {
		return ClassifyReport{}, fmt.Errorf("eval classify: %w", err)
	}
	rep := ClassifyReport{N: len(test), Threshold: c.Threshold(), TrainTime: time.Since(start)}

	predicted := make([]string, len(test))
	for i, ex := range test {
		predicted[i] = c.Predict(ex.Text).Label
	}
	rep.Accuracy, rep.OOSRecall, rep.HasOOS = accuracyAndOOSRecall(test, predicted, opts.OOSLabel)
	rep.PerLabel = labelScores(test, predicted)
	for _, s := range rep.PerLabel {
		rep.MacroF1 += s.F1
	}
	rep.MacroF1 /= float64(len(rep.PerLabel))

	fmt.Fprintf(out, "train=%d test=%d labels=%d threshold=%.2f train_time=%s\n",
		len(train), len(test), len(c.Labels()), rep.Threshold, rep.TrainTime.Round(time.Millisecond))
	for _, s := range rep.PerLabel {
		fmt.Fprintf(out, "%-28s precision=%.3f recall=%.3f f1=%.3f support=%d\n",
			s.Label, s.Precision, s.Recall, s.F1, s.Support)
	}
	fmt.Fprintf(out, "accuracy=%.4f macro_f1=%.4f", rep.Accuracy, rep.MacroF1)
	if rep.HasOOS {
		fmt.Fprintf(out, " oos_recall=%.4f", rep.OOSRecall)
	}
	fmt.Fprintln(out)
	return rep, nil
}

// accuracyAndOOSRecall scores predictions against test. Accuracy excludes
// true OOS examples when there are any.
func accuracyAndOOSRecall(test []Example, predicted []string, oosLabel string) (accuracy, oosRecall float64, hasOOS bool) {
	var inCorrect, inTotal, oosCaught, oosTotal int
	for i, ex := range test {
		if ex.Label == oosLabel {
			oosTotal++
			if predicted[i] == oosLabel {
				oosCaught++
			}
			continue
		}
		inTotal++
		if predicted[i] == ex.Label {
			inCorrect++
		}
	}
	if inTotal > 0 {
		accuracy = float64(inCorrect) / float64(inTotal)
	}
	if oosTotal > 0 {
		oosRecall = float64(oosCaught) / float64(oosTotal)
	}
	return accuracy, oosRecall, oosTotal > 0
}

// labelScores returns precision, recall and F1 for every true label of
// test, sorted by label.
func labelScores(test []Example, predicted []string) []LabelScore {
	truePos := make(map[string]int)
	support := make(map[string]int)
	predCount := make(map[string]int)
	for i, ex := range test {
		support[ex.Label]++
		predCount[predicted[i]]++
		if predicted[i] == ex.Label {
			truePos[ex.Label]++
		}
	}
	scores := make([]LabelScore, 0, len(support))
	for label, n := range support {
		s := LabelScore{Label: label, Support: n}
		if p := predCount[label]; p > 0 {
			s.Precision = float64(truePos[label]) / float64(p)
		}
		s.Recall = float64(truePos[label]) / float64(n)
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		scores = append(scores, s)
	}
	slices.SortFunc(scores, func(a, b LabelScore) int {
		if a.Label < b.Label {
			return -1
		}
		if a.Label > b.Label {
			return 1
		}
		return 0
	})
	return scores
}

package main

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/retrieval"
	"github.com/concierge-chat/concierge/scenario"
)

const evalUsage = `usage:
  concierge eval retrieval -products FILE -queries FILE -judgments FILE
  concierge eval classify -train FILE [-test FILE | -holdout 0.2] [-text-col C] [-label-col C]
  concierge eval segment -transactions FILE [-k N]
  concierge eval bandit-sim [-rounds N] [-seed S]
  concierge eval offers -logs FILE -items FILE [-train-fraction F]`

func evalCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, evalUsage)
		return errUsage
	}
	switch args[0] {
	case "retrieval":
		return evalRetrieval(ctx, args[1:], stdout, stderr)
	case "classify":
		return evalClassify(args[1:], stdout, stderr)
	case "segment":
		return evalSegment(args[1:], stdout, stderr)
	case "bandit-sim":
		return evalBanditSim(args[1:], stdout, stderr)
	case "offers":
		return evalOffers(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "concierge eval: unknown evaluation %q\n%s\n", args[0], evalUsage)
		return errUsage
	}
}

func evalRetrieval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval retrieval", stderr)
	products := fs.String("products", "", "products CSV `file` (product_uid, product_title)")
	queries := fs.String("queries", "", "queries CSV `file` (query_id, query)")
	judgments := fs.String("judgments", "", "judgments CSV `file` (query_id, product_uid, relevance)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *products == "" || *queries == "" || *judgments == "" {
		fmt.Fprintln(stderr, "concierge eval retrieval: -products, -queries and -judgments are required")
		return errUsage
	}
	files, err := openAll(*products, *queries, *judgments)
	if err != nil {
		return err
	}
	defer closeAll(files)
	_, err = retrieval.EvalRetrieval(ctx, files[0], files[1], files[2], stdout)
	return err
}

func evalClassify(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval classify", stderr)
	train := fs.String("train", "", "labelled training `file`: JSON Lines, CSV, TSV, or a JSON object of [text, label] lists")
	test := fs.String("test", "", "labelled test `file`, in the same formats")
	holdout := fs.Float64("holdout", 0, "without -test: the `share` of -train held out for testing, chosen by a hash of the text")
	textCol := fs.String("text-col", "text", "text `column` or key; a number picks a column of a file without header")
	labelCol := fs.String("label-col", "label", "label `column` or key; a number picks a column of a file without header")
	trainKeys := fs.String("train-keys", "train,oos_train", "for a JSON object file: the `keys` to train on")
	testKeys := fs.String("test-keys", "val,oos_val", "for a JSON object file: the `keys` to test on")
	labelNames := fs.String("label-names", "", "`file` of label names, one a line, for numeric labels (line 0 is label 0)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *train == "" || (*test == "" && (*holdout <= 0 || *holdout >= 1)) {
		fmt.Fprintln(stderr, "concierge eval classify: -train and either -test or -holdout between 0 and 1 are required")
		return errUsage
	}
	src := exampleSource{textCol: *textCol, labelCol: *labelCol, labelNames: *labelNames}
	trainSet, err := src.read(*train, splitKeys(*trainKeys))
	if err != nil {
		return err
	}
	var testSet []scenario.Example
	if *test != "" {
		if testSet, err = src.read(*test, splitKeys(*testKeys)); err != nil {
			return err
		}
	} else {
		trainSet, testSet = hashSplit(trainSet, *holdout)
	}
	fmt.Fprintf(stdout, "train=%d test=%d\n", len(trainSet), len(testSet))
	_, err = scenario.EvalClassify(trainSet, testSet, scenario.ClassifierOptions{}, stdout)
	return err
}

func splitKeys(s string) []string {
	var out []string
	for k := range strings.SplitSeq(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// hashSplit holds out the examples whose text hashes into the first share
// of buckets, so the same text always lands on the same side. It hashes
// hex digits 8 to 16 of the MD5 of the text.
func hashSplit(all []scenario.Example, share float64) (train, test []scenario.Example) {
	for _, ex := range all {
		sum := md5.Sum([]byte(ex.Text))
		v, _ := strconv.ParseUint(hex.EncodeToString(sum[:])[8:16], 16, 64)
		if float64(v%1000) < share*1000 {
			test = append(test, ex)
		} else {
			train = append(train, ex)
		}
	}
	return train, test
}

// exampleSource reads labelled examples in the formats eval classify
// accepts.
type exampleSource struct {
	textCol, labelCol, labelNames string
}

func (s exampleSource) read(path string, jsonKeys []string) ([]scenario.Example, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read examples: %w", err)
	}
	trimmed := strings.TrimSpace(string(data))
	ext := strings.ToLower(filepath.Ext(path))
	var examples []scenario.Example
	switch {
	case ext == ".json" && strings.HasPrefix(trimmed, "{"):
		examples, err = readKeyedJSON(data, jsonKeys)
	case isNumber(s.textCol) && isNumber(s.labelCol):
		examples, err = s.readColumns(data, ext)
	case ext == ".csv":
		examples, err = scenario.ReadExamples(strings.NewReader(string(data)), "csv", s.textCol, s.labelCol)
	case ext == ".tsv":
		examples, err = scenario.ReadExamples(strings.NewReader(string(data)), "tsv", s.textCol, s.labelCol)
	default:
		examples, err = scenario.ReadExamples(strings.NewReader(string(data)), "jsonl", s.textCol, s.labelCol)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return examples, nil
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// readKeyedJSON reads a JSON object whose keys hold lists of [text, label]
// pairs, the layout of the CLINC150 release.
func readKeyedJSON(data []byte, keys []string) ([]scenario.Example, error) {
	var obj map[string][][2]string
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("want a JSON object of [text, label] lists: %w", err)
	}
	var out []scenario.Example
	for _, k := range keys {
		pairs, ok := obj[k]
		if !ok {
			return nil, fmt.Errorf("key %q not found; pick keys with -train-keys and -test-keys", k)
		}
		for _, p := range pairs {
			out = append(out, scenario.Example{Text: p[0], Label: p[1]})
		}
	}
	return out, nil
}

// readColumns reads a delimited file without header, taking text and label
// from numbered columns. Rows with several labels (comma-separated) are
// skipped, so a multi-label set is evaluated on its single-label rows.
func (s exampleSource) readColumns(data []byte, ext string) ([]scenario.Example, error) {
	sep := "\t"
	if ext == ".csv" {
		sep = ","
	}
	ti, _ := strconv.Atoi(s.textCol)
	li, _ := strconv.Atoi(s.labelCol)
	var names []string
	if s.labelNames != "" {
		raw, err := os.ReadFile(s.labelNames)
		if err != nil {
			return nil, fmt.Errorf("read label names: %w", err)
		}
		names = strings.Fields(string(raw))
	}
	var out []scenario.Example
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), sep)
		if ti >= len(cols) || li >= len(cols) {
			return nil, fmt.Errorf("line %d has %d columns; -text-col %d and -label-col %d need more", line, len(cols), ti, li)
		}
		label := cols[li]
		if strings.Contains(label, ",") || label == "" {
			continue
		}
		if names != nil {
			n, err := strconv.Atoi(label)
			if err != nil || n < 0 || n >= len(names) {
				return nil, fmt.Errorf("line %d: label %q is not a line number of -label-names", line, label)
			}
			label = names[n]
		}
		out = append(out, scenario.Example{Text: cols[ti], Label: label})
	}
	return out, sc.Err()
}

func evalSegment(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval segment", stderr)
	path := fs.String("transactions", "", "transaction log `file`: UCI Online Retail or CDNOW CSV")
	k := fs.Int("k", 4, "number of segments")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *path == "" {
		fmt.Fprintln(stderr, "concierge eval segment: -transactions is required")
		return errUsage
	}
	f, err := os.Open(*path)
	if err != nil {
		return fmt.Errorf("open transactions: %w", err)
	}
	defer f.Close()
	_, err = scenario.EvalSegment(f, *k, stdout)
	return err
}

func evalBanditSim(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval bandit-sim", stderr)
	rounds := fs.Int("rounds", 20000, "impressions per policy")
	seed := fs.Uint64("seed", 1, "random seed")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	_, err := offer.Simulate(offer.SimConfig{Rounds: *rounds, Seed: *seed}, stdout)
	return err
}

func evalOffers(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval offers", stderr)
	logs := fs.String("logs", "", "logged bandit feedback CSV `file` (Open Bandit Dataset layout)")
	items := fs.String("items", "", "item context CSV `file`")
	trainFraction := fs.Float64("train-fraction", 0.7, "leading `share` of the log used to train the policy")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *logs == "" || *items == "" {
		fmt.Fprintln(stderr, "concierge eval offers: -logs and -items are required")
		return errUsage
	}
	files, err := openAll(*logs, *items)
	if err != nil {
		return err
	}
	defer closeAll(files)
	_, err = offer.EvalOffers(files[0], files[1], stdout, offer.OPEOptions{TrainFraction: *trainFraction})
	return err
}

func openAll(paths ...string) ([]*os.File, error) {
	var files []*os.File
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			closeAll(files)
			return nil, fmt.Errorf("open %s: %w", p, err)
		}
		files = append(files, f)
	}
	return files, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

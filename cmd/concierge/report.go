package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/concierge-chat/concierge/bot"
	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
)

// reportCommand prints the experiment report of a stopped server's data
// directory.
func reportCommand(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "experiments" {
		fmt.Fprintln(stderr, "usage: concierge report experiments -data DIR [-config FILE] [-since 720h] [-epsilon E] [-json]")
		return errUsage
	}
	fs := newFlagSet("report experiments", stderr)
	dataDir := fs.String("data", "./data", "data `directory` of a stopped server")
	configFile := fs.String("config", "", "YAML config `file` naming the experiments and the attribution window")
	since := fs.Duration("since", 0, "only users seen within this `duration`, such as 720h; 0 means all")
	epsilon := fs.Float64("epsilon", 0, "add Laplace noise with this `epsilon` to published counts (differential privacy); 0 reports exact counts")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	cfg, _, err := configs.Load(*configFile, env)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	exps, err := loadExperiments(cfg.Offers.ExperimentsFile)
	if err != nil {
		return err
	}
	store, err := memory.Open(filepath.Join(*dataDir, storeFile), memory.Options{LockTimeout: 200 * time.Millisecond})
	if err != nil {
		return fmt.Errorf("open store in %s (is the server running? use GET /api/admin/reports/experiments instead): %w", *dataDir, err)
	}
	defer store.Close()
	opts := bot.ReportOptions{AttributionWindow: cfg.Offers.AttributionWindow, Epsilon: *epsilon,
		Seed: uint64(time.Now().UnixNano())}
	if len(exps) > 0 {
		opts.Experiment = &exps[0]
	}
	if *since > 0 {
		opts.Since = time.Now().Add(-*since)
	}
	report, err := bot.ExperimentReport(ctx, store, opts)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(report)
	}
	return report.WriteText(stdout)
}

// experimentReports serves the experiment report to the staff console from
// the running server's store.
type experimentReports struct {
	store      *memory.Store
	experiment *offer.Experiment
	window     time.Duration
}

func (r experimentReports) ExperimentReport(ctx context.Context, epsilon float64) (any, error) {
	return bot.ExperimentReport(ctx, r.store, bot.ReportOptions{Experiment: r.experiment,
		AttributionWindow: r.window, Epsilon: epsilon, Seed: uint64(time.Now().UnixNano())})
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/concierge-chat/concierge/bot/offer"
	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
)

// newOffers loads the offers and experiments, builds the bandit picker over
// the store, and reloads the offers file when it changes.
func newOffers(ctx context.Context, cfg configs.Config, store *memory.Store, log *slog.Logger) (*offer.Picker, *offer.Experiment, error) {
	offers, err := loadOffers(cfg.Offers.File)
	if err != nil {
		return nil, nil, err
	}
	picker, err := offer.NewPicker(offers, offer.Options{
		Alpha: cfg.Offers.Exploration, MinImpressions: cfg.Offers.MinImpressions, State: store,
		IsNotFound: func(err error) bool { return errors.Is(err, memory.ErrNotFound) },
		Logger:     log.With("component", "offer"),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("offers: %w", err)
	}
	exps, err := loadExperiments(cfg.Offers.ExperimentsFile)
	if err != nil {
		return nil, nil, err
	}
	var exp *offer.Experiment
	if len(exps) > 0 {
		exp = &exps[0]
	}
	if cfg.Offers.File != "" && cfg.Offers.ReloadInterval > 0 {
		go watchOffers(ctx, cfg.Offers.File, cfg.Offers.ReloadInterval, picker, log)
	}
	return picker, exp, nil
}

func loadOffers(path string) ([]offer.Offer, error) {
	data := configs.File("offers.yaml")
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("offers.file: %w", err)
		}
	}
	offers, err := offer.ParseOffers(data)
	if err != nil {
		return nil, fmt.Errorf("offers %s: %w", orEmbedded(path), err)
	}
	return offers, nil
}

func loadExperiments(path string) ([]offer.Experiment, error) {
	data := configs.File("experiments.yaml")
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("offers.experiments_file: %w", err)
		}
	}
	exps, err := offer.ParseExperiments(data)
	if err != nil {
		return nil, fmt.Errorf("experiments %s: %w", orEmbedded(path), err)
	}
	return exps, nil
}

func orEmbedded(path string) string {
	if path == "" {
		return "(embedded)"
	}
	return path
}

// watchOffers reloads the offers file when its modification time changes.
// A file that fails to parse is logged and the previous offers stay.
func watchOffers(ctx context.Context, path string, every time.Duration, p *offer.Picker, log *slog.Logger) {
	var last time.Time
	if fi, err := os.Stat(path); err == nil {
		last = fi.ModTime()
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fi, err := os.Stat(path)
		if err != nil || !fi.ModTime().After(last) {
			continue
		}
		last = fi.ModTime()
		offers, err := loadOffers(path)
		if err != nil {
			log.Error("reload offers failed; keeping the previous offers", "path", path, "error", err)
			continue
		}
		p.SetOffers(offers)
		log.Info("offers reloaded", "path", path, "offers", len(offers))
	}
}

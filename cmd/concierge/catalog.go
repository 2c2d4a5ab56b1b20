package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/concierge-chat/concierge/configs"
	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/retrieval"
)

func catalogCommand(ctx context.Context, args, env []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(stderr, "usage: concierge catalog import -data DIR [-format F] [-map M] [-prune] [-drafts] FILE...")
		return errUsage
	}
	fs := newFlagSet("catalog import", stderr)
	dataDir := fs.String("data", "./data", "data `directory` of a stopped server")
	format := fs.String("format", "", "input `format`: shopify, jsonl, csv, tsv, gmc-tsv or gmc-xml (default: detect)")
	mapping := fs.String("map", "", "column `mapping` for csv, tsv and jsonl, such as id=product_id,title=product_name,price=discounted_price")
	prune := fs.Bool("prune", false, "remove products that are not in the given files")
	drafts := fs.Bool("drafts", false, "keep Shopify products that are drafts or unpublished")
	currency := fs.String("currency", "USD", "ISO 4217 `code` for prices that name no currency")
	configFile := fs.String("config", "", "the server's YAML config `file`, for its embedder settings")
	// Flags may come before or after the file names.
	var files []string
	for rest := args[1:]; ; {
		if err := fs.Parse(rest); err != nil {
			return errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "concierge catalog import: name at least one catalog file")
		return errUsage
	}
	opts := retrieval.ImportOptions{Format: retrieval.Format(*format), IncludeDrafts: *drafts,
		DefaultCurrency: *currency}
	if *mapping != "" {
		m, err := retrieval.ParseMapping(*mapping)
		if err != nil {
			return fmt.Errorf("-map: %w", err)
		}
		opts.Mapping = m
	}

	// The server holds the store's file lock while it runs; taking it here
	// keeps two processes from writing the index at once.
	if _, err := os.Stat(*dataDir); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stdout, "data directory %s does not exist; creating it\n", *dataDir)
	}
	if err := os.MkdirAll(*dataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	lock, err := memory.Open(filepath.Join(*dataDir, storeFile), memory.Options{LockTimeout: 200 * time.Millisecond})
	if err != nil {
		return fmt.Errorf("data directory %s is in use (is the server running? stop it first): %w", *dataDir, err)
	}
	defer lock.Close()

	cfg, _, err := configs.Load(*configFile, env)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	emb, err := newEmbedder(cfg)
	if err != nil {
		return err
	}

	var all []retrieval.Product
	bad := 0
	for _, name := range files {
		res, err := importFile(name, opts)
		if err != nil {
			return err
		}
		for _, re := range res.Errors {
			fmt.Fprintf(stderr, "%s: %v (row skipped)\n", name, re)
		}
		bad += len(res.Errors)
		fmt.Fprintf(stdout, "%s: %d products read as %s, %d rows skipped\n", name, len(res.Products), res.Format, len(res.Errors))
		all = append(all, res.Products...)
	}
	return writeCatalog(ctx, filepath.Join(*dataDir, indexDir), retrieval.Options{Embedder: emb}, all, *prune, bad, stdout)
}

func importFile(name string, opts retrieval.ImportOptions) (retrieval.ImportResult, error) {
	f, err := os.Open(name)
	if err != nil {
		return retrieval.ImportResult{}, fmt.Errorf("open catalog file: %w", err)
	}
	defer f.Close()
	res, err := retrieval.Import(f, filepath.Base(name), opts)
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

func writeCatalog(ctx context.Context, dir string, opts retrieval.Options, products []retrieval.Product, prune bool, bad int, stdout io.Writer) error {
	ix, err := retrieval.Open(ctx, dir, opts)
	if err != nil {
		return fmt.Errorf("open catalog index: %w", err)
	}
	before := ix.Len()
	if prune {
		err = ix.Replace(ctx, products)
	} else {
		err = ix.Upsert(ctx, products)
	}
	after := ix.Len()
	if err = errors.Join(err, ix.Close()); err != nil {
		return fmt.Errorf("write catalog index: %w", err)
	}
	fmt.Fprintf(stdout, "catalog: %d products before, %d after (%d imported, %d rows skipped)\n",
		before, after, len(products), bad)
	return nil
}

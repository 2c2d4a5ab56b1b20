package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/concierge-chat/concierge/retrieval"
	"github.com/concierge-chat/concierge/web/protocol"
	"github.com/concierge-chat/concierge/web/wstest"
)

// runCLI calls run with args and an empty environment and returns its
// error, stdout and stderr.
func runCLI(t *testing.T, args ...string) (error, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, nil, &stdout, &stderr)
	return err, stdout.String(), stderr.String()
}

func TestRunVersion(t *testing.T) {
	err, out, _ := runCLI(t, "version")
	if err != nil {
		t.Fatalf("run version: %v", err)
	}
	if !regexp.MustCompile(`^concierge \S+ \(go1\.[0-9.]+.*\)\n$`).MatchString(out) {
		t.Errorf("version output = %q, want \"concierge VERSION (goX.Y)\"", out)
	}
}

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{name: "no_command", args: nil, stderr: "Usage:"},
		{name: "unknown_command", args: []string{"frobnicate"}, stderr: `unknown command "frobnicate"`},
		{name: "catalog_without_import", args: []string{"catalog"}, stderr: "usage: concierge catalog import"},
		{name: "catalog_import_without_files", args: []string{"catalog", "import", "-data", "DIR"},
			stderr: "name at least one catalog file"},
		{name: "catalog_import_unknown_flag", args: []string{"catalog", "import", "-bogus"},
			stderr: "flag provided but not defined"},
		{name: "serve_unknown_flag", args: []string{"serve", "-bogus"}, stderr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			for i, a := range args {
				if a == "DIR" {
					args[i] = t.TempDir()
				}
			}
			err, _, stderr := runCLI(t, args...)
			if !errors.Is(err, errUsage) {
				t.Errorf("run(%q) = %v, want errUsage", args, err)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.stderr)
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	err, out, _ := runCLI(t, "help")
	if err != nil || !strings.Contains(out, "concierge serve") {
		t.Errorf("run help = %v with output %q, want the usage on stdout", err, out)
	}
}

// shopifyCSV has two products with variants, HTML descriptions, a row with
// no title on a new handle (line 5) and a draft.
const shopifyCSV = `Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,Variant SKU,Variant Inventory Qty,Variant Price,Variant Compare At Price,Image Src,Status
rain-boot,Rain Boot,"<p>Fully <strong>waterproof</strong> rubber boot.</p><script>alert(1)</script>",Puddle,Shoes,Boots,"rain, boots",TRUE,Color,Black,RB-1,3,79.00,99.00,https://example.com/rb.jpg,active
rain-boot,,,,,,,,,Yellow,RB-2,0,79.00,99.00,,
wool-scarf,Wool Scarf,<em>Soft</em> merino &amp; warm,Northloom,Apparel,Scarves,winter,TRUE,Color,Red,WS-1,5,39.00,,,active
broken,,<p>No title here</p>,Acme,,,,TRUE,Title,Default Title,B-1,1,10,,,active
draft-hat,Draft Hat,<p>Not ready.</p>,Acme,,Hats,,FALSE,Title,Default Title,H-1,1,20,,,draft
`

const extraJSONL = `{"id":"tea-set","title":"Celadon Tea Set","description":"Porcelain tea set.","category":"Home > Tea","price":168,"currency":"CNY","in_stock":true}
`

func TestCatalogImport(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	csvPath := filepath.Join(dir, "products_export.csv")
	jsonlPath := filepath.Join(dir, "extra.jsonl")
	if err := os.WriteFile(csvPath, []byte(shopifyCSV), 0o600); err != nil {
		t.Fatalf("write CSV: %v", err)
	}
	if err := os.WriteFile(jsonlPath, []byte(extraJSONL), 0o600); err != nil {
		t.Fatalf("write JSON Lines: %v", err)
	}

	err, out, stderr := runCLI(t, "catalog", "import", "-data", data, csvPath)
	if err != nil {
		t.Fatalf("import Shopify CSV: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "line 5") || !strings.Contains(stderr, "row skipped") {
		t.Errorf("stderr = %q, want the bad row reported with line 5", stderr)
	}
	if !strings.Contains(out, "2 products read as shopify, 1 rows skipped") {
		t.Errorf("stdout = %q, want 2 products read as shopify and 1 row skipped", out)
	}
	if !strings.Contains(out, "0 products before, 2 after") {
		t.Errorf("stdout = %q, want 0 before and 2 after", out)
	}

	err, out, stderr = runCLI(t, "catalog", "import", "-data", data, jsonlPath)
	if err != nil {
		t.Fatalf("import JSON Lines: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "2 products before, 3 after") {
		t.Errorf("stdout = %q, want the earlier products kept: 2 before, 3 after", out)
	}

	ix, err := retrieval.Open(context.Background(), filepath.Join(data, indexDir), retrieval.Options{})
	if err != nil {
		t.Fatalf("open imported index: %v", err)
	}
	defer ix.Close()
	if ix.Len() != 3 {
		t.Fatalf("index holds %d products, want 3", ix.Len())
	}
	boot, ok := ix.Get("rain-boot")
	if !ok {
		t.Fatal("rain-boot is missing from the index")
	}
	if boot.Description != "Fully waterproof rubber boot." {
		t.Errorf("description = %q, want the HTML stripped", boot.Description)
	}
	if boot.Color != "Black, Yellow" {
		t.Errorf("color = %q, want both variants grouped: Black, Yellow", boot.Color)
	}
	if boot.Price != 79 || boot.CompareAtPrice != 99 || !boot.InStock {
		t.Errorf("rain-boot price %v was %v in stock %v, want 79, 99, true", boot.Price, boot.CompareAtPrice, boot.InStock)
	}
	if scarf, _ := ix.Get("wool-scarf"); scarf.Description != "Soft merino & warm" {
		t.Errorf("scarf description = %q, want entities decoded", scarf.Description)
	}
	for _, id := range []string{"broken", "draft-hat"} {
		if _, ok := ix.Get(id); ok {
			t.Errorf("%s was imported, want it skipped", id)
		}
	}
	if _, ok := ix.Get("tea-set"); !ok {
		t.Error("tea-set from the JSON Lines file is missing")
	}
}

func TestCatalogImportMissingFile(t *testing.T) {
	err, _, _ := runCLI(t, "catalog", "import", "-data", t.TempDir(), filepath.Join(t.TempDir(), "nope.csv"))
	if err == nil || errors.Is(err, errUsage) {
		t.Errorf("import of a missing file = %v, want an open error", err)
	}
}

func pickFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestServeAnswersAndShutsDown starts serve through run on a free loopback
// port, waits for the catalog, chats once over WebSocket and cancels the
// context: run returns nil after a graceful shutdown.
func TestServeAnswersAndShutsDown(t *testing.T) {
	if testing.Short() {
		t.Skip("imports the demo catalog; skipped with -short")
	}
	addr := pickFreeAddr(t)
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		env := []string{"CONCIERGE_LOG_LEVEL=warn"}
		done <- run(ctx, []string{"serve", "-addr", addr, "-data", data}, env, &stdout, &stderr)
	}()

	base := "http://" + addr
	waitReady(t, base, done)
	c := wstest.Dial(t, base)
	c.Hello(t, protocol.Hello{Locale: "en-US"})
	r := c.Ask(t, "m-1", "a warm wool sweater")
	if r.End.Seq != 2 || r.End.Text == "" {
		t.Errorf("reply = seq %d text %q, want seq 2 with text", r.End.Seq, r.End.Text)
	}

	cancel()
	if code := c.ReadClose(t); code != 1001 {
		t.Errorf("close code at shutdown = %d, want 1001", code)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after cancel, want nil\nstderr:\n%s", err, &stderr)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return within 15 s of cancel")
	}
}

// waitReady polls /readyz until the server has loaded its catalog.
func waitReady(t *testing.T, base string, done <-chan error) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("serve exited before it was ready: %v", err)
		default:
		}
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server not ready within 30 s")
}

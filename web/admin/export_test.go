package admin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/concierge-chat/concierge/memory"
	"github.com/concierge-chat/concierge/web/admin"
)

func TestExportJSONL(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	seedShoppers(t, f)
	status, body := f.do(t, http.MethodGet, "/api/admin/export?format=jsonl&segment=loyal", "")
	if status != http.StatusOK {
		t.Fatalf("status %d, body %s", status, body)
	}
	var rows []struct {
		UserID string `json:"user_id"`
		Seq    uint64 `json:"seq"`
		Role   string `json:"role"`
		Text   string `json:"text"`
		Intent string `json:"intent"`
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var row struct {
			UserID string `json:"user_id"`
			Seq    uint64 `json:"seq"`
			Role   string `json:"role"`
			Text   string `json:"text"`
			Intent string `json:"intent"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		rows = append(rows, row)
	}
	if len(rows) != 4 {
		t.Fatalf("got %d rows, want 4 (two loyal users, two messages each)", len(rows))
	}
	if rows[0].UserID != "u_angry" || rows[0].Seq != 1 || rows[0].Role != memory.RoleUser {
		t.Errorf("first row = %+v, want the first message of u_angry", rows[0])
	}
	if rows[1].Intent != "human" {
		t.Errorf("second row intent = %q, want human", rows[1].Intent)
	}
	if rows[2].UserID != "u_boots" {
		t.Errorf("third row user = %q, want u_boots", rows[2].UserID)
	}
}

func TestExportCSVQuoting(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	tricky := "He said \"hi\", then\nleft; 价格=¥99"
	seed(t, f.store, turn{user: "u_csv", text: tricky, reply: "plain", label: "browsing", intent: "chitchat"})
	status, body := f.do(t, http.MethodGet, "/api/admin/export?format=csv", "")
	if status != http.StatusOK {
		t.Fatalf("status %d, body %s", status, body)
	}
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("export is not valid CSV: %v\n%s", err, body)
	}
	if len(records) != 3 {
		t.Fatalf("got %d records, want a header and 2 rows", len(records))
	}
	header := records[0]
	col := map[string]int{}
	for i, name := range header {
		col[name] = i
	}
	if got := records[1][col["text"]]; got != tricky {
		t.Errorf("text = %q, want %q", got, tricky)
	}
	if got := records[2][col["intent"]]; got != "chitchat" {
		t.Errorf("intent = %q, want chitchat", got)
	}
}

func TestExportPagesThroughEveryConversation(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	// More conversations than one export page lists.
	var turns []turn
	for i := range 130 {
		turns = append(turns, turn{user: "u" + strings.Repeat("x", i%3) + string(rune('A'+i%26)) + string(rune('a'+i/26)),
			text: "hello", reply: "hi", label: "browsing"})
	}
	seed(t, f.store, turns...)
	status, body := f.do(t, http.MethodGet, "/api/admin/export?format=jsonl", "")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if lines := bytes.Count(body, []byte("\n")); lines != 260 {
		t.Errorf("exported %d rows, want 260", lines)
	}
}

func TestExportRejectsBadFormat(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	status, body := f.do(t, http.MethodGet, "/api/admin/export?format=xlsx", "")
	if status != http.StatusBadRequest || !strings.Contains(string(body), "jsonl or csv") {
		t.Errorf("status %d, body %s; want 400 naming jsonl or csv", status, body)
	}
}

func TestEraseLeavesNoTraceInFiles(t *testing.T) {
	dir := t.TempDir()
	store, err := memory.Open(filepath.Join(dir, "memory.db"), memory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := newFixture(t, store, admin.Options{})

	secret := "zq-unique-marker-7f3a9c 独特标记"
	seed(t, store,
		turn{user: "u_keep", text: "keep this conversation", reply: "ok", label: "browsing"},
		turn{user: "u_gone", text: "my note " + secret, reply: "noted " + secret, label: "browsing"})
	ctx := context.Background()
	if err := store.AppendEvent(ctx, "u_gone", memory.Event{Type: "product_view", ProductID: "p-" + secret}); err != nil {
		t.Fatal(err)
	}
	if !dirContains(t, dir, secret) {
		t.Fatal("the marker is not in the data directory before erasure; the test cannot tell anything")
	}

	status, body := f.do(t, http.MethodDelete, "/api/admin/users/u_gone", "")
	if status != http.StatusOK {
		t.Fatalf("erase: status %d, body %s", status, body)
	}
	if dirContains(t, dir, secret) {
		t.Error("the erased user's text is still in a file under the data directory")
	}
	if dirContains(t, dir, "u_gone") {
		t.Error("the erased user's id is still in a file under the data directory")
	}
	if _, err := store.Profile(ctx, "u_gone"); !errors.Is(err, memory.ErrNotFound) {
		t.Errorf("profile after erase: err = %v, want ErrNotFound", err)
	}
	var list listBody
	f.getJSON(t, "/api/admin/conversations?q=marker", &list)
	if len(list.Conversations) != 0 {
		t.Errorf("text search still finds %v", list.users())
	}
	f.getJSON(t, "/api/admin/conversations", &list)
	if strings.Join(list.users(), ",") != "u_keep" {
		t.Errorf("conversations after erase = %v, want u_keep", list.users())
	}
}

// dirContains reports whether any file under dir contains s, in UTF-8 bytes.
func dirContains(t *testing.T, dir, s string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = found || bytes.Contains(data, []byte(s))
		return nil
	})
	if err != nil {
		t.Fatalf("read data directory: %v", err)
	}
	return found
}

// fakeCatalog records catalog uploads.
type fakeCatalog struct {
	req  admin.CatalogRequest
	body string
	err  error
}

func (c *fakeCatalog) ImportCatalog(ctx context.Context, r io.Reader, req admin.CatalogRequest) (admin.CatalogResult, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return admin.CatalogResult{}, err
	}
	c.req, c.body = req, string(data)
	if c.err != nil {
		return admin.CatalogResult{}, c.err
	}
	return admin.CatalogResult{Format: "jsonl", Imported: 1, Before: 3, After: 4}, nil
}

func TestCatalogUpload(t *testing.T) {
	cat := &fakeCatalog{}
	f := newFixture(t, nil, admin.Options{Catalog: cat})
	status, body := f.do(t, http.MethodPost, "/api/admin/catalog?format=jsonl&prune=true&name=new.jsonl", `{"id":"p1"}`)
	if status != http.StatusOK {
		t.Fatalf("status %d, body %s", status, body)
	}
	if cat.req != (admin.CatalogRequest{Name: "new.jsonl", Format: "jsonl", Prune: true}) {
		t.Errorf("request = %+v", cat.req)
	}
	if cat.body != `{"id":"p1"}` {
		t.Errorf("body = %q", cat.body)
	}
	if !strings.Contains(string(body), `"products_after":4`) {
		t.Errorf("response %s lacks products_after", body)
	}

	cat.err = errors.Join(admin.ErrCatalogInput, errors.New("unrecognized catalog format"))
	if status, body = f.do(t, http.MethodPost, "/api/admin/catalog", "garbage"); status != http.StatusBadRequest {
		t.Errorf("bad file: status %d, body %s; want 400", status, body)
	}
	if status, _ = f.do(t, http.MethodPost, "/api/admin/catalog?prune=sometimes", "x"); status != http.StatusBadRequest {
		t.Errorf("bad prune: status %d, want 400", status)
	}
}

func TestCatalogUploadUnavailable(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	if status, _ := f.do(t, http.MethodPost, "/api/admin/catalog", "x"); status != http.StatusNotImplemented {
		t.Errorf("status %d, want 501", status)
	}
}

package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadEmbeddedDefaults(t *testing.T) {
	cfg, sources, err := Load("", nil)
	if err != nil {
		t.Fatalf("Load embedded: %v", err)
	}
	if len(sources) != 1 || sources[0] != "embedded" {
		t.Errorf("sources = %v, want [embedded]", sources)
	}
	if cfg.Server.Addr != "localhost:8080" || cfg.LLM.Provider != "offline" {
		t.Errorf("addr, provider = %q, %q; want localhost:8080, offline", cfg.Server.Addr, cfg.LLM.Provider)
	}
	if cfg.Retrieval.CurrencyRates["USD"] != 1 {
		t.Errorf("USD rate = %g, want 1", cfg.Retrieval.CurrencyRates["USD"])
	}
}

func TestEmbeddedFilesPresent(t *testing.T) {
	for _, name := range []string{"offers.yaml", "experiments.yaml", "prompts/system.tmpl",
		"training/intent.jsonl", "training/emotion.jsonl", "catalog/demo.jsonl"} {
		if len(File(name)) == 0 {
			t.Errorf("embedded %s is empty", name)
		}
	}
}

func TestLoadFileThenEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	data := "web:\n  max_conns_per_ip: 500\nllm:\n  provider: openai\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"CONCIERGE_WEB_MAX_CONNS_PER_IP=700",
		"CONCIERGE_WEB_ALLOWED_ORIGINS=https://a.example, https://b.example",
		"CONCIERGE_BOT_TURN_TIMEOUT=20s",
		"OPENAI_API_KEY=sk-test",
	}
	cfg, sources, err := Load(path, env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := strings.Join(sources, ","); got != "embedded,"+path+",environment" {
		t.Errorf("sources = %s", got)
	}
	if cfg.Web.MaxConnsPerIP != 700 {
		t.Errorf("max_conns_per_ip = %d, want 700 from the environment", cfg.Web.MaxConnsPerIP)
	}
	if len(cfg.Web.AllowedOrigins) != 2 || cfg.Web.AllowedOrigins[1] != "https://b.example" {
		t.Errorf("allowed_origins = %v", cfg.Web.AllowedOrigins)
	}
	if cfg.Bot.TurnTimeout != 20*time.Second {
		t.Errorf("turn_timeout = %v, want 20s", cfg.Bot.TurnTimeout)
	}
	if cfg.LLM.APIKey != "sk-test" {
		t.Errorf("api key not taken from OPENAI_API_KEY")
	}
	if r := cfg.Redacted(); r.LLM.APIKey != "REDACTED" {
		t.Errorf("Redacted api key = %q", r.LLM.APIKey)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  []string
		want string
	}{
		{name: "unknown_key", file: "web:\n  max_conns: 5\n", want: "max_conns"},
		{name: "bad_env_number", env: []string{"CONCIERGE_WEB_SEND_QUEUE=lots"}, want: "CONCIERGE_WEB_SEND_QUEUE"},
		{name: "bad_env_duration", env: []string{"CONCIERGE_BOT_TURN_TIMEOUT=soon"}, want: "duration"},
		{name: "bad_provider", env: []string{"CONCIERGE_LLM_PROVIDER=gpt"}, want: "llm.provider"},
		{name: "pong_before_ping", file: "web:\n  ping_interval: 60s\n  pong_timeout: 30s\n", want: "web.pong_timeout"},
		{name: "bad_rate", file: "retrieval:\n  currency_rates:\n    cny: 7\n", want: "retrieval.currency_rates"},
		{name: "signed_without_secret", env: []string{"CONCIERGE_IDENTITY_REQUIRE_SIGNED=true"}, want: "jwt_secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = filepath.Join(t.TempDir(), "c.yaml")
				if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := Load(path, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load error = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

package admin_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/concierge-chat/concierge/web/admin"
)

// fakeReports records the epsilon it was asked for.
type fakeReports struct {
	epsilon float64
}

func (f *fakeReports) ExperimentReport(_ context.Context, epsilon float64) (any, error) {
	f.epsilon = epsilon
	return map[string]any{"experiment": "personalization", "epsilon": epsilon}, nil
}

func TestExperimentReportPassesEpsilon(t *testing.T) {
	reports := &fakeReports{}
	f := newFixture(t, nil, admin.Options{Reports: reports})
	var got map[string]any
	f.getJSON(t, "/api/admin/reports/experiments?epsilon=0.5", &got)
	if reports.epsilon != 0.5 {
		t.Errorf("epsilon passed to the report = %g, want 0.5", reports.epsilon)
	}
	if got["experiment"] != "personalization" {
		t.Errorf("report experiment = %v, want personalization", got["experiment"])
	}
}

func TestExperimentReportRejectsBadEpsilon(t *testing.T) {
	f := newFixture(t, nil, admin.Options{Reports: &fakeReports{}})
	status, body := f.do(t, "GET", "/api/admin/reports/experiments?epsilon=-1", "")
	if status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400; body %s", status, body)
	}
	if !strings.Contains(string(body), `"parameter":"epsilon"`) {
		t.Errorf("body %s does not name the epsilon parameter", body)
	}
}

func TestExperimentReportNotConfigured(t *testing.T) {
	f := newFixture(t, nil, admin.Options{})
	status, _ := f.do(t, "GET", "/api/admin/reports/experiments", "")
	if status != http.StatusNotImplemented {
		t.Errorf("status = %d, want 501", status)
	}
}

func TestExperimentReportNeedsToken(t *testing.T) {
	f := newFixture(t, nil, admin.Options{Reports: &fakeReports{}})
	status, _ := f.doToken(t, "GET", "/api/admin/reports/experiments", "", "")
	if status != http.StatusUnauthorized {
		t.Errorf("status without token = %d, want 401", status)
	}
}

package admin_test

import (
	"context"
	"errors"
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

// fakeSegments counts runs and fails when told to.
type fakeSegments struct {
	runs int
	err  error
}

func (f *fakeSegments) RunSegments(context.Context) (any, error) {
	f.runs++
	if f.err != nil {
		return nil, f.err
	}
	return map[string]any{"users": 30}, nil
}

func TestRunSegmentsOnDemand(t *testing.T) {
	segs := &fakeSegments{}
	f := newFixture(t, nil, admin.Options{Segments: segs})
	status, body := f.do(t, "POST", "/api/admin/segments", "")
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", status, body)
	}
	if segs.runs != 1 {
		t.Errorf("runs = %d, want 1", segs.runs)
	}
	if !strings.Contains(string(body), `"users":30`) {
		t.Errorf("body %s lacks the run summary", body)
	}
}

func TestRunSegmentsFailureIsConflict(t *testing.T) {
	f := newFixture(t, nil, admin.Options{Segments: &fakeSegments{err: errors.New("too few users")}})
	status, body := f.do(t, "POST", "/api/admin/segments", "")
	if status != http.StatusConflict {
		t.Fatalf("status = %d, want 409; body %s", status, body)
	}
	if !strings.Contains(string(body), "too few users") {
		t.Errorf("body %s does not say why", body)
	}
}

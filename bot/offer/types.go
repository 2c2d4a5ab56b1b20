package offer

import (
	"time"

	"github.com/concierge-chat/concierge/scenario"
)

// Context is the input of eligibility and ranking on one turn.
type Context struct {
	UserID     string
	Now        time.Time
	Scenario   scenario.Scenario
	Segment    string
	Categories []string // category paths of the products in play
	CartValue  float64
	NewUser    bool
	Country    string
	Device     string
	PageKind   string
	Language   string         // zh or en
	Shown      map[string]int // impressions of each offer id to this user so far
}

package scenario

import "time"

// Input is everything Detect reads. Detect does no I/O: the caller loads
// behaviour from memory and passes it in.
type Input struct {
	Now      time.Time // the server's clock; converted to Timezone
	Timezone string    // IANA name such as Asia/Shanghai; empty means UTC
	Locale   string    // BCP 47 tag such as zh-CN or en-US
	Country  string    // ISO 3166-1 alpha-2, when the client sent it
	Region   string
	City     string
	Device   string // mobile, tablet or desktop
	Page     Page
	Text     string // the user's message
	Behavior Behavior
	Segment  string // the user's segment name, when one is assigned
}

// Page is the page the user is on.
type Page struct {
	Kind      string `json:"kind,omitempty"` // home, category, product, cart, checkout
	URL       string `json:"url,omitempty"`
	ProductID string `json:"product_id,omitempty"`
}

// Behavior summarises the user's recent events, loaded from memory.
type Behavior struct {
	Returning      bool          `json:"returning"`
	Visits         int           `json:"visits"`
	SinceLastVisit time.Duration `json:"since_last_visit"` // zero for a first visit
	ProductsViewed []string      `json:"products_viewed,omitempty"`
	CartAdds       int           `json:"cart_adds"`
	CartRemovals   int           `json:"cart_removals"`
	CartValue      float64       `json:"cart_value"`
	AbandonedCart  bool          `json:"abandoned_cart"`
	Purchases      int           `json:"purchases"`
	TopCategories  []string      `json:"top_categories,omitempty"`
}

// Prediction is a classifier's label with its calibrated probability.
type Prediction struct {
	Label      string  `json:"label"`
	Confidence float64 `json:"confidence"`
}

// Festival is a shopping festival or holiday on or near the user's date.
type Festival struct {
	ID       string `json:"id"`   // stable id such as singles_day
	Name     string `json:"name"` // English name
	NameZH   string `json:"name_zh"`
	DaysLeft int    `json:"days_left"` // 0 on the day itself
}

// Scenario is the situation of one turn, computed by Detect.
type Scenario struct {
	Label   string   `json:"label"`   // gift_shopping, bargain_hunting, urgent_need, comparison, festival_shopping, after_sales, complaint, browsing
	Reasons []string `json:"reasons"` // readable by staff, one fact each

	Language  string    `json:"language"`    // zh or en: the language to answer in
	LocalTime time.Time `json:"local_time"`  // Now in the user's zone
	TimeOfDay string    `json:"time_of_day"` // morning, afternoon, evening, night
	Weekend   bool      `json:"weekend"`
	Season    string    `json:"season"` // spring, summer, autumn, winter, by hemisphere
	Festival  *Festival `json:"festival,omitempty"`

	Country  string `json:"country,omitempty"`
	Region   string `json:"region,omitempty"`
	City     string `json:"city,omitempty"`
	Device   string `json:"device,omitempty"`
	PageKind string `json:"page_kind,omitempty"`
	Product  string `json:"product_id,omitempty"`

	Intent   Prediction `json:"intent"`
	Emotion  Prediction `json:"emotion"`
	Segment  string     `json:"segment,omitempty"`
	Behavior Behavior   `json:"behavior"`
}

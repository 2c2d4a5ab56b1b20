package scenario

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// syntheticUsers returns three well separated groups: recent big spenders,
// lapsed one-time buyers and recent bargain hunters.
func syntheticUsers(perGroup int) []UserFeatures {
	rng := rand.New(rand.NewPCG(7, 7))
	jitter := func(x float64) float64 { return x * (0.9 + 0.2*rng.Float64()) }
	var users []UserFeatures
	for i := range perGroup {
		users = append(users,
			UserFeatures{UserID: fmt.Sprintf("loyal-%d", i), RecencyDays: jitter(3), Frequency: jitter(40), Monetary: jitter(5000), PriceLevel: jitter(30)},
			UserFeatures{UserID: fmt.Sprintf("lapsed-%d", i), RecencyDays: jitter(300), Frequency: 1, Monetary: jitter(40), PriceLevel: jitter(30)},
			UserFeatures{UserID: fmt.Sprintf("cheap-%d", i), RecencyDays: jitter(10), Frequency: jitter(4), Monetary: jitter(20), PriceLevel: jitter(2)},
		)
	}
	return users
}

func TestSegmentSeparatesGroups(t *testing.T) {
	users := syntheticUsers(30)
	seg, err := Segment(users, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"loyal", "lapsed", "cheap"} {
		first := seg.Assign[prefix+"-0"]
		for i := range 30 {
			if got := seg.Assign[fmt.Sprintf("%s-%d", prefix, i)]; got != first {
				t.Errorf("%s-%d in segment %d, want %d like %s-0", prefix, i, got, first, prefix)
			}
		}
	}
	if seg.Silhouette < 0.5 {
		t.Errorf("silhouette = %.3f, want >= 0.5 for separated groups", seg.Silhouette)
	}
	for c, size := range seg.Sizes {
		if size != 30 {
			t.Errorf("segment %d size = %d, want 30", c, size)
		}
	}
	tests := []struct {
		name, user, want string
	}{
		{name: "loyal", user: "loyal-3", want: "loyal big spenders"},
		{name: "lapsed", user: "lapsed-3", want: "lapsed"},
		{name: "bargain", user: "cheap-3", want: "bargain hunters"},
		{name: "unknown_user", user: "nobody", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := seg.Name(tc.user)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("Name(%s) = %q, want containing %q", tc.user, got, tc.want)
			}
		})
	}
}

func TestSegmentDeterministic(t *testing.T) {
	users := syntheticUsers(10)
	a, err := Segment(users, 3, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Segment(users, 3, 42)
	if err != nil {
		t.Fatal(err)
	}
	for id, c := range a.Assign {
		if b.Assign[id] != c {
			t.Fatalf("user %s: segment %d then %d with the same seed", id, c, b.Assign[id])
		}
	}
}

func TestSegmentCategoryAffinity(t *testing.T) {
	users := syntheticUsers(10)
	for i := range users {
		if strings.HasPrefix(users[i].UserID, "loyal") {
			users[i].CategoryAffinity = map[string]float64{"electronics": 0.9}
		}
	}
	seg, err := Segment(users, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := seg.Name("loyal-1"); !strings.Contains(got, "(electronics)") {
		t.Errorf("Name(loyal-1) = %q, want the electronics category", got)
	}
	if n := len(seg.FeatureNames); n != 6 || seg.FeatureNames[5] != "category:electronics" {
		t.Errorf("FeatureNames = %v, want 5 base features and category:electronics", seg.FeatureNames)
	}
}

func TestSegmentErrors(t *testing.T) {
	tests := []struct {
		name  string
		users int
		k     int
	}{
		{name: "k_below_two", users: 10, k: 1},
		{name: "fewer_users_than_k", users: 2, k: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Segment(syntheticUsers(10)[:tc.users], tc.k, 1)
			if !errors.Is(err, ErrTooFewUsers) {
				t.Errorf("Segment(%d users, k=%d) error = %v, want ErrTooFewUsers", tc.users, tc.k, err)
			}
		})
	}
}

func TestEvalSegmentFormats(t *testing.T) {
	tests := []struct {
		name, csv string
		wantUsers int
		wantErr   bool
	}{
		{
			name: "online_retail",
			csv: "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n" +
				"1,A,x,2,2011-01-01 10:00:00,5,100,UK\n1,B,y,1,2011-01-01 10:00:00,50,100,UK\n" +
				"2,A,x,1,2011-03-01 10:00:00,5,200,UK\nC3,A,x,-1,2011-03-02 10:00:00,5,200,UK\n" +
				"4,A,x,10,2011-06-01 10:00:00,1,300,UK\n5,A,x,1,2011-06-01 10:00:00,1,,UK\n",
			wantUsers: 3,
		},
		{
			name: "cdnow",
			csv: "customer_id,date,number_of_cds,dollar_value\n00001,19970101,1,11.77\n" +
				"00002,19970112,1,12.00\n00002,19970301,5,77.00\n00003,19980101,2,20.00\n",
			wantUsers: 3,
		},
		{name: "unknown_header", csv: "a,b\n1,2\n", wantErr: true},
		{name: "bad_number", csv: "customer_id,date,number_of_cds,dollar_value\n1,19970101,x,1\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			seg, err := EvalSegment(strings.NewReader(tc.csv), 2, &out)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("EvalSegment succeeded, want an error; output %q", out.String())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(seg.Assign) != tc.wantUsers {
				t.Errorf("customers = %d, want %d", len(seg.Assign), tc.wantUsers)
			}
			if !strings.Contains(out.String(), "silhouette=") {
				t.Errorf("output %q lacks the silhouette line", out.String())
			}
		})
	}
}

func TestReadRFMValues(t *testing.T) {
	csv := "customer_id,date,number_of_cds,dollar_value\n" +
		"7,19970101,1,10\n7,19970101,1,10\n7,19970110,2,30\n8,19970111,1,5\n"
	users, err := readRFM(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	u := users[0]
	if u.UserID != "7" || u.Frequency != 2 || u.Monetary != 50 || u.RecencyDays != 2 || u.PriceLevel != 12.5 {
		t.Errorf("customer 7 = %+v, want frequency 2, monetary 50, recency 2, price level 12.5", u)
	}
}

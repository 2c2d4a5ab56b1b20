package scenario

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrUnknownTransactions is returned by EvalSegment for a CSV header that
// is neither UCI Online Retail nor CDNOW.
var ErrUnknownTransactions = errors.New("scenario: unknown transaction format")

// customerRFM accumulates one customer's purchases.
type customerRFM struct {
	last     time.Time
	invoices map[string]bool
	units    float64
	spent    float64
}

// transaction is one purchase line after parsing.
type transaction struct {
	customer, invoice string
	when              time.Time
	units, amount     float64
	cancelled         bool
}

// EvalSegment reads a transaction log, computes recency, frequency,
// monetary value and price level per customer, segments customers into k
// groups (seed 1) and writes each segment's size and centroid and the
// silhouette score to out. It reads the UCI Online Retail CSV (InvoiceNo,
// StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID,
// Country) and the CDNOW CSV (customer_id, date as YYYYMMDD,
// number_of_cds, dollar_value), told apart by the header. Recency counts
// days to the day after the last date in the file.
func EvalSegment(transactions io.Reader, k int, out io.Writer) (Segmentation, error) {
	users, err := readRFM(transactions)
	if err != nil {
		return Segmentation{}, fmt.Errorf("eval segment: %w", err)
	}
	seg, err := Segment(users, k, 1)
	if err != nil {
		return Segmentation{}, fmt.Errorf("eval segment: %w", err)
	}
	fmt.Fprintf(out, "customers=%d k=%d\n", len(users), seg.K)
	for c := range seg.K {
		fmt.Fprintf(out, "segment %d %q size=%d", c, seg.Names[c], seg.Sizes[c])
		for j, name := range seg.FeatureNames {
			if j < 4 {
				fmt.Fprintf(out, " %s=%.2f", name, seg.Centroids[c][j])
			}
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "silhouette=%.4f\n", seg.Silhouette)
	return seg, nil
}

// readRFM parses the transaction CSV and returns one UserFeatures per
// customer with at least one purchase, sorted by customer id.
func readRFM(r io.Reader) ([]UserFeatures, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	parse, err := transactionParser(header)
	if err != nil {
		return nil, err
	}
	customers := make(map[string]*customerRFM)
	var latest time.Time
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read transactions: %w", err)
		}
		tx, ok, err := parse(rec)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if !ok {
			continue
		}
		cust := customers[tx.customer]
		if cust == nil {
			cust = &customerRFM{invoices: make(map[string]bool)}
			customers[tx.customer] = cust
		}
		cust.spent += tx.amount
		if tx.cancelled {
			continue
		}
		cust.units += tx.units
		cust.invoices[tx.invoice] = true
		if tx.when.After(cust.last) {
			cust.last = tx.when
		}
		if tx.when.After(latest) {
			latest = tx.when
		}
	}
	return rfmFeatures(customers, latest.AddDate(0, 0, 1)), nil
}

func rfmFeatures(customers map[string]*customerRFM, reference time.Time) []UserFeatures {
	users := make([]UserFeatures, 0, len(customers))
	for id, c := range customers {
		if len(c.invoices) == 0 {
			continue // only cancellations
		}
		u := UserFeatures{
			UserID:      id,
			RecencyDays: math.Floor(reference.Sub(c.last).Hours() / 24),
			Frequency:   float64(len(c.invoices)),
			Monetary:    math.Max(c.spent, 0),
		}
		if c.units > 0 {
			u.PriceLevel = math.Max(c.spent, 0) / c.units
		}
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b UserFeatures) int { return strings.Compare(a.UserID, b.UserID) })
	return users
}

// transactionParser returns a parser for the format named by header. The
// parser reports false for rows to skip, such as rows without a customer.
func transactionParser(header []string) (func([]string) (transaction, bool, error), error) {
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	col := func(name string) int { return slices.Index(header, name) }
	switch {
	case col("InvoiceNo") >= 0 && col("CustomerID") >= 0:
		inv, qty, date, price, cust := col("InvoiceNo"), col("Quantity"), col("InvoiceDate"), col("UnitPrice"), col("CustomerID")
		if min(qty, date, price) < 0 {
			return nil, fmt.Errorf("online retail header %q lacks Quantity, InvoiceDate or UnitPrice: %w", header, ErrUnknownTransactions)
		}
		return func(rec []string) (transaction, bool, error) {
			if rec[cust] == "" {
				return transaction{}, false, nil
			}
			q, err1 := strconv.ParseFloat(rec[qty], 64)
			p, err2 := strconv.ParseFloat(rec[price], 64)
			when, err3 := time.Parse(time.DateTime, rec[date])
			if err := errors.Join(err1, err2, err3); err != nil {
				return transaction{}, false, err
			}
			return transaction{
				customer: rec[cust], invoice: rec[inv], when: when,
				units: q, amount: q * p, cancelled: strings.HasPrefix(rec[inv], "C"),
			}, true, nil
		}, nil
	case col("customer_id") >= 0 && col("dollar_value") >= 0:
		cust, date, cds, value := col("customer_id"), col("date"), col("number_of_cds"), col("dollar_value")
		if min(date, cds) < 0 {
			return nil, fmt.Errorf("cdnow header %q lacks date or number_of_cds: %w", header, ErrUnknownTransactions)
		}
		return func(rec []string) (transaction, bool, error) {
			n, err1 := strconv.ParseFloat(rec[cds], 64)
			v, err2 := strconv.ParseFloat(rec[value], 64)
			when, err3 := time.Parse("20060102", rec[date])
			if err := errors.Join(err1, err2, err3); err != nil {
				return transaction{}, false, err
			}
			// CDNOW has no order ids: purchases on one day count as one.
			return transaction{customer: rec[cust], invoice: rec[date], when: when, units: n, amount: v}, true, nil
		}, nil
	default:
		return nil, fmt.Errorf("header %q: %w", header, ErrUnknownTransactions)
	}
}

package offer

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// arm is one disjoint LinUCB model: A = I + Σ xxᵀ and b = Σ r·x over the
// impressions of one offer. It keeps A⁻¹ rather than A and updates it with
// the Sherman–Morrison formula, O(d²) per impression instead of an O(d³)
// inversion.
type arm struct {
	ainv *mat.SymDense
	b    *mat.VecDense
	n    int // impressions learned from
}

func newArm(d int) *arm {
	ainv := mat.NewSymDense(d, nil)
	for i := range d {
		ainv.SetSym(i, i, 1)
	}
	return &arm{ainv: ainv, b: mat.NewVecDense(d, nil)}
}

// score returns the upper confidence bound θᵀx + α√(xᵀA⁻¹x) with θ = A⁻¹b.
func (a *arm) score(x *mat.VecDense, alpha float64) float64 {
	mean := mat.Inner(a.b, a.ainv, x)
	if alpha == 0 {
		return mean
	}
	// Rounding can push the quadratic form a hair below zero after many
	// updates, although A⁻¹ is positive definite in exact arithmetic.
	variance := max(mat.Inner(x, a.ainv, x), 0)
	return mean + alpha*math.Sqrt(variance)
}

// observe adds the impression x to A: A⁻¹ ← A⁻¹ − (A⁻¹x)(A⁻¹x)ᵀ / (1 + xᵀA⁻¹x).
func (a *arm) observe(x *mat.VecDense) {
	var ax mat.VecDense
	ax.MulVec(a.ainv, x)
	denom := 1 + mat.Dot(x, &ax)
	a.ainv.SymRankOne(a.ainv, -1/denom, &ax)
	a.n++
}

// reward adds r·x to b.
func (a *arm) reward(x *mat.VecDense, r float64) {
	a.b.AddScaledVec(a.b, r, x)
}

// armState is the serialised form of an arm: the upper triangle of A⁻¹ row
// by row, b, and the impression count.
type armState struct {
	Dim   int       `json:"dim"`
	AInv  []float64 `json:"a_inv"`
	B     []float64 `json:"b"`
	Count int       `json:"n"`
}

func (a *arm) state() armState {
	d := a.b.Len()
	s := armState{Dim: d, B: make([]float64, d), Count: a.n}
	for i := range d {
		s.B[i] = a.b.AtVec(i)
		for j := i; j < d; j++ {
			s.AInv = append(s.AInv, a.ainv.At(i, j))
		}
	}
	return s
}

func armFromState(s armState) (*arm, error) {
	d := s.Dim
	if d <= 0 || len(s.B) != d || len(s.AInv) != d*(d+1)/2 || s.Count < 0 {
		return nil, fmt.Errorf("decode arm: dim %d with %d b entries and %d A⁻¹ entries", d, len(s.B), len(s.AInv))
	}
	a := newArm(d)
	k := 0
	for i := range d {
		a.b.SetVec(i, s.B[i])
		for j := i; j < d; j++ {
			a.ainv.SetSym(i, j, s.AInv[k])
			k++
		}
	}
	a.n = s.Count
	return a, nil
}

package offer

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func vec(x []float64) *mat.VecDense { return mat.NewVecDense(len(x), x) }

// TestArmMatchesDirectInverse checks the Sherman–Morrison updates against
// inverting A = I + Σxxᵀ directly.
func TestArmMatchesDirectInverse(t *testing.T) {
	const d = 6
	rng := rand.New(rand.NewPCG(3, 4))
	a := newArm(d)
	direct := mat.NewSymDense(d, nil)
	for i := range d {
		direct.SetSym(i, i, 1)
	}
	b := mat.NewVecDense(d, nil)
	for range 200 {
		x := make([]float64, d)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		r := float64(rng.IntN(2))
		a.observe(vec(x))
		a.reward(vec(x), r)
		direct.SymRankOne(direct, 1, vec(x))
		b.AddScaledVec(b, r, vec(x))
	}

	var inv mat.Dense
	if err := inv.Inverse(direct); err != nil {
		t.Fatalf("invert A: %v", err)
	}
	for i := range d {
		for j := range d {
			if diff := math.Abs(inv.At(i, j) - a.ainv.At(i, j)); diff > 1e-9 {
				t.Fatalf("A⁻¹[%d][%d] = %g, direct inverse %g", i, j, a.ainv.At(i, j), inv.At(i, j))
			}
		}
	}

	probe := vec([]float64{1, 0, -1, 0.5, 0, 2})
	var theta mat.VecDense
	theta.MulVec(&inv, b)
	var invProbe mat.VecDense
	invProbe.MulVec(&inv, probe)
	want := mat.Dot(&theta, probe) + 0.7*math.Sqrt(mat.Dot(probe, &invProbe))
	if got := a.score(probe, 0.7); math.Abs(got-want) > 1e-9 {
		t.Errorf("score = %g, expected θᵀx + α√(xᵀA⁻¹x) = %g", got, want)
	}
}

func TestArmStateRoundTrip(t *testing.T) {
	a := newArm(4)
	a.observe(vec([]float64{1, 2, 0, 1}))
	a.reward(vec([]float64{1, 2, 0, 1}), 1)
	restored, err := armFromState(a.state())
	if err != nil {
		t.Fatalf("armFromState: %v", err)
	}
	if !mat.Equal(a.ainv, restored.ainv) || !mat.Equal(a.b, restored.b) || a.n != restored.n {
		t.Error("arm changed in a state round trip")
	}
	if _, err := armFromState(armState{Dim: 4, B: make([]float64, 4)}); err == nil {
		t.Error("armFromState accepted a state without A⁻¹")
	}
}

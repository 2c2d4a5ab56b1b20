package offer

import (
	"context"
	"encoding/json"
	"fmt"
)

// stateVersion changes when the stored layout of weights changes.
const stateVersion = 1

// stateKey is the State key of one offer's weights.
func stateKey(offerID string) string { return "offer/bandit/" + offerID }

type storedArm struct {
	Version  int      `json:"version"`
	Features int      `json:"features"` // FeatureDim when written
	Arm      armState `json:"arm"`
}

// loadArm returns the saved model of offerID, or a fresh one when none is
// saved or the saved one was written for a different feature layout.
func (p *Picker) loadArm(ctx context.Context, offerID string) (*arm, error) {
	if p.state == nil {
		return newArm(FeatureDim), nil
	}
	data, err := p.state.GetState(ctx, stateKey(offerID))
	if err != nil {
		if p.isNotFound != nil && p.isNotFound(err) {
			return newArm(FeatureDim), nil
		}
		return nil, fmt.Errorf("load offer %s weights: %w", offerID, err)
	}
	if data == nil {
		return newArm(FeatureDim), nil
	}

	var s storedArm
	if err := json.Unmarshal(data, &s); err != nil {
		p.logger.Warn("offer weights undecodable, starting fresh", "offer_id", offerID, "err", err)
		return newArm(FeatureDim), nil
	}
	if s.Version != stateVersion || s.Features != FeatureDim || s.Arm.Dim != FeatureDim {
		p.logger.Warn("offer weights from another feature layout, starting fresh",
			"offer_id", offerID, "version", s.Version, "features", s.Features)
		return newArm(FeatureDim), nil
	}
	a, err := armFromState(s.Arm)
	if err != nil {
		p.logger.Warn("offer weights invalid, starting fresh", "offer_id", offerID, "err", err)
		return newArm(FeatureDim), nil
	}
	return a, nil
}

func (p *Picker) saveArm(ctx context.Context, offerID string, s armState) error {
	if p.state == nil {
		return nil
	}
	data, err := json.Marshal(storedArm{Version: stateVersion, Features: FeatureDim, Arm: s})
	if err != nil {
		return fmt.Errorf("encode offer %s weights: %w", offerID, err)
	}
	if err := p.state.PutState(ctx, stateKey(offerID), data); err != nil {
		return fmt.Errorf("save offer %s weights: %w", offerID, err)
	}
	return nil
}

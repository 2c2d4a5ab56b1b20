package offer

import "slices"

// Offers returns a copy of the configured offers.
func (p *Picker) Offers() []Offer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.offers)
}

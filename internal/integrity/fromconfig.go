package integrity

import (
	"fmt"

	"github.com/medguard/medguard/internal/config"
)

// FromConfig returns the Config for the [integrity] table. The caller adds
// what the file cannot hold: Floor (e.g. StateFloor over the state store),
// Recorder, Device and Logger.
func FromConfig(t config.Integrity) (Config, error) {
	c := Config{Root: t.SoftwareRoot, ManifestFile: t.Manifest, Threshold: t.Threshold,
		Workers: t.HashWorkers, RehashBudget: t.RehashPercent / 100}
	for i, s := range t.TrustedKeys {
		k, err := ParsePublicKey(s)
		if err != nil {
			return Config{}, fmt.Errorf("integrity.trusted_keys entry %d: %w", i+1, err)
		}
		c.TrustedKeys = append(c.TrustedKeys, k)
	}
	return c, nil
}

package advisory

import (
	"errors"
	"testing"
)

func FuzzValidate(f *testing.F) {
	for _, p := range []string{ProfileSecurityAdvisory, ProfileVEX} {
		o := options(p)
		if data, err := Build(o); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"document":{},"product_tree":{"branches":[{"branches":[{"branches":[]}]}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Validate(data)
		var ie *InvalidError
		if err != nil && errors.As(err, &ie) && len(ie.Problems) == 0 {
			t.Fatal("invalid without a problem")
		}
	})
}

package device

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Result is the outcome of one boot check.
type Result string

// Boot check results.
const (
	Passed  Result = "passed"
	Failed  Result = "failed"
	Skipped Result = "skipped"
)

// Check is one step of the boot sequence, with its result and duration.
type Check struct {
	Name     string        `json:"name"`
	Result   Result        `json:"result"`
	Detail   string        `json:"detail,omitempty"`
	Duration time.Duration `json:"-"`
}

// MarshalJSON writes the duration in milliseconds, for people and scripts.
func (c Check) MarshalJSON() ([]byte, error) {
	type plain Check
	return json.Marshal(struct {
		plain
		DurationMS float64 `json:"duration_ms"`
	}{plain(c), float64(c.Duration.Microseconds()) / 1000})
}

// BootReport lists the boot checks in the order they ran.
type BootReport struct {
	BootID   string    `json:"boot_id"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Checks   []Check   `json:"checks"`
}

// Failed returns the first failed check, if any.
func (r *BootReport) Failed() (Check, bool) {
	for _, c := range r.Checks {
		if c.Result == Failed {
			return c, true
		}
	}
	return Check{}, false
}

// step runs one boot check and appends its outcome to the report. A check
// returns a short detail for the report, or an error.
func (r *BootReport) step(ctx context.Context, now func() time.Time, name string, fn func(ctx context.Context) (string, error)) error {
	start := now()
	detail, err := fn(ctx)
	c := Check{Name: name, Result: Passed, Detail: detail, Duration: now().Sub(start)}
	if err != nil {
		c.Result = Failed
		c.Detail = err.Error()
		err = fmt.Errorf("boot check %s: %w", name, err)
	}
	r.Checks = append(r.Checks, c)
	return err
}

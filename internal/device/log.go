package device

import (
	"context"
	"fmt"

	"github.com/medguard/medguard/internal/eventlog"
)

// openLog is boot step 2: open the Security Event Log, which verifies its
// tail against the last checkpoint and the sealed log state, and send the
// events of the earlier boot steps to it.
func (d *Device) openLog(ctx context.Context) (string, error) {
	lc := d.cfg.Config.EventLog(d.keys)
	lc.BootID, lc.Clock, lc.Logger, lc.OnFailure = d.bootID, d.now, d.logger.With("part", "eventlog"), d.logFailure
	l, err := eventlog.Open(lc)
	if err != nil {
		return "", err
	}
	d.log = l
	d.onClose(l.Close)
	if err := d.rec.attach(ctx, l); err != nil {
		return "", fmt.Errorf("record the boot's first events: %w", err)
	}
	return fmt.Sprintf("%s, last sequence number %d", l.Dir(), l.Last()), nil
}

// logFailure is called by the log when it fails to write or nears its
// limit. It must not block. The failure goes to the operational log and to
// every channel that still works.
func (d *Device) logFailure(err error) {
	d.logger.Error("security event log", "err", err)
	for _, f := range d.onLogFailure {
		f(err)
	}
}

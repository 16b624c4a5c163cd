package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/medguard/medguard/internal/config"
	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/state"
)

// CodeSettingsChanged is the event of device settings (the configuration
// file) that differ from those of the previous start: the file was
// changed while the daemon was stopped. The notifier announces it as
// config.change.settings with old → new per key (issue 6, item 4).
const CodeSettingsChanged = "config.settings.changed"

// settingsKey holds, encrypted, the settings of the last start.
const settingsKey = "config.settings"

// maxListedSettings bounds the changes one event lists.
const maxListedSettings = 64

// checkSettings compares the configuration in use with the one of the
// previous start, records what changed, then remembers the new one. The
// event is written before the new settings are stored, so a crash between
// the two repeats the announcement instead of losing it.
// IEC 62443-4-2 CR 2.8 (auditable events: configuration changes).
func (d *Device) checkSettings(ctx context.Context) (string, error) {
	now, err := config.Settings(d.cfg.Config)
	if err != nil {
		return "", err
	}
	var prev map[string]string
	err = d.store.View(func(tx state.Tx) error {
		b, err := tx.GetSecret(state.BucketSettings, settingsKey)
		if errors.Is(err, state.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(b, &prev)
	})
	if err != nil {
		return "", fmt.Errorf("read the settings of the previous start: %w", err)
	}
	changes := config.DiffSettings(prev, now)
	if prev != nil && len(changes) == 0 {
		return "unchanged since the previous start", nil
	}
	result := fmt.Sprintf("first start: %d settings recorded", len(now))
	if prev != nil {
		d.record(ctx, settingsEvent(changes, d.cfg.ConfigFile))
		result = fmt.Sprintf("%d settings changed since the previous start", len(changes))
	}
	b, err := json.Marshal(now)
	if err != nil {
		return "", err
	}
	if err := d.store.Update(func(tx state.Tx) error { return tx.PutSecret(state.BucketSettings, settingsKey, b) }); err != nil {
		return "", fmt.Errorf("store the settings of this start: %w", err)
	}
	return result, nil
}

// settingsEvent describes changes as a configuration-change event.
func settingsEvent(changes []config.SettingChange, file string) eventlog.Event {
	source := "configuration file"
	if file != "" {
		source += " " + file
	}
	fields := map[string]string{}
	var keys []string
	for i, c := range changes {
		if i == maxListedSettings {
			fields["unlisted_changes"] = strconv.Itoa(len(changes) - i)
			break
		}
		fields["old."+c.Key] = orNone(c.Old)
		fields["new."+c.Key] = orNone(c.New)
		keys = append(keys, c.Key)
	}
	more := ""
	if len(changes) > len(keys) {
		more = fmt.Sprintf(" and %d more", len(changes)-len(keys))
	}
	return eventlog.Event{
		Code: CodeSettingsChanged, Category: eventlog.CategoryConfig, Severity: eventlog.SeverityNotice,
		Actor: "local", Source: source,
		Message: fmt.Sprintf("%d device settings differ from the previous start: %s%s.", len(changes), strings.Join(keys, ", "), more),
		Cause:   "the configuration file was changed while medguardd was stopped; the new settings are in effect since this start",
		Fields:  fields,
	}
}

func orNone(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}

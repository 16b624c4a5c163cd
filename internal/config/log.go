package config

import (
	"path/filepath"

	"github.com/medguard/medguard/internal/eventlog"
)

// Log is the [log] table: the Security Event Log.
type Log struct {
	MaxSizeMiB         int      `toml:"max_size_mib" doc:"Size limit of the Security Event Log in MiB (IEC 62443-4-2 CR 2.9). A notification goes out at 80 %. 1 to 65536. Default: 256."`
	Policy             string   `toml:"policy" doc:"What happens at the limit: \"archive\" (oldest segments move to archive_dir, an anchor keeps the rest verifiable), \"remove-oldest\" (oldest segments are removed, with an anchor), or \"stop\" (nothing is removed; new events are refused and the failure is reported on every channel). The default keeps the device working (availability is patient safety) and relies on the SIEM forwarders for the long-term copy. Default: remove-oldest."`
	ArchiveDir         string   `toml:"archive_dir" doc:"Absolute path where the archive policy moves full segments. Empty: STATE_DIR/log-archive. Default: empty."`
	EpochEntries       int      `toml:"epoch_entries" doc:"The MAC key evolves (and the old one is erased) after this many entries. 16 to 1048576. Default: 4096."`
	EpochInterval      Duration `toml:"epoch_interval" doc:"...or after this much time, whichever comes first. 1s to 24h. Default: 10m."`
	CheckpointEntries  int      `toml:"checkpoint_entries" doc:"A signed checkpoint is written after this many entries. 16 to 1048576. Default: 1024."`
	CheckpointInterval Duration `toml:"checkpoint_interval" doc:"...or after this much time, whichever comes first. 1s to 1h. Default: 1m."`
	FloodBurst         int      `toml:"flood_burst" doc:"Identical events beyond this many per flood_window are counted into one summary event, with exact counts. 1 to 100000. Default: 10."`
	FloodWindow        Duration `toml:"flood_window" doc:"The window of flood_burst. 100ms to 1h. Default: 1s."`
}

func defaultLog() Log {
	return Log{
		MaxSizeMiB: 256, Policy: "remove-oldest",
		EpochEntries: 4096, EpochInterval: Duration(10 * 60e9),
		CheckpointEntries: 1024, CheckpointInterval: Duration(60e9),
		FloodBurst: 10, FloodWindow: Duration(1e9),
	}
}

func (l *Log) validate() []FieldError {
	var errs []FieldError
	errs = append(errs, inRange("log.max_size_mib", l.MaxSizeMiB, 1, 65536)...)
	errs = append(errs, oneOf("log.policy", l.Policy, "archive", "remove-oldest", "stop")...)
	if l.ArchiveDir != "" && !filepath.IsAbs(l.ArchiveDir) {
		errs = append(errs, FieldError{Key: "log.archive_dir", Msg: "must be an absolute path"})
	}
	errs = append(errs, inRange("log.epoch_entries", l.EpochEntries, 16, 1<<20)...)
	errs = append(errs, inRange("log.epoch_interval", l.EpochInterval, Duration(1e9), Duration(24*3600e9))...)
	errs = append(errs, inRange("log.checkpoint_entries", l.CheckpointEntries, 16, 1<<20)...)
	errs = append(errs, inRange("log.checkpoint_interval", l.CheckpointInterval, Duration(1e9), Duration(3600e9))...)
	errs = append(errs, inRange("log.flood_burst", l.FloodBurst, 1, 100000)...)
	errs = append(errs, inRange("log.flood_window", l.FloodWindow, Duration(100e6), Duration(3600e9))...)
	return errs
}

// EventLog returns the Security Event Log's configuration from the file's
// [device] and [log] tables, with keys; the caller adds what belongs to the
// process that opens it (boot id, clock, logger, failure hook). The daemon
// and the CLI's commands that write to the log both use it, so they apply
// the same directory, size limit, policy and key evolution.
func (c Config) EventLog(keys eventlog.Keys) eventlog.Config {
	l := c.Log
	archive := l.ArchiveDir
	if archive == "" {
		archive = filepath.Join(c.Device.StateDir, "log-archive")
	}
	return eventlog.Config{
		Dir:                filepath.Join(c.Device.StateDir, "log"),
		Keys:               keys,
		DeviceName:         c.Device.Name,
		MaxBytes:           int64(l.MaxSizeMiB) << 20,
		Policy:             eventlog.Policy(l.Policy),
		ArchiveDir:         archive,
		EpochEntries:       uint64(l.EpochEntries),
		EpochInterval:      l.EpochInterval.D(),
		CheckpointEntries:  uint64(l.CheckpointEntries),
		CheckpointInterval: l.CheckpointInterval.D(),
		FloodBurst:         l.FloodBurst,
		FloodWindow:        l.FloodWindow.D(),
	}
}

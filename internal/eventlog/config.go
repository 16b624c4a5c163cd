package eventlog

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Policy says what the log does when it reaches its size limit
// (IEC 62443-4-2 CR 2.9, CR 2.10).
type Policy string

const (
	// PolicyRemoveOldest removes the oldest segments, after recording which
	// ones in the log itself, so that the rest stays verifiable.
	PolicyRemoveOldest Policy = "remove-oldest"
	// PolicyArchive moves the oldest segments into Config.ArchiveDir (for
	// example removable media), recording it in the log.
	PolicyArchive Policy = "archive"
	// PolicyStop keeps every record: once full, the log records a
	// log.full event into its reserve and refuses further events, reporting
	// the failure through Config.OnFailure.
	PolicyStop Policy = "stop"
)

// Config configures a Log. Zero fields take the defaults given.
type Config struct {
	// Dir is the log's directory (STATE_DIR/log), created with mode 0700.
	Dir string
	// Keys gives the identity key and keeps the MAC keys (required).
	Keys Keys
	// BootID identifies this boot of the daemon; it goes into every record.
	BootID string
	// DeviceName names the device in checkpoints (required).
	DeviceName string
	// Clock returns the current time. Default: time.Now.
	Clock func() time.Time
	// Logger receives operational messages (not security events). Default:
	// discard.
	Logger *slog.Logger
	// MaxBytes is the size limit of all segments together. Default 256 MiB;
	// at least 1 MiB.
	MaxBytes int64
	// SegmentBytes is the size at which a segment is closed and a new one
	// begun. Default: MaxBytes/16, at most 8 MiB.
	SegmentBytes int64
	// Policy applies when MaxBytes is reached. Default: remove-oldest.
	Policy Policy
	// ArchiveDir is where PolicyArchive moves segments.
	ArchiveDir string
	// EpochEntries and EpochInterval bound a MAC key epoch: the key evolves
	// after this many records or this much time, whichever comes first.
	// Defaults: 4096 records, 10 minutes.
	EpochEntries  uint64
	EpochInterval time.Duration
	// CheckpointEntries and CheckpointInterval bound the records between
	// two signed checkpoints. Defaults: 1024 records, 1 minute.
	CheckpointEntries  uint64
	CheckpointInterval time.Duration
	// FloodBurst identical events per FloodWindow are recorded one by one;
	// further identical ones in the window are counted into one summary
	// event. Defaults: 10 per 1 s. FloodBurst < 0 turns coalescing off.
	FloodBurst  int
	FloodWindow time.Duration
	// OnFailure, if set, is called (from the log's goroutine; it must not
	// block) when the log fails to write, nears or reaches its limit: the
	// daemon passes it on to every channel that still works (notification,
	// forwarders, console).
	OnFailure func(error)
}

func (c *Config) setDefaults() error {
	if c.Dir == "" || c.Keys == nil || c.DeviceName == "" {
		return errors.New("event log config: Dir, Keys and DeviceName are required")
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 256 << 20
	}
	if c.MaxBytes < 64<<10 {
		return fmt.Errorf("event log config: MaxBytes %d is below 64 KiB", c.MaxBytes)
	}
	if c.SegmentBytes == 0 {
		c.SegmentBytes = min(c.MaxBytes/16, 8<<20)
	}
	if c.SegmentBytes < 4*MaxLineBytes || c.SegmentBytes > c.MaxBytes/4 {
		return fmt.Errorf("event log config: SegmentBytes %d must be within [%d, MaxBytes/4]", c.SegmentBytes, 4*MaxLineBytes)
	}
	switch c.Policy {
	case "":
		c.Policy = PolicyRemoveOldest
	case PolicyRemoveOldest, PolicyStop:
	case PolicyArchive:
		if c.ArchiveDir == "" {
			return errors.New("event log config: policy archive needs ArchiveDir")
		}
	default:
		return fmt.Errorf("event log config: unknown policy %q", c.Policy)
	}
	if c.EpochEntries == 0 {
		c.EpochEntries = 4096
	}
	if c.EpochInterval == 0 {
		c.EpochInterval = 10 * time.Minute
	}
	if c.CheckpointEntries == 0 {
		c.CheckpointEntries = 1024
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = time.Minute
	}
	if c.FloodBurst == 0 {
		c.FloodBurst = 10
	}
	if c.FloodWindow == 0 {
		c.FloodWindow = time.Second
	}
	if c.OnFailure == nil {
		c.OnFailure = func(error) {}
	}
	return nil
}

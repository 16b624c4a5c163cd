package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"

	"github.com/medguard/medguard/internal/eventlog"
)

const maxRestartDelay = 30 * time.Second

// Recommended actions.
const (
	actionGaveUp  = "Do not use the device clinically; restart the device or contact service."
	actionRefused = "Do not use the device clinically. Restore the software from a release signed by the maker."
)

// supervise runs p until ctx is done, restarting it by its policy.
func (s *Supervisor) supervise(ctx context.Context, p Program) {
	delay := time.Duration(p.RestartDelay)
	var starts []time.Time
	for ctx.Err() == nil {
		cmd, err := s.start(ctx, p)
		if err != nil {
			s.refused(ctx, p.Name, err)
			s.setStatus(p.Name, func(st *Status) { st.GaveUp = true })
			return
		}
		now := time.Now()
		starts = append(starts, now)
		s.setStatus(p.Name, func(st *Status) { st.Running, st.PID, st.Since = true, cmd.Process.Pid, now; st.Starts++ })
		s.record(ctx, eventlog.Event{Code: "supervisor.program.started", Severity: eventlog.SeverityInfo,
			Message: fmt.Sprintf("%s started from its verified executable %s (pid %d)", p.Name, p.Path, cmd.Process.Pid),
			Fields:  map[string]string{"program": p.Name, "path": p.Path}})
		exitErr := s.wait(ctx, p, cmd)
		s.setStatus(p.Name, func(st *Status) { st.Running, st.PID, st.LastExit = false, 0, exitText(exitErr) })
		if ctx.Err() != nil {
			s.record(context.WithoutCancel(ctx), eventlog.Event{Code: "supervisor.program.stopped", Severity: eventlog.SeverityInfo,
				Message: p.Name + " stopped", Fields: map[string]string{"program": p.Name}})
			return
		}
		s.record(ctx, eventlog.Event{Code: "supervisor.program.exited", Severity: eventlog.SeverityWarning,
			Message: fmt.Sprintf("%s exited: %s", p.Name, exitText(exitErr)), Fields: map[string]string{"program": p.Name}})
		if p.Restart == "never" || (p.Restart == "on-failure" && exitErr == nil) {
			return
		}
		starts = within(starts, time.Duration(p.RestartWindow))
		if len(starts) > *p.MaxRestarts {
			cause := fmt.Sprintf("clinical software: %s exited %d times within %v", p.Name, len(starts), time.Duration(p.RestartWindow))
			s.record(ctx, eventlog.Event{Code: "supervisor.program.gave-up", Severity: eventlog.SeverityCritical,
				Message: p.Name + " keeps failing; not restarted", Cause: cause,
				Action: actionGaveUp, Fields: map[string]string{"program": p.Name}})
			s.setStatus(p.Name, func(st *Status) { st.GaveUp = true })
			s.notSuitable(ctx, "supervisor.program.gave-up", cause, actionGaveUp)
			return
		}
		if !sleep(ctx, delay) {
			return
		}
		delay = min(2*delay, maxRestartDelay)
	}
}

// wait waits for cmd to exit; when ctx is done first it stops the
// program's process group: SIGTERM, then SIGKILL after the stop timeout.
func (s *Supervisor) wait(ctx context.Context, p Program, cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	t := time.NewTimer(time.Duration(p.StopTimeout))
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		s.log.Warn("program did not stop in time; killing it", "program", p.Name)
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		return <-done
	}
}

func (s *Supervisor) refused(ctx context.Context, what string, err error) {
	cause := fmt.Sprintf("clinical software: %s not started: %v", what, err)
	s.record(ctx, eventlog.Event{Code: "supervisor.program.refused", Severity: eventlog.SeverityCritical,
		Message: what + " did not verify and was not started", Cause: cause,
		Action: actionRefused,
		Fields: map[string]string{"program": what, "error": err.Error()}})
	s.notSuitable(ctx, "supervisor.program.refused", cause, actionRefused)
}

func (s *Supervisor) notSuitable(ctx context.Context, code, cause, action string) {
	if s.cfg.Device != nil {
		s.cfg.Device.NotSuitable(ctx, code, cause, action)
	}
}

func (s *Supervisor) record(ctx context.Context, e eventlog.Event) {
	e.Category, e.Actor, e.Source = eventlog.CategorySoftware, "system", "supervisor"
	if _, err := s.cfg.Recorder.Record(ctx, e); err != nil {
		s.log.Error("record security event", "code", e.Code, "err", err)
	}
}

func exitText(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exit status 0"
	case errors.As(err, &ee):
		return ee.String()
	default:
		return err.Error()
	}
}

func within(ts []time.Time, window time.Duration) []time.Time {
	cut := time.Now().Add(-window)
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	return ts[i:]
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

package device

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/medguard/medguard/internal/api"
	"github.com/medguard/medguard/internal/auth"
	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/notify"
)

// openNotify wires the notifier (clinical warnings, the admin inbox and
// its live stream) and the SIEM forwarders to the event log. Both only
// read the log: neither can slow or block the device.
func (d *Device) openNotify(ctx context.Context) (string, error) {
	c := d.cfg.Config
	n, err := notify.New(notify.Config{
		Source:        notify.LogSource(d.log),
		Recorder:      d.rec,
		InboxSize:     c.Notify.InboxSize,
		StreamClients: c.Notify.StreamClients,
		ReplayEvents:  c.Notify.ReplayEvents,
		Identify:      Identify,
		Logger:        d.logger.With("part", "notify"),
		Now:           d.now,
	})
	if err != nil {
		return "", err
	}
	d.notify = n
	d.onClose(n.Close)
	if err := MountNotifications(d.api, n); err != nil {
		return "", err
	}

	dests, err := forward.Destinations(c.Forward, d.store, d.keys.TLSCertificate)
	if err != nil {
		return "", err
	}
	fw, err := forward.New(forward.Config{
		Device:       c.Device.Name,
		Facility:     uint8(c.Forward.Facility),
		Destinations: dests,
		Source:       forward.LogSource(d.log),
		Recorder:     d.rec,
		Annotate:     n.Annotate,
		Logger:       d.logger.With("part", "forward"),
	})
	if err != nil {
		return "", err
	}
	d.forward = fw
	d.onClose(fw.Close)
	return fmt.Sprintf("%d notification kinds, %d SIEM destinations", len(notify.Catalog), len(dests)), nil
}

// MountNotifications adds the admin channel of n (inbox, acknowledgement,
// live stream) to the API under /v1/notifications, each route with its
// permission.
func MountNotifications(s *api.Server, n *notify.Notifier) error {
	h := http.StripPrefix("/v1/notifications", n.Handler())
	for _, r := range []struct {
		method, pattern string
		perm            auth.Permission
	}{
		{"GET", "/v1/notifications/{$}", auth.PermNotificationsRead},
		{"GET", "/v1/notifications/stream", auth.PermNotificationsRead},
		{"GET", "/v1/notifications/{id}", auth.PermNotificationsRead},
		{"POST", "/v1/notifications/{id}/ack", auth.PermNotificationsManage},
	} {
		if err := s.Handle(r.method, r.pattern, r.perm, h); err != nil {
			return err
		}
	}
	return nil
}

// Identify lets the notifier know who asks (notify.Config.Identify) for a
// request that passed the API's guard, which has already
// checked the route's permission; manage needs notifications.manage.
func Identify(r *http.Request, manage bool) (notify.Identity, error) {
	p := api.PrincipalFrom(r.Context())
	if p == nil {
		return notify.Identity{}, notify.ErrUnauthenticated
	}
	perm := auth.PermNotificationsRead
	if manage {
		perm = auth.PermNotificationsManage
	}
	if !p.Role.Allows(perm) {
		return notify.Identity{}, fmt.Errorf("%s may not %s: %w", p.Name, perm, notify.ErrForbidden)
	}
	return notify.Identity{User: p.Name, Source: p.Source}, nil
}

// runNotify starts the notifier and the forwarders in g.
func (d *Device) runNotify(ctx context.Context, g *errgroup.Group) {
	g.Go(func() error { return ignoreCanceled(d.notify.Run(ctx)) })
	g.Go(func() error { return ignoreCanceled(d.forward.Run(ctx)) })
	// The API reloads the certificate every minute (api.CertificateCache):
	// a replaced one is announced as often.
	w := &certWatch{get: d.keys.TLSCertificate, rec: d.rec, logger: d.logger.With("part", "certificate")}
	g.Go(func() error { return w.run(ctx, time.Minute) })
}

func ignoreCanceled(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

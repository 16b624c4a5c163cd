package forwardtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"filippo.io/age"

	"github.com/medguard/medguard/internal/eventlog"
	"github.com/medguard/medguard/internal/forward"
	"github.com/medguard/medguard/internal/keystore"
	"github.com/medguard/medguard/internal/keystore/keystoretest"
)

// OpenLog opens a real Security Event Log for device in a temporary
// directory (test key store backend, flood coalescing off) and returns it
// with the key that verifies it, as the device's exported verifier file
// would give it. The log is closed at the end of the test.
func OpenLog(t testing.TB, device string) (*eventlog.Log, forward.DeviceKey) {
	t.Helper()
	return OpenLogSize(t, device, 0)
}

// OpenLogSize is OpenLog with the log's size limit (0: the default).
func OpenLogSize(t testing.TB, device string, maxBytes int64) (*eventlog.Log, forward.DeviceKey) {
	t.Helper()
	dir := t.TempDir()
	ks, err := keystoretest.NewStore(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := eventlog.Open(eventlog.Config{Dir: filepath.Join(dir, "log"), Keys: ks, BootID: "boot-" + device,
		DeviceName: device, FloodBurst: -1, MaxBytes: maxBytes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	root, err := ks.Secret(keystore.ItemLogRootKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ks.IdentityPublic()
	if err != nil {
		t.Fatal(err)
	}
	return l, forward.DeviceKey{Device: device, RootKey: append([]byte(nil), root.Bytes()...), Public: pub}
}

// RecordN records n events into l from several goroutines (so that the
// log commits them in groups), each with a distinct message.
func RecordN(t testing.TB, l eventlog.Recorder, n int) {
	t.Helper()
	const writers = 64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				_, err := l.Record(context.Background(), eventlog.Event{Code: "system.test", Category: eventlog.CategorySystem,
					Severity: eventlog.SeverityInfo, Actor: "system", Source: "test", Message: fmt.Sprintf("test event %d", i)})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// Messages returns every entry of l as the messages a forwarder sends, in
// format f, one per string.
func Messages(t testing.TB, l *eventlog.Log, device string, f forward.Format) []string {
	t.Helper()
	src := forward.LogSource(l)
	var out []string
	for next := uint64(1); ; {
		es, err := src.Read(next, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			return out
		}
		for _, e := range es {
			m, err := f.Message(device, 13, e)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
			next = e.Event.Seq + 1
		}
	}
}

// WriteVerifierFile writes k as a log verifier file (the format of
// "medguard keys export-log-verifier", docs/keys.md), encrypted with age
// under passphrase at a low scrypt work factor so that tests stay fast.
func WriteVerifierFile(t testing.TB, path string, k forward.DeviceKey, passphrase string) {
	t.Helper()
	r, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	r.SetWorkFactor(10)
	var b bytes.Buffer
	w, err := age.Encrypt(&b, r)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.StdEncoding
	fmt.Fprintf(w, "medguard log verifier v1\ndevice: %s\ndevice-public-key: %s\nlog-root-key: %s\n",
		k.Device, enc.EncodeToString(k.Public), enc.EncodeToString(k.RootKey))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

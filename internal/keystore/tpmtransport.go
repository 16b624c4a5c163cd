package keystore

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
)

// tpmTimeout bounds one TPM command over TCP (swtpm). Real TPMs are
// reached through their character device, which has its own timeouts.
const tpmTimeout = 30 * time.Second

// maxTPMResponse bounds a response read from a TPM over TCP.
const maxTPMResponse = 8192

// openTPM opens the TPM named by device: a character device such as
// /dev/tpmrm0 (the kernel's resource manager: use it rather than
// /dev/tpm0), or tcp://HOST:PORT, the data port of swtpm.
func openTPM(device string) (transport.TPMCloser, error) {
	if addr, ok := strings.CutPrefix(device, "tcp://"); ok {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return nil, err
		}
		return &streamTPM{c: c}, nil
	}
	return linuxtpm.Open(device)
}

// streamTPM sends TPM commands over a byte stream (swtpm's data port),
// reading each response whole: its header says its length.
type streamTPM struct {
	c net.Conn
}

func (s *streamTPM) Send(cmd []byte) ([]byte, error) {
	if err := s.c.SetDeadline(time.Now().Add(tpmTimeout)); err != nil {
		return nil, err
	}
	if _, err := s.c.Write(cmd); err != nil {
		return nil, fmt.Errorf("send TPM command: %w", err)
	}
	// Response header: tag (2), size (4), response code (4).
	var hdr [10]byte
	if _, err := io.ReadFull(s.c, hdr[:]); err != nil {
		return nil, fmt.Errorf("read TPM response: %w", err)
	}
	size := binary.BigEndian.Uint32(hdr[2:6])
	if size < uint32(len(hdr)) || size > maxTPMResponse {
		return nil, fmt.Errorf("read TPM response: bad size %d", size)
	}
	rsp := make([]byte, size)
	copy(rsp, hdr[:])
	if _, err := io.ReadFull(s.c, rsp[len(hdr):]); err != nil {
		return nil, fmt.Errorf("read TPM response: %w", err)
	}
	return rsp, nil
}

func (s *streamTPM) Close() error { return s.c.Close() }

package auth

import (
	"bytes"

	"github.com/medguard/medguard/internal/state"
)

type stateTx = state.Tx

func bytesContain(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }

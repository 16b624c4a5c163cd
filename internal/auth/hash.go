package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters (RFC 9106). OWASP's minimum is
// 19 MiB, 2 passes, 1 lane.
type Params struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes
}

// Limits on parameters read from a PHC string, so that a damaged record
// cannot make one verification take a gigabyte or an hour.
const (
	maxMemoryKiB = 1 << 20
	maxTime      = 64
	maxThreads   = 16
	saltLen      = 16
	keyLen       = 32
)

func (p Params) valid() error {
	if p.Time < 1 || p.Time > maxTime || p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB || p.Threads < 1 || p.Threads > maxThreads {
		return fmt.Errorf("argon2id parameters m=%d,t=%d,p=%d out of range", p.MemoryKiB, p.Time, p.Threads)
	}
	return nil
}

// PHC is a password hash in the PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$SALT$HASH (unpadded standard base64).
type PHC struct {
	Params Params
	Salt   []byte
	Key    []byte
}

// hashPassword derives a new PHC string for password with fresh salt.
func hashPassword(password string, p Params) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return PHC{Params: p, Salt: salt, Key: key}.String()
}

// String formats h as a PHC string.
func (h PHC) String() string {
	b := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.Params.MemoryKiB, h.Params.Time, h.Params.Threads, b.EncodeToString(h.Salt), b.EncodeToString(h.Key))
}

// Verify reports in constant time whether password matches h.
func (h PHC) Verify(password string) bool {
	key := argon2.IDKey([]byte(password), h.Salt, h.Params.Time, h.Params.MemoryKiB, h.Params.Threads, uint32(len(h.Key)))
	return subtle.ConstantTimeCompare(key, h.Key) == 1
}

// ParsePHC parses an argon2id PHC string strictly: the algorithm, version
// 19, the three parameters in order and within limits, an 8 to 64 byte salt
// and a 16 to 64 byte hash.
func ParsePHC(s string) (PHC, error) {
	fail := func(what string) (PHC, error) { return PHC{}, fmt.Errorf("parse password hash: %s", what) }
	if len(s) > 512 {
		return fail("longer than 512 bytes")
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return fail("want 5 fields separated by '$'")
	}
	if f[1] != "argon2id" {
		return fail("algorithm is not argon2id")
	}
	if f[2] != "v=19" {
		return fail("version is not 19")
	}
	var h PHC
	ps := strings.Split(f[3], ",")
	if len(ps) != 3 {
		return fail("want parameters m=,t=,p=")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(ps[i], name)
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
			return fail("parameter " + name[:1] + " missing or malformed")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return fail("parameter " + name[:1] + " is not a number")
		}
		vals[i] = n
	}
	if vals[2] > maxThreads {
		return fail("parameter p out of range")
	}
	h.Params = Params{MemoryKiB: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2])}
	if err := h.Params.valid(); err != nil {
		return fail(err.Error())
	}
	var err error
	if h.Salt, err = base64.RawStdEncoding.Strict().DecodeString(f[4]); err != nil || len(h.Salt) < 8 || len(h.Salt) > 64 {
		return fail("salt is not 8 to 64 bytes of unpadded base64")
	}
	if h.Key, err = base64.RawStdEncoding.Strict().DecodeString(f[5]); err != nil || len(h.Key) < 16 || len(h.Key) > 64 {
		return fail("hash is not 16 to 64 bytes of unpadded base64")
	}
	return h, nil
}

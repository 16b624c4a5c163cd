package integrity

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// PayloadType is the DSSE payload type of a signed manifest; an envelope
// of another type is refused, so that a signature made for something else
// cannot be replayed as a manifest.
const PayloadType = "application/vnd.medguard.manifest+json"

// maxSignatures bounds the signatures of one envelope.
const maxSignatures = 16

// Sign returns the signed manifest: m in a DSSE envelope signed by every
// signer, as JSON.
func Sign(ctx context.Context, m *Manifest, signers ...Signer) ([]byte, error) {
	if len(signers) == 0 {
		return nil, errors.New("sign manifest: no signer")
	}
	body, err := m.Marshal()
	if err != nil {
		return nil, fmt.Errorf("sign manifest: %w", err)
	}
	ds := make([]dsse.Signer, len(signers))
	for i, s := range signers {
		ds[i] = s
	}
	es, err := dsse.NewEnvelopeSigner(ds...)
	if err != nil {
		return nil, fmt.Errorf("sign manifest: %w", err)
	}
	env, err := es.SignPayload(ctx, PayloadType, body)
	if err != nil {
		return nil, fmt.Errorf("sign manifest: %w", err)
	}
	return json.MarshalIndent(env, "", " ")
}

// ParseEnvelope decodes a DSSE envelope strictly (size limit, unknown
// fields, trailing data, number of signatures). It does not verify it.
func ParseEnvelope(data []byte) (*dsse.Envelope, error) {
	if len(data) > MaxEnvelopeSize {
		return nil, securityf(ReasonBadSignature, "envelope of %d bytes exceeds the limit of %d", len(data), MaxEnvelopeSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var env dsse.Envelope
	if err := dec.Decode(&env); err != nil {
		return nil, &SecurityError{Reason: ReasonBadSignature, Msg: "envelope is not valid DSSE JSON", Err: err}
	}
	if dec.More() {
		return nil, securityf(ReasonBadSignature, "trailing data after the envelope")
	}
	if env.PayloadType != PayloadType {
		return nil, securityf(ReasonBadSignature, "payload type %q, want %q", env.PayloadType, PayloadType)
	}
	if n := len(env.Signatures); n == 0 || n > maxSignatures {
		return nil, securityf(ReasonBadSignature, "%d signatures (want 1 to %d)", n, maxSignatures)
	}
	return &env, nil
}

// Verified is a manifest whose envelope verified.
type Verified struct {
	Manifest *Manifest
	// Signers are the IDs of the trusted keys whose signatures verified.
	Signers []string
}

// OpenEnvelope verifies a signed manifest against the trusted keys and
// returns the manifest if at least threshold distinct trusted keys signed
// it. It does not check the security version (see Checker).
//
// IEC 62443-4-2 CR 3.4 / EDR 3.12: software is accepted only with the
// maker's signatures.
func OpenEnvelope(ctx context.Context, data []byte, trusted []PublicKey, threshold int) (*Verified, error) {
	if threshold < 1 || threshold > len(trusted) {
		return nil, fmt.Errorf("open manifest: threshold %d with %d trusted keys", threshold, len(trusted))
	}
	seen := map[string]bool{}
	for _, k := range trusted {
		if seen[k.ID()] {
			return nil, fmt.Errorf("open manifest: trusted key %s given twice (it would count twice toward the threshold)", k.ID())
		}
		seen[k.ID()] = true
	}
	env, err := ParseEnvelope(data)
	if err != nil {
		return nil, err
	}
	vs := make([]dsse.Verifier, len(trusted))
	for i, k := range trusted {
		vs[i] = verifier{k}
	}
	ev, err := dsse.NewMultiEnvelopeVerifier(threshold, vs...)
	if err != nil {
		return nil, fmt.Errorf("open manifest: %w", err)
	}
	accepted, body, err := ev.VerifyAndDecode(ctx, env)
	if err != nil {
		if len(accepted) > 0 {
			return nil, &SecurityError{Reason: ReasonThreshold,
				Msg: fmt.Sprintf("signed by %d trusted key(s), %d required", len(accepted), threshold), Err: err}
		}
		return nil, &SecurityError{Reason: ReasonBadSignature, Msg: "no signature by a trusted key verifies", Err: err}
	}
	m, err := ParseManifest(body)
	if err != nil {
		return nil, &SecurityError{Reason: ReasonMalformed, Msg: "signed payload is not a valid manifest", Err: err}
	}
	v := &Verified{Manifest: m}
	for _, a := range accepted {
		v.Signers = append(v.Signers, a.KeyID)
	}
	return v, nil
}

// Cosign adds signer's signature to a signed manifest, so that signers
// can sign one after the other on their own machines (a release that needs
// two of three). The payload must be a valid manifest; a key that already
// signed is refused.
func Cosign(ctx context.Context, envelope []byte, signer Signer) ([]byte, error) {
	env, err := ParseEnvelope(envelope)
	if err != nil {
		return nil, err
	}
	body, err := env.DecodeB64Payload()
	if err != nil {
		return nil, &SecurityError{Reason: ReasonBadSignature, Msg: "payload is not base64", Err: err}
	}
	if _, err := ParseManifest(body); err != nil {
		return nil, &SecurityError{Reason: ReasonMalformed, Msg: "payload is not a valid manifest", Err: err}
	}
	id, _ := signer.KeyID()
	for _, s := range env.Signatures {
		if s.KeyID == id {
			return nil, fmt.Errorf("cosign manifest: key %s already signed it", id)
		}
	}
	if len(env.Signatures) >= maxSignatures {
		return nil, fmt.Errorf("cosign manifest: already %d signatures", len(env.Signatures))
	}
	sig, err := signer.Sign(ctx, dsse.PAE(env.PayloadType, body))
	if err != nil {
		return nil, fmt.Errorf("cosign manifest: %w", err)
	}
	env.Signatures = append(env.Signatures, dsse.Signature{KeyID: id, Sig: base64.StdEncoding.EncodeToString(sig)})
	return json.MarshalIndent(env, "", " ")
}

package config

import "path/filepath"

// KeyStore is the [keystore] table.
type KeyStore struct {
	Backend   string `toml:"backend" doc:"How keys are sealed: \"tpm\" (keys sealed to the device's TPM 2.0) or \"sealed-file\" (AES-256-GCM under a key-encryption key read from kek_file; for devices without a TPM; see docs/keys.md). Default: tpm."`
	TPMDevice string `toml:"tpm_device" doc:"The TPM: a character device (/dev/tpmrm0) or, for testing with swtpm, tcp://HOST:PORT of its data port. Default: /dev/tpmrm0."`
	TPMPCRs   []int  `toml:"tpm_pcrs" doc:"SHA-256 PCR indices (0 to 23) the sealed keys are bound to: if any of these PCRs changes (other firmware, boot loader or kernel), the keys no longer unseal. Empty: not bound to PCRs. Default: [7] (the Secure Boot policy)."`
	KEKFile   string `toml:"kek_file" doc:"For the sealed-file backend: an absolute path to a file of at least 32 random bytes, on a partition that only root can read, used as the key-encryption key. Required when backend is sealed-file."`
}

func defaultKeyStore() KeyStore {
	return KeyStore{Backend: "tpm", TPMDevice: "/dev/tpmrm0", TPMPCRs: []int{7}}
}

func (k *KeyStore) validate() []FieldError {
	errs := oneOf("keystore.backend", k.Backend, "tpm", "sealed-file")
	for _, p := range k.TPMPCRs {
		errs = append(errs, inRange("keystore.tpm_pcrs", p, 0, 23)...)
	}
	if k.Backend == "sealed-file" && !filepath.IsAbs(k.KEKFile) {
		errs = append(errs, FieldError{Key: "keystore.kek_file", Msg: "must be an absolute path when backend is sealed-file"})
	}
	return errs
}

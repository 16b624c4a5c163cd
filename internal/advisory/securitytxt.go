package advisory

import "github.com/medguard/medguard/internal/disclosure"

// SecurityTxtOptions are the fields of an RFC 9116 security.txt (package
// disclosure, which the daemon uses without the advisory libraries).
type SecurityTxtOptions = disclosure.SecurityTxtOptions

// SecurityTxt renders an RFC 9116 security.txt, checked; see
// disclosure.SecurityTxt.
var SecurityTxt = disclosure.SecurityTxt

// SecurityTxtFields parses a security.txt into its fields; see
// disclosure.SecurityTxtFields.
var SecurityTxtFields = disclosure.SecurityTxtFields

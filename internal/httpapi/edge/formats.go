package edge

import (
	"errors"
	"net/mail"

	"github.com/getkin/kin-openapi/openapi3"
)

// kin-openapi asserts only the formats it knows; these are the ones the spec relies on, and the
// request fast path (fastParam) checks with the very same functions.
var formatChecks = map[string]func(string) error{"uuid": checkUUID, "email": checkEmail}

func init() {
	for name, check := range formatChecks {
		openapi3.DefineStringFormatCallback(name, check)
	}
}

// checkUUID accepts the canonical text form of a UUID of any version (the service issues version 7).
func checkUUID(s string) error {
	if len(s) != 36 {
		return errNotUUID
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return errNotUUID
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return errNotUUID
			}
		}
	}
	return nil
}

var errNotUUID = errors.New("must be a UUID")

func checkEmail(s string) error {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s {
		return errors.New("must be an email address")
	}
	return nil
}

package httpapi

import (
	"errors"
	"net/mail"
	"regexp"

	"github.com/getkin/kin-openapi/openapi3"
)

// kin-openapi asserts only the formats it knows; these are the ones the spec relies on. UUIDs of any
// version are accepted (the service issues version 7).
var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func init() {
	openapi3.DefineStringFormatCallback("uuid", func(s string) error {
		if !uuidPattern.MatchString(s) {
			return errors.New("must be a UUID")
		}
		return nil
	})
	openapi3.DefineStringFormatCallback("email", func(s string) error {
		addr, err := mail.ParseAddress(s)
		if err != nil || addr.Address != s {
			return errors.New("must be an email address")
		}
		return nil
	})
}

package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/storefront/storefront/internal/events"
)

// Deliveries follow the Standard Webhooks specification (v1): the headers webhook-id (the event id,
// the same on every retry), webhook-timestamp (Unix seconds) and webhook-signature, a space-separated
// list of "v1,<base64 HMAC-SHA256 of id.timestamp.body>", one per signing key.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"

	secretPrefix = "whsec_"
	secretBytes  = 32
)

// NewSecret makes a signing key.
func NewSecret() ([]byte, error) {
	b := make([]byte, secretBytes)
	_, err := rand.Read(b)
	return b, err
}

// FormatSecret is the key as shown to the endpoint's owner: "whsec_" and the key in base64.
func FormatSecret(key []byte) string { return secretPrefix + base64.StdEncoding.EncodeToString(key) }

// ParseSecret is FormatSecret's inverse.
func ParseSecret(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return nil, errors.New("a signing secret starts with " + secretPrefix)
	}
	return base64.StdEncoding.DecodeString(rest)
}

// Sign is the webhook-signature value for a message signed with each of keys.
func Sign(keys [][]byte, id string, ts time.Time, body []byte) string {
	sigs := make([]string, 0, len(keys))
	unix := strconv.FormatInt(ts.Unix(), 10)
	for _, k := range keys {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(unix))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

// payload is the body of a delivery: the Standard Webhooks shape, with the changed fields of an update.
type payload struct {
	Type          events.Type     `json:"type"`
	Timestamp     string          `json:"timestamp"`
	Data          json.RawMessage `json:"data"`
	ChangedFields []string        `json:"changed_fields,omitempty"`
}

// Body is the JSON body every delivery of e carries.
func Body(e events.Event) ([]byte, error) {
	return json.Marshal(payload{Type: e.Type, Timestamp: e.CreatedAt.UTC().Format(time.RFC3339Nano), Data: e.Data,
		ChangedFields: e.ChangedFields})
}

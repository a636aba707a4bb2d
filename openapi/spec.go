// Package openapi embeds the contract exactly as written, for serving at /openapi.yaml.
package openapi

import _ "embed"

// YAML is openapi.yaml, byte for byte.
//
//go:embed openapi.yaml
var YAML []byte

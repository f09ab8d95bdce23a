package ecstest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// The SDK-HMAC-SHA256 scheme as the API Gateway verifies it. This is the
// simulator's own implementation, checked against the known-answer vectors of
// the API reference; it deliberately shares no code with ecsclient's signer.
const (
	signAlgorithm   = "SDK-HMAC-SHA256"
	sdkDateLayout   = "20060102T150405Z"
	emptyBodySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// unreserved reports whether c is kept verbatim by the signing escape:
// A-Z, a-z, 0-9, '-', '_', '.', '~'.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// appendEscaped appends s percent-encoded with upper-case hex, keeping only
// unreserved bytes (so a space becomes %20).
func appendEscaped(b *strings.Builder, s string) {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
}

// writeCanonicalURI writes the canonical form of a decoded URL path: every
// segment escaped, re-joined with '/', with a '/' appended when missing.
func writeCanonicalURI(b *strings.Builder, path string) {
	if path == "" {
		b.WriteByte('/')
		return
	}
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		appendEscaped(b, seg)
	}
	if !strings.HasSuffix(path, "/") {
		b.WriteByte('/')
	}
}

type queryPair struct{ key, value string }

// writeCanonicalQuery writes the canonical query string of a raw query: keys
// sorted, the values of one key sorted, each escaped, joined as k=v with '&'.
func writeCanonicalQuery(b *strings.Builder, rawQuery string) error {
	if rawQuery == "" {
		return nil
	}
	var pairs []queryPair
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return fmt.Errorf("query key %q: %w", k, err)
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return fmt.Errorf("query value of %q: %w", key, err)
		}
		pairs = append(pairs, queryPair{key, value})
	}
	slices.SortFunc(pairs, func(a, b queryPair) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		appendEscaped(b, p.key)
		b.WriteByte('=')
		appendEscaped(b, p.value)
	}
	return nil
}

// canonicalInput is what a canonical request is computed from.
type canonicalInput struct {
	method   string
	path     string // decoded URL path
	rawQuery string
	signed   []string                 // the client's SignedHeaders, in its order
	value    func(name string) string // header value by lower-case name
	bodyHash string                   // hex SHA-256 of the body, or X-Sdk-Content-Sha256
}

// canonicalRequest returns the canonical request: method, canonical URI,
// canonical query, one "name:trimmed-value" line per signed header, a blank
// line, the signed header list and the body hash, separated by newlines.
func canonicalRequest(in canonicalInput) (string, error) {
	var b strings.Builder
	b.Grow(256)
	b.WriteString(in.method)
	b.WriteByte('\n')
	writeCanonicalURI(&b, in.path)
	b.WriteByte('\n')
	if err := writeCanonicalQuery(&b, in.rawQuery); err != nil {
		return "", err
	}
	b.WriteByte('\n')
	for _, name := range in.signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(in.value(name)))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	for i, name := range in.signed {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(name)
	}
	b.WriteByte('\n')
	b.WriteString(in.bodyHash)
	return b.String(), nil
}

// hexSHA256 returns the lower-case hex SHA-256 of b.
func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

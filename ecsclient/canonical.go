package ecsclient

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// The pieces of the SDK-HMAC-SHA256 algorithm, kept free of I/O so the
// known-answer tests can drive each step on its own.

const (
	signAlgorithm   = "SDK-HMAC-SHA256"
	sdkDateLayout   = "20060102T150405Z"
	headerSdkDate   = "X-Sdk-Date"
	headerSdkSHA256 = "X-Sdk-Content-Sha256"
	headerProjectID = "X-Project-Id"
	headerSecToken  = "X-Security-Token"
	headerRequestID = "X-Request-Id"
)

// emptySHA256 is hex(sha256("")), the payload hash of a request without a body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// signedHeaderNames returns the names the SDK signs: every header name,
// lower-cased and sorted, except names starting with "content-type" and
// names containing "_". Host is not in an [http.Header] and so not signed.
func signedHeaderNames(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "content-type") || strings.Contains(lk, "_") || lk == "host" {
			continue
		}
		if !slices.Contains(names, lk) {
			names = append(names, lk)
		}
	}
	slices.Sort(names)
	return names
}

// canonicalURI splits the decoded path on "/", escapes each segment and
// appends the trailing slash the algorithm requires. The path on the wire
// keeps its own form; only the string that is signed changes.
func canonicalURI(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = escapeSigning(s)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// canonicalQuery sorts keys, then the values of each key (both unescaped),
// and joins the escaped key=value pairs with "&".
func canonicalQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		vals := slices.Clone(q[k])
		slices.Sort(vals)
		ek := escapeSigning(k)
		for _, v := range vals {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek)
			b.WriteByte('=')
			b.WriteString(escapeSigning(v))
		}
	}
	return b.String()
}

// canonicalHeaders writes "name:trimmed-value\n" for every value of every
// signed header (values of one name sorted), looking names up without
// regard to case.
func canonicalHeaders(h http.Header, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		var vals []string
		for k, vs := range h {
			if strings.EqualFold(k, name) {
				vals = append(vals, vs...)
			}
		}
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteString(name)
			b.WriteByte(':')
			b.WriteString(strings.TrimSpace(v))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// canonicalRequest assembles the six lines that are hashed into the string
// to sign. The header block ends with its own newline, so a blank line
// separates it from the signed header list, as in the SDK.
func canonicalRequest(method, uri, query, headers string, signed []string, payloadHash string) string {
	var b strings.Builder
	b.Grow(len(method) + len(uri) + len(query) + len(headers) + 128)
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	b.WriteString(headers)
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// stringToSign is the algorithm name, the X-Sdk-Date value and the hex
// SHA-256 of the canonical request, one per line.
func stringToSign(canonical, sdkDate string) string {
	return signAlgorithm + "\n" + sdkDate + "\n" + hexSHA256([]byte(canonical))
}

// signature is hex(HMAC-SHA256(secret key, string to sign)); there is no key
// derivation in this algorithm.
func signature(secretKey, toSign string) string {
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write([]byte(toSign))
	return hex.EncodeToString(m.Sum(nil))
}

// authorizationValue is the Authorization header value the gateway expects.
func authorizationValue(accessKey string, signed []string, sig string) string {
	return signAlgorithm + " Access=" + accessKey + ", SignedHeaders=" + strings.Join(signed, ";") + ", Signature=" + sig
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// escapeSigning percent-encodes every byte except A-Z a-z 0-9 - _ . ~ with
// upper-case hex, so a space becomes %20 (never "+").
func escapeSigning(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	buf := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			buf = append(buf, c)
			continue
		}
		buf = append(buf, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(buf)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

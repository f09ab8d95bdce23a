package ecstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coldmove/coldmove/secret"
)

// DefaultMaxClockSkew is how far X-Sdk-Date may be from the gateway clock
// before a signature counts as expired.
const DefaultMaxClockSkew = 15 * time.Minute

const authPrefix = "Incorrect IAM authentication information: "

// authenticator is the simulated API Gateway's IAM check.
type authenticator struct {
	mu      sync.RWMutex
	keys    map[string]*accessKey // by access key
	tokens  map[string]struct{}   // accepted X-Auth-Token values
	maxSkew time.Duration
}

// accessKey is an accepted credential with a pool of HMACs keyed by its
// secret, so that verifying a request allocates no new HMAC.
type accessKey struct {
	cred Credential
	macs sync.Pool // of hash.Hash
}

func newAuthenticator(maxSkew time.Duration) *authenticator {
	if maxSkew <= 0 {
		maxSkew = DefaultMaxClockSkew
	}
	return &authenticator{keys: map[string]*accessKey{}, tokens: map[string]struct{}{}, maxSkew: maxSkew}
}

func (a *authenticator) addCredential(c Credential) {
	k := &accessKey{cred: c}
	k.macs.New = func() any { return hmac.New(sha256.New, []byte(c.SecretKey.Reveal())) }
	a.mu.Lock()
	defer a.mu.Unlock()
	a.keys[c.AccessKey.Reveal()] = k
}

// signatureMatches reports whether sig (hex) is the signature of canonical
// made at sdkDate with this key, with one small allocation.
func (k *accessKey) signatureMatches(sdkDate, canonical, sig string) bool {
	var got [sha256.Size]byte
	if !decodeHex(got[:], sig) {
		return false
	}
	sum := sha256.Sum256([]byte(canonical))
	// The string to sign: algorithm, date and hex(sha256(canonical)), one per
	// line. The buffer then takes the HMAC, reusing its room.
	buf := make([]byte, 0, len(signAlgorithm)+len(sdkDate)+2+2*sha256.Size)
	buf = append(buf, signAlgorithm+"\n"...)
	buf = append(buf, sdkDate...)
	buf = append(buf, '\n')
	buf = hex.AppendEncode(buf, sum[:])
	m := k.macs.Get().(hash.Hash)
	defer k.macs.Put(m)
	m.Reset()
	m.Write(buf)
	return hmac.Equal(m.Sum(buf[:0]), got[:])
}

// decodeHex decodes exactly len(dst) bytes of hex from s, either case.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := fromHex(s[2*i])
		lo, ok2 := fromHex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (a *authenticator) addToken(token secret.String) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens[token.Reveal()] = struct{}{}
}

func (a *authenticator) key(ak string) (*accessKey, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	k, ok := a.keys[ak]
	return k, ok
}

func (a *authenticator) tokenKnown(token string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, ok := a.tokens[token]
	return ok
}

// authFailure returns the 401 APIGW.0301 answer with the given reason.
func authFailure(reason string) *apiError {
	return gatewayError(http.StatusUnauthorized, codeAuthFailed, "%s%s", authPrefix, reason)
}

// authorization is a parsed SDK-HMAC-SHA256 Authorization header.
type authorization struct {
	access        string
	signedHeaders []string
	signature     string
}

// parseAuthorization parses
// "SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex".
func parseAuthorization(v string) (authorization, string) {
	rest, ok := strings.CutPrefix(v, signAlgorithm+" ")
	if !ok {
		return authorization{}, "unsupported authorization scheme, want " + signAlgorithm
	}
	var a authorization
	for field := range strings.SplitSeq(rest, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(field), "=")
		switch k {
		case "Access":
			a.access = val
		case "SignedHeaders":
			if val != "" {
				a.signedHeaders = strings.Split(val, ";")
			}
		case "Signature":
			a.signature = val
		}
	}
	switch {
	case a.access == "":
		return a, "Access is missing from the Authorization header"
	case len(a.signedHeaders) == 0:
		return a, "SignedHeaders is missing from the Authorization header"
	case a.signature == "":
		return a, "Signature is missing from the Authorization header"
	}
	return a, ""
}

// verify authenticates r, whose body has already been read, at gateway time
// now. It returns nil when the request may proceed.
func (a *authenticator) verify(r *http.Request, body []byte, now time.Time) *apiError {
	raw := r.Header.Get("Authorization")
	if raw == "" {
		tok := r.Header.Get("X-Auth-Token")
		if tok == "" {
			return authFailure("the request carries neither an Authorization header nor an X-Auth-Token")
		}
		if !a.tokenKnown(tok) {
			return authFailure("the X-Auth-Token is invalid or expired")
		}
		return nil
	}
	auth, problem := parseAuthorization(raw)
	if problem != "" {
		return authFailure(problem)
	}
	key, ok := a.key(auth.access)
	if !ok {
		return authFailure("the access key does not exist")
	}
	for _, h := range auth.signedHeaders {
		if h != strings.ToLower(h) || h == "" {
			return authFailure("SignedHeaders must be non-empty lower-case header names")
		}
	}
	if !slices.Contains(auth.signedHeaders, "x-sdk-date") {
		return authFailure("x-sdk-date must be one of the SignedHeaders")
	}
	rawDate := r.Header.Get("X-Sdk-Date")
	date, err := time.Parse(sdkDateLayout, rawDate)
	if err != nil {
		return authFailure("X-Sdk-Date " + strconv.Quote(rawDate) + " is not in the format " + sdkDateLayout)
	}
	if skew := now.Sub(date); skew > a.maxSkew || skew < -a.maxSkew {
		return authFailure("the signature has expired: X-Sdk-Date is more than " + a.maxSkew.String() + " from the server time")
	}
	bodyHash := r.Header.Get("X-Sdk-Content-Sha256")
	switch {
	case bodyHash != "":
	case len(body) == 0:
		bodyHash = emptyBodySHA256
	default:
		bodyHash = hexSHA256(body)
	}
	in := canonicalInput{
		method:   r.Method,
		path:     r.URL.Path,
		rawQuery: r.URL.RawQuery,
		signed:   auth.signedHeaders,
		value:    func(name string) string { return headerValue(r, name) },
		bodyHash: bodyHash,
	}
	canonical, err := canonicalRequest(in)
	if err != nil {
		return authFailure("the query string cannot be canonicalised: " + err.Error())
	}
	if !key.signatureMatches(rawDate, canonical, auth.signature) {
		in.value = func(name string) string { return redactedHeaderValue(r, name) }
		shown, _ := canonicalRequest(in) // same input: cannot fail now
		return authFailure("verify aksk signature fail, canonicalRequest: " + strings.ReplaceAll(shown, "\n", "|"))
	}
	cred, got := key.cred, r.Header.Get("X-Security-Token")
	switch {
	case cred.SecurityToken == "" && got != "":
		return authFailure("a security token was sent with a permanent access key")
	case cred.SecurityToken != "" && subtle.ConstantTimeCompare([]byte(got), []byte(cred.SecurityToken.Reveal())) != 1:
		return authFailure("the security token is missing or invalid")
	}
	return nil
}

// canonicalNames maps the lower-case names clients usually sign to their
// canonical MIME form, sparing a canonicalisation (and an allocation) per
// header per request.
var canonicalNames = map[string]string{
	"x-sdk-date": "X-Sdk-Date", "user-agent": "User-Agent", "x-project-id": "X-Project-Id",
	"x-security-token": "X-Security-Token", "content-type": "Content-Type", "accept": "Accept",
	"x-sdk-content-sha256": "X-Sdk-Content-Sha256", "x-language": "X-Language",
}

// headerValue returns the value of a signed header as the gateway sees it.
func headerValue(r *http.Request, name string) string {
	if k, ok := canonicalNames[name]; ok {
		if v := r.Header[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	switch name {
	case "host":
		return r.Host
	case "content-length":
		if v := r.Header.Get(name); v != "" {
			return v
		}
		if r.ContentLength >= 0 {
			return strconv.FormatInt(r.ContentLength, 10)
		}
		return ""
	}
	return r.Header.Get(name)
}

// redactedHeaderValue is headerValue with credential headers hidden, for the
// canonical request shown in an error message.
func redactedHeaderValue(r *http.Request, name string) string {
	switch name {
	case "x-security-token", "x-auth-token", "authorization":
		return "***"
	}
	return headerValue(r, name)
}

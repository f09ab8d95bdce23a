package ecsclient

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Signer is an [http.RoundTripper] that signs each request with AK/SK
// (SDK-HMAC-SHA256) before passing it to Base.
//
// RoundTrip never modifies the caller's request: it clones it, reads the
// body once and sends exactly the bytes it hashed. It sets X-Sdk-Date (unless
// the request carries a valid one), X-Project-Id (when ProjectID is set and
// the request has none), X-Security-Token (for temporary credentials) and
// Authorization. Because every round trip signs afresh, a retried request is
// re-signed with a new date.
//
// A Signer may be printed, logged and encoded as it is: its [Credentials]
// show only redacted forms.
type Signer struct {
	// Credentials are the key pair that signs.
	Credentials Credentials
	// ProjectID, when set, is sent as X-Project-Id on requests without one.
	ProjectID string
	// Base carries the signed request; nil means [http.DefaultTransport].
	Base http.RoundTripper

	now func() time.Time // clock hook; nil means time.Now
}

var _ http.RoundTripper = (*Signer)(nil)

// errSignerNoCredentials is returned when a [Signer] has no key pair.
var errSignerNoCredentials = errors.New("ecsclient: signer: access key and secret key are required")

// RoundTrip signs a clone of req and sends it with Base. Like every
// [http.RoundTripper] it closes req.Body, also on errors.
func (s *Signer) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := drainBody(req)
	if err != nil {
		return nil, fmt.Errorf("ecsclient: signer: read request body: %w", err)
	}
	if !s.Credentials.Valid() {
		return nil, errSignerNoCredentials
	}
	out := req.Clone(req.Context())
	setBody(out, body)
	if err := s.sign(out, body); err != nil {
		return nil, err
	}
	return s.base().RoundTrip(out)
}

// sign adds the date, project, token and Authorization headers to r, whose
// body bytes are body. It is separate from RoundTrip for the benchmarks.
func (s *Signer) sign(r *http.Request, body []byte) error {
	r.Header.Del("Authorization")
	date := r.Header.Get(headerSdkDate)
	if _, err := time.Parse(sdkDateLayout, date); err != nil {
		date = s.clock().UTC().Format(sdkDateLayout)
		r.Header.Set(headerSdkDate, date)
	}
	if s.ProjectID != "" && r.Header.Get(headerProjectID) == "" {
		r.Header.Set(headerProjectID, s.ProjectID)
	}
	if tok := s.Credentials.SecurityToken; tok != "" {
		r.Header.Set(headerSecToken, tok.Reveal())
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fmt.Errorf("ecsclient: signer: query string cannot be canonicalized: %w", err)
	}
	payload := r.Header.Get(headerSdkSHA256)
	if payload == "" {
		payload = hexSHA256(body)
	}
	signed := signedHeaderNames(r.Header)
	canon := canonicalRequest(r.Method, canonicalURI(r.URL.Path), canonicalQuery(query),
		canonicalHeaders(r.Header, signed), signed, payload)
	sig := signature(s.Credentials.SecretKey.Reveal(), stringToSign(canon, date))
	r.Header.Set("Authorization", authorizationValue(s.Credentials.AccessKey.Reveal(), signed, sig))
	return nil
}

func (s *Signer) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *Signer) base() http.RoundTripper {
	if s.Base != nil {
		return s.Base
	}
	return http.DefaultTransport
}

// Format implements [fmt.Formatter] by printing s's fields, whose
// Credentials redact themselves. It is needed for the reason given at
// [Credentials.Format]: a *Signer is often inside another value (an
// [http.Client]'s Transport).
func (s Signer) Format(f fmt.State, verb rune) {
	type signer Signer // the fields without this method
	fmt.Fprintf(f, fmt.FormatString(f, verb), signer(s))
}

// drainBody reads and closes req.Body, returning the bytes (nil when there
// is no body).
func drainBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

// setBody gives r a body of exactly b, rewindable for the transport's own
// replays.
func setBody(r *http.Request, b []byte) {
	r.ContentLength = int64(len(b))
	if len(b) == 0 {
		r.Body = http.NoBody
		r.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

package ecsclient

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The known-answer vectors V1 and V2 come from the official Go SDK's signer
// tests, V3 from Huawei Cloud's API signing guide; all three were recomputed
// independently (see shared/reference/huaweicloud-ecs-api.md §5).

func TestSigner_knownAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		method   string
		url      string
		body     string
		headers  map[string]string
		wantAuth string
	}{
		{
			name:   "V1 GET, empty body, underscore header not signed",
			method: http.MethodGet,
			url:    "https://example.huaweicloud.com/path?limit=1",
			headers: map[string]string{
				"X-Sdk-Date":      "20060102T150405Z",
				"TEST_UNDERSCORE": "TEST_VALUE",
			},
			wantAuth: "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, " +
				"Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624",
		},
		{
			name:   "V2 POST, JSON body with trailing newline, content-type not signed",
			method: http.MethodPost,
			url:    "https://example.huaweicloud.com/path?key=value",
			body:   "{\"Name\":\"test\",\"Id\":1}\n",
			headers: map[string]string{
				"X-Sdk-Date":      "20060102T150405Z",
				"TEST_UNDERSCORE": "TEST_VALUE",
				"Content-Type":    "application/json",
			},
			wantAuth: "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, " +
				"Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req := httptest.NewRequest(tc.method, tc.url, body)
			for k, v := range tc.headers {
				req.Header[k] = []string{v} // as given, like the SDK's header map
			}
			got := captureSigned(t, &Signer{Credentials: Credentials{AccessKey: "AccessKey", SecretKey: "SecretKey"}}, req)
			if diff := cmp.Diff(tc.wantAuth, got.Header.Get("Authorization")); diff != "" {
				t.Errorf("Authorization mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCanonical_V3(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Host", "service.region.example.com")
	h.Set("X-Sdk-Date", "20191115T033655Z")
	signed := []string{"content-type", "host", "x-sdk-date"}
	q, err := url.ParseQuery("limit=2&marker=13551d6b-755d-4757-b956-536f674975c0")
	if err != nil {
		t.Fatal(err)
	}
	canon := canonicalRequest(http.MethodGet, canonicalURI("/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"),
		canonicalQuery(q), canonicalHeaders(h, signed), signed, hexSHA256(nil))
	if got, want := hexSHA256([]byte(canon)), "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"; got != want {
		t.Errorf("hash of canonical request = %s, want %s\ncanonical request:\n%s", got, want, canon)
	}
	sig := signature("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc", stringToSign(canon, "20191115T033655Z"))
	if want := "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"; sig != want {
		t.Errorf("signature = %s, want %s", sig, want)
	}
}

func TestCanonicalQuery_sdkVector(t *testing.T) {
	t.Parallel()
	const want = "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"
	v := url.Values{
		"limit":  {"1"},
		"enable": {"true"},
		"test":   {"一 (&=?!#%.*)"},
		"path":   {"/tmp/123"},
		"multi":  {"3", "1", "2"},
	}
	if got := canonicalQuery(v); got != want {
		t.Errorf("canonicalQuery = %s\nwant            %s", got, want)
	}
	// The same values after a trip through the wire form (Go encodes the
	// space as "+") canonicalize identically.
	parsed, err := url.ParseQuery(v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got := canonicalQuery(parsed); got != want {
		t.Errorf("canonicalQuery(wire form) = %s\nwant                       %s", got, want)
	}
}

func TestCanonicalURI(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ path, want string }{
		"empty":                {"", "/"},
		"root":                 {"/", "/"},
		"trailing slash added": {"/v1/p/jobs/j", "/v1/p/jobs/j/"},
		"trailing slash kept":  {"/v1/p/", "/v1/p/"},
		"segments escaped":     {"/a b/ü/x~y", "/a%20b/%C3%BC/x~y/"},
		"reserved escaped":     {"/a:b/c+d", "/a%3Ab/c%2Bd/"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := canonicalURI(tc.path); got != tc.want {
				t.Errorf("canonicalURI(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

func TestSigner_emptyBodies(t *testing.T) {
	t.Parallel()
	if got := hexSHA256(nil); got != emptySHA256 {
		t.Fatalf("hexSHA256(nil) = %s, want %s", got, emptySHA256)
	}
	s := &Signer{Credentials: Credentials{AccessKey: "AccessKey", SecretKey: "SecretKey"}}
	auth := func(body io.Reader) string {
		req := httptest.NewRequest(http.MethodPost, "https://example.com/path", body)
		req.Header.Set("X-Sdk-Date", "20060102T150405Z")
		if body == nil {
			req.Body = nil
		}
		got := captureSigned(t, s, req)
		if got.ContentLength != 0 {
			t.Errorf("ContentLength = %d, want 0", got.ContentLength)
		}
		return got.Header.Get("Authorization")
	}
	nilBody, noBody, emptyReader := auth(nil), auth(http.NoBody), auth(strings.NewReader(""))
	if nilBody != noBody || noBody != emptyReader {
		t.Errorf("empty bodies sign differently:\nnil      %s\nNoBody   %s\nreader   %s", nilBody, noBody, emptyReader)
	}
}

func TestSigner_headersAndClone(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	s := &Signer{
		Credentials: Credentials{AccessKey: "AKEXAMPLEEXAMPLE", SecretKey: "sk", SecurityToken: "tok-123"},
		ProjectID:   "0123456789abcdef0123456789abcdef",
		now:         func() time.Time { return now },
	}
	req := httptest.NewRequest(http.MethodPost, "https://example.com/v1/x", strings.NewReader("{}\n"))
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("Authorization", "stale")
	req.Header.Set("X-Sdk-Date", "not-a-date")
	got := captureSigned(t, s, req)

	want := map[string]string{
		"X-Sdk-Date":       "20260301T110000Z",
		"X-Project-Id":     "0123456789abcdef0123456789abcdef",
		"X-Security-Token": "tok-123",
	}
	for k, v := range want {
		if g := got.Header.Get(k); g != v {
			t.Errorf("%s = %q, want %q", k, g, v)
		}
	}
	auth := got.Header.Get("Authorization")
	if !strings.Contains(auth, "SignedHeaders=x-project-id;x-sdk-date;x-security-token,") {
		t.Errorf("Authorization = %q, want the project, date and token headers signed", auth)
	}
	// The caller's request is untouched.
	if g := req.Header.Get("Authorization"); g != "stale" {
		t.Errorf("caller's Authorization changed to %q", g)
	}
	if g := req.Header.Get("X-Sdk-Date"); g != "not-a-date" {
		t.Errorf("caller's X-Sdk-Date changed to %q", g)
	}
	if g := req.Header.Get("X-Security-Token"); g != "" {
		t.Errorf("caller's request gained X-Security-Token")
	}
}

func TestSigner_keepsValidDateAndUnsignedPayload(t *testing.T) {
	t.Parallel()
	s := &Signer{Credentials: Credentials{AccessKey: "AccessKey", SecretKey: "SecretKey"}}
	mk := func(unsigned bool) string {
		req := httptest.NewRequest(http.MethodPost, "https://example.com/path", strings.NewReader("payload"))
		req.Header.Set("X-Sdk-Date", "20060102T150405Z")
		if unsigned {
			req.Header.Set(headerSdkSHA256, "UNSIGNED-PAYLOAD")
		}
		got := captureSigned(t, s, req)
		if d := got.Header.Get("X-Sdk-Date"); d != "20060102T150405Z" {
			t.Errorf("valid caller X-Sdk-Date replaced by %q", d)
		}
		return got.Header.Get("Authorization")
	}
	signedBody, unsigned := mk(false), mk(true)
	signed := []string{"x-sdk-content-sha256", "x-sdk-date"}
	h := http.Header{"X-Sdk-Date": {"20060102T150405Z"}, "X-Sdk-Content-Sha256": {"UNSIGNED-PAYLOAD"}}
	canon := canonicalRequest(http.MethodPost, "/path/", "", canonicalHeaders(h, signed), signed, "UNSIGNED-PAYLOAD")
	want := authorizationValue("AccessKey", signed, signature("SecretKey", stringToSign(canon, "20060102T150405Z")))
	if unsigned != want {
		t.Errorf("UNSIGNED-PAYLOAD Authorization = %q, want %q", unsigned, want)
	}
	if signedBody == unsigned {
		t.Error("body hash ignored: signed and unsigned payloads give the same signature")
	}
}

func TestSigner_resignsEachRoundTrip(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := &Signer{
		Credentials: Credentials{AccessKey: "AccessKey", SecretKey: "SecretKey"},
		now:         func() time.Time { clock = clock.Add(time.Second); return clock },
	}
	var dates, auths []string
	for range 2 {
		req := httptest.NewRequest(http.MethodGet, "https://example.com/v1/p/jobs/j", nil)
		got := captureSigned(t, s, req)
		dates = append(dates, got.Header.Get("X-Sdk-Date"))
		auths = append(auths, got.Header.Get("Authorization"))
	}
	if diff := cmp.Diff([]string{"20260102T030406Z", "20260102T030407Z"}, dates); diff != "" {
		t.Errorf("X-Sdk-Date per round trip (-want +got):\n%s", diff)
	}
	if auths[0] == auths[1] {
		t.Error("second round trip reused the first signature")
	}
}

func TestSigner_wireMatchesSignature(t *testing.T) {
	t.Parallel()
	creds := Credentials{AccessKey: "AKWIRETESTWIRETEST", SecretKey: "wire-secret", SecurityToken: "wire-token"}
	body := []byte("{\"migrate\":{\"dedicated_host_id\":\"h\"}}\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server read body: %v", err)
		}
		if !bytes.Equal(got, body) {
			t.Errorf("server received body %q, want %q", got, body)
		}
		if err := verifySignature(r, got, creds); err != nil {
			t.Errorf("server-side verification: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: &Signer{Credentials: creds, Base: srv.Client().Transport}}
	u := srv.URL + "/prefix/v1/0123/cloudservers/a%20b/migrate?b=2&a=1&a=0"
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	req.Header.Set("User-Agent", "coldmove-test")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestSigner_errors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		signer *Signer
		url    string
	}{
		"no access key": {&Signer{Credentials: Credentials{SecretKey: "s"}}, "https://example.com/"},
		"no secret key": {&Signer{Credentials: Credentials{AccessKey: "a"}}, "https://example.com/"},
		"bad query":     {&Signer{Credentials: Credentials{AccessKey: "a", SecretKey: "s"}}, "https://example.com/?a=%zz"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := &closeRecorder{Reader: strings.NewReader("x")}
			req := httptest.NewRequest(http.MethodPost, "https://example.com/", nil)
			req.URL, _ = url.Parse(tc.url)
			req.Body = body
			tc.signer.Base = roundTripFunc(func(*http.Request) (*http.Response, error) {
				t.Error("base transport called for a request that cannot be signed")
				return nil, errors.New("unreachable")
			})
			if _, err := tc.signer.RoundTrip(req); err == nil {
				t.Error("RoundTrip succeeded, want an error")
			}
			if !body.closed {
				t.Error("request body not closed on error")
			}
		})
	}
}

// captureSigned runs a copy of s on req with a base transport that records
// the outgoing request and answers 204.
func captureSigned(t *testing.T, s *Signer, req *http.Request) *http.Request {
	t.Helper()
	var got *http.Request
	c := *s
	c.Base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: r}, nil
	})
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	resp.Body.Close()
	return got
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

package ecstest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// rawClient sends hand-built requests, signed with the verifier's own
// canonicalisation (proven by the known-answer vectors), so that tests see
// the simulator's answers byte for byte.
type rawClient struct {
	t    testing.TB
	srv  *Server
	hc   *http.Client
	cred Credential
	now  func() time.Time // signing time
}

func newRawClient(t testing.TB, srv *Server) *rawClient {
	t.Helper()
	return &rawClient{t: t, srv: srv, hc: srv.HTTPClient(), cred: srv.cred, now: time.Now}
}

// rawResponse is an answer as received.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// newRequest builds an unsigned request to the server.
func (c *rawClient) newRequest(method, path, body string) *http.Request {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.srv.URL+path, rd)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	req.Header.Set("User-Agent", "ecstest-raw/1.0")
	if body != "" {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	return req
}

// sign signs req as the official SDK does: every header except content-type
// and names with '_', lower-cased and sorted.
func sign(t testing.TB, req *http.Request, body string, cred Credential, at time.Time) {
	t.Helper()
	req.Header.Set("X-Sdk-Date", at.UTC().Format(sdkDateLayout))
	if cred.SecurityToken != "" {
		req.Header.Set("X-Security-Token", cred.SecurityToken.Reveal())
	}
	var signed []string
	for name := range req.Header {
		n := strings.ToLower(name)
		if strings.HasPrefix(n, "content-type") || strings.Contains(n, "_") || n == "authorization" {
			continue
		}
		signed = append(signed, n)
	}
	slices.Sort(signed)
	signWith(t, req, body, cred, signed)
}

// signWith signs req over exactly the given header names.
func signWith(t testing.TB, req *http.Request, body string, cred Credential, signed []string) {
	t.Helper()
	canonical, err := canonicalRequest(canonicalInput{
		method: req.Method, path: req.URL.Path, rawQuery: req.URL.RawQuery, signed: signed,
		value: func(n string) string {
			if n == "host" {
				return req.URL.Host
			}
			return req.Header.Get(n)
		},
		bodyHash: hexSHA256([]byte(body)),
	})
	if err != nil {
		t.Fatalf("canonical request: %v", err)
	}
	sig := computeSignature(cred.SecretKey.Reveal(), stringToSign(req.Header.Get("X-Sdk-Date"), canonical))
	req.Header.Set("Authorization", signAlgorithm+" Access="+cred.AccessKey.Reveal()+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
}

// send sends req and reads the whole answer.
func (c *rawClient) send(req *http.Request) rawResponse {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// tryDo sends a signed request and reports failures instead of ending the
// test, for use from goroutines other than the test's.
func (c *rawClient) tryDo(method, path, body string) (rawResponse, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.srv.URL+path, rd)
	if err != nil {
		return rawResponse{}, err
	}
	req.Header.Set("User-Agent", "ecstest-raw/1.0")
	sign(c.t, req, body, c.cred, c.now())
	resp, err := c.hc.Do(req)
	if err != nil {
		return rawResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// ecsCode returns the code of an ECS-shaped error body, or "".
func (r rawResponse) ecsCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

// do sends a signed request.
func (c *rawClient) do(method, path, body string) rawResponse {
	c.t.Helper()
	req := c.newRequest(method, path, body)
	sign(c.t, req, body, c.cred, c.now())
	return c.send(req)
}

// Paths of the API.
func jobPath(project, job string) string       { return "/v1/" + project + "/jobs/" + job }
func serverPath(project, server string) string { return "/v1/" + project + "/cloudservers/" + server }
func migratePath(project, server string) string {
	return "/v1/" + project + "/cloudservers/" + server + "/migrate"
}
func actionPath(project string) string { return "/v1/" + project + "/cloudservers/action" }

// migrateBody returns the body the SDK sends: JSON plus a newline.
func migrateBody(hostID string) string {
	if hostID == "" {
		return "{\"migrate\":null}\n"
	}
	return `{"migrate":{"dedicated_host_id":"` + hostID + "\"}}\n"
}

var (
	hex32     = regexp.MustCompile(`^[0-9a-f]{32}$`)
	msTimeRe  = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// object decodes the body as a JSON object, failing the test otherwise.
func (r rawResponse) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// mustStatus fails the test unless the answer has the given status.
func (r rawResponse) mustStatus(t testing.TB, want int) rawResponse {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d, want %d; body %s", r.status, want, r.body)
	}
	return r
}

// errorCode returns the error code of an ECS or API Gateway error body and
// checks that the body has the shape its code calls for.
func (r rawResponse) errorCode(t testing.TB) string {
	t.Helper()
	m := r.object(t)
	if code, ok := m["error_code"].(string); ok {
		if !strings.HasPrefix(code, "APIGW.") {
			t.Errorf("gateway-shaped body with code %s", code)
		}
		if m["request_id"] != r.header.Get("X-Request-Id") {
			t.Errorf("request_id %v differs from X-Request-Id %q", m["request_id"], r.header.Get("X-Request-Id"))
		}
		if msg, _ := m["error_msg"].(string); msg == "" {
			t.Errorf("gateway error without error_msg: %s", r.body)
		}
		return code
	}
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("body %s is neither an ECS nor a gateway error", r.body)
	}
	code, _ := e["code"].(string)
	if strings.HasPrefix(code, "APIGW.") {
		t.Errorf("gateway code %s in an ECS-shaped body", code)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Errorf("ECS error without message: %s", r.body)
	}
	return code
}

// jobID returns the job_id of a MigrateServer or batch action answer.
func (r rawResponse) jobID(t testing.TB) string {
	t.Helper()
	r.mustStatus(t, http.StatusOK)
	id, _ := r.object(t)["job_id"].(string)
	if !hex32.MatchString(id) {
		t.Fatalf("job_id %q is not 32 hex digits", id)
	}
	return id
}

// field walks a decoded JSON object along keys.
func field(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}

// The signature computed the plain way, as the reference for the test
// signer and the known-answer vectors; the verifier's allocation-free path
// (accessKey.signatureMatches) must agree with it.

// stringToSign returns the string the signature is computed over.
func stringToSign(sdkDate, canonical string) string {
	return signAlgorithm + "\n" + sdkDate + "\n" + hexSHA256([]byte(canonical))
}

// computeSignature returns hex(HMAC-SHA256(secretKey, stringToSign)); the
// scheme uses the secret key directly, without key derivation.
func computeSignature(secretKey, toSign string) string {
	m := hmac.New(sha256.New, []byte(secretKey))
	m.Write([]byte(toSign))
	return hex.EncodeToString(m.Sum(nil))
}

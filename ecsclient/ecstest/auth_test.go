package ecstest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coldmove/coldmove/secret"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	temp := GenerateTemporaryCredential()
	const token = "simulated-iam-token-for-tests"
	srv := NewServer(t, WithCredentials(temp), WithTokens(token))
	p := srv.ProjectID()
	sv := srv.AddServer(ServerSpec{})
	inPool := srv.AddServer(ServerSpec{})
	deh := srv.AddDedicatedHost(HostSpec{})
	perm := srv.cred

	tests := map[string]struct {
		method, path, body string
		prepare            func(t *testing.T, req *http.Request, body string)
		wantStatus         int
		wantCode           string
		wantMsgPart        string
	}{
		"SDK-style signature": {
			prepare:    func(t *testing.T, r *http.Request, b string) { sign(t, r, b, perm, time.Now()) },
			wantStatus: http.StatusOK,
		},
		"signed POST body": {
			method: http.MethodPost, path: migratePath(p, sv), body: migrateBody(deh),
			prepare:    func(t *testing.T, r *http.Request, b string) { sign(t, r, b, perm, time.Now()) },
			wantStatus: http.StatusOK,
		},
		"golangsdk-style: host and content-type signed too": {
			prepare: func(t *testing.T, r *http.Request, b string) {
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("X-Sdk-Date", time.Now().UTC().Format(sdkDateLayout))
				signWith(t, r, b, perm, []string{"content-type", "host", "user-agent", "x-sdk-date"})
			},
			wantStatus: http.StatusOK,
		},
		"unsigned payload header": {
			method: http.MethodPost, path: migratePath(p, inPool), body: `{"migrate":null}`,
			prepare: func(t *testing.T, r *http.Request, _ string) {
				r.Header.Set("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")
				r.Header.Set("X-Sdk-Date", time.Now().UTC().Format(sdkDateLayout))
				signUnsignedPayload(t, r, perm)
			},
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0005", // authenticated; the pool-to-pool move is refused
		},
		"temporary credential with its token": {
			prepare:    func(t *testing.T, r *http.Request, b string) { sign(t, r, b, temp, time.Now()) },
			wantStatus: http.StatusOK,
		},
		"X-Auth-Token": {
			prepare:    func(t *testing.T, r *http.Request, _ string) { r.Header.Set("X-Auth-Token", token) },
			wantStatus: http.StatusOK,
		},
		"nothing": {
			prepare:    func(*testing.T, *http.Request, string) {},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301", wantMsgPart: "neither",
		},
		"unknown X-Auth-Token": {
			prepare:    func(t *testing.T, r *http.Request, _ string) { r.Header.Set("X-Auth-Token", "nope") },
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301",
		},
		"bad signature": {
			prepare: func(t *testing.T, r *http.Request, b string) {
				sign(t, r, b, Credential{AccessKey: perm.AccessKey, SecretKey: "wrong-secret"}, time.Now())
			},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301", wantMsgPart: "canonicalRequest: GET|/v1/",
		},
		"body changed after signing": {
			method: http.MethodPost, path: migratePath(p, sv), body: migrateBody(deh),
			prepare: func(t *testing.T, r *http.Request, _ string) {
				sign(t, r, migrateBody(""), perm, time.Now()) // signed another body
			},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301",
		},
		"query changed after signing": {
			path: serverPath(p, sv) + "?x=1",
			prepare: func(t *testing.T, r *http.Request, b string) {
				sign(t, r, b, perm, time.Now())
				r.URL.RawQuery = "x=2"
			},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301",
		},
		"signed header changed after signing": {
			prepare: func(t *testing.T, r *http.Request, b string) {
				sign(t, r, b, perm, time.Now())
				r.Header.Set("User-Agent", "someone-else")
			},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301",
		},
		"unknown access key": {
			prepare: func(t *testing.T, r *http.Request, b string) {
				sign(t, r, b, GenerateCredential(), time.Now())
			},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301", wantMsgPart: "access key does not exist",
		},
		"date 16 minutes behind": {
			prepare:    func(t *testing.T, r *http.Request, b string) { sign(t, r, b, perm, time.Now().Add(-16*time.Minute)) },
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301", wantMsgPart: "expired",
		},
		"date 16 minutes ahead": {
			prepare:    func(t *testing.T, r *http.Request, b string) { sign(t, r, b, perm, time.Now().Add(16*time.Minute)) },
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301", wantMsgPart: "expired",
		},
		"date 14 minutes behind": {
			prepare:    func(t *testing.T, r *http.Request, b string) { sign(t, r, b, perm, time.Now().Add(-14*time.Minute)) },
			wantStatus: http.StatusOK,
		},
		"x-sdk-date not signed": {
			prepare: func(t *testing.T, r *http.Request, b string) {
				r.Header.Set("X-Sdk-Date", time.Now().UTC().Format(sdkDateLayout))
				signWith(t, r, b, perm, []string{"user-agent"})
			},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301", wantMsgPart: "x-sdk-date must be",
		},
		"x-sdk-date malformed": {
			prepare: func(t *testing.T, r *http.Request, b string) {
				r.Header.Set("X-Sdk-Date", time.Now().UTC().Format(time.RFC3339))
				signWith(t, r, b, perm, []string{"x-sdk-date"})
			},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301", wantMsgPart: "not in the format",
		},
		"temporary credential without its token": {
			prepare: func(t *testing.T, r *http.Request, b string) {
				sign(t, r, b, Credential{AccessKey: temp.AccessKey, SecretKey: temp.SecretKey}, time.Now())
			},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301", wantMsgPart: "security token",
		},
		"temporary credential with a wrong token": {
			prepare: func(t *testing.T, r *http.Request, b string) {
				sign(t, r, b, Credential{AccessKey: temp.AccessKey, SecretKey: temp.SecretKey, SecurityToken: "forged"}, time.Now())
			},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301", wantMsgPart: "security token",
		},
		"token with a permanent key": {
			prepare: func(t *testing.T, r *http.Request, b string) {
				sign(t, r, b, Credential{AccessKey: perm.AccessKey, SecretKey: perm.SecretKey, SecurityToken: "x"}, time.Now())
			},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301", wantMsgPart: "security token",
		},
		"other scheme": {
			prepare: func(t *testing.T, r *http.Request, _ string) {
				r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
			},
			wantStatus: http.StatusUnauthorized, wantCode: "APIGW.0301",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newRawClient(t, srv)
			method, path := cmpOrStr(tt.method, http.MethodGet), cmpOrStr(tt.path, serverPath(p, sv))
			req := c.newRequest(method, path, tt.body)
			tt.prepare(t, req, tt.body)
			resp := c.send(req).mustStatus(t, tt.wantStatus)
			if !hex32.MatchString(resp.header.Get("X-Request-Id")) {
				t.Errorf("X-Request-Id = %q", resp.header.Get("X-Request-Id"))
			}
			if tt.wantCode == "" {
				return
			}
			if code := resp.errorCode(t); code != tt.wantCode {
				t.Errorf("code = %s, want %s", code, tt.wantCode)
			}
			msg := string(resp.body)
			if !strings.Contains(msg, tt.wantMsgPart) {
				t.Errorf("message %s lacks %q", msg, tt.wantMsgPart)
			}
			for _, s := range []secret.String{perm.SecretKey, temp.SecretKey, temp.SecurityToken, token} {
				if strings.Contains(msg, s.Reveal()) {
					t.Errorf("error body reveals a secret: %s", msg)
				}
			}
		})
	}
}

func TestAuthFailuresNotCounted(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	sv := srv.AddServer(ServerSpec{})
	req := c.newRequest(http.MethodPost, migratePath(srv.ProjectID(), sv), migrateBody(""))
	c.send(req).mustStatus(t, http.StatusUnauthorized)
	if n := srv.MigrateCalls(sv); n != 0 {
		t.Errorf("MigrateCalls = %d after an unauthenticated call, want 0", n)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Authenticated || reqs[0].Code != "APIGW.0301" || reqs[0].Op != OpMigrateServer {
		t.Errorf("request log = %+v", reqs)
	}
}

func TestSecurityTokenRedactedInCanonicalRequest(t *testing.T) {
	t.Parallel()
	temp := GenerateTemporaryCredential()
	srv := NewServer(t, WithCredentials(temp))
	c := newRawClient(t, srv)
	req := c.newRequest(http.MethodGet, serverPath(srv.ProjectID(), "x"), "")
	sign(t, req, "", Credential{AccessKey: temp.AccessKey, SecretKey: "wrong", SecurityToken: temp.SecurityToken}, time.Now())
	resp := c.send(req).mustStatus(t, http.StatusUnauthorized)
	if strings.Contains(string(resp.body), temp.SecurityToken.Reveal()) || !strings.Contains(string(resp.body), "x-security-token:***") {
		t.Errorf("body = %s, want the token shown as ***", resp.body)
	}
}

// signUnsignedPayload signs req with X-Sdk-Content-Sha256 standing in for the
// body hash.
func signUnsignedPayload(t *testing.T, req *http.Request, cred Credential) {
	t.Helper()
	signed := []string{"user-agent", "x-sdk-content-sha256", "x-sdk-date"}
	canonical, err := canonicalRequest(canonicalInput{
		method: req.Method, path: req.URL.Path, rawQuery: req.URL.RawQuery, signed: signed,
		value: req.Header.Get, bodyHash: "UNSIGNED-PAYLOAD",
	})
	if err != nil {
		t.Fatal(err)
	}
	sig := computeSignature(cred.SecretKey.Reveal(), stringToSign(req.Header.Get("X-Sdk-Date"), canonical))
	req.Header.Set("Authorization", signAlgorithm+" Access="+cred.AccessKey.Reveal()+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
}

func cmpOrStr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

package ecstest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/secret"
)

// The known-answer vectors of the API reference (section 5), recomputed there
// with an independent implementation.
func TestSignatureVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		method, path  string
		rawQuery      string
		headers       map[string]string
		body          string
		ak, sk        string
		wantCanonHash string // "" when the vector does not give it
		wantSignature string
	}{
		{
			name: "V1 GET, empty body, x-sdk-date only", method: "GET", path: "/path", rawQuery: "limit=1",
			headers: map[string]string{"x-sdk-date": "20060102T150405Z"},
			ak:      "AccessKey", sk: "SecretKey",
			wantSignature: "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624",
		},
		{
			name: "V2 POST JSON body with trailing newline", method: "POST", path: "/path", rawQuery: "key=value",
			headers: map[string]string{"x-sdk-date": "20060102T150405Z"},
			body:    "{\"Name\":\"test\",\"Id\":1}\n",
			ak:      "AccessKey", sk: "SecretKey",
			wantSignature: "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59",
		},
		{
			name: "V3 gateway documentation example", method: "GET",
			path:     "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
			rawQuery: "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
			headers: map[string]string{
				"content-type": "application/json", "host": "service.region.example.com", "x-sdk-date": "20191115T033655Z",
			},
			ak: "unused", sk: "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
			wantCanonHash: "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a",
			wantSignature: "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			signed := []string{}
			for _, name := range []string{"content-type", "host", "x-sdk-date"} {
				if _, ok := tt.headers[name]; ok {
					signed = append(signed, name)
				}
			}
			canonical, err := canonicalRequest(canonicalInput{
				method: tt.method, path: tt.path, rawQuery: tt.rawQuery, signed: signed,
				value: func(n string) string { return tt.headers[n] }, bodyHash: hexSHA256([]byte(tt.body)),
			})
			if err != nil {
				t.Fatalf("canonicalRequest: %v", err)
			}
			if tt.wantCanonHash != "" {
				if got := hexSHA256([]byte(canonical)); got != tt.wantCanonHash {
					t.Errorf("sha256(canonical) = %s, want %s\ncanonical:\n%s", got, tt.wantCanonHash, canonical)
				}
			}
			got := computeSignature(tt.sk, stringToSign(tt.headers["x-sdk-date"], canonical))
			if got != tt.wantSignature {
				t.Errorf("signature = %s, want %s\ncanonical:\n%s", got, tt.wantSignature, canonical)
			}

			// The same vector through the HTTP verifier, as a request would
			// arrive at the gateway.
			u := "http://sim.example" + tt.path + "?" + tt.rawQuery
			r, err := http.NewRequest(tt.method, u, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.headers {
				if k == "host" {
					r.Host = v
					continue
				}
				r.Header.Set(k, v)
			}
			r.Header.Set("Authorization", signAlgorithm+" Access="+tt.ak+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+tt.wantSignature)
			a := newAuthenticator(0)
			a.addCredential(Credential{AccessKey: secret.String(tt.ak), SecretKey: secret.String(tt.sk)})
			date, _ := time.Parse(sdkDateLayout, tt.headers["x-sdk-date"])
			if aerr := a.verify(r, []byte(tt.body), date.Add(time.Minute)); aerr != nil {
				t.Errorf("verify: %v", aerr)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	t.Parallel()
	v := url.Values{}
	v.Add("test", "一 (&=?!#%.*)")
	v.Add("path", "/tmp/123")
	v.Add("multi", "3")
	v.Add("multi", "1")
	v.Add("multi", "2")
	v.Add("limit", "1")
	v.Add("enable", "true")
	tests := map[string]struct {
		raw  string
		want string
	}{
		"SDK vector":          {raw: v.Encode(), want: "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"},
		"empty":               {raw: "", want: ""},
		"key without value":   {raw: "b&a=1", want: "a=1&b="},
		"empty parts skipped": {raw: "&a=1&&", want: "a=1"},
		"unreserved kept":     {raw: "k=A-z_0.9~", want: "k=A-z_0.9~"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			if err := writeCanonicalQuery(&b, tt.raw); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("canonical query (-want +got):\n%s", diff)
			}
		})
	}
	var b strings.Builder
	if err := writeCanonicalQuery(&b, "a=%zz"); err == nil {
		t.Error("bad escape: got nil error")
	}
}

func TestCanonicalURI(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ path, want string }{
		"slash appended":   {"/v1/p/jobs/j", "/v1/p/jobs/j/"},
		"slash kept":       {"/v1/p/", "/v1/p/"},
		"empty":            {"", "/"},
		"root":             {"/", "/"},
		"segments escaped": {"/a b/c:d", "/a%20b/c%3Ad/"},
		"unicode escaped":  {"/é", "/%C3%A9/"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			writeCanonicalURI(&b, tt.path)
			if got := b.String(); got != tt.want {
				t.Errorf("canonical URI of %q = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in          string
		want        authorization
		wantProblem bool
	}{
		"SDK form": {
			in:   "SDK-HMAC-SHA256 Access=AK, SignedHeaders=user-agent;x-sdk-date, Signature=abc",
			want: authorization{access: "AK", signedHeaders: []string{"user-agent", "x-sdk-date"}, signature: "abc"},
		},
		"no spaces after commas": {
			in:   "SDK-HMAC-SHA256 Access=AK,SignedHeaders=x-sdk-date,Signature=abc",
			want: authorization{access: "AK", signedHeaders: []string{"x-sdk-date"}, signature: "abc"},
		},
		"other scheme":      {in: "AWS4-HMAC-SHA256 Credential=x", wantProblem: true},
		"missing access":    {in: "SDK-HMAC-SHA256 SignedHeaders=x-sdk-date, Signature=abc", wantProblem: true},
		"missing signed":    {in: "SDK-HMAC-SHA256 Access=AK, Signature=abc", wantProblem: true},
		"missing signature": {in: "SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date", wantProblem: true},
		"empty":             {in: "", wantProblem: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, problem := parseAuthorization(tt.in)
			if (problem != "") != tt.wantProblem {
				t.Fatalf("problem = %q, want problem: %v", problem, tt.wantProblem)
			}
			if tt.wantProblem {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(authorization{})); diff != "" {
				t.Errorf("parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSignatureMatchesReference(t *testing.T) {
	t.Parallel()
	a := newAuthenticator(0)
	cred := GenerateCredential()
	a.addCredential(cred)
	k, _ := a.key(cred.AccessKey.Reveal())
	const date = "20260101T000000Z"
	for _, canonical := range []string{"", "GET\n/\n\n\n\n" + emptyBodySHA256, strings.Repeat("x", 5000)} {
		sig := computeSignature(cred.SecretKey.Reveal(), stringToSign(date, canonical))
		tests := map[string]struct {
			sig  string
			want bool
		}{
			"reference":      {sig, true},
			"upper-case hex": {strings.ToUpper(sig), true},
			"one bit off":    {sig[:63] + string("01"[(sig[63]&1)^1]), false},
			"short":          {sig[:62], false},
			"long":           {sig + "00", false},
			"not hex":        {strings.Repeat("zz", 32), false},
			"empty":          {"", false},
		}
		for name, tt := range tests {
			if got := k.signatureMatches(date, canonical, tt.sig); got != tt.want {
				t.Errorf("%s over %d bytes: %v, want %v", name, len(canonical), got, tt.want)
			}
		}
		if k.signatureMatches("20260101T000001Z", canonical, sig) {
			t.Error("a signature matched another date")
		}
	}
}

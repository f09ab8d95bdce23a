package ecsclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/secret"
)

func TestParseErrorAnswer(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 400) // 800 bytes, 2-byte runes
	tests := []struct {
		name   string
		status int
		reqID  string
		body   string
		want   *APIError
	}{
		{
			name:   "ECS shape",
			status: 400, reqID: "req-1",
			body: `{"error":{"code":"Ecs.0100","message":"The ECS status does not meet requirements.","details":[{"code":"x","message":"y"}]}}`,
			want: &APIError{StatusCode: 400, Code: "Ecs.0100", Message: "The ECS status does not meet requirements.", RequestID: "req-1"},
		},
		{
			name:   "API Gateway shape, request id from body",
			status: 429,
			body:   `{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached: policy user over ratelimit,limit:20,time:1 minute","request_id":"body-req"}`,
			want:   &APIError{StatusCode: 429, Code: "APIGW.0308", Message: "The throttling threshold has been reached: policy user over ratelimit,limit:20,time:1 minute", RequestID: "body-req"},
		},
		{
			name:   "older APIG prefix, header request id wins",
			status: 401, reqID: "hdr-req",
			body: `{"error_code":"APIG.0301","error_msg":"Incorrect IAM authentication information","request_id":"body-req"}`,
			want: &APIError{StatusCode: 401, Code: "APIG.0301", Message: "Incorrect IAM authentication information", RequestID: "hdr-req"},
		},
		{
			name:   "top-level error_code/error_msg win over nested error (SDK order)",
			status: 400,
			body:   `{"error":{"code":"Ecs.0005","message":"nested"},"error_code":"APIGW.0201","error_msg":"top"}`,
			want:   &APIError{StatusCode: 400, Code: "APIGW.0201", Message: "top"},
		},
		{
			name:   "top-level code/message",
			status: 400,
			body:   `{"code":"Common.0011","message":"Failed to query system tasks."}`,
			want:   &APIError{StatusCode: 400, Code: "Common.0011", Message: "Failed to query system tasks."},
		},
		{
			name:   "error_code without error_msg falls through to nested error",
			status: 400,
			body:   `{"error_code":"X.1","error":{"code":"Ecs.0605","message":"locked"}}`,
			want:   &APIError{StatusCode: 400, Code: "Ecs.0605", Message: "locked"},
		},
		{
			name:   "deeper nesting, error key first",
			status: 500,
			body:   `{"a":{"code":"A.1","message":"a"},"error":{"inner":{"code":"Common.0001","message":"internal"}}}`,
			want:   &APIError{StatusCode: 500, Code: "Common.0001", Message: "internal"},
		},
		{
			name:   "code without message is kept, body is the message",
			status: 202,
			body:   `{"error":{"code":"Common.0024"}}`,
			want:   &APIError{StatusCode: 202, Code: "Common.0024", Message: `{"error":{"code":"Common.0024"}}`},
		},
		{
			name:   "JSON without an error shape: body is the message",
			status: 400,
			body:   `{"invalid_key":"invalid_value"}`,
			want:   &APIError{StatusCode: 400, Message: `{"invalid_key":"invalid_value"}`},
		},
		{
			name:   "numeric code ignored like the SDK",
			status: 500,
			body:   `{"code":500,"message":"boom"}`,
			want:   &APIError{StatusCode: 500, Message: `{"code":500,"message":"boom"}`},
		},
		{
			name:   "not JSON: body is the message",
			status: 502,
			body:   "<html>Bad Gateway</html>\n",
			want:   &APIError{StatusCode: 502, Message: "<html>Bad Gateway</html>"},
		},
		{
			name:   "JSON array: body is the message",
			status: 400,
			body:   `["x"]`,
			want:   &APIError{StatusCode: 400, Message: `["x"]`},
		},
		{
			name:   "empty body: status text",
			status: 503,
			want:   &APIError{StatusCode: 503, Message: "Service Unavailable"},
		},
		{
			name:   "long body truncated on a rune boundary",
			status: 500,
			body:   long,
			want:   &APIError{StatusCode: 500, Message: strings.Repeat("é", 256) + "… (truncated)"},
		},
		{
			name:   "invalid UTF-8 replaced",
			status: 500,
			body:   "bad \xff byte",
			want:   &APIError{StatusCode: 500, Message: "bad \uFFFD byte"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.reqID != "" {
				h.Set("X-Request-Id", tc.reqID)
			}
			got := parseErrorAnswer(tc.status, h, []byte(tc.body), nil)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseErrorAnswer mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrorInSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want *APIError
	}{
		{"202 Common.0024 in ECS shape", `{"error":{"code":"Common.0024","message":"Flow limit exceeded"}}`,
			&APIError{StatusCode: 202, Code: "Common.0024", Message: "Flow limit exceeded"}},
		{"202 Common.0024 as code/message", `{"code":"Common.0024","message":"Flow limit exceeded"}`,
			&APIError{StatusCode: 202, Code: "Common.0024", Message: "Flow limit exceeded"}},
		{"gateway shape", `{"error_code":"APIGW.0308","error_msg":"throttled"}`,
			&APIError{StatusCode: 202, Code: "APIGW.0308", Message: "throttled"}},
		{"job id", `{"job_id":"ff80808288d41e1b018990260955686a"}`, nil},
		{"FAIL job: error_code with fail_reason is not an error answer",
			`{"status":"FAIL","job_id":"j","error_code":"Ecs.0319","fail_reason":"no resources","entities":{}}`, nil},
		{"server in ERROR: nested fault is not an error answer",
			`{"server":{"id":"s","fault":{"code":500,"message":"boom"},"error":{"code":"x","message":"y"}}}`, nil},
		{"success job with null error fields", `{"status":"SUCCESS","error_code":null,"fail_reason":null}`, nil},
		{"not JSON", `ok`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := parseErrorInSuccess(202, http.Header{}, []byte(tc.body), nil)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseErrorInSuccess mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrorAnswer_redactsBeforeTruncating(t *testing.T) {
	t.Parallel()
	creds := Credentials{AccessKey: "AKREDACTIONTEST0001", SecretKey: "sk-redaction-secret", SecurityToken: secret.String("st-" + strings.Repeat("T", 600))}
	r := newRedactor(creds)
	// The gateway echoes its canonical request, which holds the security
	// token; the token is longer than the message limit, so truncating
	// first would leave a piece of it.
	body := fmt.Sprintf(`{"error_code":"APIGW.0301","error_msg":"Verify aksk signature fail, canonicalRequest: GET|/v1/|x-security-token:%s|access %s sk %s"}`,
		creds.SecurityToken.Reveal(), creds.AccessKey.Reveal(), creds.SecretKey.Reveal())
	got := parseErrorAnswer(401, http.Header{}, []byte(body), r)
	if !strings.Contains(body, creds.SecurityToken.Reveal()) {
		t.Fatalf("body %q does not hold the token", body)
	}
	for _, s := range []string{creds.SecurityToken.Reveal()[:20], creds.AccessKey.Reveal(), creds.SecretKey.Reveal()} {
		if strings.Contains(got.Error(), s) {
			t.Errorf("error %q contains a credential", got.Error())
		}
	}
	if !strings.Contains(got.Message, "x-security-token:[redacted]") || !strings.Contains(got.Message, "AKRE***") {
		t.Errorf("message %q lacks the redaction markers", got.Message)
	}
}

func TestAPIError_Error(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  *APIError
		want string
	}{
		"full":    {&APIError{StatusCode: 400, Code: "Ecs.0605", Message: "locked", RequestID: "r1"}, "HTTP 400 Ecs.0605: locked (request id r1)"},
		"no code": {&APIError{StatusCode: 502, Message: "Bad Gateway"}, "HTTP 502: Bad Gateway"},
		"bare":    {&APIError{StatusCode: 418}, "HTTP 418"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAPIError_Is(t *testing.T) {
	t.Parallel()
	sentinels := map[string]error{
		"ErrServerNotFound": ErrServerNotFound, "ErrJobNotFound": ErrJobNotFound, "ErrNotStopped": ErrNotStopped,
		"ErrLocked": ErrLocked, "ErrSameHost": ErrSameHost, "ErrInsufficientResources": ErrInsufficientResources,
		"ErrInvalidParameter": ErrInvalidParameter, "ErrBusy": ErrBusy, "ErrThrottled": ErrThrottled,
		"ErrAuthFailed": ErrAuthFailed, "ErrPermissionDenied": ErrPermissionDenied,
	}
	tests := []struct {
		status int
		code   string
		want   []string // the sentinels that must match; all others must not
	}{
		{404, "Ecs.0114", []string{"ErrServerNotFound"}},
		{404, "Ecs.0614", []string{"ErrServerNotFound"}},
		{400, "Common.0011", []string{"ErrJobNotFound"}},
		{400, "Ecs.0100", []string{"ErrNotStopped"}},
		{400, "Ecs.0605", []string{"ErrLocked"}},
		{400, "Ecs.0221", []string{"ErrSameHost"}},
		{400, "Ecs.0319", []string{"ErrInsufficientResources"}},
		{400, "Ecs.0005", []string{"ErrInvalidParameter"}},
		{501, "Ecs.0603", []string{"ErrBusy"}},
		{429, "APIGW.0308", []string{"ErrThrottled"}},
		{429, "APIG.0308", []string{"ErrThrottled"}},
		{429, "Common.1503", []string{"ErrThrottled"}},
		{202, "Common.0024", []string{"ErrThrottled"}},
		{429, "", []string{"ErrThrottled"}},
		{401, "APIGW.0301", []string{"ErrAuthFailed"}},
		{401, "Common.0013", []string{"ErrAuthFailed"}},
		{401, "", []string{"ErrAuthFailed"}},
		{403, "Ecs.0003", []string{"ErrPermissionDenied"}},
		{403, "Pdp.0001", []string{"ErrPermissionDenied"}},
		{404, "APIGW.0101", nil},
		{500, "Common.0001", nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d %s", tc.status, tc.code), func(t *testing.T) {
			t.Parallel()
			err := fmt.Errorf("ecsclient: op: %w", &APIError{StatusCode: tc.status, Code: tc.code})
			var got []string
			for name, s := range sentinels {
				if errors.Is(err, s) {
					got = append(got, name)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("matching sentinels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIsTransient(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  error
		want bool
	}{
		"nil":                 {nil, false},
		"429":                 {&APIError{StatusCode: 429}, true},
		"APIGW.0308":          {&APIError{StatusCode: 429, Code: "APIGW.0308"}, true},
		"Common.1503":         {&APIError{StatusCode: 429, Code: "Common.1503"}, true},
		"202 Common.0024":     {&APIError{StatusCode: 202, Code: "Common.0024"}, true},
		"500":                 {&APIError{StatusCode: 500, Code: "Common.0001"}, true},
		"503 no code":         {&APIError{StatusCode: 503}, true},
		"501 Ecs.0603":        {&APIError{StatusCode: 501, Code: "Ecs.0603"}, true},
		"400 Ecs.0603":        {&APIError{StatusCode: 400, Code: "Ecs.0603"}, true},
		"400 Ecs.0100":        {&APIError{StatusCode: 400, Code: "Ecs.0100"}, false},
		"401":                 {&APIError{StatusCode: 401, Code: "APIGW.0301"}, false},
		"404":                 {&APIError{StatusCode: 404, Code: "Ecs.0114"}, false},
		"wrapped 503":         {fmt.Errorf("ecsclient: show job j: %w", &APIError{StatusCode: 503}), true},
		"network":             {&networkError{err: io.ErrUnexpectedEOF}, true},
		"unusable answer":     {&badAnswerError{err: errors.New("no status")}, true},
		"deadline":            {fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		"canceled":            {context.Canceled, true},
		"outcome unknown":     {outcomeUnknown(&networkError{err: io.EOF}), false},
		"outcome unknown 5xx": {outcomeUnknown(&APIError{StatusCode: 504}), false},
		"invalid id":          {fmt.Errorf("x: %w", ErrInvalidID), false},
		"plain":               {errors.New("decode"), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := IsTransient(tc.err); got != tc.want {
				t.Errorf("IsTransient(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestOutcomeUnknown_matchesBoth(t *testing.T) {
	t.Parallel()
	inner := &APIError{StatusCode: 504, Code: "APIGW.0103"}
	err := fmt.Errorf("ecsclient: migrate server s: %w", outcomeUnknown(inner))
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Error("does not match ErrOutcomeUnknown")
	}
	if ae, ok := errors.AsType[*APIError](err); !ok || ae != inner {
		t.Error("does not unwrap to the *APIError")
	}
	if want := "ecsclient: migrate server s: outcome unknown: the request may have been processed: HTTP 504 APIGW.0103"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

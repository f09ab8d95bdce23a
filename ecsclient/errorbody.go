package ecsclient

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxMessageBytes bounds the message kept from an error body; a proxy's HTML
// page or a stack trace is cut here.
const maxMessageBytes = 512

// maxErrorDepth bounds the search for an error object nested in a body.
const maxErrorDepth = 8

// parseErrorAnswer turns a non-2xx answer into an *APIError, reading the
// body in the official SDK's order:
//
//  1. top-level "error_code" and "error_msg", both non-empty (API Gateway);
//  2. top-level "code" and "message", both non-empty;
//  3. the same two rules in nested objects ({"error": {"code", "message"}}
//     is the ECS shape), "error" first, then the other keys in order (the
//     SDK walks a map in random order; this is its deterministic form);
//  4. otherwise the body itself is the message.
//
// Beyond the SDK, a code without a message (rule 4 would drop it) is kept
// so that the sentinels still match, with the body as the message.
func parseErrorAnswer(status int, h http.Header, body []byte, r *redactor) *APIError {
	e := &APIError{StatusCode: status, RequestID: h.Get(headerRequestID)}
	var m map[string]any
	if json.Unmarshal(body, &m) == nil && m != nil {
		if code, msg, ok := findErrorPair(m, 0); ok {
			e.Code, e.Message = code, msg
		} else {
			e.Code = loneCode(m)
		}
		if e.RequestID == "" {
			e.RequestID = jsonString(m, "request_id")
		}
	}
	if e.Message == "" {
		e.Message = string(body)
	}
	if strings.TrimSpace(e.Message) == "" {
		e.Message = http.StatusText(status)
	}
	e.Message = cleanMessage(e.Message, r)
	e.Code = cleanMessage(e.Code, r)
	e.RequestID = cleanMessage(e.RequestID, r)
	return e
}

// parseErrorInSuccess returns the *APIError carried by a 2xx body, or nil.
// Only top-level shapes count, because success bodies legitimately hold
// error-like fields: a FAIL job has "error_code" and "fail_reason", and a
// server in ERROR has "fault": {"code": 500, "message": …}.
func parseErrorInSuccess(status int, h http.Header, body []byte, r *redactor) *APIError {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil || m == nil {
		return nil
	}
	code, msg := jsonString(m, "error_code"), jsonString(m, "error_msg")
	if code == "" || msg == "" {
		code, msg = jsonString(m, "code"), jsonString(m, "message")
	}
	if code == "" || msg == "" {
		inner, _ := m["error"].(map[string]any)
		code, msg = jsonString(inner, "code"), jsonString(inner, "message")
	}
	if code == "" {
		return nil
	}
	e := &APIError{StatusCode: status, Code: code, Message: msg, RequestID: h.Get(headerRequestID)}
	if e.RequestID == "" {
		e.RequestID = jsonString(m, "request_id")
	}
	if e.Message == "" {
		e.Message = string(body)
	}
	e.Message = cleanMessage(e.Message, r)
	e.Code = cleanMessage(e.Code, r)
	e.RequestID = cleanMessage(e.RequestID, r)
	return e
}

func findErrorPair(m map[string]any, depth int) (code, msg string, ok bool) {
	if code, msg = jsonString(m, "error_code"), jsonString(m, "error_msg"); code != "" && msg != "" {
		return code, msg, true
	}
	if code, msg = jsonString(m, "code"), jsonString(m, "message"); code != "" && msg != "" {
		return code, msg, true
	}
	if depth >= maxErrorDepth {
		return "", "", false
	}
	for _, k := range nestedKeys(m) {
		if inner, isObj := m[k].(map[string]any); isObj {
			if code, msg, ok = findErrorPair(inner, depth+1); ok {
				return code, msg, true
			}
		}
	}
	return "", "", false
}

// loneCode finds an error code given without a message, at the top level or
// in "error".
func loneCode(m map[string]any) string {
	inner, _ := m["error"].(map[string]any)
	for _, c := range []string{jsonString(m, "error_code"), jsonString(inner, "code"), jsonString(m, "code")} {
		if c != "" {
			return c
		}
	}
	return ""
}

// nestedKeys lists m's keys with "error" first and the rest sorted.
func nestedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "error" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	if _, ok := m["error"]; ok {
		keys = append([]string{"error"}, keys...)
	}
	return keys
}

// jsonString returns m[key] if it is a string ("" otherwise, as the SDK does
// for numbers and null).
func jsonString(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// cleanMessage removes known secrets first (so truncation cannot leave half
// a secret), then makes the text valid UTF-8, trims it, and cuts it to
// maxMessageBytes on a rune boundary.
func cleanMessage(s string, r *redactor) string {
	s = r.redact(s)
	s = strings.TrimSpace(strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) <= maxMessageBytes {
		return s
	}
	cut := maxMessageBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "… (truncated)"
}

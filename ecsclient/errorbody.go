package ecsclient

import (
	"bytes"
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
//
// It reads the top level only as raw values, never decoding the rest of
// the answer (a list of a hundred servers is tens of kilobytes).
func parseErrorInSuccess(status int, h http.Header, body []byte, r *redactor) *APIError {
	if !mayCarryError(body) {
		return nil
	}
	return parseSuccessBody(status, h, body, r)
}

// parseSuccessBody is parseErrorInSuccess without the quick test.
func parseSuccessBody(status int, h http.Header, body []byte, r *redactor) *APIError {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || m == nil {
		return nil
	}
	code, msg := rawString(m, "error_code"), rawString(m, "error_msg")
	if code == "" || msg == "" {
		code, msg = rawString(m, "code"), rawString(m, "message")
	}
	if code == "" || msg == "" {
		var inner map[string]json.RawMessage
		if raw, ok := m["error"]; ok && json.Unmarshal(raw, &inner) != nil {
			inner = nil
		}
		code, msg = rawString(inner, "code"), rawString(inner, "message")
	}
	if code == "" {
		return nil
	}
	e := &APIError{StatusCode: status, Code: code, Message: msg, RequestID: h.Get(headerRequestID)}
	if e.RequestID == "" {
		e.RequestID = rawString(m, "request_id")
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

// mayCarryError reports whether body holds any key an error object has,
// or an escape that could spell one: a body without them is no error,
// and need not be parsed for one.
func mayCarryError(body []byte) bool {
	for _, k := range [][]byte{[]byte(`"error_code"`), []byte(`"code"`), []byte(`"error"`), []byte(`\u`)} {
		if bytes.Contains(body, k) {
			return true
		}
	}
	return false
}

// rawString is jsonString over raw values: the value under key if it is
// a JSON string, else "".
func rawString(m map[string]json.RawMessage, key string) string {
	raw, ok := m[key]
	if !ok || len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
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

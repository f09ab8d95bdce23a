package ecsclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Lenient JSON types for the fields whose wire form varies: the API sends
// flavor numbers as strings, task_state as null, and ids as arrays where a
// single value is meant. Each accepts the forms seen in the API family and
// rejects the rest with an error, never a panic.

// looseString decodes a JSON string, number or boolean as text and null as "".
type looseString string

func (s *looseString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		if v, ok := plainString(b); ok {
			*s = looseString(v)
			return nil
		}
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = looseString(v)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("want a string, got %.20s", b)
	default: // number or boolean, kept as written
		*s = looseString(b)
	}
	return nil
}

// plainString reads a quoted JSON string that needs no unquoting: no
// escape, no control character, valid UTF-8 (what encoding/json would
// give it unchanged). Most strings of an answer are such, and a list of
// 100 servers holds thousands of them.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	in := b[1 : len(b)-1]
	for _, c := range in {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(in) {
		return "", false
	}
	return string(in), true
}

// looseInt decodes a JSON number, a string holding an integer, or null (0).
type looseInt int

func (n *looseInt) UnmarshalJSON(b []byte) error {
	var s looseString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	t := strings.TrimSpace(string(s))
	if t == "" {
		*n = 0
		return nil
	}
	v, err := strconv.Atoi(t)
	if err != nil {
		// Accept an integral float such as 4.0.
		f, ferr := strconv.ParseFloat(t, 64)
		if ferr != nil || f != float64(int(f)) {
			return fmt.Errorf("want an integer, got %q", clip(t))
		}
		v = int(f)
	}
	*n = looseInt(v)
	return nil
}

// looseBool decodes true/false, their string forms, or null (false).
type looseBool bool

func (v *looseBool) UnmarshalJSON(b []byte) error {
	var s looseString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(string(s))) {
	case "true":
		*v = true
	case "false", "":
		*v = false
	default:
		return fmt.Errorf("want a boolean, got %q", clip(string(s)))
	}
	return nil
}

// looseStrings decodes an array of strings, a single string, or null.
type looseStrings []string

func (l *looseStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var items []looseString
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			out = append(out, string(it))
		}
		*l = out
		return nil
	}
	var s looseString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*l = nil
	} else {
		*l = []string{string(s)}
	}
	return nil
}

// first returns the first non-empty element.
func (l looseStrings) first() string {
	for _, s := range l {
		if s != "" {
			return s
		}
	}
	return ""
}

// apiTimeLayouts are the forms times take in this API family: job times
// like 2016-04-25T20:04:34.604Z, server times like 2018-09-13T07:06:51Z and
// 2018-09-13T07:04:09.197749 (no zone, meaning UTC).
var apiTimeLayouts = []string{
	time.RFC3339Nano,                     // Z or ±hh:mm, any fraction or none
	"2006-01-02T15:04:05.999999999Z0700", // ±hhmm
	"2006-01-02T15:04:05.999999999",      // no zone: UTC
	"2006-01-02 15:04:05.999999999",      // space separator, no zone: UTC
}

// parseAPITime parses a time in any of [apiTimeLayouts]. Empty text gives
// the zero time and ok; unreadable text gives the zero time and !ok.
func parseAPITime(s string) (t time.Time, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range apiTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

package events

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// ParseMessage reads a CloudEvent from a message in either content mode:
// binary when the headers carry ce-specversion (in any letter case, as NATS
// and HTTP headers do), with the body as the data; otherwise structured
// JSON in the body. Errors are *[DecodeError].
func ParseMessage(header map[string][]string, body []byte) (event.Event, error) {
	for k := range header {
		if strings.EqualFold(k, "ce-specversion") {
			return ParseBinary(header, body)
		}
	}
	return ParseStructured(body)
}

// ParseStructured reads a CloudEvent in structured JSON mode. Errors are
// *[DecodeError]; every malformed attribute is named at once.
func ParseStructured(body []byte) (event.Event, error) {
	if len(body) > maxMessageSize {
		return event.Event{}, tooLarge(body)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return event.Event{}, decodeErr(ErrNotCloudEvent, Origin{RawDigest: rawDigest(body)}, "the body is not a JSON object", nil)
	}
	w := wire{attrs: map[string]string{}, exts: map[string]any{}}
	// An attribute given twice is ambiguous (json.Unmarshal keeps the last):
	// refuse it. Keys repeated inside data are the payload's problem, named
	// with their path when the data is decoded.
	keys, _ := checkKeys(body, "event", maxDepth+1)
	for _, k := range slices.Sorted(maps.Keys(keys.repeated)) {
		if len(w.shape) == maxKeyProblems {
			break
		}
		w.shape.add(pathSegment(k), "is given more than once")
		delete(m, k)
	}
	for k, raw := range m {
		if isNull(raw) {
			continue // a null attribute is an absent one
		}
		switch {
		case k == "data":
			w.data, w.hasData = raw, true
		case k == "data_base64":
			var s string
			if json.Unmarshal(raw, &s) != nil {
				w.shape.add(k, "must be a base64 string")
				continue
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				w.shape.add(k, "must be valid base64")
				continue
			}
			w.base64Data, w.hasBase64 = b, true
		case contextAttrs[k]:
			var s string
			if json.Unmarshal(raw, &s) != nil {
				w.shape.add(k, "must be a string")
				continue
			}
			w.attrs[k] = s
		default:
			w.exts[k] = extensionValue(&w.shape, k, raw)
		}
	}
	return w.event(body)
}

// ParseBinary reads a CloudEvent in binary content mode: attributes in ce-*
// headers (matched in any letter case, values percent-decoded as the HTTP
// binding requires), datacontenttype in content-type, data in the body.
// An attribute given twice (two values, or two spellings of its header
// name) is a problem, as in structured mode. Errors are *[DecodeError].
func ParseBinary(header map[string][]string, body []byte) (event.Event, error) {
	if len(body) > maxMessageSize {
		return event.Event{}, tooLarge(body)
	}
	w := wire{attrs: map[string]string{}, exts: map[string]any{}}
	// An attribute given twice — under two spellings of its header name
	// (NATS keeps the case it was sent in) or as two values of one header —
	// is ambiguous, as in structured mode: refuse it, rather than read
	// whichever the map yields first.
	given := map[string]int{}
	for k, vs := range header {
		if lk := strings.ToLower(k); lk == "content-type" || strings.HasPrefix(lk, "ce-") {
			given[lk] += len(vs)
		}
	}
	for _, lk := range slices.Sorted(maps.Keys(given)) {
		if given[lk] > 1 && lk != "ce-datacontenttype" {
			name := strings.TrimPrefix(lk, "ce-")
			if lk == "content-type" {
				name = "datacontenttype"
			}
			w.shape.add(name, "is given more than once")
		}
	}
	for k, vs := range header {
		if len(vs) == 0 {
			continue
		}
		lk := strings.ToLower(k)
		if given[lk] > 1 {
			continue
		}
		v := vs[0]
		if strings.Contains(v, "%") {
			if d, err := url.PathUnescape(v); err == nil {
				v = d
			}
		}
		switch {
		case lk == "content-type":
			w.attrs["datacontenttype"] = v
		case strings.HasPrefix(lk, "ce-"):
			name := lk[len("ce-"):]
			if name == "datacontenttype" {
				continue // carried by content-type in binary mode
			}
			if contextAttrs[name] {
				w.attrs[name] = v
			} else {
				w.exts[name] = v
			}
		}
	}
	if len(body) > 0 {
		w.data, w.hasData, w.binary = body, true, true
	}
	return w.event(body)
}

// contextAttrs are the CloudEvents 1.0 context attributes coldmove reads;
// every other attribute is an extension.
var contextAttrs = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true,
	"subject": true, "time": true, "datacontenttype": true, "dataschema": true,
}

// wire is a CloudEvent as read from either content mode, before checks.
type wire struct {
	attrs      map[string]string
	exts       map[string]any
	data       []byte // raw JSON member (structured) or body (binary)
	hasData    bool
	binary     bool
	base64Data []byte
	hasBase64  bool
	shape      problems
}

// event checks what was read and builds the event, or the error naming
// every problem.
func (w *wire) event(raw []byte) (event.Event, error) {
	o := Origin{RequestID: clip(w.attrs["id"]), RequestSource: clip(w.attrs["source"])}
	o.setServerID(w.attrs["subject"])
	if o.RequestID == "" || o.RequestSource == "" {
		o.RawDigest = rawDigest(raw)
	}
	sv, ok := w.attrs["specversion"]
	if !ok && !w.shape.covers("specversion") { // given twice is an invalid event, below
		return event.Event{}, decodeErr(ErrNotCloudEvent, o, "it has no specversion attribute", nil)
	}
	if ok && sv != SpecVersion {
		return event.Event{}, decodeErr(ErrSpecVersion, o, fmt.Sprintf("specversion %q; only %s is read", clip(sv), SpecVersion), nil)
	}
	ps := w.shape
	for _, k := range []string{"id", "source", "type"} {
		if strings.TrimSpace(w.attrs[k]) == "" && !ps.covers(k) {
			ps.add(k, "is required and must not be empty")
		}
	}
	var at time.Time
	if s, ok := w.attrs["time"]; ok {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			ps.add("time", "must be an RFC 3339 time")
		}
		at = t
	}
	if s, ok := w.attrs["datacontenttype"]; ok {
		if _, _, err := mime.ParseMediaType(s); err != nil {
			ps.add("datacontenttype", "must be a media type (RFC 2046), for example application/json")
		}
	}
	if s, ok := w.attrs["dataschema"]; ok {
		if u, err := url.Parse(s); err != nil || !u.IsAbs() {
			ps.add("dataschema", "must be an absolute URI")
		}
	}
	if s, ok := w.attrs["source"]; ok && s != "" {
		if _, err := url.Parse(s); err != nil {
			ps.add("source", "must be a URI-reference")
		}
	}
	if w.hasData && w.hasBase64 {
		ps.add("data", "give data or data_base64, not both")
	}
	for name := range w.exts {
		if !event.IsExtensionNameValid(name) {
			ps.add(name, "is not a valid extension name (lower-case letters and digits only)")
		}
	}
	if len(ps) > 0 {
		w.readOrigin(&o)
		return event.Event{}, decodeErr(ErrInvalidEvent, o, "", ps.err().(*ValidationError).Problems)
	}

	e := event.New()
	e.SetID(w.attrs["id"])
	e.SetSource(w.attrs["source"])
	e.SetType(w.attrs["type"])
	if s := w.attrs["subject"]; s != "" {
		e.SetSubject(s)
	}
	if !at.IsZero() {
		e.SetTime(at)
	}
	if s, ok := w.attrs["datacontenttype"]; ok {
		e.SetDataContentType(s)
	}
	if s, ok := w.attrs["dataschema"]; ok {
		e.SetDataSchema(s)
	}
	for name, v := range w.exts {
		e.SetExtension(name, v)
	}
	switch {
	case w.hasBase64:
		e.DataEncoded, e.DataBase64 = w.base64Data, true
	case w.hasData && !w.binary && !isJSONMedia(e.DataMediaType()):
		// Structured mode carries non-JSON data as a JSON string.
		var s string
		if json.Unmarshal(w.data, &s) == nil {
			e.DataEncoded = []byte(s)
		} else {
			e.DataEncoded = bytes.Clone(w.data)
		}
	case w.hasData:
		e.DataEncoded = bytes.Clone(w.data)
	}
	if err := e.Validate(); err != nil {
		w.readOrigin(&o)
		return event.Event{}, decodeErr(ErrInvalidEvent, o, "", sdkProblems(err))
	}
	return e, nil
}

// readOrigin reads, best effort, the request fields of an invalid event's
// data into o, when the data is JSON.
func (w *wire) readOrigin(o *Origin) {
	data := w.data
	if w.hasBase64 {
		data = w.base64Data
	}
	if ct, ok := w.attrs["datacontenttype"]; ok {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !isJSONMedia(mt) {
			return
		}
	}
	o.readJSON(data)
}

// extensionValue reads a structured-mode extension: a string, an integer
// or a boolean, as CloudEvents 1.0 allows.
func extensionValue(ps *problems, name string, raw json.RawMessage) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		ps.add(name, "must be a string, an integer or a boolean")
		return nil
	}
	switch v := v.(type) {
	case string, bool:
		return v
	case json.Number:
		if n, err := v.Int64(); err == nil && n >= -1<<31 && n < 1<<31 {
			return int32(n)
		}
	}
	ps.add(name, "must be a string, an integer (32-bit) or a boolean")
	return nil
}

func isJSONMedia(mt string) bool {
	return mt == "" || mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

func tooLarge(body []byte) *DecodeError {
	return decodeErr(ErrDataTooLarge, Origin{RawDigest: rawDigest(body)},
		fmt.Sprintf("the message is %d bytes; the limit is %d", len(body), maxMessageSize), nil)
}

// sdkProblems turns an sdk-go validation error into sorted problems.
func sdkProblems(err error) []Problem {
	var ps problems
	if ve, ok := err.(event.ValidationError); ok {
		for k, v := range ve {
			ps.add(k, v.Error())
		}
	} else {
		ps.add("event", err.Error())
	}
	return ps.err().(*ValidationError).Problems
}

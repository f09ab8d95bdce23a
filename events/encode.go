package events

import (
	"encoding/json"
	"fmt"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
)

// BinaryHeaders returns an event in binary content mode: its attributes and
// extensions as lower-case ce-* headers, its datacontenttype as
// content-type, and its data as the body. The event is validated first.
func BinaryHeaders(e event.Event) (header map[string][]string, body []byte, err error) {
	if err := e.Validate(); err != nil {
		return nil, nil, fmt.Errorf("events: encode binary: %w", err)
	}
	h := map[string][]string{
		"ce-specversion": {e.SpecVersion()},
		"ce-id":          {e.ID()},
		"ce-source":      {e.Source()},
		"ce-type":        {e.Type()},
	}
	if s := e.Subject(); s != "" {
		h["ce-subject"] = []string{s}
	}
	if t := e.Time(); !t.IsZero() {
		h["ce-time"] = []string{types.FormatTime(t)}
	}
	if s := e.DataSchema(); s != "" {
		h["ce-dataschema"] = []string{s}
	}
	if s := e.DataContentType(); s != "" {
		h["content-type"] = []string{s}
	}
	for name, v := range e.Extensions() {
		s, err := types.Format(v)
		if err != nil {
			return nil, nil, fmt.Errorf("events: encode binary: extension %s: %w", name, err)
		}
		h["ce-"+name] = []string{s}
	}
	return h, e.Data(), nil
}

// Structured returns an event in structured JSON content mode. The event is
// validated first.
func Structured(e event.Event) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("events: encode structured: %w", err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("events: encode structured: %w", err)
	}
	return b, nil
}

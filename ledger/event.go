package ledger

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// eventJSON returns a CloudEvent in structured JSON in the form the ledger
// stores it: compact ([json.Compact]: insignificant white space removed,
// nothing escaped). An event that is already compact, as the CloudEvents
// SDK marshals it, is stored byte for byte. what names the event in the
// error, which matches [ErrNotJSON].
func eventJSON(what string, doc []byte) (json.RawMessage, error) {
	var b bytes.Buffer
	b.Grow(len(doc))
	if err := json.Compact(&b, doc); err != nil {
		return nil, fmt.Errorf("%w: %s (%d bytes): %v", ErrNotJSON, what, len(doc), err)
	}
	if b.Len() == 0 || b.Bytes()[0] != '{' {
		return nil, fmt.Errorf("%w: %s is a JSON %s", ErrNotJSON, what, jsonKind(b.Bytes()))
	}
	return b.Bytes(), nil
}

// jsonKind names the kind of a compact JSON value.
func jsonKind(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

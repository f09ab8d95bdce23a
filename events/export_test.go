package events

import (
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// DecodeMessage is Decode followed by CheckDeadline with now, a shorthand
// of the tests (production code looks the request up in the ledger between
// the two).
func DecodeMessage(header map[string][]string, body []byte, now time.Time) (*Placement, error) {
	p, err := Decode(header, body)
	if err != nil {
		return nil, err
	}
	if err := p.CheckDeadline(now); err != nil {
		return nil, err
	}
	return p, nil
}

// DecodeRequestAt is DecodeEvent followed by CheckDeadline with now, a
// shorthand of the tests.
func DecodeRequestAt(e event.Event, now time.Time) (*Placement, error) {
	p, err := DecodeEvent(e)
	if err != nil {
		return nil, err
	}
	if err := p.CheckDeadline(now); err != nil {
		return nil, err
	}
	return p, nil
}

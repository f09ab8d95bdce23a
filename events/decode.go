package events

import (
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
)

// Decode is the one decoder for messages: it reads a CloudEvent in either
// content mode ([ParseMessage]) and decodes it as a placement request
// ([DecodeEvent]). A structured JSON body (a Lambda payload, an SQS body)
// is passed with a nil header. Errors are *[DecodeError].
//
// Decode judges nothing against a clock: a request whose deadline has
// passed decodes. Judge it with [Placement.CheckDeadline] once the ledger
// has said the request is new; a late redelivery of a request already
// accepted is answered from its claim instead.
func Decode(header map[string][]string, body []byte) (*Placement, error) {
	e, err := ParseMessage(header, body)
	if err != nil {
		return nil, err
	}
	return DecodeEvent(e)
}

// DecodeEvent decodes a CloudEvent as a [TypeRequested] placement request
// and validates everything about it that does not depend on the time (the
// deadline is judged by [Placement.CheckDeadline]). It fails with a
// *[DecodeError] wrapping exactly one of: [ErrNotCloudEvent],
// [ErrSpecVersion], [ErrInvalidEvent], [ErrUnsupportedType],
// [ErrDataTooLarge] or [ErrInvalidPayload] (with every field problem; a key
// repeated anywhere in the data is one). The error's Origin holds whatever
// could be read, so that the rejection can be correlated with the request.
func DecodeEvent(e event.Event) (*Placement, error) {
	if e.Context == nil {
		return nil, decodeErr(ErrNotCloudEvent, Origin{}, "the event has no context", nil)
	}
	o := Origin{
		RequestID:     clip(e.ID()),
		RequestSource: clip(e.Source()),
		ServerID:      clip(e.Subject()),
	}
	if sv := e.SpecVersion(); sv != SpecVersion {
		return nil, decodeErr(ErrSpecVersion, o, fmt.Sprintf("specversion %q; only %s is read", clip(sv), SpecVersion), nil)
	}
	tp, ts := trace(e)
	o.TraceParent, o.TraceState = tp, ts
	if err := e.Validate(); err != nil {
		return nil, decodeErr(ErrInvalidEvent, o, "", sdkProblems(err))
	}
	if e.Type() != TypeRequested {
		return nil, decodeErr(ErrUnsupportedType, o, fmt.Sprintf("type %q; requests are %s", clip(e.Type()), TypeRequested), nil)
	}
	if mt := e.DataMediaType(); !isJSONMedia(mt) {
		return nil, decodeErr(ErrInvalidPayload, o, "",
			[]Problem{{Field: "datacontenttype", Problem: fmt.Sprintf("is %q; must be %s", clip(mt), ContentType)}})
	}
	data := e.Data()
	if len(data) > MaxDataSize {
		return nil, decodeErr(ErrDataTooLarge, o, fmt.Sprintf("data is %d bytes; the limit is %d", len(data), MaxDataSize), nil)
	}
	req, ps := parseRequest(data)
	// Keep what was read, so a rejection names the server and target.
	if req.ServerID != "" {
		o.ServerID = clip(req.ServerID)
	}
	o.ProjectID, o.Region, o.Target = clip(req.ProjectID), clip(req.Region), req.Target
	if s := e.Subject(); s != "" && req.ServerID != "" && s != req.ServerID {
		ps = append(ps, Problem{Field: "subject", Problem: "must equal data.server_id (or be absent)"})
	}
	if len(ps) > 0 {
		return nil, decodeErr(ErrInvalidPayload, o, "", ps.err().(*ValidationError).Problems)
	}
	return &Placement{
		ID:          e.ID(),
		Source:      e.Source(),
		Time:        e.Time(),
		TraceParent: tp,
		TraceState:  ts,
		Request:     req,
	}, nil
}

// CheckDeadline judges the request's deadline against now: nil when it
// has none or it is after now, else a *[DecodeError] wrapping
// [ErrInvalidPayload] (reason invalid_payload) with the problem
// "deadline: must be in the future" and the request's [Origin], ready to
// answer with [NewRejected]. Call it only for a request the ledger does not
// know yet: one it knows is answered from its claim, however late.
func (p *Placement) CheckDeadline(now time.Time) error {
	var ps problems
	p.checkDeadline(&ps, now)
	if len(ps) == 0 {
		return nil
	}
	return decodeErr(ErrInvalidPayload, p.Origin(), "", ps)
}

// DecodeMessage is [Decode] followed by [Placement.CheckDeadline] with now:
// a request whose deadline has passed fails as invalid_payload even when
// the ledger knows it. New code should call Decode, look the request up,
// and call CheckDeadline only for a request the ledger does not know.
// Errors are *[DecodeError].
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

// DecodeRequestAt is [DecodeEvent] followed by [Placement.CheckDeadline]
// with now. New code should call DecodeEvent, look the request up, and call
// CheckDeadline only for a request the ledger does not know. Errors are
// *[DecodeError].
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

// trace returns the event's W3C trace context as [traceContext] keeps it.
func trace(e event.Event) (parent, state string) {
	ext := e.Extensions()
	tp, _ := ext["traceparent"].(string)
	ts, _ := ext["tracestate"].(string)
	return traceContext(tp, ts)
}

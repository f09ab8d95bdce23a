package events

import (
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/ids"
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
// [ErrSpecVersion], [ErrInvalidEvent] (also for an id or a source over
// [MaxIDSize]), [ErrUnsupportedType], [ErrDataTooLarge] or [ErrInvalidPayload] (with every field problem; a key
// repeated anywhere in the data is one). The error's Origin holds whatever
// could be read of the request, also of a CloudEvent of another type, so
// that the rejection can be correlated with it; a server id is copied into
// it only when it is a valid one.
func DecodeEvent(e event.Event) (*Placement, error) {
	if e.Context == nil {
		return nil, decodeErr(ErrNotCloudEvent, Origin{}, "the event has no context", nil)
	}
	o := Origin{RequestID: clip(e.ID()), RequestSource: clip(e.Source())}
	o.setServerID(e.Subject())
	if sv := e.SpecVersion(); sv != SpecVersion {
		return nil, decodeErr(ErrSpecVersion, o, fmt.Sprintf("specversion %q; only %s is read", clip(sv), SpecVersion), nil)
	}
	tp, ts := trace(e)
	o.TraceParent, o.TraceState = tp, ts
	if err := e.Validate(); err != nil {
		o.readData(e)
		return nil, decodeErr(ErrInvalidEvent, o, "", sdkProblems(err))
	}
	if ps := idSizes(e); len(ps) > 0 {
		o.readData(e)
		return nil, decodeErr(ErrInvalidEvent, o, "", ps)
	}
	if e.Type() != TypeRequested {
		o.readData(e)
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
	o.absorb(req) // keep what was read, so a rejection names the server and target
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

// MaxIDSize is the longest CloudEvent id, and the longest source, of a
// request, in bytes. Both are copied onto every outcome and into the
// ledger's records, which NATS bounds in size; at this size every outcome
// carries them exactly as sent.
const MaxIDSize = maxEcho

// idSizes returns the problems of an id or a source over [MaxIDSize].
func idSizes(e event.Event) []Problem {
	var ps problems
	for _, a := range []struct{ name, v string }{{"id", e.ID()}, {"source", e.Source()}} {
		if len(a.v) > MaxIDSize {
			ps.add(a.name, fmt.Sprintf("must be at most %d bytes, not %d", MaxIDSize, len(a.v)))
		}
	}
	return ps
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

// trace returns the event's W3C trace context as [traceContext] keeps it.
func trace(e event.Event) (parent, state string) {
	ext := e.Extensions()
	tp, _ := ext["traceparent"].(string)
	ts, _ := ext["tracestate"].(string)
	return traceContext(tp, ts)
}

// setServerID sets the origin's server id to id when it is a valid server
// id; any other value is left out, so that it never names a subject.
func (o *Origin) setServerID(id string) {
	if ids.Server.Valid(id) {
		o.ServerID = id
	}
}

// absorb copies into the origin what was read of a request's data: the
// server id only when it is valid, the other fields clipped to maxEcho.
func (o *Origin) absorb(r Request) {
	o.setServerID(r.ServerID)
	o.ProjectID, o.Region = clip(r.ProjectID), clip(r.Region)
	if r.Target != nil {
		t := *r.Target
		t.DedicatedHostID = clip(t.DedicatedHostID)
		o.Target = &t
	}
}

// readData reads, best effort, the request fields of an event that failed
// before its data was decoded (a wrong type, a malformed attribute) into the
// origin. Data that is not JSON, or too large, is not read; nothing read
// here ever fails the decode.
func (o *Origin) readData(e event.Event) {
	if !isJSONMedia(e.DataMediaType()) {
		return
	}
	o.readJSON(e.Data())
}

// readJSON reads, best effort, the request fields of data into the origin.
func (o *Origin) readJSON(data []byte) {
	if len(data) == 0 || len(data) > MaxDataSize {
		return
	}
	r, _, _, _ := readRequest(data)
	o.absorb(r)
}

package ecstest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Op names an API operation, for fault scripts and counters.
type Op string

// The operations the simulator serves. OpAny in a fault rule matches them all.
const (
	OpAny               Op = ""
	OpMigrateServer     Op = "MigrateServer"
	OpShowJob           Op = "ShowJob"
	OpShowServer        Op = "ShowServer"
	OpBatchStopServers  Op = "BatchStopServers"
	OpBatchStartServers Op = "BatchStartServers"
	// OpListServersDetails is GET /v1/{project_id}/cloudservers/detail, by
	// server_id or paged.
	OpListServersDetails Op = "ListServersDetails"
)

// FaultKind is the kind of trouble a [Fault] causes.
type FaultKind int

// The kinds of faults. Those before FaultLatency answer instead of the
// operation, which is therefore not applied; FaultLatency delays and then
// proceeds; the last three apply the operation and then spoil the answer.
const (
	// FaultGatewayThrottle answers 429 APIGW.0308 in the gateway's body shape.
	FaultGatewayThrottle FaultKind = iota + 1
	// FaultAPIThrottle answers 429 Common.1503 in the ECS body shape.
	FaultAPIThrottle
	// FaultFlowLimit answers 202 Common.0024: an error with a 2xx status.
	FaultFlowLimit
	// FaultServerError answers a 5xx status: 500 Common.0001, 501 Ecs.0603,
	// 504 APIGW.0203, any other APIGW.0202.
	FaultServerError
	// FaultConnectionReset resets the connection without answering.
	FaultConnectionReset
	// FaultLatency waits, in wall time and until the request's context ends,
	// before handling the request normally.
	FaultLatency
	// FaultMalformedBody applies the operation and answers 200 with a body
	// that is not JSON.
	FaultMalformedBody
	// FaultTruncatedBody applies the operation and sends only the first half
	// of the answer before closing the connection.
	FaultTruncatedBody
	// FaultResponseLost applies the operation and resets the connection
	// instead of answering: the client never learns the outcome.
	FaultResponseLost
)

// Fault is one injected misbehaviour. Build it with the constructors below.
type Fault struct {
	Kind   FaultKind
	Status int           // FaultServerError: the 5xx status
	Delay  time.Duration // FaultLatency: the wait
}

// GatewayThrottle returns a 429 APIGW.0308 fault.
func GatewayThrottle() Fault { return Fault{Kind: FaultGatewayThrottle} }

// APIThrottle returns a 429 Common.1503 fault.
func APIThrottle() Fault { return Fault{Kind: FaultAPIThrottle} }

// FlowLimit returns a 202 Common.0024 fault.
func FlowLimit() Fault { return Fault{Kind: FaultFlowLimit} }

// ServerError returns a fault answering status, which must be 5xx (other
// values become 500).
func ServerError(status int) Fault {
	if status < 500 || status > 599 {
		status = 500
	}
	return Fault{Kind: FaultServerError, Status: status}
}

// ConnectionReset returns a fault that resets the connection unanswered and
// without applying the operation.
func ConnectionReset() Fault { return Fault{Kind: FaultConnectionReset} }

// Latency returns a fault that delays the answer by d of wall time.
func Latency(d time.Duration) Fault { return Fault{Kind: FaultLatency, Delay: d} }

// MalformedBody returns a fault that applies the operation and answers with a
// body that is not JSON.
func MalformedBody() Fault { return Fault{Kind: FaultMalformedBody} }

// TruncatedBody returns a fault that applies the operation and cuts the
// answer short.
func TruncatedBody() Fault { return Fault{Kind: FaultTruncatedBody} }

// ResponseLost returns a fault that applies the operation and resets the
// connection instead of answering.
func ResponseLost() Fault { return Fault{Kind: FaultResponseLost} }

// String names the fault.
func (f Fault) String() string {
	switch f.Kind {
	case FaultGatewayThrottle:
		return "gateway-throttle"
	case FaultAPIThrottle:
		return "api-throttle"
	case FaultFlowLimit:
		return "flow-limit"
	case FaultServerError:
		return fmt.Sprintf("server-error-%d", f.Status)
	case FaultConnectionReset:
		return "connection-reset"
	case FaultLatency:
		return "latency-" + f.Delay.String()
	case FaultMalformedBody:
		return "malformed-body"
	case FaultTruncatedBody:
		return "truncated-body"
	case FaultResponseLost:
		return "response-lost"
	}
	return ""
}

// rule is one scripted fault.
type rule struct {
	op          Op
	remaining   int     // >0: for this many more matching calls
	probability float64 // otherwise: with this probability
	fault       Fault
}

// faultTable holds the fault script and the seeded PRNG it rolls.
type faultTable struct {
	mu      sync.Mutex
	rng     *rand.Rand
	rules   []*rule
	latency map[Op]time.Duration
	active  atomic.Bool // any rule or latency: lets pick skip the lock
}

// refresh recomputes active; t.mu must be held.
func (t *faultTable) refresh() { t.active.Store(len(t.rules) > 0 || len(t.latency) > 0) }

func newFaultTable(seed uint64) *faultTable {
	return &faultTable{rng: rand.New(rand.NewPCG(seed, 0xfa017)), latency: map[Op]time.Duration{}}
}

// InjectNext makes the next n calls of op (every operation for [OpAny]) fail
// with f. Scripts are used in the order they were added, before random ones.
func (s *Simulator) InjectNext(op Op, n int, f Fault) {
	if n <= 0 {
		return
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = append(s.faults.rules, &rule{op: op, remaining: n, fault: f})
	s.faults.refresh()
}

// InjectRandom makes each call of op (every operation for [OpAny]) fail with
// f with probability p, rolled on the PRNG seeded by [Config.Seed].
func (s *Simulator) InjectRandom(op Op, p float64, f Fault) {
	if p <= 0 {
		return
	}
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = append(s.faults.rules, &rule{op: op, probability: min(p, 1), fault: f})
	s.faults.refresh()
}

// SetLatency makes every call of op (every operation for [OpAny]) wait d of
// wall time before it is handled, on top of any [Latency] fault; 0 removes it.
func (s *Simulator) SetLatency(op Op, d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if d <= 0 {
		delete(s.faults.latency, op)
	} else {
		s.faults.latency[op] = d
	}
	s.faults.refresh()
}

// ClearFaults removes every fault rule and latency setting.
func (s *Simulator) ClearFaults() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = nil
	clear(s.faults.latency)
	s.faults.refresh()
}

// pick returns the fault for a call of op, if any, and the baseline latency.
func (t *faultTable) pick(op Op) (Fault, bool, time.Duration) {
	if !t.active.Load() {
		return Fault{}, false, 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delay := t.latency[OpAny] + t.latency[op]
	for i, r := range t.rules {
		if r.remaining == 0 || (r.op != OpAny && r.op != op) {
			continue
		}
		r.remaining--
		if r.remaining == 0 {
			t.rules = append(t.rules[:i:i], t.rules[i+1:]...)
			t.refresh()
		}
		return r.fault, true, delay
	}
	for _, r := range t.rules {
		if r.probability == 0 || (r.op != OpAny && r.op != op) {
			continue
		}
		if t.rng.Float64() < r.probability {
			return r.fault, true, delay
		}
	}
	return Fault{}, false, delay
}

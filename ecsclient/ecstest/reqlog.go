package ecstest

import (
	"sync"
	"sync/atomic"
	"time"
)

// Request is one entry of the request log: what the simulated cloud saw and
// how it answered.
type Request struct {
	// Time is when the request arrived, on the gateway clock.
	Time      time.Time
	RequestID string
	Method    string
	Path      string
	// Op is the operation the path routed to; "" for an unknown path.
	Op        Op
	ProjectID string
	// ServerID is the server in the path, or the first server of a batch
	// or of a ListServersDetails server_id list.
	ServerID string
	// IDs is how many ids the server_id parameter of a ListServersDetails
	// request named, as sent (malformed and repeated ids count); 0 for a
	// paged listing and for every other operation.
	IDs int
	// JobID is the job in the path, or the job the request created.
	JobID string
	// Authenticated reports whether the gateway let the request through.
	Authenticated bool
	// Status is the HTTP status answered; 0 when the connection was reset.
	Status int
	// Code is the error code answered; "" on success.
	Code string
	// Fault names the injected fault, if any.
	Fault string
	// Applied reports whether the operation changed the model (a job was
	// created).
	Applied bool
}

// requestLog is a bounded ring of requests plus counters.
type requestLog struct {
	mu    sync.Mutex
	ring  []Request
	next  int
	full  bool
	calls [opCount]atomic.Int64
	// maxListIDs is the largest Request.IDs of an authenticated request.
	maxListIDs atomic.Int64

	perServer      sync.Mutex
	migrateCalls   map[string]int
	migrationsMade map[string]int
	stopCalls      map[string]int
	startCalls     map[string]int
}

// opIndex maps an operation to its counter; 0 counts every operation.
func opIndex(op Op) int {
	switch op {
	case OpMigrateServer:
		return 1
	case OpShowJob:
		return 2
	case OpShowServer:
		return 3
	case OpBatchStopServers:
		return 4
	case OpBatchStartServers:
		return 5
	case OpListServersDetails:
		return 6
	}
	return 0
}

const opCount = 7

func newRequestLog(size int) *requestLog {
	l := &requestLog{migrateCalls: map[string]int{}, migrationsMade: map[string]int{},
		stopCalls: map[string]int{}, startCalls: map[string]int{}}
	if size > 0 {
		l.ring = make([]Request, size)
	}
	return l
}

// record appends r to the ring and updates the counters; batch lists the
// servers an os-stop or os-start request named (nil when its body did not
// decode).
func (l *requestLog) record(r Request, batch []string) {
	if r.Authenticated && r.Op != OpAny {
		l.calls[0].Add(1)
		l.calls[opIndex(r.Op)].Add(1)
		for n := int64(r.IDs); ; {
			old := l.maxListIDs.Load()
			if n <= old || l.maxListIDs.CompareAndSwap(old, n) {
				break
			}
		}
		switch r.Op {
		case OpMigrateServer:
			l.perServer.Lock()
			l.migrateCalls[r.ServerID]++
			if r.Applied {
				l.migrationsMade[r.ServerID]++
			}
			l.perServer.Unlock()
		case OpBatchStopServers, OpBatchStartServers:
			counts := l.stopCalls
			if r.Op == OpBatchStartServers {
				counts = l.startCalls
			}
			l.perServer.Lock()
			for _, id := range batch {
				counts[id]++
			}
			l.perServer.Unlock()
		}
	}
	if len(l.ring) == 0 {
		return
	}
	l.mu.Lock()
	l.ring[l.next] = r
	l.next++
	if l.next == len(l.ring) {
		l.next, l.full = 0, true
	}
	l.mu.Unlock()
}

// Requests returns the request log, oldest first: the most recent
// [Config.RequestLogSize] requests.
func (s *Simulator) Requests() []Request {
	l := s.log
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return append([]Request(nil), l.ring[:l.next]...)
	}
	out := make([]Request, 0, len(l.ring))
	out = append(out, l.ring[l.next:]...)
	return append(out, l.ring[:l.next]...)
}

// Calls returns how many authenticated requests of op reached the simulator
// ([OpAny]: of every operation), whatever they were answered.
func (s *Simulator) Calls(op Op) int {
	return int(s.log.calls[opIndex(op)].Load())
}

// MaxListIDsSeen returns the most ids one authenticated ListServersDetails
// request named in server_id (its [Request.IDs]), over every request
// since the simulator started, whether the log still holds it or not: a
// test can assert that a client never asks for more than it should.
func (s *Simulator) MaxListIDsSeen() int {
	return int(s.log.maxListIDs.Load())
}

// MigrateCalls returns how many authenticated MigrateServer requests named
// the server, whatever they were answered (faults and refusals included).
func (s *Simulator) MigrateCalls(serverID string) int {
	s.log.perServer.Lock()
	defer s.log.perServer.Unlock()
	return s.log.migrateCalls[serverID]
}

// StopCalls returns how many authenticated os-stop requests
// (BatchStopServers) named the server in their body, whatever they were
// answered (faults and refusals included); a request whose body does not
// decode names no server.
func (s *Simulator) StopCalls(serverID string) int {
	s.log.perServer.Lock()
	defer s.log.perServer.Unlock()
	return s.log.stopCalls[serverID]
}

// StartCalls returns how many authenticated os-start requests
// (BatchStartServers) named the server, as [Simulator.StopCalls] counts
// them.
func (s *Simulator) StartCalls(serverID string) int {
	s.log.perServer.Lock()
	defer s.log.perServer.Unlock()
	return s.log.startCalls[serverID]
}

// Migrations returns how many migration jobs were started for the server,
// including those whose answer a fault spoiled.
func (s *Simulator) Migrations(serverID string) int {
	s.log.perServer.Lock()
	defer s.log.perServer.Unlock()
	return s.log.migrationsMade[serverID]
}

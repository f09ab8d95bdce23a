package ecstest

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBodyBytes is the largest request body the gateway accepts.
const maxBodyBytes = 1 << 20

const jsonContentType = "application/json;charset=UTF-8"

// ServeHTTP answers one API request as the gateway and ECS would:
// route, authenticate, check the project and the rate limit, apply scripted
// faults and latency, then perform the operation.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	gwNow := s.gateway.Now()
	x := &exchange{s: s, w: w, rec: Request{Time: gwNow, RequestID: s.newRequestID(), Method: r.Method, Path: r.URL.Path}}
	h := w.Header()
	h["X-Request-Id"] = []string{x.rec.RequestID}
	h["Content-Type"] = []string{jsonContentType}

	var rt route
	body, aerr := readBody(r)
	if aerr != nil {
		x.fail(aerr)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, s.base)
	if ok {
		rt, ok = parseRoute(r.Method, path)
	}
	if !ok {
		x.fail(gatewayError(http.StatusNotFound, codeAPINotFound, "The API does not exist or has not been published in the environment"))
		return
	}
	switch rt.op {
	case OpBatchStopServers:
		rt.op = actionOp(body)
	case OpListServersDetails:
		rt.list, rt.listErr = parseListQuery(r.URL.RawQuery)
	}
	x.rec.Op, x.rec.ProjectID = rt.op, rt.projectID
	switch rt.op {
	case OpShowJob:
		x.rec.JobID = rt.id
	case OpListServersDetails:
		x.rec.IDs = rt.list.asked
		if len(rt.list.ids) > 0 {
			x.rec.ServerID = rt.list.ids[0]
		}
	case OpBatchStopServers, OpBatchStartServers:
		// Named before any fault, so that the per-server counters see
		// every request, as they do migrate calls.
		if a, aerr := decodeActionBody(body); aerr == nil {
			x.rec.ServerID, x.batch = a.serverIDs[0], a.serverIDs
		}
	default:
		x.rec.ServerID = rt.id
	}
	if aerr := s.auth.verify(r, body, gwNow); aerr != nil {
		x.fail(aerr)
		return
	}
	x.rec.Authenticated = true
	if aerr := s.checkProject(r, rt.projectID); aerr != nil {
		x.fail(aerr)
		return
	}
	if aerr := s.limiter.allow(rt.projectID, gwNow); aerr != nil {
		x.fail(aerr)
		return
	}
	fault, faulty, delay := s.faults.pick(rt.op)
	if faulty {
		x.rec.Fault = fault.String()
		if fault.Kind == FaultLatency {
			delay += fault.Delay
		}
	}
	if delay > 0 && !wait(r, delay) {
		x.abandon() // the client gave up
		return
	}
	if faulty {
		switch fault.Kind {
		case FaultGatewayThrottle:
			x.fail(gatewayError(http.StatusTooManyRequests, codeThrottled,
				"The throttling threshold has been reached: policy user over ratelimit,limit:60,time:1 minute"))
			return
		case FaultAPIThrottle:
			x.fail(ecsError(http.StatusTooManyRequests, codeAPIThrottled, "API flow control: the request is throttled."))
			return
		case FaultFlowLimit:
			x.fail(ecsError(http.StatusAccepted, codeFlowLimit, "Flow limit exceeded. Try again later."))
			return
		case FaultServerError:
			x.fail(serverErrorFor(fault.Status))
			return
		case FaultConnectionReset:
			x.reset()
			return
		}
	}
	status, out, aerr := s.dispatch(rt, body, &x.rec)
	if aerr != nil {
		x.rec.Code = aerr.code
		status, out = aerr.status, aerr.body(x.rec.RequestID)
	}
	if faulty {
		switch fault.Kind {
		case FaultMalformedBody:
			out = []byte(`{"job_id": <html>Bad Gateway</html>`)
		case FaultTruncatedBody:
			x.truncate(status, out)
			return
		case FaultResponseLost:
			x.reset()
			return
		}
	}
	x.send(status, out)
}

// dispatch performs the routed operation at the model clock's time.
func (s *Simulator) dispatch(rt route, body []byte, rec *Request) (int, []byte, *apiError) {
	now := s.clock.Now()
	switch rt.op {
	case OpShowJob:
		b, aerr := s.showJob(rt.projectID, rt.id, now)
		return http.StatusOK, b, aerr
	case OpShowServer:
		b, aerr := s.showServer(rt.projectID, rt.id, now)
		return http.StatusOK, b, aerr
	case OpListServersDetails:
		if rt.listErr != nil {
			return 0, nil, rt.listErr
		}
		b, aerr := s.listServers(rt.projectID, rt.list, now)
		return http.StatusOK, b, aerr
	case OpMigrateServer:
		target, aerr := decodeMigrateBody(body)
		if aerr != nil {
			return 0, nil, aerr
		}
		j, aerr := s.migrate(rt.projectID, rt.id, target, now)
		if aerr != nil {
			return 0, nil, aerr
		}
		rec.JobID, rec.Applied = j.id, true
		return http.StatusOK, jobIDBody(j.id), nil
	default:
		a, aerr := decodeActionBody(body)
		if aerr != nil {
			return 0, nil, aerr
		}
		j, aerr := s.batchPower(rt.projectID, a, now)
		if aerr != nil {
			return 0, nil, aerr
		}
		rec.JobID, rec.Applied = j.id, true
		return http.StatusOK, jobIDBody(j.id), nil
	}
}

// showJob returns the ShowJob answer for a job of the project.
func (s *Simulator) showJob(projectID, jobID string, now time.Time) ([]byte, *apiError) {
	s.catchUp(now)
	var b []byte
	s.mu.RLock()
	if j, ok := s.jobs[jobID]; ok && j.projectID == projectID {
		b = j.body
	}
	s.mu.RUnlock()
	if b == nil {
		return nil, ecsError(http.StatusBadRequest, codeJobNotFound, "Failed to query system tasks: job [%s] does not exist.", jobID)
	}
	return b, nil
}

// showServer returns the ShowServer answer for a server of the project.
func (s *Simulator) showServer(projectID, serverID string, now time.Time) ([]byte, *apiError) {
	s.catchUp(now)
	var b []byte
	s.mu.RLock()
	if sv, ok := s.servers[serverID]; ok && sv.projectID == projectID {
		b = sv.body
	}
	s.mu.RUnlock()
	if b == nil {
		return nil, serverNotFound(serverID)
	}
	return b, nil
}

// checkProject refuses unknown projects and an X-Project-Id that differs
// from the path, both with 400 Common.0018.
func (s *Simulator) checkProject(r *http.Request, projectID string) *apiError {
	if hdr := r.Header.Get("X-Project-Id"); hdr != "" && hdr != projectID {
		return ecsError(http.StatusBadRequest, codeProjectMismatch, "The project ID in the X-Project-Id header does not match the one in the URL.")
	}
	s.mu.RLock()
	_, ok := s.projects[projectID]
	s.mu.RUnlock()
	if !ok {
		return ecsError(http.StatusBadRequest, codeProjectMismatch, "The project ID [%s] in the URL does not belong to the caller.", projectID)
	}
	return nil
}

func jobIDBody(id string) []byte {
	return []byte(`{"job_id":"` + id + `"}`)
}

// readBody reads the request body, refusing one over maxBodyBytes.
func readBody(r *http.Request) ([]byte, *apiError) {
	if r.Body == nil || r.ContentLength == 0 {
		return nil, nil
	}
	if r.ContentLength > maxBodyBytes {
		return nil, gatewayError(http.StatusRequestEntityTooLarge, codeBadRequest, "Request entity too large")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	switch {
	case err != nil:
		return nil, gatewayError(http.StatusBadRequest, codeBadRequest, "The request body could not be read")
	case len(body) > maxBodyBytes:
		return nil, gatewayError(http.StatusRequestEntityTooLarge, codeBadRequest, "Request entity too large")
	}
	return body, nil
}

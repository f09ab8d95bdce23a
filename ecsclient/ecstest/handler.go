package ecstest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
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
	rec := Request{Time: gwNow, RequestID: s.newRequestID(), Method: r.Method, Path: r.URL.Path}
	defer func() {
		s.log.record(rec)
		if s.hook != nil {
			s.hook(rec)
		}
	}()
	h := w.Header()
	h["X-Request-Id"] = []string{rec.RequestID}
	h["Content-Type"] = []string{jsonContentType}

	var rt route
	body, aerr := readBody(r)
	if aerr != nil {
		s.writeError(w, &rec, aerr)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, s.base)
	if ok {
		rt, ok = parseRoute(r.Method, path)
	}
	if !ok {
		s.writeError(w, &rec, gatewayError(http.StatusNotFound, codeAPINotFound, "The API does not exist or has not been published in the environment"))
		return
	}
	if rt.op == OpBatchStopServers {
		rt.op = actionOp(body)
	}
	rec.Op, rec.ProjectID = rt.op, rt.projectID
	switch rt.op {
	case OpShowJob:
		rec.JobID = rt.id
	default:
		rec.ServerID = rt.id
	}
	if aerr := s.auth.verify(r, body, gwNow); aerr != nil {
		s.writeError(w, &rec, aerr)
		return
	}
	rec.Authenticated = true
	if aerr := s.checkProject(r, rt.projectID); aerr != nil {
		s.writeError(w, &rec, aerr)
		return
	}
	if aerr := s.limiter.allow(rt.projectID, gwNow); aerr != nil {
		s.writeError(w, &rec, aerr)
		return
	}
	fault, faulty, delay := s.faults.pick(rt.op)
	if faulty {
		rec.Fault = fault.String()
		if fault.Kind == FaultLatency {
			delay += fault.Delay
		}
	}
	if delay > 0 && !wait(r, delay) {
		return // the client gave up
	}
	if faulty {
		switch fault.Kind {
		case FaultGatewayThrottle:
			s.writeError(w, &rec, gatewayError(http.StatusTooManyRequests, codeThrottled,
				"The throttling threshold has been reached: policy user over ratelimit,limit:60,time:1 minute"))
			return
		case FaultAPIThrottle:
			s.writeError(w, &rec, ecsError(http.StatusTooManyRequests, codeAPIThrottled, "API flow control: the request is throttled."))
			return
		case FaultFlowLimit:
			s.writeError(w, &rec, ecsError(http.StatusAccepted, codeFlowLimit, "Flow limit exceeded. Try again later."))
			return
		case FaultServerError:
			s.writeError(w, &rec, serverErrorFor(fault.Status))
			return
		case FaultConnectionReset:
			resetConnection(w)
			return
		}
	}
	status, out, aerr := s.dispatch(rt, body, &rec)
	if aerr != nil {
		rec.Code = aerr.code
		status, out = aerr.status, aerr.body(rec.RequestID)
	}
	if faulty {
		switch fault.Kind {
		case FaultMalformedBody:
			out = []byte(`{"job_id": <html>Bad Gateway</html>`)
		case FaultTruncatedBody:
			truncateResponse(w, status, rec.RequestID, out)
			rec.Status = status
			return
		case FaultResponseLost:
			resetConnection(w)
			return
		}
	}
	rec.Status = status
	write(w, status, out)
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
		rec.ServerID = a.serverIDs[0]
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

// writeError answers aerr and records it.
func (s *Simulator) writeError(w http.ResponseWriter, rec *Request, aerr *apiError) {
	rec.Status, rec.Code = aerr.status, aerr.code
	write(w, aerr.status, aerr.body(rec.RequestID))
}

func write(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client may be gone; nothing to do about it
}

// wait blocks for d of wall time, or until the request's context ends; it
// reports whether the full delay passed.
func wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// resetConnection closes the connection without an answer; on TCP with
// SO_LINGER 0, so that the client sees a reset.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := hijack(w)
	if err != nil {
		panic(http.ErrAbortHandler) // net/http's own way to abort without an answer
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// truncateResponse sends the status line, headers announcing the full length
// and only the first half of body, then closes the connection.
func truncateResponse(w http.ResponseWriter, status int, requestID string, body []byte) {
	conn, buf, err := hijack(w)
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	_, _ = buf.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n" +
		"Content-Type: " + jsonContentType + "\r\nX-Request-Id: " + requestID + "\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	_, _ = buf.Write(body[:len(body)/2])
	_ = buf.Flush()
}

// hijack takes the connection over from net/http.
func hijack(w http.ResponseWriter) (net.Conn, *bufio.Writer, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("connection cannot be hijacked")
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return conn, rw.Writer, nil
}

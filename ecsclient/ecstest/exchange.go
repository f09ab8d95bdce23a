package ecstest

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"time"
)

// exchange is one request being answered. It records the request in the log
// and counters before any byte of the answer leaves, so that a client that
// has its answer (or its reset) always finds the request recorded.
type exchange struct {
	s   *Simulator
	w   http.ResponseWriter
	rec Request
	// batch lists the servers an os-stop or os-start request names.
	batch []string
}

func (x *exchange) record() {
	x.s.log.record(x.rec, x.batch)
	if x.s.hook != nil {
		x.s.hook(x.rec)
	}
}

// fail answers an error.
func (x *exchange) fail(aerr *apiError) {
	x.rec.Code = aerr.code
	x.send(aerr.status, aerr.body(x.rec.RequestID))
}

// send answers status and body.
func (x *exchange) send(status int, body []byte) {
	x.rec.Status = status
	x.record()
	write(x.w, status, body)
}

// reset closes the connection without an answer.
func (x *exchange) reset() {
	x.rec.Status = 0
	x.record()
	resetConnection(x.w)
}

// truncate sends half of the answer, then closes the connection.
func (x *exchange) truncate(status int, body []byte) {
	x.rec.Status = status
	x.record()
	truncateResponse(x.w, status, x.rec.RequestID, body)
}

// abandon records a request whose client went away.
func (x *exchange) abandon() {
	x.rec.Status = 0
	x.record()
}

// write sends status and body with their length.
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

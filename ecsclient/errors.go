package ecsclient

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/coldmove/coldmove/ids"
)

// APIError is an error answer from the ECS service or from the API Gateway
// in front of it. It is also returned for a 2xx answer whose body is an
// error (the gateway's 202 Common.0024 "Flow limit exceeded" is throttling,
// not success).
//
// Use [errors.Is] with the sentinels ([ErrThrottled], [ErrNotStopped], …)
// rather than comparing codes, and [IsTransient] to decide on a retry.
type APIError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the service error code, e.g. "Ecs.0100", "APIGW.0308"; empty
	// when the body carried none.
	Code string
	// Message is the error message, or the start of a body that carried no
	// message. Known credentials are removed from it.
	Message string
	// RequestID is the X-Request-Id of the answer (or the body's
	// request_id), for support cases.
	RequestID string
}

// Error returns "HTTP <status> <code>: <message> (request id <id>)",
// leaving out the parts that are empty.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("HTTP ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	return b.String()
}

// Is reports whether target is a sentinel of this package that matches e's
// code or HTTP status, so errors.Is(err, ErrLocked) works on any error
// wrapping an *APIError with code Ecs.0605.
func (e *APIError) Is(target error) bool {
	s, ok := target.(*codeError)
	if !ok {
		return false
	}
	return slices.Contains(s.codes, e.Code) || slices.Contains(s.statuses, e.StatusCode)
}

// transient reports whether the answer says "try again later".
func (e *APIError) transient() bool {
	if e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 {
		return true
	}
	switch e.Code {
	case "APIGW.0308", "APIG.0308", "Common.1503", "Common.0024", "Ecs.0603":
		return true
	}
	return false
}

// fromGateway reports whether the API Gateway, not the ECS service,
// answered (codes APIGW.* and the older APIG.*).
func (e *APIError) fromGateway() bool {
	return strings.HasPrefix(e.Code, "APIGW.") || strings.HasPrefix(e.Code, "APIG.")
}

// codeError is the type of the sentinels: an error that an *APIError
// matches by code or by HTTP status.
type codeError struct {
	msg      string
	codes    []string
	statuses []int
}

func (e *codeError) Error() string { return e.msg }

// Sentinels matched by an *APIError with [errors.Is]. ErrServerNotFound and
// ErrJobNotFound also match a 404 from the ECS service in the operation that
// looks the server or job up (see [Client.ShowServer], [Client.ShowJob]).
var (
	// ErrServerNotFound means the server does not exist (Ecs.0114, Ecs.0614).
	ErrServerNotFound error = &codeError{msg: "server not found", codes: []string{"Ecs.0114", "Ecs.0614"}}
	// ErrJobNotFound means the job id is unknown or the finished job was
	// removed (Common.0011).
	ErrJobNotFound error = &codeError{msg: "job not found", codes: []string{"Common.0011"}}
	// ErrNotStopped means the server's status does not allow the
	// operation, e.g. migrating a running server (Ecs.0100).
	ErrNotStopped error = &codeError{msg: "server status does not meet requirements", codes: []string{"Ecs.0100"}}
	// ErrLocked means the server is locked (Ecs.0605).
	ErrLocked error = &codeError{msg: "server is locked", codes: []string{"Ecs.0605"}}
	// ErrSameHost means a cold migration to the dedicated host the server
	// is already on (Ecs.0221).
	ErrSameHost error = &codeError{msg: "server is already on that dedicated host", codes: []string{"Ecs.0221"}}
	// ErrInsufficientResources means there are not enough resources for
	// the flavor (Ecs.0319).
	ErrInsufficientResources error = &codeError{msg: "insufficient resources for the flavor", codes: []string{"Ecs.0319"}}
	// ErrInvalidParameter means the service rejected a parameter (Ecs.0005).
	ErrInvalidParameter error = &codeError{msg: "invalid parameter", codes: []string{"Ecs.0005"}}
	// ErrBusy means other commands are running on the server; retry in
	// about a minute (Ecs.0603). The request was refused, not processed.
	ErrBusy error = &codeError{msg: "other operations are in progress on the server", codes: []string{"Ecs.0603"}}
	// ErrThrottled means a rate limit was hit (HTTP 429, APIGW.0308,
	// APIG.0308, Common.1503, or 202 Common.0024). The request was not
	// processed.
	ErrThrottled error = &codeError{msg: "throttled", codes: []string{"APIGW.0308", "APIG.0308", "Common.1503", "Common.0024"}, statuses: []int{http.StatusTooManyRequests}}
	// ErrAuthFailed means authentication failed: a bad signature, an
	// unknown access key, an expired security token or clock skew (HTTP 401,
	// APIGW.0301, APIG.0301, Common.0013).
	ErrAuthFailed error = &codeError{msg: "authentication failed", codes: []string{"APIGW.0301", "APIG.0301", "Common.0013"}, statuses: []int{http.StatusUnauthorized}}
	// ErrPermissionDenied means the caller is authenticated but not
	// allowed, or the account has balance problems (HTTP 403, Ecs.0003,
	// Pdp.0001).
	ErrPermissionDenied error = &codeError{msg: "permission denied", codes: []string{"Ecs.0003", "Pdp.0001"}, statuses: []int{http.StatusForbidden}}
)

// Errors that no answer carries; they are matched with [errors.Is].
var (
	// ErrOutcomeUnknown means a state-changing request (migrate, stop,
	// start) may or may not have been processed: the connection broke or
	// timed out after the request was sent, the answer was a 5xx that is
	// not an explicit refusal, or a 2xx answer carried no usable job id.
	// Do not submit again before reconciling (e.g. with ShowServer).
	ErrOutcomeUnknown = errors.New("outcome unknown: the request may have been processed")
	// ErrInvalidID means an id is malformed; nothing was sent.
	// It is [ids.ErrInvalid], shared with every check of an id.
	ErrInvalidID = ids.ErrInvalid
)

// IsTransient reports whether err is a failure that retrying the same call
// later may cure: HTTP 429 and 5xx answers, the throttling codes
// APIGW.0308, APIG.0308, Common.1503 and Common.0024, Ecs.0603 (busy),
// network errors before an answer, a success answer to a read that could
// not be used (not JSON, or without the fields every answer has), and a
// context that ended. It is false for nil, for every other answer, for
// invalid input, and for any error matching [ErrOutcomeUnknown]: such a
// call may have taken effect, so the caller must reconcile before retrying.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, ErrOutcomeUnknown) {
		return false
	}
	if ae, ok := errors.AsType[*APIError](err); ok {
		return ae.transient()
	}
	if _, ok := errors.AsType[*networkError](err); ok {
		return true
	}
	if _, ok := errors.AsType[*badAnswerError](err); ok {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// networkError marks a failure to get an answer: dial, TLS, reset, timeout,
// or a body cut short.
type networkError struct{ err error }

func (e *networkError) Error() string { return e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

// badAnswerError marks a 2xx answer to a read that could not be used: not
// JSON, the wrong shape, or missing what every answer has.
type badAnswerError struct{ err error }

func (e *badAnswerError) Error() string { return "unusable answer: " + e.err.Error() }
func (e *badAnswerError) Unwrap() error { return e.err }

// outcomeUnknown wraps err so that it matches [ErrOutcomeUnknown] and still
// matches err.
func outcomeUnknown(err error) error {
	return &outcomeError{err: err}
}

type outcomeError struct{ err error }

func (e *outcomeError) Error() string   { return ErrOutcomeUnknown.Error() + ": " + e.err.Error() }
func (e *outcomeError) Unwrap() []error { return []error{ErrOutcomeUnknown, e.err} }

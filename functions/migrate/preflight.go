package main

import (
	"errors"
	"fmt"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/events"
)

// preflight checks what cold migration requires of a server: unlocked,
// pay-per-use, stopped and idle. It returns the rejection when a
// requirement fails. A server whose answer carries no charging mode is not
// refused for it: the API, which enforces the rule itself, decides.
func preflight(s *ecsclient.Server) (events.Rejection, bool) {
	state := s.State()
	switch {
	case s.Locked:
		return events.Rejection{Reason: events.RejectServerLocked, ServerStatus: state,
			Message: fmt.Sprintf("server %s is locked; unlock it before migrating", s.ID)}, false
	case s.ChargingMode != "" && !s.PayPerUse():
		return events.Rejection{Reason: events.RejectNotPayPerUse, ServerStatus: state,
			Message: fmt.Sprintf("server %s is billed %s; only pay-per-use servers can be cold-migrated", s.ID, billing(s.ChargingMode))}, false
	case !s.Stopped():
		return events.Rejection{Reason: events.RejectServerNotStopped, ServerStatus: state,
			Message: fmt.Sprintf("server %s is %s; stop it (status SHUTOFF, no task running) before migrating", s.ID, state)}, false
	}
	return events.Rejection{}, true
}

func billing(mode string) string {
	switch mode {
	case "1":
		return "yearly/monthly (charging_mode 1)"
	case "2":
		return "as a spot instance (charging_mode 2)"
	}
	return fmt.Sprintf("in charging mode %q", mode)
}

// refusal maps a permanent API answer to a rejection; ok is false for an
// error that is not such an answer.
func refusal(err error) (events.Rejection, bool) {
	reason := events.RejectAPIRefused
	switch {
	case errors.Is(err, ecsclient.ErrServerNotFound):
		reason = events.RejectServerNotFound
	case errors.Is(err, ecsclient.ErrNotStopped):
		reason = events.RejectServerNotStopped
	case errors.Is(err, ecsclient.ErrLocked):
		reason = events.RejectServerLocked
	case errors.Is(err, ecsclient.ErrSameHost):
		reason = events.RejectAlreadyOnHost
	case errors.Is(err, ecsclient.ErrInsufficientResources):
		reason = events.RejectInsufficientCapacity
	case errors.Is(err, ecsclient.ErrPermissionDenied):
		reason = events.RejectPermissionDenied
	}
	ae, isAPI := errors.AsType[*ecsclient.APIError](err)
	if !isAPI || ecsclient.IsTransient(err) || errors.Is(err, ecsclient.ErrAuthFailed) {
		return events.Rejection{}, false
	}
	return events.Rejection{
		Reason: reason, Message: fmt.Sprintf("the ECS API refused: %s", ae.Message),
		APIErrorCode: ae.Code, APIErrorMessage: ae.Message, APIRequestID: ae.RequestID,
	}, true
}

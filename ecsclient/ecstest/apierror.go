package ecstest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error codes the simulator answers with, as documented for ECS and its API
// Gateway.
const (
	codeInvalidParams   = "Ecs.0005" // 400 invalid parameters
	codeNotStopped      = "Ecs.0100" // 400 ECS status does not meet requirements
	codeServerNotFound  = "Ecs.0114" // 404 ECS does not exist
	codeSameHost        = "Ecs.0221" // 400 cold migration to the same DeH
	codeNoCapacity      = "Ecs.0319" // 400 insufficient resources for this flavor
	codeLocked          = "Ecs.0605" // 400 ECS locked
	codeBusy            = "Ecs.0603" // 501 other commands executing
	codeInternal        = "Common.0001"
	codeJobNotFound     = "Common.0011" // 400 invalid job id
	codeProjectMismatch = "Common.0018" // 400 project id mismatch
	codeFlowLimit       = "Common.0024" // 202 flow limit exceeded
	codeAPIThrottled    = "Common.1503" // 429 API flow control
	codeAPINotFound     = "APIGW.0101"  // 404 API not found
	codeBadRequest      = "APIGW.0201"  // 400/413 bad request
	codeBackendDown     = "APIGW.0202"  // 502/503 backend unavailable
	codeBackendTimeout  = "APIGW.0203"  // 504 backend timeout
	codeAuthFailed      = "APIGW.0301"  // 401 IAM authentication failed
	codeThrottled       = "APIGW.0308"  // 429 throttled by the gateway
)

// apiError is an error answer of the simulated cloud, in the ECS body shape
// or, for the API Gateway's own codes, in the gateway's body shape.
type apiError struct {
	status  int
	code    string
	message string
	gateway bool
}

// ecsError returns an error answered in the ECS shape
// {"error":{"code","message"}}.
func ecsError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// gatewayError returns an error answered in the API Gateway shape
// {"error_code","error_msg","request_id"}.
func gatewayError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...), gateway: true}
}

// Error returns the code and message.
func (e *apiError) Error() string { return e.code + ": " + e.message }

type ecsErrorBody struct {
	Error ecsErrorDetail `json:"error"`
}

type ecsErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type gatewayErrorBody struct {
	ErrorCode string `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
	RequestID string `json:"request_id"`
}

// body renders the error for the response with the given request id.
func (e *apiError) body(requestID string) []byte {
	var v any = ecsErrorBody{Error: ecsErrorDetail{Code: e.code, Message: e.message}}
	if e.gateway {
		v = gatewayErrorBody{ErrorCode: e.code, ErrorMsg: e.message, RequestID: requestID}
	}
	b, _ := json.Marshal(v) // only strings: encoding cannot fail
	return b
}

// serverErrorFor returns the answer for an injected 5xx status: ECS's own
// internal error for 500, Ecs.0603 for 501 and the gateway's backend errors
// otherwise.
func serverErrorFor(status int) *apiError {
	switch status {
	case http.StatusInternalServerError:
		return ecsError(status, codeInternal, "System error.")
	case http.StatusNotImplemented:
		return ecsError(status, codeBusy, "Other commands are being executed on the ECS. Try again in 1 minute.")
	case http.StatusGatewayTimeout:
		return gatewayError(status, codeBackendTimeout, "Backend timeout")
	default:
		return gatewayError(status, codeBackendDown, "Backend unavailable")
	}
}

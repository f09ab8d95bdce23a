package events

// StopType is how a server is stopped before it is moved: soft (the guest
// OS shuts down) or hard (forced off).
type StopType string

// The stop types.
const (
	StopSoft StopType = "soft"
	StopHard StopType = "hard"
)

// Power asks coldmove to stop a running server before moving it (Stop) and
// to start it again afterwards (Restart), only if coldmove stopped it.
// Without Power, a running server is rejected server_not_stopped.
type Power struct {
	// Stop is soft or hard; a server already SHUTOFF is not stopped.
	Stop StopType `json:"stop,omitempty"`
	// Restart starts the server again once the move ended (completed or
	// failed), when coldmove stopped it. It needs Stop.
	Restart bool `json:"restart,omitempty"`
}

func (p *Power) check(ps *problems) {
	if p == nil {
		return
	}
	switch p.Stop {
	case StopSoft, StopHard:
	case "":
		ps.add("power.stop", `is required in power: "soft" or "hard"`)
	default:
		ps.add("power.stop", `must be "soft" or "hard"`)
	}
}

// Step is a power step a [TypeProgressed] event announces.
type Step string

// The power steps, in order.
const (
	// StepStopSubmitted: the stop (os-stop) was submitted; job_id is its job.
	StepStopSubmitted Step = "stop_submitted"
	// StepStopped: the server is verified stopped.
	StepStopped Step = "stopped"
	// StepStartSubmitted: the start (os-start) was submitted after the move.
	StepStartSubmitted Step = "start_submitted"
	// StepStarted: the server is verified running again.
	StepStarted Step = "started"
)

// Steps lists every [Step], in order.
func Steps() []Step { return []Step{StepStopSubmitted, StepStopped, StepStartSubmitted, StepStarted} }

// Valid reports whether s is one of the [Steps].
func (s Step) Valid() bool {
	for _, v := range Steps() {
		if s == v {
			return true
		}
	}
	return false
}

// PowerOutcome is what coldmove did to a server's power for a request
// that asked for it; terminal events of such a request carry it.
type PowerOutcome struct {
	// Stopped is true when coldmove stopped the server; StopJobID is that
	// stop's job.
	Stopped   bool   `json:"stopped"`
	StopJobID string `json:"stop_job_id,omitempty"`
	// Restarted is true when coldmove started it again; StartJobID is that
	// start's job.
	Restarted  bool   `json:"restarted"`
	StartJobID string `json:"start_job_id,omitempty"`
}

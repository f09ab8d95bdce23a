package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/logging"
	"github.com/coldmove/coldmove/ledger"
)

// Handler is the one handler core every runtime adapter calls: it turns a
// placement request into exactly one migrate call, or a clear rejection.
type Handler struct {
	ecs    Clients
	ledger Ledger
	pub    Publisher
	log    *slog.Logger

	project, region string        // defaults for requests that name none
	timeout         time.Duration // default deadline after the request
	firstPoll       time.Duration // when poll first looks at a new job
	budget          time.Duration // work budget of a request without a ctx deadline
	accessKey       string        // the start of the access key, for the log
	headroom        time.Duration // kept from the API for recording and publishing
	now             func() time.Time

	// crash, when set (by the crash tests only), is called at each step
	// boundary (crash.go).
	crash func(point string)
}

// HandlerConfig configures a [Handler].
type HandlerConfig struct {
	// ProjectID and Region are the defaults of requests that name none.
	ProjectID, Region string
	// MigrationTimeout is the default deadline of a request, counted from
	// when it is handled.
	MigrationTimeout time.Duration
	// FirstPoll is how soon after submitting the poll function first looks
	// at the job (default 10 s).
	FirstPoll time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// AccessKey names the credentials in the log when the API refuses
	// them: only its first characters (secret.String.Masked).
	AccessKey string
}

// NewHandler returns a handler over its dependencies.
func NewHandler(cfg HandlerConfig, ecs Clients, l Ledger, pub Publisher, log *slog.Logger) *Handler {
	h := &Handler{
		ecs: ecs, ledger: l, pub: pub, log: log,
		project: cfg.ProjectID, region: cfg.Region, timeout: cfg.MigrationTimeout,
		firstPoll: cfg.FirstPoll, budget: 2 * time.Minute, headroom: 2 * time.Second, now: cfg.Now, accessKey: cfg.AccessKey,
	}
	if h.firstPoll <= 0 {
		h.firstPoll = 10 * time.Second
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// HandleMessage handles a request as it arrived: a CloudEvent in binary
// mode (ce-* headers) or structured JSON (header may be nil).
func (h *Handler) HandleMessage(ctx context.Context, header map[string][]string, body []byte) Outcome {
	p, err := events.Decode(header, body)
	if err != nil {
		return h.rejectUnreadable(ctx, err)
	}
	return h.handle(ctx, p)
}

// HandleDelivery handles a request the JetStream consumer received on
// subject, as [Handler.HandleMessage] does; the subject's last token must
// name the request's server (<prefix>.placement.requested.<server_id>), so
// that what a subscriber filtered on is what is moved.
func (h *Handler) HandleDelivery(ctx context.Context, subject string, header map[string][]string, body []byte) Outcome {
	p, err := events.Decode(header, body)
	if err != nil {
		return h.rejectUnreadable(ctx, err)
	}
	if tok := subject[strings.LastIndexByte(subject, '.')+1:]; tok != p.ServerID {
		return h.rejectUnreadable(ctx, &events.DecodeError{Kind: events.ErrInvalidPayload, Reason: events.RejectInvalidPayload,
			Problems: []events.Problem{{Field: "nats_subject", Problem: fmt.Sprintf("ends in %q, not in data.server_id", clipToken(tok))}},
			Origin:   p.Origin()})
	}
	return h.handle(ctx, p)
}

// clipToken shortens a subject token quoted in a problem.
func clipToken(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// request is one placement request in hand, with its defaults applied.
type request struct {
	p        *events.Placement
	origin   events.Origin
	deadline time.Time
	claim    *ledger.Claim
	lock     *ledger.Lock
	// call is the first call the request makes: the migrate call, or for
	// a running server of a request with power steps, the stop.
	call ledger.Call
}

func (h *Handler) handle(ctx context.Context, p *events.Placement) Outcome {
	ctx = logging.With(ctx, slog.String(logging.KeyEventID, p.ID), slog.String(logging.KeyServerID, p.ServerID))
	r := &request{p: p, origin: p.Origin(), call: ledger.CallMigrate}
	if p.Power != nil {
		// Its terminal events say what was done to the server's power.
		r.origin.Power = &events.PowerOutcome{}
	}
	if r.origin.ProjectID == "" {
		r.origin.ProjectID = h.project
	}
	if r.origin.Region == "" {
		r.origin.Region = h.region
	}
	if p.Deadline != nil {
		r.deadline = *p.Deadline
	} else {
		r.deadline = h.now().Add(h.timeout).UTC().Truncate(time.Second)
	}

	// A request the ledger does not know gets its pending record before
	// its claim: a handler that stops between the two leaves a record
	// that poll closes at the deadline, where a claim alone would wait
	// for a delivery that may never come.
	pending := false
	if _, err := h.ledger.Claim(ctx, p.Key()); errors.Is(err, ledger.ErrNotFound) {
		if err := h.recordPending(ctx, r); err != nil {
			return h.retry(ctx, r, "ledger_unavailable", err, 0)
		}
		pending = true
	} else if err != nil {
		return h.retry(ctx, r, "ledger_unavailable", fmt.Errorf("read claim: %w", err), 0)
	}

	res, err := h.ledger.ClaimRequest(ctx, ledger.RequestRef{Source: p.Source, ID: p.ID, ServerID: p.ServerID, Deadline: r.deadline})
	if err != nil {
		return h.retry(ctx, r, "ledger_unavailable", fmt.Errorf("claim request: %w", err), 0)
	}
	r.claim = res.Claim
	h.crashAt(crashClaimed)
	if !res.Claim.Deadline.IsZero() {
		r.deadline = res.Claim.Deadline // fixed when first claimed
	}
	if res.Claim.Call != "" {
		r.call = res.Claim.Call
	}
	switch res.Status {
	case ledger.ClaimFinished:
		return h.republish(ctx, r)
	case ledger.ClaimInProgress:
		if res.Claim.State == ledger.StateSubmitted {
			return h.resume(ctx, r)
		}
		return h.retry(ctx, r, "in_progress", errors.New("the request is being handled by "+res.Claim.Owner), 0)
	case ledger.ClaimTakenOver:
		if res.PreviousOwner != "" {
			h.log.WarnContext(ctx, "took over a stale claim", "previous_owner", res.PreviousOwner, "state", string(res.Claim.State))
		}
		switch res.Claim.State {
		case ledger.StateSubmitted:
			return h.resume(ctx, r)
		case ledger.StateSubmitting:
			// The previous owner may have sent the migrate call: never send
			// it again; follow the server instead.
			return h.track(ctx, r, "a previous attempt may have sent the migrate call")
		}
	}
	// Nothing was sent for this request: time is judged now, and only
	// now (a request the ledger knows is answered from its claim above).
	if res.Status == ledger.ClaimAcquired {
		if err := p.CheckDeadline(h.now()); err != nil {
			if de, ok := errors.AsType[*events.DecodeError](err); ok {
				return h.reject(ctx, r, de.Rejection())
			}
		}
	}
	if !h.now().Before(r.deadline) {
		return h.reject(ctx, r, events.DeadlineExceeded(r.deadline, r.claim.LastError))
	}
	if !pending {
		if err := h.recordPending(ctx, r); err != nil {
			return h.abandon(ctx, r, "ledger_unavailable", err, 0)
		}
	}
	return h.submit(ctx, r)
}

// apiContext bounds the API work of a request so that recording and
// publishing its outcome still fit in the invocation.
func (h *Handler) apiContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-h.headroom))
	}
	return context.WithTimeout(ctx, h.budget)
}

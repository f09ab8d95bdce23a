package ledger

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/coldmove/coldmove/ids"
)

// Headers of a job record's message, which a scan reads without the
// record: when it is due, and, for every record but a pending one, whose
// server it follows and how that server looked at its last look.
const (
	hdrServer  = "Coldmove-Server"
	hdrProject = "Coldmove-Project"
	hdrRegion  = "Coldmove-Region"
	hdrSeen    = "Coldmove-Seen"
)

// MaxSeen is the longest [Job.Seen] token.
const MaxSeen = 64

// checkSeen accepts an empty token or one of at most MaxSeen printable
// ASCII characters without spaces, which a message header carries as is.
func checkSeen(s string) error {
	if len(s) > MaxSeen {
		return fmt.Errorf("%w: seen token is %d characters, more than %d", ErrInvalidID, len(s), MaxSeen)
	}
	for i := range len(s) {
		if c := s[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("%w: seen token has character %q at %d", ErrInvalidID, c, i)
		}
	}
	return nil
}

// jobWriteOpts returns how j's message is written: due at j.DueAt(), with
// the headers a scan reads. A project or region that is not a valid id
// (a record written before they were checked) is left out: the record is
// then followed on its schedule alone.
func jobWriteOpts(j *Job) (writeOpts, error) {
	if err := checkSeen(j.Seen); err != nil {
		return writeOpts{}, err
	}
	o := writeOpts{dueAt: j.DueAt()}
	if j.Pending {
		return o, nil
	}
	o.header = nats.Header{}
	if ids.Server.Check(j.ServerID) == nil && ids.Project.Check(j.ProjectID) == nil && ids.Region.Check(j.Region) == nil {
		o.header.Set(hdrServer, j.ServerID)
		o.header.Set(hdrProject, j.ProjectID)
		o.header.Set(hdrRegion, j.Region)
	}
	if j.Seen != "" {
		o.header.Set(hdrSeen, j.Seen)
	}
	return o, nil
}

// refFromHeaders fills what a scan reads of ref from its message's
// headers.
func refFromHeaders(ref *JobRef, h nats.Header) error {
	if v := h.Get(hdrDueAt); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("bad %s header %q", hdrDueAt, v)
		}
		ref.DueAt = time.UnixMilli(ms)
	}
	ref.ServerID, ref.ProjectID, ref.Region = h.Get(hdrServer), h.Get(hdrProject), h.Get(hdrRegion)
	if ref.ServerID != "" && (ids.Server.Check(ref.ServerID) != nil || ids.Project.Check(ref.ProjectID) != nil || ids.Region.Check(ref.Region) != nil) {
		return errors.New("bad server, project or region header")
	}
	ref.Seen = h.Get(hdrSeen)
	return checkSeen(ref.Seen)
}

package ecsclient

// Ids are checked against the rules of package ids (one rule per kind of
// id, shared with the event decoder and the ledger) before they reach a URL
// or a body: a malformed id is a caller's bug or hostile input, and must not
// turn into a different request ("../", "?", "#", "%2F" …). Path segments
// are escaped as well, as a second line of defence. Those errors match
// [ErrInvalidID].

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// FromArgs handles a function's command line and loads s from the
// environment with [Load]. The only flag is -h, which prints about and the
// table of s's variables to stdout. Stray arguments and a bad environment
// are reported on stderr, prefixed with name. It returns done=true, with
// the exit code, when the process should stop there: 0 after -h, 2 for a
// bad command line or configuration.
func FromArgs(name, about string, args []string, stdout, stderr io.Writer, s Spec) (code int, done bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: %s [-h]\n\n%s\n\nEnvironment:\n", name, about)
		_ = Usage(stdout, s)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, true
		}
		return 2, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q; configure with environment variables (%s -h lists them)\n", name, fs.Args(), name)
		return 2, true
	}
	if err := Load(s); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n(%s -h lists every variable)\n", name, err, name)
		return 2, true
	}
	return 0, false
}

package lambdatest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// RIEVersion is the module version of the Runtime Interface Emulator that
// is built when COLDMOVE_RIE is not set. It must match the Makefile's.
const RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"

const riePackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

var (
	rieOnce sync.Once
	riePath string
	rieErr  error
)

// RIE returns the path of the emulator binary, building it on first use
// when COLDMOVE_RIE does not name one.
func RIE(tb testing.TB) string {
	tb.Helper()
	rieOnce.Do(func() {
		if p := os.Getenv("COLDMOVE_RIE"); p != "" {
			if _, err := os.Stat(p); err != nil {
				rieErr = fmt.Errorf("COLDMOVE_RIE=%s: %w", p, err)
				return
			}
			riePath = p
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "coldmove", "rie-"+RIEVersion)
		riePath = filepath.Join(dir, "aws-lambda-rie")
		if _, err := os.Stat(riePath); err == nil {
			return
		}
		cmd := exec.Command("go", "install", riePackage+"@"+RIEVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			rieErr = fmt.Errorf("go install %s@%s: %w\n%s", riePackage, RIEVersion, err, out)
		}
	})
	if rieErr != nil {
		tb.Fatalf("lambdatest: the Runtime Interface Emulator is not available: %v", rieErr)
	}
	return riePath
}

// BuildDir compiles the function package pkg as [Build] does, into dir,
// which the caller owns (for a binary shared by the tests of a package,
// built once and removed by TestMain).
func BuildDir(tb testing.TB, pkg, dir string) string {
	tb.Helper()
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-buildvcs=false", "-tags", "lambda.norpc", "-o", out, pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("lambdatest: go build %s: %v\n%s", pkg, err, stderr.String())
	}
	return out
}

// Build compiles the function package pkg (an import path, or a path
// relative to the test's directory) as a Lambda bootstrap, with the
// lambda.norpc tag as for deployment, into a temporary directory, and
// returns the binary's path.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	return BuildDir(tb, pkg, tb.TempDir())
}
